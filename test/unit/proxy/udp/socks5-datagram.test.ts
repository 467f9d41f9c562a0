import { test } from 'node:test';
import assert from 'node:assert/strict';
import { destination, readDatagram, replyHeader } from '../../../../src/proxy/udp/socks5-datagram.js';

const port = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);

test('a UDP request header gives a flow key per destination and where the payload starts', () => {
  const v4 = Buffer.concat([Buffer.from([0, 0, 0, 1, 10, 0, 0, 1]), port(53), Buffer.from('q')]);
  const header = readDatagram(v4);
  assert.ok(typeof header === 'object');
  assert.equal(header.offset, 10);
  assert.deepEqual(destination(header.key), { host: '10.0.0.1', port: 53 });
  const v6 = Buffer.concat([Buffer.from([0, 0, 0, 4]), Buffer.from('20010db8000000000000000000000001', 'hex'), port(443)]);
  const six = readDatagram(v6);
  assert.ok(typeof six === 'object');
  assert.deepEqual(destination(six.key), { host: '2001:db8::1', port: 443 });
  assert.equal(six.offset, 22, 'an empty payload is a datagram too');
  const name = Buffer.concat([Buffer.from([0, 0, 0, 3, 11]), Buffer.from('example.com'), port(123), Buffer.from('ntp')]);
  const named = readDatagram(name);
  assert.ok(typeof named === 'object');
  assert.deepEqual(destination(named.key), { host: 'example.com', port: 123 });
  assert.equal(name.subarray(named.offset).toString(), 'ntp');
  assert.notEqual(header.key, named.key);
});

test('truncated, fragmented and unknown-type headers are faults, never exceptions', () => {
  assert.equal(readDatagram(Buffer.alloc(0)), 'truncated');
  assert.equal(readDatagram(Buffer.from([0, 0, 0])), 'truncated');
  assert.equal(readDatagram(Buffer.from([0, 0, 0, 1, 1, 2, 3, 4, 0])), 'truncated');
  assert.equal(readDatagram(Buffer.from([0, 0, 0, 3])), 'truncated');
  assert.equal(readDatagram(Buffer.from([0, 0, 0, 3, 5, 0x61])), 'truncated');
  assert.equal(readDatagram(Buffer.from([0, 0, 0, 4, 0, 0])), 'truncated');
  assert.equal(readDatagram(Buffer.from([0, 0, 1, 1, 1, 2, 3, 4, 0, 80])), 'fragmented');
  assert.equal(readDatagram(Buffer.from([0, 0, 0, 9, 1, 2, 3, 4, 0, 80])), 'address-type');
});

test('the reply header names where a datagram came from: IPv4 (also IPv4-mapped), IPv6 or a name', () => {
  assert.deepEqual([...replyHeader('192.0.2.7', 53)], [0, 0, 0, 1, 192, 0, 2, 7, 0, 53]);
  assert.deepEqual([...replyHeader('::ffff:192.0.2.7', 53)], [0, 0, 0, 1, 192, 0, 2, 7, 0, 53]);
  const six = replyHeader('2001:db8::1', 443);
  assert.equal(six[3], 4);
  assert.equal(six.subarray(4, 20).toString('hex'), '20010db8000000000000000000000001');
  assert.equal(six.readUInt16BE(20), 443);
  const named = replyHeader('example.com', 9);
  assert.deepEqual([named[3], named[4]], [3, 11]);
  assert.equal(named.subarray(5, 16).toString(), 'example.com');
  assert.equal(named.readUInt16BE(16), 9);
});
