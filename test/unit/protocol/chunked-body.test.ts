import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkedBody, ChunkedError } from '../../../src/protocol/chunked-body.js';

/** Feeds `parts` one after the other; returns the data, the end offset in the part where it ended, and which part that was. */
function read(parts: string[]): { data: string; end: number; part: number } {
  const body = new ChunkedBody();
  let data = '';
  for (let part = 0; part < parts.length; part++) {
    const end = body.feed(Buffer.from(parts[part], 'latin1'), 0, (chunk) => (data += chunk.toString('latin1')));
    if (end >= 0) return { data, end, part };
  }
  return { data, end: -1, part: -1 };
}

const BODY = '5\r\nhello\r\n1;name=value\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n';

test('a chunked body in one piece: the data, and where it ends (the bytes after are not the body)', () => {
  assert.deepEqual(read([`${BODY}HTTP/1.1 200`]), { data: 'hello 0123456789', end: BODY.length, part: 0 });
  assert.deepEqual(read(['0\r\n\r\n']), { data: '', end: 5, part: 0 });
});

test('the same body split at every byte, and in single bytes, reads the same', () => {
  for (let cut = 1; cut < BODY.length; cut++) {
    const got = read([BODY.slice(0, cut), BODY.slice(cut)]);
    assert.equal(got.data, 'hello 0123456789', `cut at ${cut}`);
    assert.equal(got.part, 1, `cut at ${cut}`);
    assert.equal(got.end, BODY.length - cut, `cut at ${cut}`);
  }
  assert.deepEqual(read([...BODY]).data, 'hello 0123456789');
});

test('a body not finished yet asks for more', () => {
  assert.equal(read(['5\r\nhel']).end, -1);
  assert.equal(read(['0\r\nX: y\r\n']).end, -1, 'trailer section not ended');
});

test('invalid framing throws with llhttp codes', () => {
  const fault = (text: string) => {
    try {
      read([text]);
    } catch (error) {
      assert.ok(error instanceof ChunkedError);
      return error.code;
    }
    return 'none';
  };
  assert.equal(fault('g\r\n'), 'HPE_INVALID_CHUNK_SIZE');
  assert.equal(fault('\r\n'), 'HPE_INVALID_CHUNK_SIZE', 'empty size');
  assert.equal(fault('-1\r\n'), 'HPE_INVALID_CHUNK_SIZE');
  assert.equal(fault('1 1\r\n'), 'HPE_INVALID_CHUNK_SIZE', 'a space inside the size');
  assert.equal(fault('fffffffffffffff\r\n'), 'HPE_INVALID_CHUNK_SIZE', 'beyond a safe integer');
  assert.equal(fault('1\nx'), 'HPE_INVALID_CHUNK_SIZE', 'bare LF ends no size line');
  assert.equal(fault('1\rx'), 'HPE_STRICT');
  assert.equal(fault('1\r\nxy'), 'HPE_STRICT', 'data longer than its size');
  assert.equal(fault('1;a\0\r\n'), 'HPE_INVALID_CHUNK_SIZE', 'control byte in an extension');
  assert.equal(fault('0\r\nX\0: y\r\n\r\n'), 'HPE_INVALID_HEADER_TOKEN');
  assert.equal(fault(`1;${'e'.repeat(5000)}\r\n`), 'HPE_CHUNK_EXTENSIONS_OVERFLOW');
});
