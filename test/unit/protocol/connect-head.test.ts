import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConnectHead } from '../../../src/protocol/connect-head.js';

const parse = (text: string, max = 65536) => parseConnectHead(Buffer.from(text, 'latin1'), max);

test('a strict CONNECT head: target, the headers the front acts on, and where the tunnel bytes start', () => {
  const text = 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nUser-Agent:  curl/8.5.0 \r\nProxy-Authorization: Basic YTpi\r\n\r\n\x16\x03\x01';
  const parsed = parse(text);
  assert.deepEqual(parsed?.head, { target: 'example.com:443', userAgent: 'curl/8.5.0', authorization: 'Basic YTpi' });
  assert.equal(parsed?.length, text.length - 3);
  assert.deepEqual(parse('CONNECT [::1]:8443 HTTP/1.0\r\n\r\n')?.head, { target: '[::1]:8443' });
  assert.deepEqual(parse('CONNECT a:1 HTTP/1.1\r\nx-empty:\r\n\r\n')?.head, { target: 'a:1' });
});

test('header values read as node:http reads them: the first of a single-valued header, every Via joined, spaces and tabs trimmed, obs-text kept', () => {
  const parsed = parse('CONNECT a:1 HTTP/1.1\r\nUSER-AGENT: one\r\nuser-agent: two\r\nReferer:\thttp://r/\t\r\nVia: 1.1 a\r\nvia: 1.0 b\r\nproxy-authorization: first\r\nProxy-Authorization: second\r\nX-Latin: caf\xe9\xa0\r\n\r\n');
  assert.deepEqual(parsed?.head, { target: 'a:1', userAgent: 'one', referer: 'http://r/', via: '1.1 a, 1.0 b', authorization: 'first' });
  assert.equal(parse('CONNECT a:1 HTTP/1.1\r\nUser-Agent: x\xa0\r\n\r\n')?.head.userAgent, 'x\xa0');
});

test('anything but a complete strict CONNECT head is left to the full parser (null)', () => {
  const loose = [
    'GET http://a/ HTTP/1.1\r\n\r\n',
    'connect a:1 HTTP/1.1\r\n\r\n',
    'CONNECT a:1 HTTP/1.1\r\nHost: a\r\n', // not complete yet
    'CONNECT  a:1 HTTP/1.1\r\n\r\n', // two spaces
    'CONNECT a:1 HTTP/2.0\r\n\r\n',
    'CONNECT a:1 HTTP/1.1\n\n', // bare LF
    'CONNECT a:1 HTTP/1.1\r\nHost: a\n\r\n',
    'CONNECT a:1 HTTP/1.1\r\nA: x\ry\r\n\r\n', // bare CR in a value
    'CONNECT a:1 HTTP/1.1\r\nBad Header: x\r\n\r\n',
    'CONNECT a:1 HTTP/1.1\r\nName : x\r\n\r\n',
    'CONNECT a:1 HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n',
    'CONNECT a:1 HTTP/1.1\r\nA: x\x01y\r\n\r\n',
    'CONNECT a:1 HTTP/1.1\r\nA: x\x7fy\r\n\r\n',
    'CONNECT a"b:1 HTTP/1.1\r\n\r\n',
    'CONNECT a:1 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello',
    'CONNECT a:1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n',
  ];
  for (const text of loose) assert.equal(parse(text), null, JSON.stringify(text));
});

test('a head at or over the size limit is left to the full parser, which answers 431', () => {
  const text = `CONNECT a:1 HTTP/1.1\r\nX-Big: ${'a'.repeat(100)}\r\n\r\n`;
  assert.notEqual(parse(text, text.length), null);
  assert.equal(parse(text, text.length - 1), null);
});
