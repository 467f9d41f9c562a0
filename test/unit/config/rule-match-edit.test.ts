import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addRule, editConfigFile, updateRule } from '../../../src/config/editor.js';

test('rule add and update write the new match keys and action reject; shadowing counts only rules that match by domains alone', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-edit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'server-config.yaml');
  writeFileSync(path, 'backends:\n  - { name: direct, type: direct }\nrules:\n  - name: web\n    match: { domains: ["*.example.com"] }\n    backend: direct\n  - name: all\n    match: { domains: ["*"] }\n    backend: direct\n');
  // After "web" the same domains on other ports could never match: refused as shadowed.
  await assert.rejects(editConfigFile(path, 'server', addRule({ name: 'late', domains: ['*.example.com'], match: { ports: [8443] }, backend: 'direct' })), /rule "late" can never match: earlier rule "web"/);
  // Without domains, only a catch-all before it could take everything it matches.
  const byPort = await editConfigFile(path, 'server', addRule({ name: 'by-port', match: { ports: [8443] }, backend: 'direct' }));
  assert.deepEqual(byPort.rules.map((r) => r.name), ['web', 'by-port', 'all']);
  const added = await editConfigFile(path, 'server', addRule({ name: 'alt-port', domains: ['*.example.com'], match: { ports: ['8000-9000'], not: { users: ['admin'] } }, action: 'reject', position: 0 }));
  assert.deepEqual(added.rules[0], { name: 'alt-port', domains: ['*.example.com'], match: { domains: ['*.example.com'], ports: ['8000-9000'], not: { users: ['admin'] } }, reject: true, backends: [] });
  const changed = await editConfigFile(path, 'server', updateRule('alt-port', { match: { ip_cidr: ['10.0.0.0/8'] }, resolve: true, backend: 'direct' }));
  assert.deepEqual(changed.rules[0], { name: 'alt-port', domains: [], match: { ip_cidr: ['10.0.0.0/8'] }, resolve: true, backends: [{ name: 'direct', weight: 1 }] });
  assert.doesNotMatch(readFileSync(path, 'utf8'), /action: reject/, 'a backend replaces action: reject');
});
