import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caFiles, createCa, ensureCa, readCa } from '../../../src/mitm/ca-store.js';

const DAY = 86_400_000;

test('the CA is made on first use in the state dir: key 0600 in a 0700 dir, a CA certificate valid ten years; later uses read the same one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ca-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.throws(() => readCa(dir), { code: 'CA_MISSING' });
  const first = await ensureCa(dir);
  assert.equal(first.created, true);
  const files = caFiles(dir);
  assert.equal(statSync(files.keyFile).mode & 0o777, 0o600);
  assert.equal(statSync(files.dir).mode & 0o777, 0o700);
  const cert = new X509Certificate(first.ca.certPem);
  assert.equal(cert.ca, true);
  const years = (Date.parse(cert.validTo) - Date.now()) / (365.25 * DAY);
  assert.ok(years > 9.9 && years < 10.1, `valid ${years} years`);
  assert.ok(Date.parse(cert.validFrom) < Date.now() - DAY / 2, 'backdated against clock skew');
  assert.ok(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(first.ca.keyPem)), 'the key belongs to the certificate');
  const again = await ensureCa(dir);
  assert.equal(again.created, false);
  assert.equal(again.ca.certPem, first.ca.certPem);
  const regenerated = await createCa(dir);
  assert.notEqual(regenerated.certPem, first.ca.certPem, 'regenerating makes a new CA');
  assert.equal(readCa(dir).certPem, regenerated.certPem);
});
