import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../config/atomic-write.js';
import type { RuleSetSpec } from '../config/model.js';
import { fetchRuleSet, type Validators } from './rule-set-fetch.js';
import { buildInWorker, builtBytes, loadedSet } from './rule-set-build.js';
import type { LoadedRuleSet, RuleSetSource } from './route-query.js';

/** What `rule-set` commands and the API show of one set. */
export interface RuleSetStatus {
  name: string;
  format: RuleSetSpec['format'];
  /** The file or URL it comes from. */
  source: string;
  /** Entries serving now (null: none loaded yet). */
  entries: number | null;
  /** Bytes its lookup arrays take. */
  bytes: number | null;
  /** Where the serving copy came from: the file, the URL, or the copy kept on disk from an earlier fetch. */
  from: 'file' | 'url' | 'cache' | null;
  /** When the serving copy was loaded, and when the URL was last asked (ms since epoch). */
  loadedAt: number | null;
  checkedAt: number | null;
  /** Why the last load or refresh failed (the serving copy, if any, stays), or null. */
  error: string | null;
}

/** The answer of `rule-set test NAME HOST`. */
export interface RuleSetTest {
  name: string;
  host: string;
  /** The entry that matches the host (`*.example.com`, `10.0.0.0/8`), or null. */
  entry: string | null;
  status: RuleSetStatus;
}

interface Entry {
  spec: RuleSetSpec;
  serving?: LoadedRuleSet;
  status: RuleSetStatus;
  /** Bumped by each new load, so that a slower earlier one never replaces a newer one. */
  generation: number;
  timer?: NodeJS.Timeout;
  /** The file's size and mtime when last read (path sets reload on a config reload only when it changed). */
  stamp?: string;
  validators: Validators;
  pending?: Promise<void>;
}

const cacheName = (name: string): string => encodeURIComponent(name);

/**
 * The rule sets of one engine process. Sets load in a worker thread; the one serving keeps
 * serving until its replacement is built and valid (a reload, a refresh, a failed fetch never
 * leaves a set empty). URL sets are fetched with the validators of the copy held, kept on disk in
 * `cacheDir` (with those validators) and refreshed every `interval`; at start the disk copy
 * serves until the first fetch answers.
 */
export class RuleSetStore implements RuleSetSource {
  private readonly entries = new Map<string, Entry>();
  private cacheDir: string | undefined;

  constructor(private readonly warn: (message: string) => void = () => undefined) {}

  /** The set serving under a name, if one is loaded. */
  get(name: string): LoadedRuleSet | undefined {
    return this.entries.get(name)?.serving;
  }

  /** Takes a config's rule sets: loads new and changed ones, re-reads files that changed, drops removed ones. */
  apply(specs: readonly RuleSetSpec[], cacheDir?: string): void {
    this.cacheDir = cacheDir;
    for (const [name, entry] of this.entries) {
      if (!specs.some((s) => s.name === name)) {
        clearTimeout(entry.timer);
        this.entries.delete(name);
      }
    }
    for (const spec of specs) {
      const before = this.entries.get(spec.name);
      if (before && JSON.stringify(before.spec) === JSON.stringify(spec)) {
        if (spec.path !== undefined && fileStamp(spec.path) !== before.stamp) this.load(before);
        continue;
      }
      clearTimeout(before?.timer);
      const entry: Entry = {
        spec,
        serving: before?.serving,
        generation: (before?.generation ?? 0) + 1,
        validators: {},
        status: { name: spec.name, format: spec.format, source: spec.path ?? spec.url!, entries: before?.status.entries ?? null, bytes: before?.status.bytes ?? null, from: before?.status.from ?? null, loadedAt: before?.status.loadedAt ?? null, checkedAt: null, error: null },
      };
      this.entries.set(spec.name, entry);
      this.load(entry);
    }
  }

  /** Resolves once every load and fetch under way has finished (whatever its outcome). */
  async settled(): Promise<void> {
    while ([...this.entries.values()].some((e) => e.pending)) await Promise.all([...this.entries.values()].map((e) => e.pending));
  }

