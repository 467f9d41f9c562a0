import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProxyAuthorization } from '../../../src/auth/credentials.js';
import { escapeFilterValue } from '../../../src/auth/ldap-provider.js';
import { FailureLimiter } from '../../../src/auth/failure-limiter.js';
import { VerdictCache } from '../../../src/auth/verdict-cache.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

test('Proxy-Authorization: Basic and Bearer parse; anything else is malformed', () => {
  assert.deepEqual(parseProxyAuthorization(`Basic ${b64('ann:pa:ss')}`), { kind: 'password', username: 'ann', password: 'pa:ss' });
  assert.deepEqual(parseProxyAuthorization(`basic ${b64('ünï:cödé')}`), { kind: 'password', username: 'ünï', password: 'cödé' });
  assert.deepEqual(parseProxyAuthorization('Bearer abc.def.ghi'), { kind: 'bearer', token: 'abc.def.ghi' });
  assert.equal(parseProxyAuthorization(undefined), null);
  for (const bad of ['Basic', 'Basic !!!', `Basic ${b64('no-colon')}`, 'Digest x=1', 'Bearer ']) assert.equal(parseProxyAuthorization(bad), 'malformed', bad);
});

test('LDAP filter values are escaped (RFC 4515)', () => {
  assert.equal(escapeFilterValue('a*b(c)d\\e\0'), 'a\\2ab\\28c\\29d\\5ce\\00');
});

test('verdict cache: one check for concurrent callers, TTLs for both verdicts, bounded size', async () => {
  const cache = new VerdictCache(60_000, 1, 2);
  let runs = 0;
  const check = async () => {
    runs++;
    await new Promise((r) => setTimeout(r, 10));
    return { user: 'u', groups: [] };
  };
  const key = cache.keyOf('h\0Basic x');
  assert.notEqual(key, 'h\0Basic x');
  await Promise.all(Array.from({ length: 50 }, () => cache.check(key, check)));
  assert.equal(runs, 1);
  assert.deepEqual(cache.get(key), { user: 'u', groups: [] });
  const negative = cache.keyOf('bad');
  assert.deepEqual(await cache.check(negative, async () => ({ rejected: 'wrong password' })), { rejected: 'wrong password' });
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(cache.get(negative), undefined, 'negative verdicts expire after negative_ttl');
  await cache.check(cache.keyOf('a'), check);
  await cache.check(cache.keyOf('b'), check);
  assert.equal(cache.get(key), undefined, 'the oldest entry makes room');
  await assert.rejects(cache.check(cache.keyOf('c'), async () => Promise.reject(new Error('down'))));
  assert.equal(cache.get(cache.keyOf('c')), undefined, 'a failed check is not remembered');
});

test('failure limiter: blocks an address after max failures until its window ends', () => {
  const limiter = new FailureLimiter(3, 1000);
  assert.equal(limiter.fail('a', 0), false);
  assert.equal(limiter.fail('a', 10), false);
  assert.equal(limiter.blockedFor('a', 20), 0);
  assert.equal(limiter.fail('a', 20), true);
  assert.equal(limiter.blockedFor('a', 500), 500);
  assert.equal(limiter.blockedFor('b', 500), 0);
  assert.equal(limiter.blockedFor('a', 1000), 0);
});

test('failure limiter: each failure is also told to the fleet, and a lockout made elsewhere blocks here until it ends', () => {
  const limiter = new FailureLimiter(3, 1000);
  const told: string[] = [];
  limiter.share = (address, max, windowMs) => told.push(`${address} ${max} ${windowMs}`);
  limiter.fail('a', 0);
  assert.deepEqual(told, ['a 3 1000']);
  limiter.lock('b', 700);
  assert.equal(limiter.blockedFor('b', 200), 500);
  assert.equal(limiter.blockedFor('b', 700), 0);
});
