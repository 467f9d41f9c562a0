// Apart from the schema: the SOCKS5 front of every engine process applies these, and zod stays out of those processes.

/** `socks5.udp:` defaults, for each key the file leaves out. */
export const UDP_DEFAULTS = {
  enabled: true,
  idle_timeout: '5m',
  flow_idle_timeout: '60s',
  max_flows_per_association: 256,
  max_flows: 16_384,
} as const;
