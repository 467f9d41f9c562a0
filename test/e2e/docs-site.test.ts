import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { API } from '../../src/control/api.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const has = (command: string): boolean => spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
const noMkdocs = has('mkdocs') ? false : 'mkdocs is not installed (Debian: mkdocs mkdocs-material; scripts/setup-system.sh)';
const noChromium = has('chromium') ? false : 'chromium is not installed (Debian: chromium; scripts/setup-system.sh)';

/** Chromium with no network chatter of its own (the machine's network is closed). */
async function dumpDom(url: string, profile: string): Promise<string> {
  const { stdout } = await run(
    'chromium',
    ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--virtual-time-budget=20000', '--dump-dom', url],
    { timeout: 90_000, maxBuffer: 64 << 20 },
  );
  return stdout;
}

test('the command reference is generated from oclif.manifest.json: every command, its flags and examples', () => {
  const result = spawnSync(process.execPath, ['scripts/docs-site.mjs', 'commands'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const page = readFileSync(join(ROOT, 'docs/reference/commands.md'), 'utf8');
  const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
    commands: Record<string, { flags: Record<string, { name: string; helpGroup?: string; hidden?: boolean }>; examples?: (string | { command: string })[] }>;
  };
  for (const [id, command] of Object.entries(manifest.commands)) {
    const section = page.slice(page.indexOf(`## ${id.replaceAll(':', ' ')} {#`));
    assert.ok(section.length < page.length, `${id} has a section`);
    const own = section.slice(0, section.indexOf('\n## ', 1) === -1 ? undefined : section.indexOf('\n## ', 1));
    for (const flag of Object.values(command.flags).filter((f) => f.helpGroup !== 'GLOBAL' && !f.hidden)) assert.ok(own.includes(`--${flag.name}`), `${id} documents --${flag.name}`);
    for (const example of (command.examples ?? []).map((e) => (typeof e === 'string' ? e : e.command))) assert.ok(own.includes(example.replaceAll('<%= config.bin %>', 'simple-proxy-server')), `${id} shows "${example}"`);
  }
});

test('the control API page lists every route the daemon serves, with its least role', () => {
  const routes = Object.values(API).map((r) => `| \`${r.method} ${r.path}\` | ${r.role} |`);
  assert.ok(routes.length > 20, `found the routes (${routes.length})`);
  const page = readFileSync(join(ROOT, 'docs/reference/control-api.md'), 'utf8');
  const missing = routes.filter((r) => !page.includes(r));
  assert.deepEqual(missing, [], 'every route has a row');
});

test('mkdocs build --strict: the site builds, a broken link fails it, Mermaid draws offline in Chromium', { skip: noMkdocs, timeout: 300_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'sp-docs-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const site = join(work, 'site');
  const built = spawnSync(process.execPath, ['scripts/docs-site.mjs', 'build', site], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(built.status, 0, `${built.stdout}${built.stderr}`);

  // Nothing on a page comes from another host: scripts, styles and fonts are the site's own.
  const page = readFileSync(join(site, 'how-it-works', 'index.html'), 'utf8');
  const external = [...page.matchAll(/<(?:script|link)[^>]+(?:src|href)="(https?:[^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(external, []);

  // The same docs with one link to a page that does not exist: --strict refuses the build.
  const broken = join(work, 'broken');
  cpSync(join(ROOT, 'docs'), join(broken, 'docs'), { recursive: true });
  cpSync(join(ROOT, 'mkdocs.yml'), join(broken, 'mkdocs.yml'));
  writeFileSync(join(broken, 'docs', 'index.md'), `${readFileSync(join(ROOT, 'docs', 'index.md'), 'utf8')}\nSee [the missing page](no-such-page.md).\n`);
  const refused = spawnSync('mkdocs', ['build', '--strict', '--site-dir', join(broken, 'site')], { cwd: broken, encoding: 'utf8' });
  assert.notEqual(refused.status, 0, 'a broken link fails the strict build');
  assert.match(refused.stderr, /no-such-page\.md/);

  if (noChromium) {
    t.diagnostic(`Mermaid rendering not checked: ${noChromium}`);
    return;
  }
  const pages = ['how-it-works', 'architecture', 'guides/tunnels', 'guides/fleets'];
  for (const name of pages) {
    const dom = await dumpDom(`file://${join(site, name, 'index.html')}`, join(work, `profile-${pages.indexOf(name)}`));
    const blocks = [...dom.matchAll(/<div class="mermaid"([^>]*)>([\s\S]{0,400})/g)];
    assert.ok(blocks.length > 0, `${name} has diagrams`);
    for (const [, attributes, start] of blocks) {
      assert.match(attributes, /data-processed="true"/, `${name}: Mermaid ran`);
      assert.match(start, /^\s*<svg[^>]+aria-roledescription="(flowchart-v2|sequence)"/, `${name}: a drawn diagram, not an error`);
    }
    assert.doesNotMatch(dom, /Syntax error in text/);
  }
});
