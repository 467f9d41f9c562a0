import { connect, isIPv6, type Socket, type LookupFunction } from 'node:net';
import { lookup, type LookupAddress } from 'node:dns';
import type { NetworkSpec } from '../config/model.js';
import { forwardingReadOption } from './read-forwarding.js';
import { DialError } from '../errors.js';
import { normalizeAddress } from '../policy/ip-address.js';
import { isPrivateAddress, privateTargetError } from '../policy/private-target.js';
import { dialTimeout, toDialError } from './dial-errors.js';
import { timeLookup } from './dial-timing.js';

/** Options for one outgoing TCP connection. */
export interface TcpConnectOptions {
  host: string;
  port: number;
  timeoutMs: number;
  network: Pick<NetworkSpec, 'ipv6' | 'keepalive'>;
  /** Names the hop in error messages (default: host:port). */
  label?: string;
  /** The socket will only be relayed: read in bulk (see read-forwarding), never through 'data' events. */
  relayOnly?: boolean;
  /** Refuse loopback and link-local addresses, checked on the address about to be dialled (before any packet leaves). */
  refusePrivate?: boolean;
}

/**
 * A lookup that puts the preferred family first (a stable sort keeps the resolver's order within
 * each). Without it the resolver's own order wins, and RFC 6724 puts IPv6 first wherever the host
 * has IPv6: `prefer_ipv6: false` would then still prefer IPv6. With `refusePrivate` it is also
 * the private-target check: the answers it hands the socket are the ones checked, so a name
 * whose answers change between lookups (DNS rebinding) cannot slip a private one past it, and
 * there is no second lookup.
 */
function lookupPreferring(family: 4 | 6, refusePrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return (callback as (e: Error) => void)(error);
      if (refusePrivate) {
        const inward = addresses.find((a: LookupAddress) => isPrivateAddress(a.address));
        if (inward) return (callback as (e: Error) => void)(privateTargetError(`${hostname} (resolves to ${inward.address})`));
      }
      const sorted = [...addresses].sort((a, b) => (a.family === family ? 0 : 1) - (b.family === family ? 0 : 1));
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: typeof sorted) => void)(null, sorted);
      callback(null, sorted[0].address, sorted[0].family);
    });
  };
}
const LOOKUPS = { open: { 4: lookupPreferring(4, false), 6: lookupPreferring(6, false) }, guarded: { 4: lookupPreferring(4, true), 6: lookupPreferring(6, true) } } as const;

/**
 * Connects to host:port dual-stack (happy eyeballs), honouring `ipv6.enabled` and `prefer_ipv6`,
 * with a connect timeout, TCP keepalive and no Nagle delay. Rejects with a DialError.
 */
export function tcpConnect(options: TcpConnectOptions): Promise<Socket> {
  const { ipv6, keepalive } = options.network;
  const label = options.label ?? `${options.host}:${options.port}`;
  // Every spelling of an address is checked as its one canonical form, before any packet leaves.
  const literal = normalizeAddress(options.host);
  if (literal !== null && options.refusePrivate && isPrivateAddress(literal)) return Promise.reject(privateTargetError(options.host === literal ? literal : `${options.host} (${literal})`));
  // An IPv4 address in any spelling is dialled as checked; an IPv6 one as written (its zone id
  // says which link, and a NAT64 address must reach the translator, not the IPv4 inside).
  const host = literal !== null && !options.host.includes(':') ? literal : options.host.replace(/^\[(.*)\]$/, '$1');
  // A literal address skips the lookup, so `family: 4` alone would still let it through.
  if (!ipv6.enabled && literal !== null && isIPv6(host)) return Promise.reject(new DialError('unreachable', `${label}: IPv6 is off (network.ipv6.enabled: false)`));
  const forwarding = options.relayOnly ? forwardingReadOption() : undefined;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect({
      onread: forwarding?.onread,
      host,
      port: options.port,
      family: ipv6.enabled ? 0 : 4,
      autoSelectFamily: ipv6.enabled,
      lookup: LOOKUPS[options.refusePrivate ? 'guarded' : 'open'][ipv6.enabled && ipv6.preferIpv6 ? 6 : 4],
      noDelay: true,
      keepAlive: keepalive.enabled,
      keepAliveInitialDelay: keepalive.enabled ? keepalive.intervalMs : 0,
    });
    // A name is resolved here: how long it took is the DNS phase of the records' timings.
    if (literal === null) timeLookup(socket, started);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(dialTimeout(label, options.timeoutMs));
    }, options.timeoutMs);
    const onError = (error: Error): void => {
      clearTimeout(timer);
      reject(toDialError(error, label));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      forwarding?.register(socket);
      resolve(socket);
    });
  });
}
