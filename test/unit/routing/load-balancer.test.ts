import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Backend } from '../../../src/backends/backend.js';
import type { RuleSpec } from '../../../src/config/model.js';
import type { HealthSource } from '../../../src/health/health-source.js';
import { BackendGroup } from '../../../src/routing/load-balancer.js';

/** Picking only reads a backend's name: members need nothing else here. */
const member = (name: string, weight: number): { backend: Backend; weight: number } => ({ backend: { name } as Backend, weight });

class Health implements HealthSource {
  readonly down = new Map<string, string>();
  usable(name: string): boolean {
    return !this.down.has(name);
  }
  reason(name: string): string | undefined {
    return this.down.get(name);
  }
  report(): void {}
}

function count(group: BackendGroup, picks: number, client = (i: number): string => `10.0.0.${i % 250}`): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < picks; i++) {
    const name = group.pick(client(i))?.name ?? 'none';
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

const balancing = (algorithm: NonNullable<RuleSpec['loadBalancing']>['algorithm'], stickySessions = false): RuleSpec['loadBalancing'] => ({ algorithm, stickySessions });

test('round_robin is weighted and exact, and interleaves members', () => {
  const group = new BackendGroup('r', [member('a', 50), member('b', 30), member('c', 20)], balancing('round_robin'), new Health());
  assert.deepEqual(count(group, 1000), { a: 500, b: 300, c: 200 });
  const first = Array.from({ length: 10 }, () => group.pick('x')!.name).join('');
  assert.ok(!first.includes('aaa'), `smooth order, got ${first}`);
});

test('unhealthy members are skipped; weight-0 members are fallbacks; none left gives null and a reason naming each', () => {
  const health = new Health();
  const members = [member('a', 1), member('b', 1), member('spare', 0)];
  const group = new BackendGroup('r', members, balancing('round_robin'), health);
  assert.deepEqual(count(group, 10), { a: 5, b: 5 });
  health.down.set('a', 'no answer');
  assert.deepEqual(count(group, 10), { b: 10 });
  health.down.set('b', 'refused');
  assert.deepEqual(count(group, 10), { spare: 10 });
  health.down.set('spare', 'gone');
  assert.equal(group.pick('x'), null);
  assert.equal(group.unhealthyReason(), 'every backend of rule "r" is unhealthy (a: no answer; b: refused; spare: gone)');
  health.down.delete('b');
  assert.equal(group.pick('x', members[1].backend), null, 'the member a retry excludes is not picked again');
});

test('random is weighted', () => {
  const group = new BackendGroup('r', [member('a', 3), member('b', 1)], balancing('random'), new Health());
  const counts = count(group, 20_000);
  assert.ok(Math.abs(counts.a / 20_000 - 0.75) < 0.03, JSON.stringify(counts));
});

test('ip_hash maps each client to a stable member; losing a member moves only its clients', () => {
  const health = new Health();
  const group = new BackendGroup('r', [member('a', 1), member('b', 1), member('c', 1)], balancing('ip_hash'), health);
  const clients = Array.from({ length: 300 }, (_, i) => `192.168.${i >> 8}.${i & 255}`);
  const before = new Map(clients.map((c) => [c, group.pick(c)!.name]));
  for (const c of clients) assert.equal(group.pick(c)!.name, before.get(c));
  const spread = count(group, 300, (i) => clients[i]);
  for (const name of ['a', 'b', 'c']) assert.ok(spread[name] > 60, `spread ${JSON.stringify(spread)}`);
  health.down.set('b', 'down');
  for (const c of clients) {
    const now = group.pick(c)!.name;
    if (before.get(c) !== 'b') assert.equal(now, before.get(c), `client ${c} moved although its member is healthy`);
    else assert.notEqual(now, 'b');
  }
});

test('least_conn picks the member with the fewest open connections per weight', () => {
  const group = new BackendGroup('r', [member('a', 2), member('b', 1)], balancing('least_conn'), new Health());
  const open: EventEmitter[] = [];
  const names: string[] = [];
  for (let i = 0; i < 6; i++) {
    const backend = group.pick('x')!;
    const connection = new EventEmitter();
    group.opened(backend, connection);
    open.push(connection);
    names.push(backend.name);
  }
  assert.deepEqual({ a: names.filter((n) => n === 'a').length, b: names.filter((n) => n === 'b').length }, { a: 4, b: 2 });
  // Closing b's connections makes b the least loaded.
  names.forEach((n, i) => n === 'b' && open[i].emit('close'));
  assert.equal(group.pick('x')!.name, 'b');
});

test('sticky sessions keep a client on its member while it is healthy, also after another member returns', () => {
  const health = new Health();
  const group = new BackendGroup('r', [member('a', 1), member('b', 1), member('c', 1)], balancing('round_robin', true), health);
  const clients = ['10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4', '10.1.0.5', '10.1.0.6'];
  const home = new Map(clients.map((c) => [c, group.pick(c)!.name]));
  for (let round = 0; round < 5; round++) for (const c of clients) assert.equal(group.pick(c)!.name, home.get(c));
  const moved = clients.find((c) => home.get(c) === 'a') ?? clients[0];
  const original = home.get(moved)!;
  health.down.set(original, 'down');
  const second = group.pick(moved)!.name;
  assert.notEqual(second, original);
  health.down.delete(original);
  assert.equal(group.pick(moved)!.name, second, 'the client stays where it went while that member is healthy');
});

test('preview says what pick would do without spending its state: fallbacks, nothing usable, least connections now', () => {
  const health = new Health();
  const group = new BackendGroup('r', [member('a', 1), member('b', 1), member('spare', 0)], balancing('round_robin'), health);
  const order = (): string => Array.from({ length: 4 }, () => group.pick('x')!.name).join('');
  const before = order();
  for (let i = 0; i < 3; i++) assert.deepEqual(group.preview('x').candidates, ['a', 'b']);
  assert.equal(order(), before, 'previews took no turn');
  health.down.set('a', 'no answer');
  health.down.set('b', 'refused');
  assert.deepEqual(group.preview(), { algorithm: 'round_robin', basis: 'only', candidates: ['spare'], fallback: true, skipped: [{ name: 'a', reason: 'no answer' }, { name: 'b', reason: 'refused' }] });
  health.down.set('spare', 'gone');
  assert.deepEqual([group.preview().basis, group.preview().candidates], ['none', []]);

  const least = new BackendGroup('l', [member('a', 2), member('b', 1)], balancing('least_conn'), new Health());
  const a = least.pick('x')!;
  least.opened(a, new EventEmitter());
  assert.deepEqual(least.preview().candidates, ['b'], 'b has fewer open connections per unit of weight');
});
