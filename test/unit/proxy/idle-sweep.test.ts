import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { unwatchIdle, watchIdle, type IdleWatched } from '../../../src/proxy/idle-sweep.js';
import { relay, type RelayResult } from '../../../src/proxy/relay.js';
import { waitFor } from '../../helpers/run.js';

/** A loopback listener whose accepted sockets are handed to `take`. */
async function listener(take: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(take);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

/**
 * `count` tunnels relayed with idleMs: client ↔ [proxy side | relay | upstream side] ↔ origin, all
 * real loopback sockets. Returns the outer ends (the client's and the origin's) and the results.
 */
async function tunnels(t: { after: (fn: () => unknown) => void }, count: number, idleMs: number) {
  const origins: Socket[] = [];
  const origin = await listener((socket) => origins.push(socket));
  const results: RelayResult[] = [];
  const relayed: Socket[] = [];
  const proxy = await listener((client) => {
    relayed.push(client);
    const upstream = connect(origin.port, '127.0.0.1');
    upstream.once('connect', () => relay(client, upstream, idleMs, (result) => results.push(result)));
  });
  const clients: Socket[] = [];
  t.after(() => {
    for (const socket of [...clients, ...origins]) socket.destroy();
    proxy.server.close();
    origin.server.close();
  });
  // One at a time, so clients[i] and origins[i] are the two ends of one tunnel.
  for (let i = 0; i < count; i++) {
    const client = connect(proxy.port, '127.0.0.1');
    client.on('error', () => undefined);
    clients.push(client);
    await waitFor(`tunnel ${i} relayed`, () => (origins.length === i + 1 ? true : undefined));
  }
  return { clients, origins, relayed, results };
}

test('idle tunnels hold no timer of their own: one sweep looks at them all', async (t) => {
  const { relayed, results } = await tunnels(t, 40, 60_000);
  // socket.setTimeout() gives each socket a timer (and a bound function) that every read and write re-arms.
  assert.deepEqual(relayed.map((socket) => socket.timeout).filter((timeout) => timeout !== undefined), [], 'no relayed socket has a timeout of its own');
  assert.equal(results.length, 0);
});

test('a silent tunnel closes after its idle time (not before), and the record says idle-timeout', async (t) => {
  const idleMs = 400;
  const started = Date.now();
  const { clients, results } = await tunnels(t, 1, idleMs);
  const [result] = await waitFor('the idle close', () => (results.length === 1 ? results : undefined));
  const took = Date.now() - started;
  assert.ok(took >= idleMs, `closed after ${took} ms`);
  assert.equal(result.error, 'idle-timeout');
  await waitFor('the client sees the close', () => (clients[0].destroyed || clients[0].readableEnded ? true : undefined));
});

test('traffic either way keeps a tunnel open past its idle time', async (t) => {
  const idleMs = 400;
  const { clients, origins, results } = await tunnels(t, 2, idleMs);
  const [up, down] = clients;
  let received = 0;
  origins[0].on('data', (chunk: Buffer) => (received += chunk.length));
  down.on('data', () => undefined);
  // The first tunnel only sends from the client, the second only receives from the origin, each every idleMs / 4.
  const ticker = setInterval(() => {
    up.write('x');
    origins[1].write('y');
  }, idleMs / 4);
  t.after(() => clearInterval(ticker));
  await new Promise((resolve) => setTimeout(resolve, idleMs * 4));
  clearInterval(ticker);
  assert.ok(received > 0, 'bytes reached the origin');
  assert.equal(results.length, 0, `no tunnel closed while it carried traffic: ${JSON.stringify(results)}`);
  const closed = await waitFor('both close once quiet', () => (results.length === 2 ? results : undefined));
  assert.deepEqual(closed.map((result) => result.error), ['idle-timeout', 'idle-timeout']);
});

test('a watched connection whose socket is gone is let go: its idle() is never called', async (t) => {
  const idleMs = 200;
  const accepted: Socket[] = [];
  const server = await listener((socket) => accepted.push(socket));
  t.after(() => {
    for (const socket of accepted) socket.destroy();
    server.server.close();
  });
  const watched = async (): Promise<IdleWatched & { calls: number }> => {
    const client = connect(server.port, '127.0.0.1');
    await once(client, 'connect');
    const entry = {
      client,
      idleBytes: 0,
      idleMovedAt: 0,
      calls: 0,
      idle: (): void => {
        entry.calls++;
        client.destroy();
      },
    };
    return entry;
  };
  const gone = await watched();
  const alive = await watched();
  watchIdle(gone, idleMs);
  gone.client.destroy();
  watchIdle(alive, idleMs);
  // Watched later with the same time: once the live one is closed, the gone one's time has passed too.
  await waitFor('the live connection closed as idle', () => (alive.calls > 0 ? true : undefined));
  assert.equal(gone.calls, 0, 'nothing was called for the connection that was already gone');
  unwatchIdle(gone, idleMs);
});
