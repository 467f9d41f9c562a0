import type { DescriptorView, EngineStats } from '../engine/engine-api.js';
import { mergeBusiest } from '../policy/busiest-clients.js';
import { mergeDescriptors } from './descriptors.js';
import { sumUdp } from './udp/udp-counts.js';

/** The counters of every engine worker as one: sums, the busiest clients over all, and the descriptors of the process nearest its limit (the primary's own included). */
export function mergeStats(all: readonly EngineStats[], primaryDescriptors: DescriptorView): EngineStats {
  const backends: EngineStats['backends'] = {};
  for (const stats of all) {
    for (const [name, b] of Object.entries(stats.backends)) {
      const sum = (backends[name] ??= { active: 0, total: 0, errors: 0 });
      sum.active += b.active;
      sum.total += b.total;
      sum.errors += b.errors;
    }
  }
  return {
    startedAt: Math.min(...all.map((s) => s.startedAt)),
    connectionsActive: all.reduce((n, s) => n + s.connectionsActive, 0),
    connectionsTotal: all.reduce((n, s) => n + s.connectionsTotal, 0),
    backends,
    busiestClients: mergeBusiest(all.map((s) => s.busiestClients)),
    descriptors: mergeDescriptors([primaryDescriptors, ...all.map((s) => s.descriptors)]),
    udp: sumUdp(all.map((s) => s.udp)),
  };
}
