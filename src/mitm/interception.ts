import { readFileSync } from 'node:fs';
import type { SecureContext } from 'node:tls';
import { LRUCache } from 'lru-cache';
import type { MitmSpec } from '../config/model.js';
import type { Role } from '../role.js';
import { normalizeHost, parseDomainPattern, patternMatches, type DomainPattern } from '../routing/domain-pattern.js';
import { setOriginTrust } from '../backends/origin-trust.js';
import type { CaMaterial } from './ca-store.js';
import { LeafMinter, type MinterCounts } from './leaf-minter.js';

/** Hosts whose handshake failures are remembered (oldest forgotten first): a flood of names cannot grow it. */
const REMEMBERED_HOSTS = 10_000;

/** One engine process's interception counters, for `debug stats` and the dashboard. */
export interface InterceptionCounts {
  /** Intercepting now. */
  active: boolean;
  /** Tunnels opened up (TLS terminated towards the client). */
  intercepted: number;
  /** Tunnels left end to end although interception was on (ignored, passed through, not TLS). */
  passedThrough: number;
  /** Handshakes a client broke off against our certificate (it does not trust the CA, or pins). */
  clientRejections: number;
  /** Hosts passed through since their clients rejected our certificate passthrough_after_failures times. */
  passthroughHosts: string[];
  /** The leaf certificates of this process. */
  leaves: MinterCounts | null;
}

/**
 * Which tunnels are intercepted, with what certificates, in one engine process: the `debug.mitm`
 * settings in force (from the file or `debug mitm on|off`), the CA's leaf minter, and the hosts
 * whose clients refused our certificate often enough to be passed through untouched.
 */
export class Interception {
  private spec: MitmSpec | null = null;
  private minter: LeafMinter | null = null;
  private hosts: DomainPattern[] = [];
  private ignored: DomainPattern[] = [];
  private failures = new LRUCache<string, number>({ max: REMEMBERED_HOSTS });
  private passthrough = new LRUCache<string, true>({ max: REMEMBERED_HOSTS });
  private intercepted = 0;
  private passedThrough = 0;
  private clientRejections = 0;

  constructor(
    private readonly role: Role,
    private readonly warn: (message: string) => void,
    /** Tells the other engine processes of a refusal seen here, so that every process counts every refusal. */
    private readonly share: (host: string, why: string) => void = () => undefined,
  ) {}

  /**
   * Applies settings. Interception runs when they enable it and a CA was given; in the server
   * role only when the config file has a `debug.mitm` section (opening other people's traffic is
   * never a side effect of a live switch alone).
   */
  configure(spec: MitmSpec, ca: CaMaterial | undefined): void {
    const on = spec.enabled && ca !== undefined && (this.role === 'client' || spec.configured);
    if (!on) {
      if (this.spec) setOriginTrust(null);
      this.spec = null;
      return;
    }
    if (!this.minter?.signsWith(ca) || this.minter.capacity !== spec.certCacheSize) this.minter = new LeafMinter(ca, spec.certCacheSize);
    if (this.spec === null || this.spec.passthroughAfterFailures !== spec.passthroughAfterFailures) {
      this.failures.clear();
      this.passthrough.clear();
    }
    this.hosts = spec.hosts.map(parseDomainPattern);
    this.ignored = spec.ignoreHosts.map(parseDomainPattern);
    setOriginTrust(this.extraCas(spec));
    this.spec = spec;
  }

  /** Whether any tunnel may be intercepted now. */
  get active(): boolean {
    return this.spec !== null;
  }

  /** Whether a tunnel to `host` is intercepted: on, listed, not ignored, not passed through after failures. */
  wants(host: string): boolean {
    if (this.spec === null) return false;
    const name = normalizeHost(host);
    if (this.ignored.some((p) => patternMatches(p, name))) return false;
    if (!this.hosts.some((p) => patternMatches(p, name))) return false;
    return !this.passthrough.has(name);
  }

