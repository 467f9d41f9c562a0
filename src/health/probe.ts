import type { Socket } from 'node:net';
import type { Backend, Target } from '../backends/backend.js';
import { authority } from '../backends/http-connect.js';
import { dispatcherRequest } from '../backends/undici-parts.js';
import type { CheckSettings } from './check-settings.js';

/** The outcome of one check. */
export interface ProbeResult {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

/** What one check needs: its kind, its target and how long it may take. */
export type ProbeSpec = Pick<CheckSettings, 'type' | 'target' | 'timeoutMs' | 'http'>;

/**
 * Runs one check through a backend (never around it): `tcp` opens a connection to the target
 * through the backend's own dial, `http` fetches the URL through the backend's own request path,
 * `ping` sends one ICMP echo with the system `ping` (inside a tunnel's namespace for a tunnel),
 * `hop` connects to the backend's own upstream and no further. Never rejects.
 */
export async function probe(backend: Backend, spec: ProbeSpec): Promise<ProbeResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  try {
    if (spec.type === 'tcp') await probeTcp(backend, spec.target, spec.timeoutMs);
    else if (spec.type === 'hop') await probeHop(backend, spec.timeoutMs);
    else if (spec.type === 'http') await probeHttp(backend, spec.http!.url, spec.http!.expectedStatus, spec.timeoutMs);
    else return await probePing(backend, spec.target.host, spec.timeoutMs, started);
    return { ok: true, latencyMs: elapsed() };
  } catch (error) {
    return { ok: false, latencyMs: elapsed(), error: (error as Error).message };
  }
}

async function probeTcp(backend: Backend, target: Target, timeoutMs: number): Promise<void> {
  const dialing = backend.dial(target, { connectTimeoutMs: timeoutMs });
  const socket = await deadline(dialing, timeoutMs, `no connection to ${authority(target)} within ${timeoutMs} ms`, (late: Socket) => late.destroy());
  socket.destroy();
}

async function probeHop(backend: Backend, timeoutMs: number): Promise<void> {
  if (!backend.openHop) throw new Error(`backend "${backend.name}" has no hop of its own to check`);
  const socket = await deadline(backend.openHop(timeoutMs), timeoutMs, `no connection to the server within ${timeoutMs} ms`, (late: Socket) => late.destroy());
  socket.destroy();
}

async function probeHttp(backend: Backend, url: string, expectedStatus: number, timeoutMs: number): Promise<void> {
  const parsed = new URL(url);
  const scheme = parsed.protocol === 'https:' ? 'https:' : 'http:';
  const target: Target = { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port) || (scheme === 'https:' ? 443 : 80) };
  const route = backend.httpRoute(scheme, target, `${parsed.pathname}${parsed.search}`);
  const signal = AbortSignal.timeout(timeoutMs);
  const late = `no answer from ${url} within ${timeoutMs} ms`;
  let response;
  try {
    const requesting = dispatcherRequest(route.dispatcher, {
      origin: route.origin,
      path: route.path,
      method: 'GET',
      headers: [...route.headers, 'host', parsed.host, 'user-agent', 'simple-proxy-health-check'],
      signal,
    });
    // The signal takes effect only once a connection is open; the dial itself may take the backend's own connect timeout.
    response = await deadline(requesting, timeoutMs, late, (answer) => void answer.body.dump());
  } catch (error) {
    if (signal.aborted) throw new Error(late);
    throw error;
  }
  await response.body.dump();
  if (response.statusCode !== expectedStatus) throw new Error(`${url} answered ${response.statusCode}, expected ${expectedStatus}`);
}

async function probePing(backend: Backend, host: string, timeoutMs: number, started: number): Promise<ProbeResult> {
  // A tunnel's packets leave from its namespace: the ping runs there, to the address its DNS gives.
  const place = backend.commandPlace ? await backend.commandPlace(host, timeoutMs) : { prefix: [], address: host };
  const left = Math.max(1, timeoutMs - Math.round(performance.now() - started));
  const seconds = Math.max(1, Math.ceil(left / 1000));
  const [file, ...args] = [...place.prefix, 'ping', '-n', '-c', '1', '-W', String(seconds), place.address];
  // Loaded on first use: most proxies never ping, and execa costs every engine process memory.
  const { execa } = await import('execa');
  const result = await execa(file, args, { reject: false, timeout: left, stdin: 'ignore' });
  const latencyMs = Math.round(performance.now() - started);
  if ((result as { code?: string }).code === 'ENOENT') return { ok: false, latencyMs, error: 'the system "ping" command is not installed (Debian: iputils-ping)' };
  const rtt = /time[=<]([\d.]+) ?ms/.exec(result.stdout);
  if (result.exitCode === 0 && rtt) return { ok: true, latencyMs: Math.round(Number(rtt[1])) };
  const why = result.timedOut ? `no reply within ${timeoutMs} ms` : (result.stderr.trim().split('\n')[0].replace(/^ping: /, '') || 'no reply');
  return { ok: false, latencyMs, error: `ping ${host}: ${why}` };
}

/** Resolves like `work`, or rejects after `ms`; a late result is handed to `discard`. */
function deadline<T>(work: Promise<T>, ms: number, message: string, discard: (late: T) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      reject(new Error(message));
    }, ms + 50);
    work.then(
      (value) => {
        clearTimeout(timer);
        if (expired) discard(value);
        else resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
