import type { z } from 'zod';
import type { ConfigSnapshot } from '../../config/model.js';
import type { socks5Schema } from '../../config/socks5-schema.js';
import { UDP_DEFAULTS } from '../../config/socks5-defaults.js';
import { parseDuration } from '../../config/value-parsers.js';

/** `socks5.udp:` as the relay uses it (durations in ms). */
export interface UdpSettings {
  enabled: boolean;
  advertiseAddress?: string;
  idleMs: number;
  flowIdleMs: number;
  maxFlowsPerAssociation: number;
  maxFlows: number;
}

/** `socks5:` as written in the file, which the loader has validated (keys left out take UDP_DEFAULTS). */
type Socks5Section = z.input<typeof socks5Schema>;

const cache = new WeakMap<ConfigSnapshot, UdpSettings>();

/** The `socks5.udp:` settings of a snapshot (defaults when absent), read once per snapshot. */
export function udpSettings(snapshot: ConfigSnapshot): UdpSettings {
  let settings = cache.get(snapshot);
  if (settings) return settings;
  const udp = { ...UDP_DEFAULTS, ...(snapshot.raw.socks5 as Socks5Section | undefined)?.udp };
  settings = {
    enabled: udp.enabled,
    advertiseAddress: udp.advertise_address,
    idleMs: parseDuration(udp.idle_timeout)!,
    flowIdleMs: parseDuration(udp.flow_idle_timeout)!,
    maxFlowsPerAssociation: udp.max_flows_per_association,
    maxFlows: udp.max_flows,
  };
  cache.set(snapshot, settings);
  return settings;
}
