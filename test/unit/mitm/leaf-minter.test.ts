import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa } from '../../../src/mitm/ca-store.js';
import { LeafMinter } from '../../../src/mitm/leaf-minter.js';

const DAY = 86_400_000;

test('a leaf names its host in subjectAltName only, is signed by the CA, starts a day back and lives a week; IP hosts get an IP SAN', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'leaf-minter-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await createCa(dir);
  const minter = new LeafMinter(ca, 10);
  const leaf = new X509Certificate(await minter.mint('api.example.com'));
  const root = new X509Certificate(ca.certPem);
  assert.ok(leaf.verify(root.publicKey), 'signed by the CA');
  assert.ok(leaf.checkIssued(root));
  assert.equal(leaf.subjectAltName, 'DNS:api.example.com');
  assert.doesNotMatch(leaf.subject, /CN=/, 'no host in the subject: SAN only');
  assert.equal(leaf.ca, false);
  assert.equal(leaf.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.ok(Math.abs(Date.parse(leaf.validFrom) - (Date.now() - DAY)) < 60_000);
  assert.ok(Math.abs(Date.parse(leaf.validTo) - (Date.now() + 7 * DAY)) < 60_000);
  const ip = new X509Certificate(await minter.mint('127.0.0.1'));
  assert.equal(ip.subjectAltName, 'IP Address:127.0.0.1');
  const other = new X509Certificate(await minter.mint('other.example.com'));
  assert.equal(other.publicKey.export({ format: 'der', type: 'spki' }).toString('hex'), leaf.publicKey.export({ format: 'der', type: 'spki' }).toString('hex'), 'one leaf key per process');
});

test('the cache holds at most its capacity (least recently used go first), and concurrent handshakes for one new host share one signing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'leaf-minter-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const minter = new LeafMinter(await createCa(dir), 3);
  await Promise.all(Array.from({ length: 5 }, () => minter.context('same.example.com')));
  assert.equal(minter.counts().minted, 1);
  assert.equal(minter.counts().cached, 4);
  for (let i = 0; i < 8; i++) await minter.context(`h${i}.example.com`);
  const counts = minter.counts();
  assert.equal(counts.size, 3);
  assert.equal(counts.capacity, 3);
  assert.equal(counts.minted, 9);
  await minter.context('h7.example.com');
  assert.equal(minter.counts().minted, 9, 'a recent host is still cached');
  await minter.context('h0.example.com');
  assert.equal(minter.counts().minted, 10, 'an evicted host is signed again');
});
