/** What a rate is worked out from: an open connection's id and bytes so far. */
export interface ByteCount {
  id: string;
  bytesIn: number;
  bytesOut: number;
}

/** Bytes per second each way. */
export interface ByteRate {
  in: number;
  out: number;
}

/**
 * The current rate of each connection present in both reads: the growth of its bytes so far
 * between the two, over the time between them. A connection seen only in the later read has
 * none (it is left out): its bytes may predate the first read.
 */
export function ratesBetween(before: readonly ByteCount[], after: readonly ByteCount[], elapsedMs: number): Map<string, ByteRate> {
  const rates = new Map<string, ByteRate>();
  if (elapsedMs <= 0) return rates;
  const earlier = new Map(before.map((c) => [c.id, c]));
  for (const c of after) {
    const was = earlier.get(c.id);
    if (!was) continue;
    rates.set(c.id, { in: (Math.max(0, c.bytesIn - was.bytesIn) * 1000) / elapsedMs, out: (Math.max(0, c.bytesOut - was.bytesOut) * 1000) / elapsedMs });
  }
  return rates;
}

/** What an open UDP association has relayed, for a listing: `12↑ 10↓ datagrams`, with drops when there were some. */
export function datagramText(udp: { datagramsIn: number; datagramsOut: number; dropped: number }): string {
  return `${udp.datagramsIn}↑ ${udp.datagramsOut}↓ datagrams${udp.dropped > 0 ? `, ${udp.dropped} dropped` : ''}`;
}
