import type { DebugSpec } from '../config/model.js';
import type { ConnectionRecord } from '../protocol/connection-record.js';
import { DomainMatcher } from '../routing/domain-matcher.js';

/** The `debug.filter` of the config: which records the debugger keeps (empty lists keep all). */
export class TrafficFilter {
  private readonly domains: DomainMatcher | null;
  private readonly methods: ReadonlySet<string> | null;
  private readonly statusCodes: ReadonlySet<number> | null;

  constructor(filter: DebugSpec['filter']) {
    if (filter.domains.length > 0) {
      this.domains = new DomainMatcher();
      for (const pattern of filter.domains) this.domains.add(pattern, 0);
    } else {
      this.domains = null;
    }
    this.methods = filter.methods.length > 0 ? new Set(filter.methods) : null;
    this.statusCodes = filter.statusCodes.length > 0 ? new Set(filter.statusCodes) : null;
  }

  /** Whether a record's status is only known at its end, so its REQ line must wait for it. */
  get waitsForStatus(): boolean {
    return this.statusCodes !== null;
  }

  /** Whether the request side (host, method) passes. */
  admitsRequest(record: ConnectionRecord): boolean {
    if (this.domains && this.domains.match(record.host) < 0) return false;
    return this.methods === null || this.methods.has(record.method);
  }

  /**
   * Whether the finished record passes every part of the filter. A round hundred stands for its
   * class, as the spec's `[400, 500]` "for errors only" means: 500 admits 502 too.
   */
  admits(record: ConnectionRecord): boolean {
    if (!this.admitsRequest(record)) return false;
    if (this.statusCodes === null) return true;
    const status = record.status;
    return status !== undefined && (this.statusCodes.has(status) || this.statusCodes.has(status - (status % 100)));
  }
}
