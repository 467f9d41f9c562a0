/** How the primary's slot pool reaches its workers (W: a worker handle). */
export interface SlotPoolLink<W> {
  /** The workers that may hold slots now (started or starting). */
  workers(): Iterable<W>;
  /** Asks a worker to count `address` with the others and give back its idle slots: resolves with what it holds then (0 if it is gone). */
  reclaim(worker: W, address: string): Promise<number>;
  /** Answers a worker's ask: it holds `held` slots of `address` now. */
  grant(worker: W, address: string, held: number): void;
  /** Tells every worker `address` is counted over the workers no more. */
  unpin(address: string): void;
  /** max_connections_per_ip in force (0: none). */
  cap(): number;
}

interface Ask<W> {
  worker: W;
  open: number;
  want: number;
}

/** A client counted over the workers: the slots each holds, and asks waiting their turn. */
interface Client<W> {
  held: Map<W, number>;
  queue: Ask<W>[];
  busy: boolean;
}

/**
 * max_connections_per_ip over engine processes accepting on shared sockets, the primary's side
 * (see SlotLeases): for each client some worker asked about, the slots every worker holds, their
 * sum at most the cap. An ask is granted a chunk of the free slots (a fair part, at least what it
 * waits for while there is enough); when none are free the workers are asked for their idle ones
 * first; if none come back the answer grants nothing and the connection is refused. Asks for one
 * client are served one at a time; a client whose slots all came back is forgotten.
 */
export class SlotPool<W> {
  private readonly clients = new Map<string, Client<W>>();

  constructor(
    private readonly processes: number,
    private readonly link: SlotPoolLink<W>,
  ) {}

  /** Clients counted over the workers now (a new worker is told them before it serves). */
  pinned(): string[] {
    return [...this.clients.keys()];
  }

  /** A worker asks for more slots of `address`: it has `open` connections and `want` waiting. */
  ask(worker: W, address: string, open: number, want: number): void {
    let client = this.clients.get(address);
    const fresh = client === undefined;
    if (client === undefined) {
      client = { held: new Map(), queue: [], busy: false };
      this.clients.set(address, client);
    }
    client.queue.push({ worker, open, want });
    if (!client.busy) void this.serve(address, client, fresh);
  }

  /** A worker gave back every slot of `address`. */
  release(worker: W, address: string): void {
    const client = this.clients.get(address);
    if (client === undefined) return;
    client.held.delete(worker);
    this.forgetIfIdle(address, client);
  }

  /** A worker exited: its slots are free again. */
  lost(worker: W): void {
    for (const [address, client] of this.clients) {
      client.held.delete(worker);
      this.forgetIfIdle(address, client);
    }
  }

  private async serve(address: string, client: Client<W>, fresh: boolean): Promise<void> {
    client.busy = true;
    // A client newly counted here: every other worker's share becomes what it has open.
    if (fresh) await this.reclaimOthers(address, client, client.queue[0].worker);
    while (client.queue.length > 0) {
      const { worker, open, want } = client.queue.shift()!;
      client.held.set(worker, open);
      // No cap any more (a reload cleared it): whatever is asked for.
      if (this.link.cap() === 0) {
        client.held.set(worker, open + want);
        this.link.grant(worker, address, open + want);
        continue;
      }
      let free = this.free(client);
      if (free < want) {
        await this.reclaimOthers(address, client, worker);
        free = this.free(client);
      }
      const granted = free <= 0 ? 0 : Math.min(free, Math.max(want, Math.ceil(free / this.processes)));
      client.held.set(worker, open + granted);
      this.link.grant(worker, address, open + granted);
    }
    client.busy = false;
    this.forgetIfIdle(address, client);
  }

  private async reclaimOthers(address: string, client: Client<W>, asking: W): Promise<void> {
    const others = [...this.link.workers()].filter((w) => w !== asking);
    const held = await Promise.all(others.map((w) => this.link.reclaim(w, address)));
    others.forEach((w, i) => (held[i] > 0 ? client.held.set(w, held[i]) : client.held.delete(w)));
  }

  private free(client: Client<W>): number {
    let used = 0;
    for (const n of client.held.values()) used += n;
    return this.link.cap() - used;
  }

  private forgetIfIdle(address: string, client: Client<W>): void {
    if (client.busy || client.queue.length > 0) return;
    for (const n of client.held.values()) if (n > 0) return;
    this.clients.delete(address);
    this.link.unpin(address);
  }
}
