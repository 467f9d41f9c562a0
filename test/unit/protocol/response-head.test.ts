import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseResponseHead } from '../../../src/protocol/response-head.js';

const parse = (text: string, method = 'GET', max = 65536) => parseResponseHead(Buffer.from(text, 'latin1'), method, max);

test('a response head: status, reason, fields as sent (values trimmed), its length and framing', () => {
  const text = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length:  5 \r\nX-Latin: caf\xe9\r\n\r\nhello';
  assert.deepEqual(parse(text), {
    status: 200,
    statusText: 'OK',
    headers: ['Content-Type', 'text/plain', 'Content-Length', '5', 'X-Latin', 'caf\xe9'],
    framing: { kind: 'length', length: 5 },
    reusable: true,
    length: text.length - 5,
  });
  assert.deepEqual(parse('HTTP/1.1 204\r\n\r\n'), { status: 204, statusText: '', headers: [], framing: { kind: 'none' }, reusable: true, length: 16 });
  assert.equal(parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n'), null, 'not complete yet');
});

test('how a body is framed (RFC 9112 section 6.3)', () => {
  const framing = (text: string, method?: string) => (parse(text, method) as { framing: unknown }).framing;
  assert.deepEqual(framing('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'), { kind: 'chunked' });
  assert.deepEqual(framing('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: Chunked\r\n\r\n'), { kind: 'chunked' });
  assert.deepEqual(framing('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n'), { kind: 'close' }, 'chunked not last: until close');
  assert.deepEqual(framing('HTTP/1.1 200 OK\r\n\r\n'), { kind: 'close' });
  assert.deepEqual(framing('HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n', 'HEAD'), { kind: 'none' });
  assert.deepEqual(framing('HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n'), { kind: 'none' });
  assert.deepEqual(framing('HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n'), { kind: 'none' });
  assert.deepEqual(framing('HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\ncontent-length: 3\r\n\r\n'), { kind: 'length', length: 3 });
});

test('whether the connection can carry another request', () => {
  const reusable = (text: string) => (parse(text) as { reusable: boolean }).reusable;
  assert.equal(reusable('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), true);
  assert.equal(reusable('HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n'), false);
  assert.equal(reusable('HTTP/1.1 200 OK\r\nConnection: x-a, close\r\nContent-Length: 0\r\n\r\n'), false);
  assert.equal(reusable('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n'), false);
  assert.equal(reusable('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n'), true);
  assert.equal(reusable('HTTP/1.1 200 OK\r\n\r\n'), false, 'a body until close ends the connection');
});

test('heads a proxy must not guess at are invalid, with llhttp codes', () => {
  const code = (text: string, max?: number) => (parse(text, 'GET', max) as { invalid?: string }).invalid;
  assert.equal(code('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n'), 'HPE_UNEXPECTED_CONTENT_LENGTH');
  assert.equal(code('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'), 'HPE_INVALID_CONTENT_LENGTH');
  assert.equal(code('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'), 'HPE_INVALID_CONTENT_LENGTH');
  assert.equal(code('HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n'), 'HPE_INVALID_CONTENT_LENGTH');
  for (const line of ['HTTP/2 200 OK', 'HTTP/1.1 2000 OK', 'HTTP/1.1 099 X', 'HTTP/1.1  200 OK', 'ICY 200 OK', 'HTTP/1.1 200 O\rK']) {
    assert.equal(code(`${line}\r\n\r\n`), 'HPE_INVALID_STATUS', line);
  }
  for (const field of ['X : y', ' X: folded', 'X y', 'X: a\nb', 'X: nul\0', '\tX: y', 'Bad[]: y']) {
    assert.equal(code(`HTTP/1.1 200 OK\r\n${field}\r\n\r\n`), 'HPE_INVALID_HEADER_TOKEN', JSON.stringify(field));
  }
  assert.equal(code(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(100)}\r\n\r\n`, 64), 'UND_ERR_HEADERS_OVERFLOW');
  assert.equal(code(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(100)}`, 64), 'UND_ERR_HEADERS_OVERFLOW', 'too long before its end came');
});
