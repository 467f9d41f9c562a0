import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeAddress, unmapIpv4 } from '../../../src/policy/ip-address.js';
import { isPrivateAddress, isPrivateLiteral } from '../../../src/policy/private-target.js';

/** Every textual form of an address a URL parser, resolver or socket library accepts, and what it is. */
const FORMS: [string, string | null][] = [
  ['127.0.0.1', '127.0.0.1'],
  ['127.0.0.1.', '127.0.0.1'],
  ['2130706433', '127.0.0.1'],
  ['2130706433.', '127.0.0.1'],
  ['0x7f000001', '127.0.0.1'],
  ['0X7F.0.0.1', '127.0.0.1'],
  ['0177.0.0.1', '127.0.0.1'],
  ['0177.0.0.01.', '127.0.0.1'],
  ['127.1', '127.0.0.1'],
  ['127.0.1', '127.0.0.1'],
  ['0x7f.1', '127.0.0.1'],
  ['%31%32%37.0.0.1', '127.0.0.1'],
  ['169.254.169.254.', '169.254.169.254'],
  ['0xa9fea9fe', '169.254.169.254'],
  ['2852039166', '169.254.169.254'],
  ['0251.0376.0251.0376', '169.254.169.254'],
  ['169.254.43518', '169.254.169.254'],
  ['0', '0.0.0.0'],
  ['[::1]', '::1'],
  ['0:0:0:0:0:0:0:1', '::1'],
  ['::ffff:127.0.0.1', '127.0.0.1'],
  ['[::ffff:7f00:1]', '127.0.0.1'],
  ['::FFFF:169.254.169.254', '169.254.169.254'],
  ['::127.0.0.1', '127.0.0.1'],
  ['::ffff:0:169.254.169.254', '169.254.169.254'],
  ['64:ff9b::169.254.169.254', '169.254.169.254'],
  ['fe80::1%eth0', 'fe80::1'],
  ['[fe80::1%25eth0]', 'fe80::1'],
  ['FE80:0:0:0:0:0:0:0001', 'fe80::1'],
  ['fd00:ec2::254', 'fd00:ec2::254'],
  ['2001:db8::1', '2001:db8::1'],
  ['93.184.216.34', '93.184.216.34'],
  ['example.com', null],
  ['example.com.', null],
  ['localhost', null],
  ['1.2.3.4.5', null],
  ['127.0.0.1..', null],
  ['not:an:address', null],
  ['', null],
];

test('normalizeAddress: every textual form of an IP address has one canonical form; names stay names', () => {
  for (const [form, want] of FORMS) assert.equal(normalizeAddress(form), want, JSON.stringify(form));
});

test('private targets are recognised in every spelling; public ones and names are not', () => {
  for (const [form, canonical] of FORMS) {
    if (canonical === null) continue;
    const inward = /^(127\.|169\.254\.|0\.0\.0\.0$|::1$|fe80:|fd00:ec2::254$)/.test(canonical);
    assert.equal(isPrivateAddress(form), inward, form);
  }
  for (const name of ['localhost', 'LOCALHOST.', 'app.localhost']) assert.ok(isPrivateLiteral(name), name);
  for (const name of ['example.com', 'localhost.example.com']) assert.ok(!isPrivateLiteral(name), name);
});

test('unmapIpv4: an IPv4 peer of a dual-stack socket is shown as IPv4; IPv6 and plain IPv4 stay as they are', () => {
  assert.equal(unmapIpv4('::ffff:203.0.113.7'), '203.0.113.7');
  assert.equal(unmapIpv4('::ffff:cb00:7107'), '::ffff:cb00:7107');
  assert.equal(unmapIpv4('2001:db8::1'), '2001:db8::1');
  assert.equal(unmapIpv4('203.0.113.7'), '203.0.113.7');
});
