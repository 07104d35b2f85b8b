/**
 * hopdump's pcap engine: reader, decoders, fingerprints, writer. It depends
 * on nothing else in hopdump (see docs/pcap.md).
 */
export * from './reader.js';
export * from './decoded.js';
export * from './decode.js';
export * from './fingerprint.js';
export * from './linktypes.js';
export * from './summary.js';
export * from './stats.js';
export * from './distinct.js';
export * from './writer.js';
export * from './inputs.js';
export * from './merge.js';
export * from './match.js';
export * from './parallel.js';
export * from './prefetch.js';
export * from './split.js';
