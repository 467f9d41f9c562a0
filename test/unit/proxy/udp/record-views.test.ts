import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectionRecord } from '../../../../src/protocol/connection-record.js';
import { formatAccessLine } from '../../../../src/telemetry/access-log-format.js';
import { harEntry } from '../../../../src/debug/har.js';
import { statusClass } from '../../../../src/debug/traffic-format.js';
import { toRow } from '../../../../src/tui/model/traffic-row.js';
import { detailLines } from '../../../../src/tui/model/detail-lines.js';

const association: ConnectionRecord = {
  id: 'abc1',
  startedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
  protocol: 'udp',
  clientAddress: '::ffff:127.0.0.1',
  clientPort: 40000,
  user: 'alice',
  method: 'UDP',
  host: '192.0.2.53',
  port: 53,
  rule: 'default',
  backend: 'wg',
  status: 0,
  bytesIn: 120,
  bytesOut: 480,
  durationMs: 2500,
  udp: { datagramsIn: 3, datagramsOut: 3, dropped: 1, destinations: ['192.0.2.53:53', 'time.example:123'], destinationCount: 2 },
};

test('an association is one access-log entry with its datagrams and destinations', () => {
  const json = JSON.parse(formatAccessLine(association, { format: 'json', fields: undefined, mask_headers: [] }));
  assert.equal(json.method, 'UDP');
  assert.equal(json.backend, 'wg');
  assert.equal(json.bytes_sent, 480);
  assert.deepEqual(json.udp, { datagrams_in: 3, datagrams_out: 3, dropped: 1, destinations: ['192.0.2.53:53', 'time.example:123'], destination_count: 2 });
  const line = formatAccessLine(association, { format: 'apache_common', fields: undefined, mask_headers: [] });
  assert.equal(line, '127.0.0.1 - alice [02/Jan/2026:03:04:05 +0000] "UDP 192.0.2.53:53 SOCKS/5" 200 480');
});

test('HAR exports an association as a metadata entry; the debugger and the dashboard show it as a success with its datagrams', () => {
  const entry = harEntry(association);
  assert.equal(entry.request.url, 'udp://192.0.2.53:53/');
  assert.equal(entry.response.status, 200);
  assert.match(entry.comment ?? '', /SOCKS5 UDP association: metadata only/);
  assert.match(entry.comment ?? '', /datagrams 3 in, 3 out, 1 dropped; destinations 192\.0\.2\.53:53 time\.example:123/);
  assert.equal(statusClass(association), '2xx');
  const lines = detailLines('request', toRow(association, false), null, null);
  assert.ok(lines.includes('datagrams from client 3   to client 3   dropped 1'), lines.join('\n'));
  assert.ok(lines.includes('destinations 192.0.2.53:53 time.example:123'));
});
