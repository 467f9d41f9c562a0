/** Clients tracked before the ones whose window ended are swept. */
const SWEEP_AT = 50_000;

interface Client<W> {
  failures: number;
  /** When the failure window ends (epoch ms): the count, and a lock, go then. */
  resetAt: number;
  /** Attempts a worker was allowed and has not reported yet, per worker. */
  inFlight: Map<W, number>;
  /** Asks waiting for an attempt in flight to end. */
  waiting: { worker: W; resolve: (until: number) => void }[];
}

/** What the pool needs of the cluster. */
export interface AttemptPoolParts {
  /** Tells every worker that `address` has failures on record until `until` (epoch ms), and whether it is locked. */
  watch(address: string, until: number, locked: boolean): void;
  /** `server.auth.failed_attempts` in force now. */
  settings(): { max: number; windowMs: number };
}

/**
 * The cluster primary's count of failed logins per client address (server.auth.failed_attempts),
 * over every engine worker. A client without failures is checked by any worker at once; once it
 * has one, every worker is told, and asks here before it checks that client's credentials: an
 * attempt is allowed while failures + attempts in flight < max, so exactly `max` wrong passwords
 * over all workers lock it, everywhere, until its window ends.
 */
export class AttemptPool<W> {
  private readonly clients = new Map<string, Client<W>>();

  constructor(private readonly parts: AttemptPoolParts) {}

  /** A worker asks to check a watched client's credentials: 0 lets it, else the lock's end (epoch ms). Waits while the attempts in flight could reach the max. */
  ask(worker: W, address: string, now = Date.now()): number | Promise<number> {
    const client = this.client(address, now);
    const { max } = this.parts.settings();
    if (client.failures >= max) return client.resetAt;
    if (client.failures + inFlight(client) >= max) return new Promise((resolve) => client.waiting.push({ worker, resolve }));
    client.inFlight.set(worker, (client.inFlight.get(worker) ?? 0) + 1);
    return 0;
  }

  /** A worker's checked attempt ended without a failure: its place is free. */
  done(worker: W, address: string, now = Date.now()): void {
    const client = this.clients.get(address);
    if (client === undefined) return;
    release(client, worker);
    this.settle(address, client, now);
  }

  /** Counts a failure (`leased`: of an attempt allowed here); the answer is the lock's end (epoch ms) when this failure reached the max, else 0. */
  failed(worker: W, address: string, leased: boolean, now = Date.now()): number {
    const client = this.client(address, now);
    if (leased) release(client, worker);
    client.failures++;
    // Once: a failure past the max (one checked before the lock was known) finds every worker told already.
    const locked = client.failures === this.parts.settings().max;
    if (client.failures === 1 || locked) this.parts.watch(address, client.resetAt, locked);
    this.settle(address, client, now);
    return locked ? client.resetAt : 0;
  }

  /** A worker exited: its attempts in flight end. */
  lost(worker: W, now = Date.now()): void {
    for (const [address, client] of this.clients) {
      client.waiting = client.waiting.filter((wait) => wait.worker !== worker);
      if (client.inFlight.delete(worker)) this.settle(address, client, now);
    }
  }

  /** Clients with failures on record now, with their window's end and whether they are locked (a new worker is told them). */
  watched(now = Date.now()): { address: string; until: number; locked: boolean }[] {
    const { max } = this.parts.settings();
    const list = [];
    for (const [address, client] of this.clients) if (client.resetAt > now && client.failures > 0) list.push({ address, until: client.resetAt, locked: client.failures >= max });
    return list;
  }

  private client(address: string, now: number): Client<W> {
    let client = this.clients.get(address);
    if (client !== undefined && client.resetAt <= now && inFlight(client) === 0 && client.waiting.length === 0) {
      this.clients.delete(address);
      client = undefined;
    }
    if (client === undefined) {
      if (this.clients.size >= SWEEP_AT) this.sweep(now);
      client = { failures: 0, resetAt: now + this.parts.settings().windowMs, inFlight: new Map(), waiting: [] };
      this.clients.set(address, client);
    } else if (client.resetAt <= now) {
      // The window ended while attempts were in flight: a new one starts.
      client.failures = 0;
      client.resetAt = now + this.parts.settings().windowMs;
    }
    return client;
  }

  /** Answers waiting asks as far as places are free (or the lock), and forgets a client with nothing on record. */
  private settle(address: string, client: Client<W>, now: number): void {
    const { max } = this.parts.settings();
    while (client.waiting.length > 0) {
      if (client.failures >= max) {
        for (const wait of client.waiting.splice(0)) wait.resolve(client.resetAt);
        break;
      }
      if (client.failures + inFlight(client) >= max) break;
      const next = client.waiting.shift()!;
      client.inFlight.set(next.worker, (client.inFlight.get(next.worker) ?? 0) + 1);
      next.resolve(0);
    }
    const idle = inFlight(client) === 0 && client.waiting.length === 0;
    if (idle && (client.failures === 0 || client.resetAt <= now)) this.clients.delete(address);
  }

  private sweep(now: number): void {
    for (const [address, client] of this.clients) if (client.resetAt <= now && inFlight(client) === 0 && client.waiting.length === 0) this.clients.delete(address);
    // Still full of live windows: forget every client with no attempt in flight (their failures too) rather than grow without bound.
    if (this.clients.size >= SWEEP_AT) for (const [address, client] of this.clients) if (inFlight(client) === 0 && client.waiting.length === 0) this.clients.delete(address);
  }
}

function inFlight<W>(client: Client<W>): number {
  let sum = 0;
  for (const n of client.inFlight.values()) sum += n;
  return sum;
}

function release<W>(client: Client<W>, worker: W): void {
  const held = client.inFlight.get(worker) ?? 0;
  if (held <= 1) client.inFlight.delete(worker);
  else client.inFlight.set(worker, held - 1);
}
