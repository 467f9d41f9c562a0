import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestBuckets } from '../../../src/policy/request-buckets.js';

const settings = {
  enabled: true,
  per_ip: { requests_per_second: 5, burst: 10 },
  per_user: { requests_per_second: 2, burst: 4 },
  global: { requests_per_second: 100, burst: 200 },
} as ConstructorParameters<typeof RequestBuckets>[0];

test('RequestBuckets: a client without a user gets the same bucket list every time (nothing built per request), per_user only with a user', () => {
  const buckets = new RequestBuckets(settings);
  const first = buckets.requests('::ffff:10.0.0.1', undefined);
  assert.deepEqual(first, [
    { key: 'ip:10.0.0.1', rate: 5, burst: 10 },
    { key: 'global', rate: 100, burst: 200 },
  ]);
  assert.equal(buckets.requests('::ffff:10.0.0.1', undefined), first, 'kept for the client');
  assert.deepEqual(buckets.used(undefined).map((b) => b.scope), ['ip', 'global']);
  assert.deepEqual(buckets.requests('10.0.0.2', 'alice').map((r) => r.key), ['ip:10.0.0.2', 'user:alice', 'global']);
  assert.deepEqual(buckets.used('alice').map((b) => b.scope), ['ip', 'user', 'global']);
});

test('RequestBuckets: nothing while rate_limiting is off; many clients do not grow the kept lists without bound', () => {
  const off = new RequestBuckets({ ...settings, enabled: false });
  assert.equal(off.used(undefined).length, 0);
  const buckets = new RequestBuckets(settings);
  const first = buckets.requests('10.0.0.1', undefined);
  for (let i = 0; i < 5000; i++) buckets.requests(`10.1.${i >> 8}.${i & 255}`, undefined);
  const again = buckets.requests('10.0.0.1', undefined);
  assert.notEqual(again, first, 'the first client was dropped when the kept lists were started afresh');
  assert.deepEqual(again, first);
});

test('RequestBuckets: without per_user a request with a user passes its client\'s buckets, kept like any other', () => {
  const buckets = new RequestBuckets({ ...settings, per_user: undefined });
  const anonymous = buckets.requests('10.0.0.3', undefined);
  assert.equal(buckets.requests('10.0.0.3', 'bob'), anonymous);
  assert.deepEqual(buckets.used('bob').map((b) => b.scope), ['ip', 'global']);
});
