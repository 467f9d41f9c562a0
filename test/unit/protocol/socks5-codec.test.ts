import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chooseMethod,
  encodeReply,
  greetingLength,
  MALFORMED,
  NEED_MORE,
  parseRequest,
  parseUserPass,
  requestComplete,
  type SocksTarget,
} from '../../../src/protocol/socks5-codec.js';
import { SocksMethod, SocksReply } from '../../../src/protocol/socks5-codes.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

test('greeting: length once complete, and the method a server picks', () => {
  assert.equal(greetingLength(hex('05')), 0);
  assert.equal(greetingLength(hex('05 02 00')), 0);
  assert.equal(greetingLength(hex('05 02 00 02 ff')), 4);
  assert.equal(chooseMethod(hex('05 02 00 02'), false), SocksMethod.none);
  assert.equal(chooseMethod(hex('05 02 00 02'), true), SocksMethod.userPass);
  assert.equal(chooseMethod(hex('05 01 00'), true), SocksMethod.noAcceptable);
  assert.equal(chooseMethod(hex('05 01 80'), false), SocksMethod.noAcceptable);
  assert.equal(chooseMethod(hex('05 00'), false), SocksMethod.noAcceptable);
});

test('RFC 1929 username/password: whole, split, and a wrong version', () => {
  const message = Buffer.concat([hex('01 05'), Buffer.from('alice'), hex('06'), Buffer.from('s3cr3t')]);
  assert.deepEqual(parseUserPass(message), { username: 'alice', password: 's3cr3t', length: message.length });
  for (let cut = 0; cut < message.length; cut++) assert.equal(parseUserPass(message.subarray(0, cut)), null, `cut at ${cut}`);
  assert.equal(parseUserPass(hex('05 01 61 01 62')), 'malformed');
  const utf8 = Buffer.concat([hex('01 02'), Buffer.from('é'), hex('00')]);
  assert.deepEqual(parseUserPass(utf8), { username: 'é', password: '', length: 5 });
});

test('requests: IPv4, domain and IPv6 targets, byte by byte', () => {
  const cases: [string, Buffer, string, number][] = [
    ['IPv4', hex('05 01 00 01 7f000001 0050'), '127.0.0.1', 80],
    ['domain', Buffer.concat([hex('05 01 00 03 0b'), Buffer.from('example.com'), hex('01bb')]), 'example.com', 443],
    ['IPv6', hex('05 01 00 04 20010db8000000000000000000000001 1f90'), '2001:db8:0:0:0:0:0:1', 8080],
  ];
  for (const [name, message, host, port] of cases) {
    const into: SocksTarget = { host: '', port: 0 };
    for (let cut = 0; cut < message.length; cut++) assert.equal(parseRequest(message.subarray(0, cut), into), NEED_MORE, `${name} cut at ${cut}`);
    assert.equal(requestComplete(message.subarray(0, message.length - 1)), false, name);
    assert.equal(requestComplete(message), true, name);
    // Bytes after the request (early data) are not the request's.
    assert.equal(parseRequest(Buffer.concat([message, hex('deadbeef')]), into), message.length, name);
    assert.deepEqual(into, { host, port }, name);
  }
});

test('requests that are refused, each with its reply code, and those closed without one', () => {
  const into: SocksTarget = { host: '', port: 0 };
  assert.equal(parseRequest(hex('05 02 00 01 7f000001 0050'), into), -SocksReply.commandNotSupported, 'BIND');
  // UDP ASSOCIATE is parsed (the relay takes it); its usual 0.0.0.0:0 is no refusal.
  assert.equal(parseRequest(hex('05 03 00 01 00000000 0000'), into), 10, 'UDP ASSOCIATE');
  assert.deepEqual(into, { host: '0.0.0.0', port: 0 });
  assert.equal(parseRequest(hex('05 01 00 09 7f000001 0050'), into), -SocksReply.addressTypeNotSupported, 'unknown address type');
  assert.equal(requestComplete(hex('05 01 00 09 7f')), true, 'an unknown address type is refused at once');
  assert.equal(parseRequest(hex('05 01 00 01 7f000001 0000'), into), -SocksReply.generalFailure, 'port zero');
  assert.equal(parseRequest(hex('05 01 00 03 00 0050'), into), -SocksReply.generalFailure, 'empty domain');
  assert.equal(parseRequest(hex('04 01 00 01 7f000001 0050'), into), MALFORMED, 'wrong version');
  assert.equal(parseRequest(hex('05 01 01 01 7f000001 0050'), into), MALFORMED, 'reserved byte set');
});

test('replies carry the bound address: IPv4, IPv4-mapped, IPv6, or zeros', () => {
  assert.equal(encodeReply(SocksReply.succeeded, '10.1.2.3', 4321).toString('hex'), '05000001' + '0a010203' + '10e1');
  assert.equal(encodeReply(SocksReply.succeeded, '::ffff:10.1.2.3', 1).toString('hex'), '05000001' + '0a010203' + '0001');
  assert.equal(encodeReply(SocksReply.succeeded, '2001:db8::1', 80).toString('hex'), '05000004' + '20010db8000000000000000000000001' + '0050');
  assert.equal(encodeReply(SocksReply.notAllowed).toString('hex'), '05020001' + '00000000' + '0000');
});
