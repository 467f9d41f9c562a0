import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainMatcher } from '../../../src/routing/domain-matcher.js';
import { Router } from '../../../src/routing/router.js';
import type { RuleSpec } from '../../../src/config/model.js';

function rules(...lists: string[][]): RuleSpec[] {
  return lists.map((domains, i) => ({ name: `r${i}`, domains, backends: [{ name: 'direct', weight: 1 }] }));
}

test('first match wins in file order across exact, suffix and any', () => {
  const router = new Router(rules(['api.example.com'], ['*.example.com'], ['*'], ['www.example.com']));
  assert.equal(router.route('api.example.com')?.index, 0);
  assert.equal(router.route('www.example.com')?.index, 1);
  assert.equal(router.route('example.com')?.index, 1, '*.example.com also matches the bare name');
  assert.equal(router.route('other.org')?.index, 2);
});

test('a later specific rule never beats an earlier wildcard (order is never re-sorted)', () => {
  const router = new Router(rules(['*'], ['api.example.com'], ['*.example.com']));
  assert.equal(router.route('api.example.com')?.index, 0);
});

test('case-insensitive, trailing dot ignored, IDN in punycode', () => {
  const m = new DomainMatcher();
  m.add('*.Example.COM', 0);
  m.add('bücher.de', 1);
  assert.equal(m.match('WWW.EXAMPLE.com.'), 0);
  assert.equal(m.match('xn--bcher-kva.de'), 1);
  assert.equal(m.match('BÜCHER.de'), 1);
});

test('suffix matching is by whole labels only', () => {
  const m = new DomainMatcher();
  m.add('*.example.com', 0);
  assert.equal(m.match('badexample.com'), -1);
  assert.equal(m.match('a.b.example.com'), 0);
});

test('IP literals match exact entries or fall through to *', () => {
  const router = new Router(rules(['*.0.0.1'], ['10.0.0.1'], ['*']));
  assert.equal(router.route('10.0.0.1')?.index, 1, 'no suffix matching on IP literals');
  assert.equal(router.route('[::1]')?.index, 2);
});

test('no rule matches without a catch-all', () => {
  const router = new Router(rules(['*.example.com']));
  assert.equal(router.route('example.org'), null);
});

test('explain lists the winner first and the shadowed matches after it', () => {
  const router = new Router(rules(['*.example.com'], ['api.example.com'], ['*']));
  const hits = router.explain('api.example.com');
  assert.deepEqual(hits.map((h) => [h.index, h.pattern]), [[0, '*.example.com'], [1, 'api.example.com'], [2, '*']]);
});

test('lowest index kept when several rules share a pattern', () => {
  const m = new DomainMatcher();
  m.add('*.a.com', 5);
  m.add('*.a.com', 2);
  m.add('*.a.com', 7);
  assert.equal(m.match('x.a.com'), 2);
});
