import type { UdpCounts } from '../../engine/engine-api.js';

/** The UDP counts of several engine processes added up (a clustered engine's `stats`). */
export function sumUdp(all: readonly UdpCounts[]): UdpCounts {
  const sum: UdpCounts = { associationsActive: 0, associationsTotal: 0, flowsActive: 0, datagramsIn: 0, datagramsOut: 0, bytesIn: 0, bytesOut: 0, dropped: {} };
  for (const c of all) {
    sum.associationsActive += c.associationsActive;
    sum.associationsTotal += c.associationsTotal;
    sum.flowsActive += c.flowsActive;
    sum.datagramsIn += c.datagramsIn;
    sum.datagramsOut += c.datagramsOut;
    sum.bytesIn += c.bytesIn;
    sum.bytesOut += c.bytesOut;
    for (const [reason, count] of Object.entries(c.dropped) as [keyof UdpCounts['dropped'], number][]) sum.dropped[reason] = (sum.dropped[reason] ?? 0) + count;
  }
  return sum;
}
