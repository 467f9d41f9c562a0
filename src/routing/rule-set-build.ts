import { Worker, type WorkerOptions } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { buildCidrData, CidrSet, type CidrSetData } from './cidr-set.js';
import { buildDomainData, DomainSet, type DomainSetData } from './domain-set.js';
import type { LoadedRuleSet } from './route-query.js';
import { parseRuleSet, type RuleSetFormat } from './rule-set-format.js';

/** A built set as plain data (what the worker thread sends back, its buffers transferred, not copied). */
export type BuiltRuleSet = { kind: 'domains'; data: DomainSetData } | { kind: 'cidr'; data: CidrSetData };

/** Parses and builds a set from its text (in whichever thread calls it). */
export function buildRuleSet(text: string, format: RuleSetFormat): BuiltRuleSet {
  const parsed = parseRuleSet(text, format);
  return parsed.kind === 'cidr' ? { kind: 'cidr', data: buildCidrData(parsed.blocks, parsed.lines) } : { kind: 'domains', data: buildDomainData(parsed.names, parsed.kinds) };
}

/** The set rules look up, over built data. */
export function loadedSet(built: BuiltRuleSet): LoadedRuleSet {
  if (built.kind === 'cidr') {
    const set = new CidrSet(built.data);
    return { kind: 'cidr', size: set.size, lookup: (a) => set.lookup(a), describe: (i) => set.describe(i) };
  }
  const set = new DomainSet(built.data);
  return { kind: 'domains', size: set.size, lookup: (h) => set.lookup(h), describe: (i) => set.describe(i) };
}

/** Bytes a built set holds in its arrays. */
export function builtBytes(built: BuiltRuleSet): number {
  return Object.values(built.data).reduce((sum: number, array: ArrayBufferView) => sum + array.byteLength, 0);
}

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(`./rule-set-worker${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url);

/** The worker thread: the built file, or (run from the TypeScript sources: tests, bench) the source with the loader registered in the thread first. */
function startWorker(options: WorkerOptions): Worker {
  if (!FROM_SOURCE) return new Worker(fileURLToPath(WORKER_URL), options);
  const loader = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(loader)}).then((api) => { api.register(); return import(${JSON.stringify(WORKER_URL.href)}); });`;
  return new Worker(code, { ...options, eval: true });
}

/**
 * Parses and builds a set in a worker thread, so that a million lines never hold up the event
 * loop; the arrays come back transferred. Rejects with the parse error (naming the line).
 */
export function buildInWorker(bytes: Uint8Array, format: RuleSetFormat): Promise<BuiltRuleSet> {
  return new Promise((resolve, reject) => {
    // Only a buffer of its own may be transferred (a small Buffer can share a pool with others).
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && !(bytes instanceof Buffer) ? bytes : new Uint8Array(bytes);
    const worker = startWorker({ workerData: { bytes: own, format }, transferList: [own.buffer as ArrayBuffer] });
    worker.once('message', (message: { ok: true; built: BuiltRuleSet } | { ok: false; error: string }) => {
      if (message.ok) resolve(message.built);
      else reject(new Error(message.error));
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the rule set builder stopped (exit ${code})`)));
  });
}
