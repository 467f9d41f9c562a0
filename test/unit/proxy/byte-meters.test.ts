import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { ByteMeters } from '../../../src/proxy/byte-meters.js';
import type { ConnectionRecord } from '../../../src/protocol/connection-record.js';

const record = (id: string): ConnectionRecord => ({ id, startedAt: 0, protocol: 'connect', clientAddress: '127.0.0.1', clientPort: 1, method: 'CONNECT', host: 'x', port: 1, bytesIn: 0, bytesOut: 0 });

/** A loopback socket pair: `client` as a proxy's client socket, `peer` the other end. */
async function pair(t: { after: (fn: () => void) => void }): Promise<{ client: Socket; peer: Socket }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const peer = connect((server.address() as { port: number }).port, '127.0.0.1');
  const [client] = await accepted;
  t.after(() => {
    client.destroy();
    peer.destroy();
    server.close();
  });
  return { client, peer };
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('byte meters: bytes so far read from the socket counters less the bases; sample tells what moved since, ended records once', async (t) => {
  const { client, peer } = await pair(t);
  client.on('data', () => undefined);
  const meters = new ByteMeters();
  const open = new Set<ConnectionRecord>();
  const tunnel = record('t');
  open.add(tunnel);
  peer.write('head');
  await until(() => client.bytesRead === 4);
  // The 4 bytes before the relay began are not the tunnel's.
  meters.meter(tunnel, client, client.bytesRead, client.bytesWritten);
  meters.follow(true, open);
  peer.write('0123456789');
  client.write('abc');
  await until(() => client.bytesRead === 14);
  const copy = { ...tunnel };
  meters.fill(tunnel, copy);
  assert.deepEqual([copy.bytesIn, copy.bytesOut], [10, 3]);
  assert.deepEqual([tunnel.bytesIn, tunnel.bytesOut], [0, 0], 'the record itself is set when it ends');
  assert.equal(meters.sample(open), 13);
  assert.equal(meters.sample(open), 0, 'nothing moved since');

  const udp = record('u');
  open.add(udp);
  udp.bytesIn = 7;
  assert.equal(meters.sample(open), 7, 'an unmetered record (UDP) is read as it stands');
  peer.write('xy');
  await until(() => client.bytesRead === 16);
  tunnel.bytesIn = 12;
  tunnel.bytesOut = 3;
  open.delete(tunnel);
  meters.ended(tunnel);
  assert.equal(meters.sample(open), 2, 'an ended record tells only what was not told yet');
  meters.follow(false, open);
  udp.bytesIn = 100;
  assert.equal(meters.sample(open), 0, 'nothing is told while not followed');
});
