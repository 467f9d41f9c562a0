/** How many of the busiest clients the stats carry. */
export const BUSIEST_CLIENTS = 10;

/**
 * The `n` clients with the most open connections, most first, from per-client counts. One pass
 * with a small sorted list: the counts may hold many thousands of addresses.
 */
export function busiest(counts: Iterable<[string, number]>, n = BUSIEST_CLIENTS): { client: string; active: number }[] {
  const top: { client: string; active: number }[] = [];
  for (const [client, active] of counts) {
    if (top.length === n && active <= top[n - 1].active) continue;
    let at = top.length;
    while (at > 0 && top[at - 1].active < active) at--;
    top.splice(at, 0, { client, active });
    if (top.length > n) top.pop();
  }
  return top;
}

/** Adds up the busiest-client lists of several engine processes and keeps the `n` busiest. */
export function mergeBusiest(lists: { client: string; active: number }[][], n = BUSIEST_CLIENTS): { client: string; active: number }[] {
  const sums = new Map<string, number>();
  for (const list of lists) for (const { client, active } of list) sums.set(client, (sums.get(client) ?? 0) + active);
  return busiest(sums, n);
}
