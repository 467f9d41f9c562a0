// Runs one engine (one process) and prints its HTTP port and every warning, one JSON line each;
// a line "stats" on stdin prints its stats and its proxy_fd_exhausted_total metric. The
// fd-exhaustion test starts it under a low open-file limit.
import { createInterface } from 'node:readline';
import { ProxyEngine } from '../../../src/proxy/engine.js';
import { snapshot } from './engine-fixture.js';

const base = snapshot();
const limits = { ...base.network.limits, maxConnectionsPerIp: 0, maxConnectionsPerBackend: 0 };
const engine = new ProxyEngine(snapshot(undefined, undefined, { network: { ...base.network, limits }, metrics: { endpoint: '/metrics', host: '127.0.0.1' } }));
engine.on('warning', (warning) => console.log(JSON.stringify({ warning })));
const bound = await engine.start();
console.log(JSON.stringify({ port: bound.find((l) => l.kind === 'http')!.port }));
createInterface({ input: process.stdin }).on('line', async () => {
  const [metrics] = await engine.metricsJson();
  const metric = metrics.find((m) => m.name === 'proxy_fd_exhausted_total')?.values ?? [];
  console.log(JSON.stringify({ stats: await engine.stats(), metric }));
});
process.on('SIGTERM', () => void engine.stop({ drainMs: 0 }).then(() => process.exit(0)));
