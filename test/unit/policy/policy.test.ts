import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { parseConfigText } from '../../../src/config/load.js';
import { Policy, PolicyState } from '../../../src/policy/policy.js';
import { waitFor } from '../../helpers/run.js';

/** `count` accepted loopback connections (server side) and a close of everything. */
async function accepted(count: number): Promise<{ sockets: Socket[]; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => sockets.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const clients = Array.from({ length: count }, () => connect(port, '127.0.0.1'));
  await waitFor('every connection accepted', () => (sockets.length === count ? true : undefined), 10_000);
  return {
    sockets,
    close: async () => {
      for (const client of clients) client.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

test('Policy.admitClient: max_connections_per_ip counts open connections, a close gives the slot back, and one close listener serves every connection', async () => {
  const config = parseConfigText('network:\n  limits:\n    max_connections_per_ip: 2\nrules:\n  - name: all\n    match: { domains: ["*"] }\n    backend: direct\n', null, 'server');
  const hits: string[] = [];
  const state = new PolicyState({ hit: (hit) => hits.push(hit.reason), warn: () => undefined });
  const policy = new Policy(config, state);
  const { sockets, close } = await accepted(4);
  try {
    const [a, b, c, d] = sockets;
    assert.equal(policy.admitClient(a, 'http'), true);
    assert.equal(policy.admitClient(b, 'socks5'), true);
    assert.equal(policy.admitClient(c, 'http'), false, 'the third connection of 127.0.0.1 is over the cap');
    assert.match(hits[0], /max_connections_per_ip \(2\) reached/);
    assert.equal(state.perIp.get('127.0.0.1'), 2);
    // Counting a connection allocates no closure: every counted socket has the same listener.
    const last = (socket: Socket): unknown => socket.listeners('close').at(-1);
    assert.equal(last(a), last(b));
    a.destroy();
    await waitFor('the closed connection uncounted', () => (state.perIp.get('127.0.0.1') === 1 ? true : undefined), 10_000);
    assert.equal(policy.admitClient(d, 'http'), true, 'the freed slot takes a new connection');
    b.destroy();
    d.destroy();
    await waitFor('every connection uncounted', () => (state.perIp.has('127.0.0.1') ? undefined : true), 10_000);
  } finally {
    await close();
  }
});
