/** Link-layer header types (https://www.tcpdump.org/linktypes.html) the decoder knows. */
export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
/** DLT_RAW as some platforms number it in classic pcap files. */
export const LINKTYPE_RAW_BSD = 12;
export const LINKTYPE_RAW_OPENBSD = 14;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

export function linkTypeName(lt: number): string {
  switch (lt) {
    case LINKTYPE_NULL:
      return 'NULL';
    case LINKTYPE_ETHERNET:
      return 'EN10MB';
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_BSD:
    case LINKTYPE_RAW_OPENBSD:
      return 'RAW';
    case LINKTYPE_LOOP:
      return 'LOOP';
    case LINKTYPE_LINUX_SLL:
      return 'LINUX_SLL';
    case LINKTYPE_LINUX_SLL2:
      return 'LINUX_SLL2';
    case LINKTYPE_IPV4:
      return 'IPV4';
    case LINKTYPE_IPV6:
      return 'IPV6';
    default:
      return `linktype ${lt}`;
  }
}
