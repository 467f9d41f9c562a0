import { snapshot, startEngine } from './test/integration/proxy/engine-fixture.ts';
const p = await startEngine(snapshot());
console.log(p.socks.port);
p.engine.on('connection:end', (r) => console.log('REC', JSON.stringify(r)));
setTimeout(() => p.stop(), 15000);