  /** Fetches or re-reads a set now. */
  refresh(name: string): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry) return Promise.resolve();
    this.load(entry);
    return entry.pending ?? Promise.resolve();
  }

  /** Whether a set matches a host (a name for a domain set, an address for a CIDR set), and by which entry; null when there is no set of that name. */
  test(name: string, host: string): RuleSetTest | null {
    const entry = this.entries.get(name);
    if (!entry) return null;
    const at = entry.serving ? entry.serving.lookup(host) : -1;
    return { name, host, entry: at === -1 ? null : entry.serving!.describe(at), status: { ...entry.status } };
  }

  /** Every set's status, in config order. */
  statuses(): RuleSetStatus[] {
    return [...this.entries.values()].map((e) => ({ ...e.status }));
  }

  /** Stops the refresh timers. */
  stop(): void {
    for (const entry of this.entries.values()) clearTimeout(entry.timer);
  }

  private load(entry: Entry): void {
    const generation = ++entry.generation;
    const current = (): boolean => this.entries.get(entry.spec.name) === entry && entry.generation === generation;
    const work = entry.spec.path !== undefined ? this.loadFile(entry, current) : this.loadUrl(entry, current);
    const pending: Promise<void> = work
      .catch((error: unknown) => {
        if (!current()) return;
        entry.status.error = (error as Error).message;
        this.warn(`rule set "${entry.spec.name}": ${entry.status.error}${entry.serving ? '; the copy loaded before keeps serving' : '; rules using it match nothing until it loads'}`);
      })
      .finally(() => {
        if (entry.pending === pending) entry.pending = undefined;
        if (current() && entry.spec.url !== undefined) {
          clearTimeout(entry.timer);
          entry.timer = setTimeout(() => this.load(entry), entry.spec.intervalMs).unref();
        }
      });
    entry.pending = pending;
  }

  private async loadFile(entry: Entry, current: () => boolean): Promise<void> {
    const path = entry.spec.path!;
    const stamp = fileStamp(path);
    const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
      throw new Error(`cannot read ${path}: ${error.code === 'ENOENT' ? 'no such file' : (error.code ?? error.message)}`);
    });
    const built = await buildInWorker(bytes, entry.spec.format);
    if (!current()) return;
    entry.stamp = stamp;
    this.swap(entry, built, 'file');
  }

  private async loadUrl(entry: Entry, current: () => boolean): Promise<void> {
    const files = this.cacheFiles(entry.spec.name);
    if (!entry.serving && files) {
      const cached = readCache(files, entry.spec.url!);
      if (cached) {
        const built = await buildInWorker(cached.body, entry.spec.format).catch(() => null);
        if (built && current()) {
          entry.validators = cached.validators;
          this.swap(entry, built, 'cache');
        }
      }
    }
    const answer = await fetchRuleSet(entry.spec.url!, entry.serving ? entry.validators : {}, entry.spec.caFile);
    if (!current()) return;
    entry.status.checkedAt = Date.now();
    if (!answer.modified) {
      entry.status.error = null;
      return;
    }
    const built = await buildInWorker(new Uint8Array(answer.body), entry.spec.format).catch((error: Error) => {
      throw new Error(`${entry.spec.url} did not validate as a "${entry.spec.format}" list: ${error.message}`);
    });
    if (!current()) return;
    entry.validators = { etag: answer.etag, lastModified: answer.lastModified };
    if (files) {
      try {
        mkdirSync(this.cacheDir!, { recursive: true, mode: 0o700 });
        writeFileAtomic(files.list, answer.body.toString('utf8'));
        writeFileAtomic(files.meta, JSON.stringify({ url: entry.spec.url, ...entry.validators }));
      } catch (error) {
        this.warn(`rule set "${entry.spec.name}": cannot keep a copy in ${this.cacheDir}: ${(error as Error).message}`);
      }
    }
    this.swap(entry, built, 'url');
  }

  private swap(entry: Entry, built: Parameters<typeof loadedSet>[0], from: RuleSetStatus['from']): void {
    entry.serving = loadedSet(built);
    Object.assign(entry.status, { entries: entry.serving.size, bytes: builtBytes(built), from, loadedAt: Date.now(), error: null });
  }

  private cacheFiles(name: string): { list: string; meta: string } | null {
    if (!this.cacheDir) return null;
    return { list: join(this.cacheDir, `${cacheName(name)}.list`), meta: join(this.cacheDir, `${cacheName(name)}.json`) };
  }
}

/** The copy kept of a URL set, when it is there and of that URL. */
function readCache(files: { list: string; meta: string }, url: string): { body: Uint8Array; validators: Validators } | null {
  try {
    const meta = JSON.parse(readFileSync(files.meta, 'utf8')) as { url?: string; etag?: string; lastModified?: string };
    if (meta.url !== url) return null;
    return { body: new Uint8Array(readFileSync(files.list)), validators: { etag: meta.etag, lastModified: meta.lastModified } };
  } catch {
    return null;
  }
}

function fileStamp(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return undefined;
  }
}
