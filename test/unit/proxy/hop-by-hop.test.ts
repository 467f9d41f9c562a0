import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stripHopByHop } from '../../../src/proxy/hop-by-hop.js';

test('hop-by-hop fields go whatever their case; fields Connection names go; the rest stay in order', () => {
  const raw = [
    'Host', 'example.com',
    'CONNECTION', 'keep-alive, X-Trace-Hop',
    'Keep-Alive', 'timeout=5',
    'Proxy-Authorization', 'Basic eA==',
    'x-trace-hop', '1',
    'User-Agent', 'curl/8',
    'Transfer-Encoding', 'chunked',
    'X-A-Field-Name-Of-Forty-Characters-Long', 'kept',
    'TE', 'trailers',
    'Accept', '*/*',
  ];
  assert.deepEqual(stripHopByHop(raw, new Set(['host'])), ['User-Agent', 'curl/8', 'X-A-Field-Name-Of-Forty-Characters-Long', 'kept', 'Accept', '*/*']);
  // Without a drop set, Host stays.
  assert.deepEqual(stripHopByHop(['Host', 'a', 'Upgrade', 'h2c', 'Via', '1.1 x']), ['Host', 'a', 'Via', '1.1 x']);
  // A long dropped name is matched too.
  assert.deepEqual(stripHopByHop(['X-Forwarded-For-Some-Very-Long-Name-Here', 'v', 'Date', 'd'], new Set(['x-forwarded-for-some-very-long-name-here'])), ['Date', 'd']);
});

test('stripping in place keeps the same list, compacted', () => {
  const list = ['Connection', 'close', 'Server', 'nginx', 'Via', '1.1 a', 'Keep-Alive', 'timeout=5', 'Date', 'x'];
  const out = stripHopByHop(list, new Set(['via']), list);
  assert.equal(out, list);
  assert.deepEqual(list, ['Server', 'nginx', 'Date', 'x']);
});
