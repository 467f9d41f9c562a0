import { isIP } from 'node:net';
import { z } from 'zod';
import { UDP_DEFAULTS } from './socks5-defaults.js';
import { duration } from './values.js';

/** `socks5:` settings of the SOCKS5 listener beyond its port: UDP ASSOCIATE (RFC 1928 section 7). */
export const socks5Schema = z.strictObject({
  udp: z
    .strictObject({
      enabled: z.boolean().default(UDP_DEFAULTS.enabled),
      /** The address put in the UDP ASSOCIATE reply, for a proxy behind NAT or a load balancer (default: the address the client reached). */
      advertise_address: z.string().refine((v) => isIP(v) !== 0, { error: (issue) => `"${String(issue.input)}" is not an IP address` }).optional(),
      /** An association with no datagram either way for this long ends (its control connection is closed). */
      idle_timeout: duration.default(UDP_DEFAULTS.idle_timeout),
      /** A destination of an association with no datagram either way for this long loses its NAT entry and socket. */
      flow_idle_timeout: duration.default(UDP_DEFAULTS.flow_idle_timeout),
      /** Destinations one association keeps at once; past it, the least recently used one is dropped. */
      max_flows_per_association: z.number().int().min(1).default(UDP_DEFAULTS.max_flows_per_association),
      /** Destinations all associations of one engine process keep at once; past it, the least recently used one is dropped. */
      max_flows: z.number().int().min(1).default(UDP_DEFAULTS.max_flows),
    })
    .prefault({}),
});
