/** A client address and its open connections, as one process reports them or the primary tells them. */
export type IpCount = [address: string, open: number];

/**
 * max_connections_per_ip over the nodes of a fleet sharing Redis (FleetState; the engine workers
 * of one node lease the cap from their daemon instead, see SlotLeases). A process reports a
 * client's count once it holds its share of the cap (the cap divided by the processes) or it was
 * told the client has connections elsewhere; from then on it reports every change until the
 * count is 0. The reports are summed and each process is told what the others have open for
 * those clients. A client that no process reports has fewer than its share in each, so fewer
 * than the cap in all; one that is reported is counted over every process, exact but for what
 * the others admitted since their last report (one sync, that is within one burst).
 */
export class PerIpShare {
  /** Open connections per client in the other processes, as the primary last told. */
  private readonly elsewhere = new Map<string, number>();
  /** The counts this process last reported (clients it reports until they reach 0). */
  private readonly reported = new Map<string, number>();
  private readonly dirty = new Set<string>();

  /** The cap last counted against (a change in the processes counting together moves each one's share). */
  private max = 0;

  constructor(
    /** The processes counting together (the cap's share of each is the cap divided by them). */
    private processes: number,
    /** This process's open connections per client (PolicyState.perIp). */
    private readonly local: ReadonlyMap<string, number>,
  ) {}

  /** Connections a client has open in the other processes. */
  openElsewhere(address: string): number {
    return this.elsewhere.size === 0 ? 0 : (this.elsewhere.get(address) ?? 0);
  }

  /** A client's local count changed to `open` under a cap of `max`: note it for the next report if the primary must know. */
  changed(address: string, open: number, max: number): void {
    this.max = max;
    if (open >= this.share() || this.reported.has(address) || this.elsewhere.has(address)) this.dirty.add(address);
  }

  /** More (or fewer) processes count together now: clients at or past the new share are reported. */
  setProcesses(processes: number): void {
    if (processes === this.processes) return;
    this.processes = processes;
    const share = this.share();
    for (const [address, open] of this.local) if (open >= share) this.dirty.add(address);
  }

  private share(): number {
    return Math.max(1, Math.floor(this.max / this.processes));
  }

  /** Whether a report has counts to carry. */
  get pending(): boolean {
    return this.dirty.size > 0;
  }

  /** The counts to report now (those that changed since the last report), or undefined when none did. */
  take(): IpCount[] | undefined {
    if (this.dirty.size === 0) return undefined;
    const out: IpCount[] = [];
    for (const address of this.dirty) {
      const open = this.local.get(address) ?? 0;
      if (open === (this.reported.get(address) ?? 0)) continue;
      if (open > 0) this.reported.set(address, open);
      else this.reported.delete(address);
      out.push([address, open]);
    }
    this.dirty.clear();
    return out.length > 0 ? out : undefined;
  }

  /** The counts this process has reported and not yet taken back to 0. */
  reportedCounts(): IterableIterator<[string, number]> {
    return this.reported.entries();
  }

  /** What the others have open, in full: clients left out have nothing open elsewhere. */
  replace(counts: readonly IpCount[]): void {
    const gone: IpCount[] = [];
    const present = new Set(counts.map(([address]) => address));
    for (const address of this.elsewhere.keys()) if (!present.has(address)) gone.push([address, 0]);
    this.apply(gone);
    this.apply(counts);
  }

  /** What the primary says the other processes have open; a client newly counted elsewhere gets its local count reported. */
  apply(counts: readonly IpCount[]): void {
    for (const [address, open] of counts) {
      if (open > 0) {
        if (!this.elsewhere.has(address) && (this.local.get(address) ?? 0) > 0) this.dirty.add(address);
        this.elsewhere.set(address, open);
      } else {
        this.elsewhere.delete(address);
      }
    }
  }
}
