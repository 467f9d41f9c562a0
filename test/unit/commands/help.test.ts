import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const COMMANDS = resolve(import.meta.dirname, '../../../src/commands');
/** Commands whose output is not a result: the full-screen dashboard. */
const NO_JSON = new Set(['dashboard']);

interface CommandClass {
  examples?: string[];
  enableJsonFlag?: boolean;
  summary?: string;
}

test('every command has a summary, --help examples run through the role bin, and --json (the dashboard aside); the committed manifest lists them all', async () => {
  const files = readdirSync(COMMANDS, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const idOf = (file: string): string => file.replace(/\.ts$/, '').replaceAll('/', ':');
  const ids = files.map(idOf).sort();
  assert.ok(ids.length > 20, `found ${ids.length} commands`);
  for (const file of files) {
    const id = idOf(file);
    const command = ((await import(pathToFileURL(join(COMMANDS, file)).href)) as { default: CommandClass }).default;
    assert.ok(command.summary, `${id}: a summary`);
    assert.ok((command.examples ?? []).length > 0, `${id}: --help examples`);
    for (const example of command.examples ?? []) assert.ok(example.includes('<%= config.bin %> '), `${id}: example "${example}" names the bin that was run`);
    assert.equal(command.enableJsonFlag === true, !NO_JSON.has(id), `${id}: --json`);
  }
  const manifest = JSON.parse(readFileSync(resolve(COMMANDS, '../../oclif.manifest.json'), 'utf8')) as { commands: Record<string, unknown> };
  assert.deepEqual(Object.keys(manifest.commands).sort(), ids, 'oclif.manifest.json is current (npm run build)');
});
