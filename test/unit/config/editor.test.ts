import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync, chmodSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addBackend, addRule, editConfigFile, removeBackend, removeRule, reorderRules, updateRule } from '../../../src/config/editor.js';
import { ConfigError, ProxyError } from '../../../src/errors.js';

const ORIGINAL = `# My proxy
server:
  http_port: 0              # any free port
  socks5_port: 0            # any free port

backends:
  - name: "direct"          # straight out
    type: "direct"

# Rules: first match wins.
rules:
  - name: "Default"
    match:
      domains: ["*"]   # everything
    backend: "direct"
`;

function file(text = ORIGINAL): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sp-edit-')), 'server-config.yaml');
  writeFileSync(path, text);
  chmodSync(path, 0o640);
  return path;
}

test('an edit keeps comments, key order and every untouched line byte for byte', async () => {
  const path = file();
  await editConfigFile(path, 'server', addRule({ name: 'Work', domains: ['*.company.com'], backend: 'direct', position: 0 }));
  const text = readFileSync(path, 'utf8');
  for (const line of ORIGINAL.split('\n')) assert.ok(text.split('\n').includes(line), `kept: ${JSON.stringify(line)}`);
  assert.ok(text.indexOf('name: Work') < text.indexOf('name: "Default"'), 'inserted at position 0');
  assert.equal(statSync(path).mode & 0o777, 0o640, 'file mode kept');
  assert.deepEqual(readdirSync(join(path, '..')).sort(), ['server-config.yaml'], 'no temp or lock files left');
});

test('a bad edit is refused and the file is untouched', async () => {
  const path = file();
  await assert.rejects(editConfigFile(path, 'server', addRule({ name: 'X', domains: ['x.com'], backend: 'nope' })), (error: ConfigError) => {
    assert.match(error.problems[0], /rules\[0\]\.backend: unknown backend "nope"/, 'placed before the trailing catch-all');
    return true;
  });
  await assert.rejects(editConfigFile(path, 'server', addRule({ name: 'Default', domains: ['x.com'], backend: 'direct' })), (e: ProxyError) => e.code === 'CONFLICT');
  await assert.rejects(editConfigFile(path, 'server', removeBackend('direct')), /used by rule "Default"/);
  await assert.rejects(editConfigFile(path, 'server', reorderRules(['Nope'])), /missing: Default; unknown: Nope/);
  assert.equal(readFileSync(path, 'utf8'), ORIGINAL);
});

test('update, reorder, remove and backend edits', async () => {
  const path = file();
  await editConfigFile(path, 'server', addBackend({ name: 'up', type: 'socks5', address: '127.0.0.1:1081', username: 'u', password: '${UP_PASS}' }));
  await editConfigFile(path, 'server', addRule({ name: 'A', domains: ['a.com'], backend: 'direct' }));
  await editConfigFile(path, 'server', updateRule('A', { domains: ['a.com', '*.a.org'], backend: 'up', name: 'A2', position: 0 }));
  await assert.rejects(editConfigFile(path, 'server', reorderRules(['Default', 'A2'])), (e: ProxyError) => e.code === 'RULE_SHADOWED' && /rule "A2" can never match: earlier rule "Default"/.test(e.message));
  let snapshot = await editConfigFile(path, 'server', reorderRules(['Default', 'A2']), { allowShadowed: true });
  assert.deepEqual(snapshot.rules.map((r) => [r.name, r.backends[0].name, r.domains.join(' ')]), [['Default', 'direct', '*'], ['A2', 'up', 'a.com *.a.org']]);
  assert.match(readFileSync(path, 'utf8'), /password: \$\{UP_PASS\}/);
  snapshot = await editConfigFile(path, 'server', removeRule('A2'));
  snapshot = await editConfigFile(path, 'server', removeBackend('up'));
  assert.deepEqual(snapshot.backends.map((b) => b.name), ['direct']);
});

test('concurrent edits are serialised: all applied, file valid', async () => {
  const path = file();
  await Promise.all(Array.from({ length: 20 }, (_, i) => editConfigFile(path, 'server', addRule({ name: `r${i}`, domains: [`r${i}.example.com`], backend: 'direct', position: 0 }))));
  const final = await editConfigFile(path, 'server', () => undefined);
  assert.equal(final.rules.length, 21);
  assert.ok(readFileSync(path, 'utf8').startsWith('# My proxy\n'));
});

test('client rules take an action, not a backend', async () => {
  const path = file('# client\nrules:\n  - name: d\n    match: { domains: ["*"] }\n    action: direct\n');
  await assert.rejects(editConfigFile(path, 'client', addRule({ name: 'x', domains: ['x.com'], backend: 'direct' })), /--action server\|direct\|reject, not --backend/);
  const snapshot = await editConfigFile(path, 'client', addRule({ name: 'x', domains: ['x.com'], action: 'direct', position: 0 }));
  assert.deepEqual(snapshot.rules.map((r) => r.name), ['x', 'd']);
});
