import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { waitFor } from '../../helpers/run.js';
import { connectTunnel } from './raw-peers.js';
import { startEngine, snapshot } from './engine-fixture.js';

test('the activity count the quiet collector watches moves when a tunnel closes, not only when one opens', async (t) => {
  const origin = createServer((socket) => socket.on('error', () => socket.destroy()));
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  t.after(() => origin.close());
  const proxy = await startEngine(snapshot());
  t.after(() => proxy.stop());

  const { socket } = await connectTunnel(proxy.http.port, (origin.address() as { port: number }).port);
  await waitFor('the tunnel counted', async () => ((await proxy.engine.stats()).connectionsActive === 1 ? true : undefined));
  const open = proxy.engine.activity;
  socket.destroy();
  await waitFor('the tunnel closed', async () => ((await proxy.engine.stats()).connectionsActive === 0 ? true : undefined));
  // Thousands of idle tunnels closing at once leave their memory as garbage: that must count as traffic.
  assert.notEqual(proxy.engine.activity, open, 'a close moves the count');
});
