import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigSourceStatus } from '../control/answers/config-source.js';
import { ConfigError, ProxyError } from '../errors.js';
import type { Role } from '../role.js';
import { writeFileAtomic } from './atomic-write.js';
import { conditionalGet } from './https-get.js';
import { loadConfig, parseConfigText, type LoadOptions } from './load.js';
import type { ConfigSnapshot } from './model.js';
import { displayUrl, type ConfigSourceSpec } from './source-schema.js';

/** Why a load is made: the daemon starting, a reload asked for (`config reload`, SIGHUP), or the interval. */
export type SourceMode = 'start' | 'reload' | 'poll';

/** A body of the URL: its text, the ETag it came with and its hash. */
interface Copy {
  url: string;
  text: string;
  etag?: string;
  sha256: string;
  fetchedAt: number;
}

const MAX_BYTES = 16 * 1024 * 1024;
const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');
/** A body refused under one pin is worth another look under a new one. */
const refusalKey = (copy: Copy, spec: ConfigSourceSpec | null): string => `${copy.sha256}:${spec?.sha256 ?? ''}`;

/**
 * A config that comes from `config.source`: fetched with the ETag of the copy in force
 * (If-None-Match), checked against the sha256 pin, validated exactly like a file, and kept in
 * `cacheDir` (0600) once in force, so that a start while the URL is unreachable runs the last good
 * copy. Bodies are never logged: they hold credentials.
 */
export class RemoteConfig {
  /** The copy in force (or, before the first start, the one kept on disk). */
  private held: Copy | null = null;
  /** Hash of the body in force, once one is. */
  private inForce: string | null = null;
  /** A copy validated but not yet in force, by the version of its snapshot. */
  private pending: { version: string; copy: Copy; from: ConfigSourceStatus['from'] } | null = null;
  /** The last body refused (with the pin it was held against), so that each interval does not refuse (and log) it again. */
  private refused: string | null = null;
  private state: ConfigSourceStatus | null = null;
  private spec: ConfigSourceSpec | null = null;

  constructor(private readonly cacheDir: string | null) {}

  /** Where the source stands, for `status` (null when the config is no URL's). */
  status(spec: ConfigSourceSpec | undefined): ConfigSourceStatus | null {
    return spec && this.state ? { ...this.state } : null;
  }

  /**
   * The config the URL serves, as a snapshot of the local file `pointer` (its `source`). Null
   * when polling found nothing new. Throws ConfigError (invalid body, pin mismatch) or
   * CONFIG_UNREACHABLE; at start, either falls back to the last good copy with a warning.
   */
  async load(pointer: ConfigSnapshot, role: Role, mode: SourceMode): Promise<ConfigSnapshot | null> {
    const spec = pointer.configSource!;
    this.spec = spec;
    this.pending = null;
    if (this.held?.url !== spec.url) this.held = this.readKept(spec);
    const state = this.stateFor(spec);
    state.lastFetch = new Date().toISOString();
    const held = this.held;
    try {
      const answer = await conditionalGet(spec.url, held ? { etag: held.etag } : {}, { caFile: spec.caFile, purpose: 'config fetch', maxBytes: MAX_BYTES }).catch((error: Error) => {
        const reason = `cannot fetch ${state.url}: ${error.message.replaceAll(spec.url, '').replace(/^[\s:]+/, '')}`;
        this.note('unreachable', reason);
        throw new ProxyError('CONFIG_UNREACHABLE', reason);
      });
      const copy: Copy | null = answer.modified ? { url: spec.url, text: answer.body.toString('utf8'), etag: answer.etag, sha256: sha256(answer.body), fetchedAt: Date.now() } : held;
      if (!copy) throw new ProxyError('CONFIG_UNREACHABLE', `${state.url} answered 304 Not Modified to a request that held no copy`);
      if (mode === 'poll' && answer.modified && refusalKey(copy, spec) === this.refused) return null;
      if (spec.sha256 !== undefined && copy.sha256 !== spec.sha256) {
        throw this.refuse(copy, 'pin mismatch', new ConfigError(`${state.url}: the body's sha256 is ${copy.sha256}, but config.source.sha256 pins ${spec.sha256}; it is not used`));
      }
      if (!answer.modified) {
        this.note('not modified', null);
        if (mode === 'poll' && this.inForce === copy.sha256) {
          state.from = 'url';
          return null;
        }
      }
      return this.stage(copy, 'url', pointer, role);
    } catch (error) {
      if (mode !== 'start' || !held) throw error;
      // Start with what ran last rather than not at all; the interval keeps asking.
      const snapshot = this.stage(held, 'last good copy', pointer, role);
      const when = new Date(held.fetchedAt).toISOString();
      return { ...snapshot, warnings: [`config.source: ${(error as Error).message}; started from the last good copy (fetched ${when})`, ...snapshot.warnings] };
    }
  }

