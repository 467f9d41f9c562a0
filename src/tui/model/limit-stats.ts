/** A refusal by a limit, as the live stream carries it. */
export interface LimitHitEvent {
  scope: string;
  client: string;
  user?: string;
  reason?: string;
  time?: number;
}

/** Clients tracked by name; beyond this the least limited one is forgotten. */
const MAX_CLIENTS = 1000;

/** Rate-limit and policy refusals by scope, and the clients limited most. */
export class LimitStats {
  private readonly scopes = new Map<string, number>();
  private readonly clients = new Map<string, { count: number; scope: string; last: number }>();
  private total = 0;

  /** Counts one refusal. */
  add(hit: LimitHitEvent, nowMs: number): void {
    this.total++;
    this.scopes.set(hit.scope, (this.scopes.get(hit.scope) ?? 0) + 1);
    const key = hit.user ? `${hit.user}@${hit.client}` : hit.client;
    const entry = this.clients.get(key) ?? { count: 0, scope: hit.scope, last: 0 };
    entry.count++;
    entry.scope = hit.scope;
    entry.last = hit.time ?? nowMs;
    // Re-inserting keeps the map in recency order: on overflow the least limited, least recent client goes.
    this.clients.delete(key);
    this.clients.set(key, entry);
    if (this.clients.size > MAX_CLIENTS) {
      let victim: string | null = null;
      let least = Number.POSITIVE_INFINITY;
      for (const [name, e] of this.clients) {
        if (e.count < least && name !== key) {
          least = e.count;
          victim = name;
        }
      }
      if (victim !== null) this.clients.delete(victim);
    }
  }

  /**
   * Takes the daemon's totals by scope (its counters since it started), as read when the
   * dashboard (re)connects: the counts shown are the daemon's, not just what was seen live.
   */
  setTotals(byScope: Record<string, number>): void {
    this.scopes.clear();
    this.total = 0;
    for (const [scope, count] of Object.entries(byScope)) {
      if (count <= 0) continue;
      this.scopes.set(scope, count);
      this.total += count;
    }
  }

  /** Refusals so far. */
  get count(): number {
    return this.total;
  }

  /** Counts by scope, largest first. */
  byScope(): { scope: string; count: number }[] {
    return [...this.scopes].map(([scope, count]) => ({ scope, count })).sort((a, b) => b.count - a.count);
  }

  /** The `n` clients refused most often. */
  topClients(n: number): { client: string; count: number; scope: string }[] {
    return [...this.clients]
      .map(([client, e]) => ({ client, count: e.count, scope: e.scope }))
      .sort((a, b) => b.count - a.count)
      .slice(0, n);
  }
}
