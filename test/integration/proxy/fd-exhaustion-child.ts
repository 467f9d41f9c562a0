// Runs one engine (one process) and prints its HTTP port and every warning, one JSON line each: the
// fd-exhaustion test starts it under a low open-file limit.
import { ProxyEngine } from '../../../src/proxy/engine.js';
import { snapshot } from './engine-fixture.js';

const base = snapshot();
const engine = new ProxyEngine(snapshot(undefined, undefined, { network: { ...base.network, limits: { ...base.network.limits, maxConnectionsPerIp: 0 } } }));
engine.on('warning', (warning) => console.log(JSON.stringify({ warning })));
const bound = await engine.start();
console.log(JSON.stringify({ port: bound.find((l) => l.kind === 'http')!.port }));
process.on('SIGTERM', () => void engine.stop({ drainMs: 0 }).then(() => process.exit(0)));
