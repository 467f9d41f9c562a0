/** What a worker's slot leases send to the primary; false when the primary is gone. */
export interface SlotLeaseLink {
  /** Asks for more slots of `address` (it has `open` connections and `want` waiting). */
  ask(address: string, open: number, want: number): boolean;
  /** Gives back every slot of `address` (nothing of it is open here). */
  release(address: string): boolean;
}

/** A client the primary counts over every worker: this worker's open connections and the slots it holds. */
interface Pinned {
  open: number;
  held: number;
  /** Connections waiting for the primary's answer (an ask is in flight while any wait). */
  waiting: ((admitted: boolean) => void)[];
}

/**
 * max_connections_per_ip over engine processes accepting on shared sockets, this worker's side.
 * Every worker may hold `cap / processes` connections of any client without asking (so a client
 * far from its cap costs nothing per connection); one that needs more asks the primary, which
 * then counts that client over every worker: each holds an explicit number of slots, the sum at
 * most the cap, and a worker admits while its open count is below what it holds. Slots freed by
 * closes stay here (idle) until the primary reclaims them, or go back when nothing of the client
 * is open here. Exact: the total over all workers never passes the cap.
 */
export class SlotLeases {
  private cap = 0;
  private share = 0;
  /** Open connections of clients nobody counted over the workers (each within the share). */
  private readonly local = new Map<string, number>();
  private readonly pinned = new Map<string, Pinned>();

  constructor(
    private readonly processes: number,
    private readonly link: SlotLeaseLink,
  ) {}

  /** The cap in force (0: none); a changed cap drops idle slots, so a lower one holds for new connections. */
  configure(cap: number): void {
    if (cap === this.cap) return;
    this.cap = cap;
    this.share = Math.floor(cap / this.processes);
    for (const p of this.pinned.values()) p.held = p.open;
  }

  /** Whether a cap is in force (without one, connections are not counted here). */
  get limited(): boolean {
    return this.cap > 0;
  }

  /** Clients the primary counts over the workers (a worker started while they were). */
  pin(addresses: readonly string[]): void {
    for (const address of addresses) this.reclaim(address);
  }

  /** Takes a slot for a new connection of `address`: true or false at once, or the primary's answer. */
  admit(address: string): boolean | Promise<boolean> {
    if (this.cap === 0) return true;
    const p = this.pinned.get(address);
    if (p === undefined) {
      const open = this.local.get(address) ?? 0;
      if (open < this.share) {
        this.local.set(address, open + 1);
        return true;
      }
      this.local.delete(address);
      const pinned: Pinned = { open, held: open, waiting: [] };
      this.pinned.set(address, pinned);
      return this.wait(address, pinned);
    }
    if (p.waiting.length === 0 && p.open < p.held) {
      p.open++;
      return true;
    }
    return this.wait(address, p);
  }

  /** A connection `admit` let in closed. */
  release(address: string): void {
    const p = this.pinned.get(address);
    if (p === undefined) {
      const open = (this.local.get(address) ?? 0) - 1;
      if (open > 0) this.local.set(address, open);
      else this.local.delete(address);
      return;
    }
    if (p.open > 0) p.open--;
    if (p.open === 0 && p.waiting.length === 0 && p.held > 0) {
      p.held = 0;
      this.link.release(address);
    }
  }

  /** The primary's answer to an ask: this worker now holds `held` slots of `address`. */
  granted(address: string, held: number): void {
    const p = this.pinned.get(address);
    if (p === undefined) return;
    p.held = Math.max(held, p.open);
    const waiting = p.waiting;
    let admitted = 0;
    while (waiting.length > 0 && p.open < p.held) {
      p.open++;
      admitted++;
      waiting.shift()!(true);
    }
    if (waiting.length === 0) return;
    // Nothing granted: the cap is reached over every worker.
    if (admitted === 0) {
      p.waiting = [];
      for (const resolve of waiting) resolve(false);
      if (p.open === 0 && p.held > 0) this.release(address);
      return;
    }
    this.ask(address, p);
  }

  /** The primary counts `address` over the workers and takes back its idle slots here: what this worker holds now. */
  reclaim(address: string): number {
    let p = this.pinned.get(address);
    if (p === undefined) {
      const open = this.local.get(address) ?? 0;
      this.local.delete(address);
      p = { open, held: open, waiting: [] };
      this.pinned.set(address, p);
    }
    p.held = p.open;
    return p.held;
  }

  /** The primary no longer counts `address` (nothing of it is open anywhere): back to the share. */
  unpin(address: string): void {
    const p = this.pinned.get(address);
    // An ask in flight: the primary counts this client again when it reads it.
    if (p === undefined || p.waiting.length > 0) return;
    this.pinned.delete(address);
    if (p.open > 0) this.local.set(address, p.open);
  }

  /** Clients this worker has connections of (local share and pinned), for tests and stats. */
  open(address: string): number {
    return this.pinned.get(address)?.open ?? this.local.get(address) ?? 0;
  }

  private wait(address: string, p: Pinned): Promise<boolean> {
    return new Promise((resolve) => {
      p.waiting.push(resolve);
      if (p.waiting.length === 1) this.ask(address, p);
    });
  }

  private ask(address: string, p: Pinned): void {
    if (this.link.ask(address, p.open, p.waiting.length)) return;
    // Cut off from the primary (exiting): let the connections go rather than hang them.
    const waiting = p.waiting;
    p.waiting = [];
    p.open += waiting.length;
    p.held = Math.max(p.held, p.open);
    for (const resolve of waiting) resolve(true);
  }
}
