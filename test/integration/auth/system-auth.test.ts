import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { curl } from '../policy/policy-fixture.js';
import { startEngine } from '../proxy/engine-fixture.js';
import { authSnapshot, basic, burst, echoOrigin } from './auth-fixture.js';

const USER = `spauth${process.pid % 100_000}`;
const EXPIRED = `spexp${process.pid % 100_000}`;
const GROUP = `spgrp${process.pid % 100_000}`;

function why(): string | null {
  if (process.platform !== 'linux') return 'PAM mode is Linux only';
  if (process.getuid?.() !== 0) return 'needs root: creates throwaway OS users, and PAM checks other users\' passwords only as root';
  if (!existsSync('/usr/bin/pamtester')) return 'pamtester is not installed (run scripts/setup-system.sh as root)';
  if (!existsSync('/usr/sbin/useradd') || !existsSync('/usr/sbin/chpasswd')) return 'useradd/chpasswd are not available';
  return null;
}
const skip = why();

function run(command: string, args: string[], input?: string): void {
  const result = spawnSync(command, args, { input, encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
}

test('system: PAM checks a throwaway OS user, allowed_groups and an expired account; the cache spares it a burst', { skip: skip ?? false, timeout: 120_000 }, async (t) => {
  run('groupadd', [GROUP]);
  run('useradd', ['-M', '-s', '/usr/sbin/nologin', '-G', GROUP, USER]);
  run('useradd', ['-M', '-s', '/usr/sbin/nologin', '-G', GROUP, EXPIRED]);
  t.after(() => {
    spawnSync('userdel', [USER]);
    spawnSync('userdel', [EXPIRED]);
    spawnSync('groupdel', [GROUP]);
  });
  run('chpasswd', [], `${USER}:os-Pass-1\n${EXPIRED}:os-Pass-2\n`);
  // The account expired yesterday: the password is right, the account is not valid.
  run('chage', ['-E', new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10), EXPIRED]);

  const site = await echoOrigin();
  t.after(() => site.server.close());
  const proxy = await startEngine(authSnapshot({ mode: 'system', system: { allowed_groups: [GROUP] }, acl: [{ group: GROUP, backends: ['direct'] }] }));
  t.after(() => proxy.stop());
  const via = `http://127.0.0.1:${proxy.http.port}`;
  const code = async (user: string, host = '127.0.0.1'): Promise<string> => (await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', via, '-U', user, `http://${host}:${site.port}/`], 30_000)).stdout;
  // First contact with a burst: concurrent requests wait for one PAM check (a pamtester run each).
  const statuses = await burst(proxy.http.port, `http://127.0.0.1:${site.port}/b`, basic(USER, 'os-Pass-1'), 1000);
  assert.deepEqual([...statuses], [[200, 1000]]);
  const { checks } = proxy.engine.auth!.stats();
  assert.ok(checks <= 3, `PAM was asked ${checks} times for 1,000 requests`);
  assert.equal(await code(`${USER}:os-Pass-1`), '200');
  assert.equal(await code(`${USER}:wrong`), '407');
  assert.equal(await code(`${EXPIRED}:os-Pass-2`), '407', 'expired account refused by acct_mgmt');
  assert.equal(await code(`${USER}:os-Pass-1`, 'localhost'), '403', 'OS group drives the ACL');
  assert.equal(await code('root:anything'), '407', 'root is not in allowed_groups');
  const socks = await curl(['-o', '/dev/null', '-w', '%{http_code}', '--socks5', `${USER}:os-Pass-1@127.0.0.1:${proxy.socks.port}`, `http://127.0.0.1:${site.port}/`]);
  assert.equal(socks.stdout, '200');
  const socksWrong = await curl(['--socks5', `${USER}:wrong@127.0.0.1:${proxy.socks.port}`, `http://127.0.0.1:${site.port}/`]);
  assert.match(socksWrong.stderr, /User was rejected by the SOCKS5 server/, 'RFC 1929 failure');
  assert.ok(proxy.records.some((r) => r.user === USER && r.status === 200));
});
