import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDocument, type Document } from 'yaml';
import { spliceEdit } from '../../../src/config/splice-edit.js';

function edited(text: string, edit: (doc: Document) => void): string {
  const doc = parseDocument(text);
  edit(doc);
  return spliceEdit(text, parseDocument(text), doc);
}

test('an empty flow list or an empty key gets block lines under the key', () => {
  const add = (doc: Document): void => void (doc.get('rules', true) as { items: unknown[] }).items.push(doc.createNode({ name: 'W', backend: 'direct' }));
  assert.equal(edited('server: {}   # x\nrules: []\n', add), 'server: {}   # x\nrules:\n  - name: W\n    backend: direct\n');
  assert.equal(edited('rules:\n# end\n', (doc) => doc.set('rules', doc.createNode([{ name: 'W' }]))), 'rules:\n  - name: W\n# end\n');
});

test('a block list that loses its last entry becomes [] after its key; text after it is kept', () => {
  assert.equal(edited('users:\n  - a   # first\n# end\n', (doc) => doc.deleteIn(['users', 0])), 'users: []\n# end\n');
});

test('a new top-level key goes after the last one with the top-level indentation', () => {
  assert.equal(edited('# head\nserver:\n  http_port: 0    # any\n', (doc) => doc.set('rules', doc.createNode([]))), '# head\nserver:\n  http_port: 0    # any\nrules: []\n');
});
