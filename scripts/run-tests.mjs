#!/usr/bin/env node
// Node 20's test runner does not expand globs: find the test files of the named suites and run them.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const SUITES = { unit: 'test/unit', integration: 'test/integration', e2e: 'test/e2e' };
const args = process.argv.slice(2);
const names = args.length === 0 || args.includes('all') ? Object.keys(SUITES) : args;

function collect(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const entry of entries.sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out = out.concat(collect(path));
    else if (/\.test\.tsx?$/.test(entry)) out.push(path);
  }
  return out;
}

const files = names.flatMap((name) => {
  if (!(name in SUITES)) {
    console.error(`unknown suite "${name}" (expected: ${Object.keys(SUITES).join(', ')}, all)`);
    process.exit(2);
  }
  return collect(SUITES[name]);
});
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// Builds that take both cores for minutes (the container image) run after the rest, alone, so
// they starve no test that waits on a deadline.
const ALONE = new Set([join('test', 'e2e', 'container-image.test.ts')]);
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
// Node's runner gives each test file as a whole the same deadline as each test in it, so this is
// sized for the longest file on a loaded machine (a test that needs less sets its own timeout);
// a cold container build takes minutes on its own.
const run = (list, parallel, timeoutMs) =>
  list.length === 0
    ? 0
    : (spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${parallel}`, `--test-timeout=${timeoutMs}`, ...list], { stdio: 'inherit' }).status ?? 1);
const shared = run(files.filter((f) => !ALONE.has(f)), concurrency, 300_000);
const alone = run(files.filter((f) => ALONE.has(f)), '1', 1_800_000);
process.exit(shared || alone);
