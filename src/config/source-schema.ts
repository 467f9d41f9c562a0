import { resolve } from 'node:path';
import { z } from 'zod';
import { ProxyError } from '../errors.js';
import type { KeyPath } from './problems.js';
import { parseDuration } from './value-parsers.js';
import { duration, nonEmpty } from './values.js';

/**
 * `config.source:` the whole config comes from an https URL (a fleet's nodes all read one copy).
 * The local file then holds only this section; plain http is refused, loopback included, so that
 * a node never takes its routing and credentials from a server it has not verified.
 */
export const configSectionSchema = z.strictObject({
  source: z.strictObject({
    url: z.url({ protocol: /^https$/, error: 'expected an https:// URL (plain http is refused: the config carries credentials)' }),
    /** Pin: the body must hash to this, or it is refused. */
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'expected the 64 hex digits of a SHA-256 hash (sha256sum FILE)')
      .optional(),
    /** How often the URL is asked again (with If-None-Match). */
    interval: duration.refine((v) => (parseDuration(v) ?? 0) >= 1000, 'expected at least 1s').default('60s'),
    /** CA certificate(s) that verify the config server, beside the system ones (a private CA). */
    ca_file: nonEmpty.optional(),
  }),
});

/** `config.source` as the daemon uses it. */
export interface ConfigSourceSpec {
  url: string;
  /** Lower-case hex pin, if any. */
  sha256?: string;
  intervalMs: number;
  /** Absolute path of the extra CA file, if any. */
  caFile?: string;
}

type ConfigSection = z.infer<typeof configSectionSchema>;

/** The normalised `config.source` (relative ca_file from the local file's directory). */
export function normalizeSource(section: ConfigSection | undefined, baseDir: string): ConfigSourceSpec | undefined {
  const source = section?.source;
  if (!source) return undefined;
  return {
    url: source.url,
    ...(source.sha256 !== undefined ? { sha256: source.sha256.toLowerCase() } : {}),
    intervalMs: parseDuration(source.interval)!,
    ...(source.ca_file !== undefined ? { caFile: resolve(baseDir, source.ca_file) } : {}),
  };
}

/**
 * What is wrong with where `config:` stands: a file that names a source holds nothing else (the
 * URL is the one source of truth), and a config fetched from a URL never points to another one.
 */
export function sourceProblems(raw: Record<string, unknown>, fetched: boolean): [KeyPath, string][] {
  if (raw.config === undefined) return [];
  if (fetched) return [[['config'], 'a config fetched from config.source cannot name another source; leave "config:" out of it']];
  return Object.keys(raw)
    .filter((key) => key !== 'config')
    .map((key) => [[key], `with config.source the whole config comes from the URL; "${key}" belongs in the config served there`]);
}

/** The refusal of an edit (`rule add`, `config set`, …) to a config that comes from a URL. */
export function remoteEditRefusal(url: string): ProxyError {
  return new ProxyError('CONFIG_REMOTE', `the config comes from ${displayUrl(url)} (config.source): edit it there; the change reaches this node on the next fetch or "config reload"`);
}

/** The URL with any password in it masked, for logs and status. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
