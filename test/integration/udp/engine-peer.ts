/**
 * An engine for tests that run it inside a network namespace (`ip netns exec NS node --import tsx
 * engine-peer.ts`): direct backend, loopback trusted, a SOCKS5 listener on 127.0.0.1. Prints
 * `SOCKS <port>` once listening, then one `RECORD <json>` line per finished record; stops on SIGTERM.
 */
import { snapshot, startEngine } from '../proxy/engine-fixture.js';

const proxy = await startEngine(snapshot());
proxy.engine.on('connection:end', (record) => process.stdout.write(`RECORD ${JSON.stringify(record)}\n`));
process.stdout.write(`SOCKS ${proxy.socks.port}\n`);
process.once('SIGTERM', () => void proxy.stop().then(() => process.exit(0)));
