import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launchdPlist, servicePath, systemdUnit } from '../../../src/daemon/service-unit.js';

const options = { role: 'server' as const, node: process.execPath, bin: resolve('bin/simple-proxy-server.js'), config: resolve('examples/server-config.yaml'), user: false };

test('the systemd unit passes systemd-analyze verify', (t) => {
  if (spawnSync('sh', ['-c', 'command -v systemd-analyze']).status !== 0) return t.skip('systemd-analyze is not installed (Debian package systemd; scripts/setup-system.sh installs it)');
  const dir = mkdtempSync(join(tmpdir(), 'sp-unit-'));
  for (const user of [false, true]) {
    const file = join(dir, `simple-proxy-server${user ? '-user' : ''}.service`);
    const unit = systemdUnit({ ...options, user });
    writeFileSync(file, unit);
    const result = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    assert.equal(result.status, 0, `systemd-analyze verify: ${result.stderr}`);
    assert.match(unit, /^ExecStart=.* start --foreground --config .*server-config\.yaml$/m);
    assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    assert.match(unit, /^Restart=on-failure$/m);
    if (!user) assert.match(unit, /^AmbientCapabilities=CAP_NET_ADMIN CAP_SYS_ADMIN CAP_NET_BIND_SERVICE$/m);
  }
  assert.equal(servicePath({ role: 'client', user: false }, 'linux'), '/etc/systemd/system/simple-proxy-client.service');
});

test('the launchd plist is well-formed and starts the daemon in the foreground', () => {
  const plist = launchdPlist({ ...options, config: '/etc/a&b/server-config.yaml' }, '/var/log/simple-proxy.log');
  const stack: string[] = [];
  for (const [, closing, name, selfClosing] of plist.replace(/<\?xml[^>]*\?>|<!DOCTYPE[^>]*>/g, '').matchAll(/<(\/?)([A-Za-z]+)[^>]*?(\/?)>/g)) {
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `balanced </${name}>`);
    else stack.push(name);
  }
  assert.deepEqual(stack, []);
  assert.ok(plist.includes('<string>/etc/a&amp;b/server-config.yaml</string>'), 'XML-escaped');
  assert.match(plist, /<string>start<\/string>\s*<string>--foreground<\/string>/);
  assert.equal(servicePath({ role: 'server', user: false }, 'darwin'), '/Library/LaunchDaemons/com.simple-proxy-server.plist');
});
