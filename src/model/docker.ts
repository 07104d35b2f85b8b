import { z } from 'zod';

/**
 * Docker containers and networks as the Engine API describes them, reduced to
 * the datapath: where each container's endpoint is (its namespace, its NIC,
 * the host-side veth and the bridge), and which host ports are published to
 * it. Field names follow the API (`docker inspect`) so an operator finds them.
 */

export const DockerPortSchema = z.object({
  /** The port inside the container (`PrivatePort`). */
  privatePort: z.number().int(),
  /** The host port it is published on (`PublicPort`), absent when only exposed. */
  publicPort: z.number().int().optional(),
  /** The host address it is published on; 0.0.0.0 / :: mean every address. */
  hostIp: z.string().optional(),
  type: z.enum(['tcp', 'udp', 'sctp']),
});
export type DockerPort = z.infer<typeof DockerPortSchema>;

export const DockerEndpointSchema = z.object({
  /** The Docker network's name: bridge, host, none, or a user network. */
  network: z.string(),
  networkId: z.string(),
  ipAddress: z.string().optional(),
  prefixLen: z.number().int().optional(),
  macAddress: z.string().optional(),
  gateway: z.string().optional(),
  /** Joined by discover: the namespace and NIC that have this endpoint's MAC. */
  netns: z.string().optional(),
  ifname: z.string().optional(),
  /** The NIC's veth peer on the host (vethXXXXXXX), and the bridge it is a port of. */
  hostVeth: z.string().optional(),
  bridge: z.string().optional(),
  /** macvlan/ipvlan networks: the NIC's lower device on the host (the network's parent), and its mode. */
  lowerDevice: z.string().optional(),
  mode: z.string().optional(),
});
export type DockerEndpoint = z.infer<typeof DockerEndpointSchema>;

export const ContainerSchema = z.object({
  id: z.string(),
  /** Without the leading '/'. */
  name: z.string(),
  image: z.string(),
  /** created, running, paused, restarting, exited, dead. */
  state: z.string(),
  /** The host PID of its main process (0 when it is not running). */
  pid: z.number().int(),
  /** HostConfig.NetworkMode: default/bridge, host, none, container:ID or a network name. */
  networkMode: z.string(),
  endpoints: z.array(DockerEndpointSchema),
  ports: z.array(DockerPortSchema),
});
export type Container = z.infer<typeof ContainerSchema>;

export const DockerNetworkSchema = z.object({
  id: z.string(),
  name: z.string(),
  driver: z.string(),
  /** For the bridge driver: the Linux bridge (docker0, or br-<12 characters of the id>). */
  bridge: z.string().optional(),
  /** For the macvlan and ipvlan drivers: the parent (lower) device (`Options.parent`) and the mode. */
  parent: z.string().optional(),
  mode: z.string().optional(),
  subnets: z.array(z.object({ subnet: z.string(), gateway: z.string().optional() })),
});
export type DockerNetwork = z.infer<typeof DockerNetworkSchema>;

export const DockerStateSchema = z.object({
  /** Where the Engine API was asked: unix:///run/docker.sock, tcp://HOST:PORT. */
  endpoint: z.string(),
  version: z.string().optional(),
  containers: z.array(ContainerSchema),
  networks: z.array(DockerNetworkSchema),
});
export type DockerState = z.infer<typeof DockerStateSchema>;
