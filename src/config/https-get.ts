import { readFileSync } from 'node:fs';
import { get } from 'node:https';
import { rootCertificates } from 'node:tls';

/** What a conditional GET gave: a new body, or "not modified". */
export type FetchAnswer = { modified: false } | { modified: true; body: Buffer; etag?: string; lastModified?: string };

/** Validators of the copy held, sent as If-None-Match / If-Modified-Since. */
export interface Validators {
  etag?: string;
  lastModified?: string;
}

/** What is fetched, and how: the extra CA, what the user-agent says, the largest body taken. */
export interface GetOptions {
  caFile?: string;
  /** Put in the user-agent (`simple-proxy <purpose>`), so the serving side can tell fetches apart. */
  purpose: string;
  maxBytes: number;
}

const TIMEOUT_MS = 30_000;

/** GETs an https URL with the validators of the copy held; bounded in time and size, and only 200 or 304 count. */
export function conditionalGet(url: string, held: Validators, options: GetOptions): Promise<FetchAnswer> {
  const { caFile, maxBytes } = options;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'user-agent': `simple-proxy ${options.purpose}` };
    if (held.etag) headers['if-none-match'] = held.etag;
    if (held.lastModified) headers['if-modified-since'] = held.lastModified;
    // Node's `ca` replaces the public roots: the extra CA is added to them, as documented.
    let ca: string[] | undefined;
    try {
      ca = caFile ? [...rootCertificates, readFileSync(caFile, 'utf8')] : undefined;
    } catch (error) {
      return reject(new Error(`cannot read ca_file ${caFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`));
    }
    // A connection of its own each time: one kept alive across a long interval is likely closed by the server by then (a spurious "socket hang up").
    const req = get(url, { headers, timeout: TIMEOUT_MS, agent: false, ...(ca ? { ca } : {}) }, (res) => {
      if (res.statusCode === 304) {
        res.resume();
        return resolve({ modified: false });
      }
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`${url} answered ${res.statusCode}`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) req.destroy(new Error(`${url} is larger than ${maxBytes} bytes`));
        else chunks.push(chunk);
      });
      res.on('end', () => {
        if (!res.complete) return reject(new Error(`${url}: the answer was cut short`));
        const etag = res.headers.etag;
        const lastModified = res.headers['last-modified'];
        resolve({ modified: true, body: Buffer.concat(chunks), ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url} did not answer within ${TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
  });
}
