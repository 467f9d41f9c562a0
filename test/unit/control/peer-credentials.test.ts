import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peerUid, uidOfPeer } from '../../../src/control/peer-credentials.js';

const TABLE = [
  'u_str ESTAB 0 0 /run/simple-proxy/server.sock 500 * 400 users:(("node",pid=10,fd=21))',
  'u_str ESTAB 0 0 * 400 * 500 users:(("curl",pid=20,fd=3))',
  'u_str ESTAB 0 0 /tmp/a dir with spaces/x.sock 600 * 700 users:(("node",pid=10,fd=22))',
  'u_str ESTAB 0 0 * 700 * 600 users:(("sh",pid=30,fd=3),("sh",pid=31,fd=3))',
].join('\n');
const uids: Record<number, number> = { 10: 0, 20: 1001, 30: 1002, 31: 1003 };

test('the peer of an accepted socket is the process holding the socket whose peer inode is ours', () => {
  assert.equal(uidOfPeer(TABLE, 500, (pid) => uids[pid]), 1001);
  assert.equal(uidOfPeer(TABLE, 999, (pid) => uids[pid]), null, 'a peer no longer listed is unknown');
  assert.equal(uidOfPeer(TABLE, 600, (pid) => uids[pid]), null, 'a socket shared by processes of two users names nobody');
  assert.equal(uidOfPeer(TABLE, 600, () => 1002), 1002, 'processes of one user name it');
  assert.equal(uidOfPeer(TABLE, 500, () => null), null, 'a process whose uid cannot be read is unknown');
});

test('peerUid finds this process as the peer of real Unix socket connections, a burst of them sharing runs of ss', { skip: process.platform !== 'linux' && 'Linux only' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-peer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = createServer();
  const accepted: Socket[] = [];
  server.on('connection', (socket) => accepted.push(socket));
  server.listen(join(dir, 'peer.sock'));
  await once(server, 'listening');
  t.after(() => server.close());
  const clients = Array.from({ length: 4 }, () => connect(join(dir, 'peer.sock')));
  t.after(() => [...clients, ...accepted].forEach((s) => s.destroy()));
  const deadline = Date.now() + 10_000;
  while (accepted.length < clients.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(accepted.length, clients.length);
  assert.deepEqual(await Promise.all(accepted.map((socket) => peerUid(socket))), accepted.map(() => process.getuid!()));
});
