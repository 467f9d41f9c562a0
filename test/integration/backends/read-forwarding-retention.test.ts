import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { GCProfiler, getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { attachForwarding, forwardingReadOption } from '../../../src/backends/read-forwarding.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;

const oldSpaceUsed = (): number => getHeapSpaceStatistics().find((space) => space.space_name === 'old_space')!.space_used_size;

/**
 * Slots of an array hung off each upstream socket (8 bytes each: 8 KB): whatever keeps a closed
 * socket through scavenges promotes it with the socket, far above the noise of when scavenges fall
 * (about 1 KB per tunnel on a loaded machine), so a retained socket cannot hide in it.
 */
const BALLAST_SLOTS = 1024;

async function listening(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** One short tunnel: an upstream socket to `originPort` (which sends a line and ends) relayed into a socket to `sinkPort`, through the forwarding read path or a plain pipe, until both closed. */
async function shortTunnel(originPort: number, sinkPort: number, forwarding: boolean): Promise<void> {
  const option = forwarding ? forwardingReadOption() : undefined;
  const upstream = connect({ host: '127.0.0.1', port: originPort, onread: option?.onread });
  Object.assign(upstream, { ballast: new Array<number>(BALLAST_SLOTS).fill(1) });
  const client = connect({ host: '127.0.0.1', port: sinkPort });
  await Promise.all([once(upstream, 'connect'), once(client, 'connect')]);
  const closed = Promise.all([once(upstream, 'close'), once(client, 'close')]);
  upstream.on('end', () => client.destroy());
  if (option) {
    option.register(upstream);
    attachForwarding(upstream, client);
  } else upstream.pipe(client);
  await closed;
}

/**
 * Old-generation bytes per tunnel that `count` tunnels one after another leave behind, with scavenges
 * only after a full collection; undefined when a mark-compact fell inside (it frees what a scavenge
 * promoted, so that round says nothing).
 */
async function promotedPerTunnel(originPort: number, sinkPort: number, forwarding: boolean, count: number): Promise<number | undefined> {
  await shortTunnel(originPort, sinkPort, forwarding);
  gc();
  gc();
  const profiler = new GCProfiler();
  profiler.start();
  const before = oldSpaceUsed();
  for (let i = 0; i < count; i++) await shortTunnel(originPort, sinkPort, forwarding);
  // What is still in the young generation and lives through two scavenges is promoted too.
  for (let i = 0; i < 3; i++) {
    await sleep(10);
    gc({ type: 'minor' });
  }
  const promoted = (oldSpaceUsed() - before) / count;
  const collections = profiler.stop().statistics;
  return collections.some((collection) => collection.gcType === 'MarkSweepCompact') ? undefined : promoted;
}

/** `promotedPerTunnel` measured again (up to `attempts` times) until a round has no mark-compact in it. */
async function promotedWithoutMarkCompact(originPort: number, sinkPort: number, forwarding: boolean, count: number, attempts = 8): Promise<number> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const promoted = await promotedPerTunnel(originPort, sinkPort, forwarding, count);
    if (promoted !== undefined) return promoted;
  }
  throw new Error(`every one of ${attempts} rounds of ${count} tunnels had a mark-compact in it`);
}

test('closed tunnels on the forwarding read path leave no more in the old generation than piped ones: nothing keeps their sockets through scavenges', { timeout: 60_000 }, async (t) => {
  const origin = createServer((socket) => socket.end('hello\n'));
  const sink = createServer((socket) => socket.resume());
  const [originPort, sinkPort] = await Promise.all([listening(origin), listening(sink)]);
  t.after(() => {
    origin.close();
    sink.close();
  });
  // Both paths warmed up (their code compiled), then measured twice each, alternately.
  for (let i = 0; i < 50; i++) await shortTunnel(originPort, sinkPort, i % 2 === 0);
  let piped = 0;
  let forwarded = 0;
  for (let round = 0; round < 2; round++) {
    piped += (await promotedWithoutMarkCompact(originPort, sinkPort, false, 250)) / 2;
    forwarded += (await promotedWithoutMarkCompact(originPort, sinkPort, true, 250)) / 2;
  }
  t.diagnostic(`piped ${Math.round(piped)} forwarded ${Math.round(forwarded)} diff ${Math.round(forwarded - piped)}`);
  // Kept by the module until a mark-compact, each upstream socket took its ballast, its peer and
  // their stream states into the old generation: 10 to 11 KB more per tunnel than a pipe on Node 20.
  // The forwarding path now matches the pipe within the noise of when scavenges fall (-1 to 0 KB,
  // loaded or not; without the ballast, a loaded CI machine once saw +0.6 KB). On Node 24 both paths keep their sockets until a mark-compact, so there it only
  // says the forwarding path keeps nothing more.
  assert.ok(forwarded - piped < (BALLAST_SLOTS * 8) / 2, `forwarded tunnels left ${Math.round(forwarded)} bytes each in the old generation, piped ones ${Math.round(piped)}`);
});
