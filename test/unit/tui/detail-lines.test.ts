import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectionRecord } from '../../../src/protocol/connection-record.js';
import { curlCommand, detailLines } from '../../../src/tui/model/detail-lines.js';
import { toRow } from '../../../src/tui/model/traffic-row.js';

const record = (fields: Partial<ConnectionRecord>): ConnectionRecord => ({ id: 'a1', startedAt: 0, protocol: 'http', clientAddress: '127.0.0.1', clientPort: 5, method: 'GET', host: 'api.example.com', port: 8443, path: '/v1?x=1', bytesIn: 10, bytesOut: 20, durationMs: 3, ...fields });

test('the detail view says whether a request was decrypted and what the TLS handshake named; its curl command uses https://', () => {
  const decrypted = record({ tls: { decrypted: true, sni: 'api.example.com', alpn: 'h2' } });
  const lines = detailLines('request', toRow(decrypted, false), decrypted, null);
  assert.ok(lines.includes('tls: decrypted by HTTPS interception   SNI api.example.com   spoken h2'), lines.join('\n'));
  assert.match(curlCommand(toRow(decrypted, false), decrypted, null), /'https:\/\/api\.example\.com:8443\/v1\?x=1'/);
  const tunnel = record({ protocol: 'connect', method: 'CONNECT', path: undefined, tls: { decrypted: false, sni: 'pinned.example.com', alpnOffered: ['h2', 'http/1.1'] } });
  const tunnelLines = detailLines('request', toRow(tunnel, false), tunnel, null);
  assert.ok(tunnelLines.includes('tls: tunnel not decrypted: metadata only   SNI pinned.example.com   ALPN offered h2, http/1.1'), tunnelLines.join('\n'));
  const plain = record({});
  assert.ok(!detailLines('request', toRow(plain, false), plain, null).some((l) => l.startsWith('tls:')));
});

test('the timing tab lists the phases the daemon measured, and says so when none were', () => {
  const timed = record({ waitMs: 12, receiveMs: 3 });
  const lines = detailLines('timing', toRow(timed, false), timed, null);
  assert.ok(lines.some((l) => /^wait for the response head: /.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /^receive the body: /.test(l)));
  const untimed = record({});
  assert.ok(detailLines('timing', toRow(untimed, false), untimed, null).some((l) => /not measured/.test(l)));
});

test('the timing tab shows DNS time, and TLS as the origin\'s handshake for a request, the client\'s for a tunnel', () => {
  const request = record({ tls: { decrypted: true }, dnsMs: 2, connectMs: 1, tlsMs: 7, waitMs: 12, receiveMs: 3 });
  const lines = detailLines('timing', toRow(request, false), request, null);
  assert.ok(lines.some((l) => /^DNS \(resolve the name\): /.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /^TLS with the origin \(new connection\): /.test(l)), lines.join('\n'));
  const tunnel = record({ protocol: 'connect', method: 'CONNECT', dnsMs: 2, connectMs: 1, tlsMs: 7 });
  const tunnelLines = detailLines('timing', toRow(tunnel, false), tunnel, null);
  assert.ok(tunnelLines.some((l) => /^DNS \(resolve the name\): /.test(l)), tunnelLines.join('\n'));
  assert.ok(tunnelLines.some((l) => /^TLS with the client \(interception\): /.test(l)));
});
