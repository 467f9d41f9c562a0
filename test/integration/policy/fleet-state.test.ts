import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FailureLimiter } from '../../../src/auth/failure-limiter.js';
import { FleetState } from '../../../src/limits/fleet-state.js';
import { hasRedis, startRedis } from '../../helpers/redis.js';
import { until } from '../health/pool-fixture.js';

const skip = hasRedis ? false : 'redis-server is not installed (scripts/setup-system.sh installs it)';

/** One process of a fleet: its counts, its failed-login limiter, and its fleet state on `port`. */
function member(port: number, prefix: string, warnings: string[]): { counts: Map<string, number>; open: { n: number }; failures: FailureLimiter; fleet: FleetState } {
  const counts = new Map<string, number>();
  const open = { n: 0 };
  const failures = new FailureLimiter(3, 60_000);
  const fleet = new FleetState({ url: `redis://127.0.0.1:${port}/0`, keyPrefix: prefix, perIp: counts, clientsOpen: () => open.n, failures, warn: (w) => warnings.push(w) });
  return { counts, open, failures, fleet };
}

test('fleet state through a real redis-server: counts reach the other process, a dead one stops counting, lockouts spread, and without Redis each counts alone', { skip, timeout: 60_000 }, async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const warnings: string[] = [];
  const prefix = `fleet-state-${process.pid}`;
  const a = member(redis.port, prefix, warnings);
  const b = member(redis.port, prefix, warnings);
  t.after(() => Promise.all([a.fleet.close(), b.fleet.close()]));
  await until(() => a.fleet.isShared && b.fleet.isShared, 10_000, 'both share');

  // A holds 3 connections of one client (cap 4 over a fleet of two: its share, 2, is passed).
  a.open.n = 3;
  a.counts.set('192.0.2.7', 3);
  a.fleet.perIp.changed('192.0.2.7', 3, 4);
  await until(() => b.fleet.openElsewhere === 3 && b.fleet.perIp.openElsewhere('192.0.2.7') === 3, 10_000, 'B reads what A holds');
  assert.equal(b.fleet.full(3), true, 'max_connections 3 is reached over the fleet');

  // Three failed logins on A lock the address out on B too.
  for (let i = 0; i < 3; i++) a.failures.fail('192.0.2.9');
  await until(() => b.failures.blockedFor('192.0.2.9') > 0, 10_000, 'B refuses the address A locked out');
  assert.equal(b.failures.blockedFor('192.0.2.10'), 0);

  // A dies without a word (its syncs stop, its connection drops): its counts expire.
  const dead = a.fleet as unknown as { timer: NodeJS.Timeout; redis: { disconnect(): void } };
  clearInterval(dead.timer);
  dead.redis.disconnect();
  await until(() => b.fleet.openElsewhere === 0 && b.fleet.perIp.openElsewhere('192.0.2.7') === 0, 15_000, "A's counts expire");

  // Without Redis: B counts alone, and says so once.
  await redis.stop();
  await until(() => !b.fleet.isShared, 10_000, 'B falls back to local counts');
  assert.ok(warnings.some((w) => /connection limits and failed-login lockouts count this process alone/.test(w)), warnings.join('\n'));
  assert.equal(b.fleet.full(3), false);
});
