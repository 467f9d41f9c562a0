import { z } from 'zod';
import { auditEntrySchema } from './audit.js';

/*
 * What the daemon reports about traffic: connection records, refusals and tunnels, as they travel
 * in answers and on the event stream.
 */

/** How a connection entered the proxy (`udp`: a SOCKS5 UDP association). */
const frontProtocol = z.enum(['http', 'connect', 'upgrade', 'socks5', 'udp']);

/** A tunnel's TLS as the interception front saw it, or a decrypted request's. */
const tlsInfo = z.strictObject({ decrypted: z.boolean(), sni: z.string().optional(), alpnOffered: z.array(z.string()).optional(), alpn: z.string().optional() });

/** What one UDP association carried. */
const udpTally = z.strictObject({ datagramsIn: z.number(), datagramsOut: z.number(), dropped: z.number(), destinations: z.array(z.string()), destinationCount: z.number() });

const capturedBody = z.strictObject({ text: z.string(), encoding: z.enum(['utf8', 'base64']), size: z.number(), truncated: z.boolean() });

/** One request or tunnel (a debugger record carries headers and bodies when it captured them). */
export const connectionRecordSchema = z.strictObject({
  id: z.string(),
  startedAt: z.number(),
  protocol: frontProtocol,
  clientAddress: z.string(),
  clientPort: z.number(),
  user: z.string().optional(),
  method: z.string(),
  host: z.string(),
  port: z.number(),
  path: z.string().optional(),
  userAgent: z.string().optional(),
  referer: z.string().optional(),
  rule: z.string().optional(),
  /** For an IP-literal target with sniffing on: the name its first bytes carried, which it was routed by. */
  sniffedHost: z.string().optional(),
  backend: z.string().optional(),
  status: z.number().optional(),
  bytesIn: z.number(),
  bytesOut: z.number(),
  durationMs: z.number().optional(),
  error: z.string().optional(),
  udp: udpTally.optional(),
  requestHeaders: z.array(z.string()).optional(),
  responseHeaders: z.array(z.string()).optional(),
  requestBody: capturedBody.optional(),
  responseBody: capturedBody.optional(),
  /** Phases measured (ms): dialling the target, the client's TLS handshake with the interception front, the wait for the response head, its body. */
  dnsMs: z.number().optional(),
  connectMs: z.number().optional(),
  tlsMs: z.number().optional(),
  waitMs: z.number().optional(),
  receiveMs: z.number().optional(),
  tls: tlsInfo.optional(),
});
/** A connection record as the API carries it. */
export type RecordAnswer = z.infer<typeof connectionRecordSchema>;

/** One refusal by the traffic policy. */
export const limitHitSchema = z.strictObject({
  scope: z.enum(['global', 'ip', 'user', 'connections', 'acl', 'port', 'private-target', 'auth', 'loop', 'reject']),
  client: z.string(),
  user: z.string().optional(),
  mode: z.string().optional(),
  reason: z.string(),
  protocol: frontProtocol,
  target: z.string().optional(),
  time: z.number(),
});

/** A WireGuard or OpenVPN tunnel's state. */
export const tunnelStatusSchema = z.strictObject({
  name: z.string(),
  type: z.enum(['wireguard', 'openvpn']),
  state: z.enum(['starting', 'up', 'down', 'stopped']),
  reason: z.string().optional(),
  since: z.number(),
  netns: z.string(),
  iface: z.string(),
  dns: z.array(z.string()),
  addresses: z.array(z.string()),
  restarts: z.number(),
  pid: z.number().optional(),
  lastHandshake: z.number().nullable().optional(),
});

const healthStatus = z.enum(['healthy', 'unhealthy', 'unknown']);

/** One line of the live stream (`GET /api/events`, NDJSON); `hello` opens every stream. */
export const liveEventSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('hello'), time: z.number() }),
  z.strictObject({ type: z.literal('connection:start'), time: z.number(), record: connectionRecordSchema }),
  z.strictObject({ type: z.literal('connection:end'), time: z.number(), record: connectionRecordSchema }),
  z.strictObject({ type: z.literal('reload'), time: z.number(), ok: z.boolean(), version: z.string().optional(), errors: z.array(z.string()).optional(), restartRequired: z.array(z.string()).optional() }),
  z.strictObject({ type: z.literal('warning'), time: z.number(), message: z.string() }),
  z.strictObject({ type: z.literal('traffic'), time: z.number(), phase: z.enum(['request', 'response']), record: connectionRecordSchema }),
  z.strictObject({ type: z.literal('limit:hit'), time: z.number(), hit: limitHitSchema }),
  /** Bytes (both ways) the proxy moved in the last second, open connections included; sent once a second while traffic flows. */
  z.strictObject({ type: z.literal('throughput'), time: z.number(), bytes: z.number() }),
  z.strictObject({
    type: z.literal('backend:health'),
    time: z.number(),
    backend: z.string(),
    healthy: z.boolean(),
    status: healthStatus,
    latencyMs: z.number().nullable(),
    consecutiveFailures: z.number(),
    lastCheck: z.number().nullable(),
    reason: z.string().optional(),
  }),
  z.strictObject({ type: z.literal('tunnel'), time: z.number(), tunnel: tunnelStatusSchema }),
  z.strictObject({ type: z.literal('audit'), time: z.number(), entry: auditEntrySchema }),
]);
/** One line of the live stream. */
export type StreamLine = z.infer<typeof liveEventSchema>;