  /** The TLS context presenting a leaf for `host`. */
  context(host: string): Promise<SecureContext> {
    if (!this.minter) return Promise.reject(new Error('interception is off'));
    return this.minter.context(normalizeHost(host));
  }

  /** Counts a tunnel opened up. */
  opened(host: string): void {
    this.intercepted++;
    this.failures.delete(normalizeHost(host));
  }

  /** Counts a tunnel left end to end while interception was on. */
  passed(): void {
    this.passedThrough++;
  }

  /** Counts a client's refusal of our certificate for `host`; after passthrough_after_failures of them the host is passed through. */
  rejected(host: string, why: string): void {
    if (this.spec === null) return;
    this.clientRejections++;
    const name = normalizeHost(host);
    this.share(name, why);
    if (this.count(name)) this.warn(`interception: clients refused the certificate for ${name} ${this.spec.passthroughAfterFailures} times (${why}); passing ${name} through untouched from now on`);
  }

  /** Counts a refusal another engine process saw (it told the log and its counters itself). */
  heardRejection(host: string): void {
    if (this.spec !== null) this.count(normalizeHost(host));
  }

  /** Counts one refusal for `name`; true when that one makes it pass through. */
  private count(name: string): boolean {
    const count = (this.failures.get(name) ?? 0) + 1;
    if (count < this.spec!.passthroughAfterFailures) {
      this.failures.set(name, count);
      return false;
    }
    this.failures.delete(name);
    const already = this.passthrough.has(name);
    this.passthrough.set(name, true);
    return !already;
  }

  /** Reports a failure of our own (a leaf that could not be signed). */
  failed(message: string): void {
    this.warn(`interception: ${message}`);
  }

  /** Counters of this process. */
  counts(): InterceptionCounts {
    return {
      active: this.spec !== null,
      intercepted: this.intercepted,
      passedThrough: this.passedThrough,
      clientRejections: this.clientRejections,
      passthroughHosts: [...this.passthrough.keys()],
      leaves: this.minter?.counts() ?? null,
    };
  }

  /** The first engine process's counters folded together with another's. */
  static merge(a: InterceptionCounts, b: InterceptionCounts): InterceptionCounts {
    const leaves = a.leaves && b.leaves ? { minted: a.leaves.minted + b.leaves.minted, cached: a.leaves.cached + b.leaves.cached, size: a.leaves.size + b.leaves.size, capacity: a.leaves.capacity + b.leaves.capacity, averageMintMs: mean(a.leaves, b.leaves) } : (a.leaves ?? b.leaves);
    return {
      active: a.active || b.active,
      intercepted: a.intercepted + b.intercepted,
      passedThrough: a.passedThrough + b.passedThrough,
      clientRejections: a.clientRejections + b.clientRejections,
      passthroughHosts: [...new Set([...a.passthroughHosts, ...b.passthroughHosts])],
      leaves,
    };
  }

  private extraCas(spec: MitmSpec): string {
    if (spec.upstreamCaFile === undefined) return '';
    try {
      return readFileSync(spec.upstreamCaFile, 'utf8');
    } catch (error) {
      this.warn(`interception: cannot read debug.mitm.upstream_ca_file ${spec.upstreamCaFile} (${(error as NodeJS.ErrnoException).code ?? 'error'}); origins are verified against the system store only`);
      return '';
    }
  }
}

/** Counters of a process that never intercepted. */
export const NO_INTERCEPTION: InterceptionCounts = { active: false, intercepted: 0, passedThrough: 0, clientRejections: 0, passthroughHosts: [], leaves: null };

/** The mean signing time over two processes' leaves. */
function mean(a: MinterCounts, b: MinterCounts): number {
  const minted = a.minted + b.minted;
  return minted === 0 ? 0 : Math.round(((a.averageMintMs * a.minted + b.averageMintMs * b.minted) / minted) * 100) / 100;
}
