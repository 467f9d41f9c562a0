import { createHash } from 'node:crypto';
import type { Backend } from '../backends/backend.js';
import { authority } from '../backends/http-connect.js';
import { dispatcherRequest } from '../backends/undici-parts.js';
import type { ReplayOutcome, ReplayPlan } from '../debug/replay.js';
import { stripHopByHop } from './hop-by-hop.js';

/** Left for the sender to set from the target and the body. */
const DROP = new Set(['host', 'content-length', 'expect']);

/** Sends a plan through a backend (its pool, its TLS to origins) and measures the answer: status, time to the last byte, size and hash. */
export async function sendReplay(backend: Backend, plan: ReplayPlan, timeoutMs: number): Promise<ReplayOutcome> {
  const target = { host: plan.host, port: plan.port };
  const route = backend.httpRoute(plan.scheme, target, plan.path);
  const headers = [...stripHopByHop(plan.headers, DROP), ...route.headers, 'host', authority(target).replace(plan.scheme === 'https:' ? /:443$/ : /:80$/, '')];
  const started = performance.now();
  try {
    const response = await dispatcherRequest(route.dispatcher, {
      origin: route.origin,
      path: route.path,
      method: plan.method,
      headers,
      body: plan.body === null ? null : Buffer.from(plan.body, plan.bodyEncoding === 'base64' ? 'base64' : 'utf8'),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
    return { backend: backend.name, status: response.statusCode, durationMs: Math.round(performance.now() - started), size, sha256: hash.digest('hex') };
  } catch (error) {
    return { backend: backend.name, status: null, durationMs: Math.round(performance.now() - started), size: null, sha256: null, error: (error as { code?: string }).code ?? (error as Error).message };
  }
}
