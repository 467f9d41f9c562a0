import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectionRecord } from '../../../src/protocol/connection-record.js';
import { requestLine, responseLine, trafficEventLines } from '../../../src/debug/traffic-format.js';

const record = (extra: Partial<ConnectionRecord>): ConnectionRecord => ({
  id: 'abc123',
  // Local time, as the log shows it.
  startedAt: new Date(2024, 0, 15, 10, 30, 45, 123).getTime(),
  protocol: 'http',
  clientAddress: '127.0.0.1',
  clientPort: 54321,
  method: 'GET',
  host: 'api.example.com',
  port: 80,
  path: '/v1/users',
  backend: 'server',
  bytesIn: 10,
  bytesOut: 1234,
  durationMs: 333,
  ...extra,
});

const ESC = '\x1b[';

test('the REQ and RES lines are the lines of spec 4.1, to the character', () => {
  const done = record({ status: 200 });
  assert.equal(requestLine(done), '[2024-01-15 10:30:45.123] [REQ] id=abc123 method=GET host=api.example.com path=/v1/users client=127.0.0.1:54321 route=server');
  assert.equal(responseLine(done), '[2024-01-15 10:30:45.456] [RES] id=abc123 status=200 size=1234 duration=333ms');
  assert.equal(requestLine(record({ user: 'alice' })), '[2024-01-15 10:30:45.123] [REQ] id=abc123 method=GET host=api.example.com path=/v1/users client=127.0.0.1:54321 route=server user=alice', 'what the spec does not have comes after its fields');
  assert.equal(responseLine(record({ status: 502, error: 'refused' })), '[2024-01-15 10:30:45.456] [RES] id=abc123 status=502 size=1234 duration=333ms error=refused');
});

test('debug tail colours the response line by status class; request and header lines keep their colour', () => {
  const cases: [Partial<ConnectionRecord>, string][] = [
    [{ status: 200 }, '32'],
    [{ status: 204 }, '32'],
    [{ status: 302 }, '36'],
    [{ status: 404 }, '33'],
    [{ status: 429 }, '33'],
    [{ status: 429, error: 'rate-limited' }, '33'],
    [{ protocol: 'connect', method: 'CONNECT', status: 200, error: 'ECONNRESET' }, '31'],
    [{ status: 500 }, '31'],
    [{ status: 502, error: 'refused' }, '31'],
    [{ status: undefined, error: 'timeout' }, '31'],
    [{ protocol: 'socks5', method: 'SOCKS5', status: 0 }, '32'],
    [{ protocol: 'socks5', method: 'SOCKS5', status: 5, error: 'refused' }, '31'],
  ];
  for (const [extra, code] of cases) {
    const [line] = trafficEventLines('response', record(extra), true);
    assert.ok(line.startsWith(`${ESC}${code}m`) && line.endsWith(`${ESC}0m`), `${JSON.stringify(extra)} → colour ${code}: ${JSON.stringify(line)}`);
    assert.match(line, /\[RES\] id=abc123 status=/);
  }

  const [request, headers] = trafficEventLines('request', record({ status: 500, requestHeaders: ['Accept', '*/*'] }), true);
  assert.ok(request.startsWith('['), 'the REQ line is not coloured: the status is not known yet');
  assert.equal(headers, `${ESC}2m  Headers: Accept: */*${ESC}0m`, 'detail lines are dimmed');
});

test('without colour the tail prints the debug-log lines of spec 4.1 as they are', () => {
  const lines = trafficEventLines('response', record({ status: 200, responseHeaders: ['Content-Type', 'application/json'] }), false);
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] \[RES\] id=abc123 status=200 size=1234 duration=333ms$/);
  assert.equal(lines[1], '  Headers: Content-Type: application/json');
  assert.ok(!lines.join('').includes(ESC));
});

test('debug tail shows the measured phases and a tunnel\'s TLS after the RES line; the log keeps spec 4.1\'s line', () => {
  const tunnel = record({ status: 200, protocol: 'connect', method: 'CONNECT', dnsMs: 2, connectMs: 4, tlsMs: 9, tls: { decrypted: false, sni: 'pinned.example.com', alpnOffered: ['h2', 'http/1.1'] } });
  const lines = trafficEventLines('response', tunnel, false);
  assert.match(lines[0], /duration=333ms$/);
  assert.deepEqual(lines.slice(1), ['  Timing: dns=2ms connect=4ms tls=9ms', '  TLS: not decrypted sni=pinned.example.com alpn-offered=h2,http/1.1']);
  assert.equal(responseLine(tunnel), '[2024-01-15 10:30:45.456] [RES] id=abc123 status=200 size=1234 duration=333ms');
});
