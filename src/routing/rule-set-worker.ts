import { parentPort, workerData } from 'node:worker_threads';
import { buildRuleSet } from './rule-set-build.js';
import type { RuleSetFormat } from './rule-set-format.js';

/*
 * Worker thread of buildInWorker: decodes, parses and builds one rule set, then sends the arrays
 * back as transfers.
 */
const { bytes, format } = workerData as { bytes: Uint8Array; format: RuleSetFormat };
try {
  const built = buildRuleSet(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), format);
  parentPort!.postMessage({ ok: true, built }, Object.values(built.data).map((array: ArrayBufferView) => array.buffer as ArrayBuffer));
} catch (error) {
  parentPort!.postMessage({ ok: false, error: (error as Error).message });
}