  /** The snapshot of `version` is in force: its copy becomes the last good one, kept on disk. Returns a warning when it cannot be kept. */
  commit(version: string): string | null {
    const pending = this.pending;
    if (!pending || pending.version !== version || !this.state) return null;
    this.pending = null;
    const { copy, from } = pending;
    if (this.inForce !== copy.sha256) this.state.lastChange = new Date().toISOString();
    this.inForce = copy.sha256;
    this.held = copy;
    this.refused = null;
    this.state.from = from;
    this.state.etag = copy.etag ?? null;
    if (from === 'url' && this.state.result !== 'not modified') this.note('applied', null);
    if (this.cacheDir === null) return null;
    try {
      mkdirSync(this.cacheDir, { recursive: true, mode: 0o700 });
      writeFileAtomic(join(this.cacheDir, 'config.yaml'), copy.text, 0o600);
      const { url, etag, sha256: hash, fetchedAt } = copy;
      writeFileAtomic(join(this.cacheDir, 'config.json'), `${JSON.stringify({ url, etag, sha256: hash, fetchedAt })}\n`, 0o600);
      return null;
    } catch (error) {
      return `config.source: cannot keep the last good copy in ${this.cacheDir}: ${(error as Error).message}`;
    }
  }

  /** The body fetched last validated but could not be put in force (a check of the whole config refused it): the status says why, and the interval does not retry it. */
  rejected(reason: string): void {
    if (this.pending) this.refuse(this.pending.copy, 'invalid', new Error(reason));
    this.pending = null;
  }

  /** Validates a copy exactly like a file (problems name the URL, line and column) and holds it until commit. */
  private stage(copy: Copy, from: ConfigSourceStatus['from'], pointer: ConfigSnapshot, role: Role): ConfigSnapshot {
    let snapshot: ConfigSnapshot;
    try {
      snapshot = { ...parseConfigText(copy.text, pointer.source, role, { origin: displayUrl(copy.url) }), configSource: pointer.configSource };
    } catch (error) {
      throw this.refuse(copy, 'invalid', error as Error);
    }
    this.pending = { version: snapshot.version, copy, from };
    return snapshot;
  }

  private refuse<T extends Error>(copy: Copy, result: 'invalid' | 'pin mismatch', error: T): T {
    this.refused = refusalKey(copy, this.spec);
    this.note(result, error.message);
    return error;
  }

  private note(result: NonNullable<ConfigSourceStatus['result']>, error: string | null): void {
    this.state!.result = result;
    this.state!.error = error;
  }

  /** The status of this URL (a new one when the file names another URL). */
  private stateFor(spec: ConfigSourceSpec): ConfigSourceStatus {
    const url = displayUrl(spec.url);
    if (this.state?.url !== url) {
      this.state = { url, pin: null, intervalSeconds: 0, from: 'url', lastFetch: null, lastChange: null, etag: null, result: null, error: null };
      this.inForce = null;
    }
    this.state.pin = spec.sha256 ?? null;
    this.state.intervalSeconds = spec.intervalMs / 1000;
    return this.state;
  }

  /** The copy kept on disk, when it is of this URL, intact and (if pinned) the pinned body. */
  private readKept(spec: ConfigSourceSpec): Copy | null {
    if (this.cacheDir === null) return null;
    try {
      const meta = JSON.parse(readFileSync(join(this.cacheDir, 'config.json'), 'utf8')) as Partial<Copy>;
      const text = readFileSync(join(this.cacheDir, 'config.yaml'), 'utf8');
      const hash = sha256(text);
      if (meta.url !== spec.url || meta.sha256 !== hash || (spec.sha256 !== undefined && hash !== spec.sha256)) return null;
      return { url: spec.url, text, ...(meta.etag ? { etag: meta.etag } : {}), sha256: hash, fetchedAt: meta.fetchedAt ?? 0 };
    } catch {
      return null;
    }
  }
}

/**
 * The config a command without a daemon sees at `path`: the file, or, when it names
 * `config.source`, the body of that URL fetched now (validated the same way, nothing kept).
 */
export async function loadEffectiveConfig(path: string | null, role: Role, options: LoadOptions = {}): Promise<ConfigSnapshot> {
  const local = await loadConfig(path, role, options);
  return local.configSource ? (await new RemoteConfig(null).load(local, role, 'reload'))! : local;
}
