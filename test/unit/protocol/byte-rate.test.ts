import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ratesBetween } from '../../../src/protocol/byte-rate.js';

test('rates: growth of bytes so far between two reads over the time between; a connection new in the second read has none', () => {
  const before = [{ id: 'a', bytesIn: 100, bytesOut: 1_000 }, { id: 'gone', bytesIn: 5, bytesOut: 5 }];
  const after = [{ id: 'a', bytesIn: 600, bytesOut: 3_000 }, { id: 'new', bytesIn: 10_000, bytesOut: 10_000 }];
  const rates = ratesBetween(before, after, 500);
  assert.deepEqual(rates.get('a'), { in: 1_000, out: 4_000 });
  assert.equal(rates.has('new'), false, 'its bytes may predate the first read');
  assert.equal(rates.has('gone'), false);
  assert.equal(ratesBetween(before, after, 0).size, 0, 'no time between: no rate');
});
