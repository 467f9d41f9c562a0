import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { daemonPaths } from '../../../src/daemon/paths.js';
import { launchdPlist, servicePath, systemdUnit } from '../../../src/daemon/service-unit.js';

const options = { role: 'server' as const, node: process.execPath, bin: resolve('bin/simple-proxy-server.js'), config: resolve('examples/server-config.yaml'), user: false };

const lines = (unit: string, key: string): string[] => unit.split('\n').filter((line) => line.startsWith(`${key}=`));

test('under ProtectSystem=strict, both units leave the state and runtime directories and the config directory writable', () => {
  const user = systemdUnit({ ...options, user: true });
  assert.match(user, /^ProtectSystem=strict$/m);
  assert.deepEqual(lines(user, 'StateDirectory'), ['StateDirectory=simple-proxy/server']);
  assert.deepEqual(lines(user, 'RuntimeDirectory'), ['RuntimeDirectory=simple-proxy']);
  // The daemon looks where systemd made room, whichever directory %S means in this systemd version.
  assert.deepEqual(lines(user, 'Environment'), ['Environment=SIMPLE_PROXY_STATE_DIR=%S/simple-proxy', 'Environment=SIMPLE_PROXY_RUNTIME_DIR=%t/simple-proxy']);
  assert.deepEqual(lines(user, 'ReadWritePaths'), [`ReadWritePaths=-${resolve('examples')}`], 'config edits write a temp file beside the config and rename it');
  assert.deepEqual(lines(systemdUnit({ ...options, user: true, config: null }), 'ReadWritePaths'), ['ReadWritePaths=-%E/simple-proxy'], 'without --config: the user config dir discovery reads');
  assert.deepEqual(lines(systemdUnit({ ...options, user: true, config: '/home/me/my proxy/server-config.yaml' }), 'ReadWritePaths'), ['ReadWritePaths="-/home/me/my proxy"']);

  const system = systemdUnit({ ...options, config: null });
  assert.deepEqual(lines(system, 'StateDirectory'), ['StateDirectory=simple-proxy/server']);
  assert.deepEqual(lines(system, 'Environment'), [], 'the system daemon finds /run and /var/lib on its own');
  assert.deepEqual(lines(system, 'ReadWritePaths'), ['ReadWritePaths=-%E/simple-proxy'], '/etc/simple-proxy, and no failed start when it does not exist');
  assert.deepEqual(lines(systemdUnit(options), 'ReadWritePaths'), [`ReadWritePaths=-${resolve('examples')}`]);
});

test('the systemd units pass systemd-analyze verify (the user unit under a user manager) with nothing to say', (t) => {
  if (spawnSync('sh', ['-c', 'command -v systemd-analyze']).status !== 0) return t.skip('systemd-analyze is not installed (Debian package systemd; scripts/setup-system.sh installs it)');
  const dir = mkdtempSync(join(tmpdir(), 'sp-unit-'));
  // A user manager needs a runtime directory to resolve %t.
  const runtime = mkdtempSync(join(tmpdir(), 'sp-xdg-runtime-'));
  for (const user of [false, true]) {
    const file = join(dir, `simple-proxy-server${user ? '-user' : ''}.service`);
    const unit = systemdUnit({ ...options, user });
    writeFileSync(file, unit);
    const result = spawnSync('systemd-analyze', [...(user ? ['--user'] : []), 'verify', file], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: runtime } });
    assert.equal(result.status, 0, `systemd-analyze verify: ${result.stderr}`);
    // verify exits 0 on unknown keys and unresolvable specifiers; it only says so.
    assert.equal(result.stderr.trim(), '', `systemd-analyze ${user ? '--user ' : ''}verify has remarks`);
    assert.match(unit, /^ExecStart=.* start --foreground --config .*server-config\.yaml$/m);
    assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    assert.match(unit, /^Restart=on-failure$/m);
    if (!user) assert.match(unit, /^AmbientCapabilities=CAP_NET_ADMIN CAP_SYS_ADMIN CAP_NET_BIND_SERVICE$/m);
  }
  assert.equal(servicePath({ role: 'client', user: false }, 'linux'), '/etc/systemd/system/simple-proxy-client.service');
});

test('the launchd plist is well-formed and starts the daemon in the foreground', () => {
  const paths = { runtimeDir: '/Users/me/run/simple-proxy', stateDir: '/Users/me/.local/state/simple-proxy/server', logFile: '/Users/me/.local/state/simple-proxy/server/daemon.log' };
  const plist = launchdPlist({ ...options, config: '/etc/a&b/server-config.yaml' }, paths);
  const stack: string[] = [];
  for (const [, closing, name, selfClosing] of plist.replace(/<\?xml[^>]*\?>|<!DOCTYPE[^>]*>/g, '').matchAll(/<(\/?)([A-Za-z]+)[^>]*?(\/?)>/g)) {
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `balanced </${name}>`);
    else stack.push(name);
  }
  assert.deepEqual(stack, []);
  assert.ok(plist.includes('<string>/etc/a&amp;b/server-config.yaml</string>'), 'XML-escaped');
  assert.match(plist, /<string>start<\/string>\s*<string>--foreground<\/string>/);
  // launchd has no XDG variables and its own TMPDIR: the daemon is told the directories the CLI uses.
  assert.match(plist, /<key>EnvironmentVariables<\/key>\s*<dict>\s*<key>SIMPLE_PROXY_RUNTIME_DIR<\/key>\s*<string>\/Users\/me\/run\/simple-proxy<\/string>\s*<key>SIMPLE_PROXY_STATE_DIR<\/key>\s*<string>\/Users\/me\/\.local\/state\/simple-proxy<\/string>\s*<\/dict>/);
  const daemonSide = daemonPaths('server', { SIMPLE_PROXY_RUNTIME_DIR: paths.runtimeDir, SIMPLE_PROXY_STATE_DIR: '/Users/me/.local/state/simple-proxy' });
  assert.deepEqual([daemonSide.runtimeDir, daemonSide.stateDir, daemonSide.logFile], [paths.runtimeDir, paths.stateDir, paths.logFile]);
  assert.match(plist, /<key>StandardOutPath<\/key>\s*<string>\/Users\/me\/\.local\/state\/simple-proxy\/server\/daemon\.log<\/string>/);
  assert.equal(servicePath({ role: 'server', user: false }, 'darwin'), '/Library/LaunchDaemons/com.simple-proxy-server.plist');
});

test('a root daemon on macOS keeps its socket in /var/run (its root file system is read-only and has no /run)', (t) => {
  if (process.getuid?.() !== 0) return t.skip('the root paths apply only when running as root');
  assert.equal(daemonPaths('server', {}, undefined, 'darwin').socket, '/var/run/simple-proxy/server.sock');
  assert.equal(daemonPaths('server', {}, undefined, 'linux').socket, '/run/simple-proxy/server.sock');
});
