import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonPaths } from '../../../src/daemon/paths.js';

const root = process.getuid?.() === 0;

test('control socket: --socket, then $SIMPLE_PROXY_SOCKET, then <role>.sock in $SIMPLE_PROXY_RUNTIME_DIR or $XDG_RUNTIME_DIR/simple-proxy (root: /run/simple-proxy)', () => {
  const env = { XDG_RUNTIME_DIR: '/run/user/1000', XDG_STATE_HOME: '/home/me/.local/state' };
  const plain = daemonPaths('client', env, undefined, 'linux');
  assert.equal(plain.socket, root ? '/run/simple-proxy/client.sock' : '/run/user/1000/simple-proxy/client.sock');
  assert.equal(plain.logFile, root ? '/var/lib/simple-proxy/client/daemon.log' : '/home/me/.local/state/simple-proxy/client/daemon.log');
  assert.equal(daemonPaths('server', { ...env, SIMPLE_PROXY_RUNTIME_DIR: '/srv/run' }).socket, '/srv/run/server.sock');
  assert.equal(daemonPaths('server', { ...env, SIMPLE_PROXY_RUNTIME_DIR: '/srv/run', SIMPLE_PROXY_SOCKET: '/tmp/env.sock' }).socket, '/tmp/env.sock');
  assert.equal(daemonPaths('server', { ...env, SIMPLE_PROXY_SOCKET: '/tmp/env.sock' }, '/tmp/flag.sock').socket, '/tmp/flag.sock');
  assert.equal(daemonPaths('server', { ...env, SIMPLE_PROXY_STATE_DIR: '/srv/state' }).pidFile, '/srv/state/server/daemon.pid');
});
