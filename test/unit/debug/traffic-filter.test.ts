import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectionRecord } from '../../../src/protocol/connection-record.js';
import { TrafficFilter } from '../../../src/debug/traffic-filter.js';

const record = (extra: Partial<ConnectionRecord>): ConnectionRecord => ({
  id: 'r',
  startedAt: 0,
  protocol: 'http',
  clientAddress: '127.0.0.1',
  clientPort: 1,
  method: 'GET',
  host: 'api.example.com',
  port: 80,
  bytesIn: 0,
  bytesOut: 0,
  ...extra,
});

const none = { domains: [], methods: [], statusCodes: [] };

test('status codes: [400, 500] keeps errors only, as the spec has it; other codes match exactly', () => {
  const errors = new TrafficFilter({ ...none, statusCodes: [400, 500] });
  const passed = [200, 204, 301, 400, 404, 429, 500, 502, 503].filter((status) => errors.admits(record({ status })));
  assert.deepEqual(passed, [400, 404, 429, 500, 502, 503]);
  assert.equal(errors.admits(record({})), false, 'no status yet: not known to be an error');
  assert.equal(errors.waitsForStatus, true);

  const exact = new TrafficFilter({ ...none, statusCodes: [404, 502] });
  assert.deepEqual([400, 404, 500, 502, 503].filter((status) => exact.admits(record({ status }))), [404, 502]);
});

test('domains and methods narrow the request side; empty lists keep everything', () => {
  const all = new TrafficFilter(none);
  assert.equal(all.admits(record({ status: 200 })), true);
  assert.equal(all.waitsForStatus, false);

  const narrow = new TrafficFilter({ ...none, domains: ['*.example.com'], methods: ['POST'] });
  assert.equal(narrow.admitsRequest(record({ method: 'POST' })), true);
  assert.equal(narrow.admitsRequest(record({ method: 'GET' })), false);
  assert.equal(narrow.admitsRequest(record({ method: 'POST', host: 'example.org' })), false);
});
