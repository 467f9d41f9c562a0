import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CidrSet, isLoopback, isLoopbackOrLinkLocal } from '../../../src/policy/cidr-set.js';
import { PortSet } from '../../../src/policy/port-set.js';

test('CidrSet matches IPv4 and IPv6 addresses and blocks; IPv4-mapped clients match IPv4 blocks', () => {
  const set = new CidrSet(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '::1', 'fe80::/10', '172.16.0.0/12']);
  for (const hit of ['10.1.2.3', '::ffff:10.200.0.1', '192.168.1.7', '2001:db8:1::5', '::1', '[::1]', 'fe80::1%eth0', '172.31.255.255', '2001:0db8:0000::1']) assert.ok(set.has(hit), hit);
  for (const miss of ['11.0.0.1', '192.168.1.8', '2001:db9::1', '::2', '172.32.0.0', 'not-an-ip', '', '::ffff:11.0.0.1']) assert.ok(!set.has(miss), miss);
  assert.ok(new CidrSet(['0.0.0.0/0']).has('8.8.8.8'));
  assert.ok(!new CidrSet(['0.0.0.0/0']).has('2001:db8::1'), 'an IPv4 block never matches IPv6');
  assert.ok(new CidrSet(['::/0']).has('2001:db8::1'));
  assert.ok(new CidrSet(['::ffff:0:0/96']).has('::ffff:1.2.3.4') === false, 'mapped addresses are matched as IPv4');
  assert.ok(new CidrSet([]).empty);
});

test('loopback and link-local (cloud metadata) addresses', () => {
  for (const a of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopback(a), a);
  for (const a of ['169.254.169.254', 'fe80::1', 'fd00:ec2::254', '0.0.0.0']) assert.ok(isLoopbackOrLinkLocal(a) && !isLoopback(a), a);
  for (const a of ['10.0.0.1', '8.8.8.8', '2001:db8::1']) assert.ok(!isLoopbackOrLinkLocal(a), a);
});

test('PortSet: ports and inclusive ranges', () => {
  const set = new PortSet([80, 443, '1025-65535', '30-20']);
  for (const p of [80, 443, 1025, 65535, 20, 25, 30]) assert.ok(set.has(p), String(p));
  for (const p of [81, 1024, 19, 31, 8]) assert.ok(!set.has(p), String(p));
});
