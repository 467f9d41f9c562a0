#!/usr/bin/env node
// Builds native/malloc-trim.node (see native/malloc-trim.c) with the system's C compiler ($CC,
// else cc), on Linux only. Without a compiler the build goes on and says so: the proxy then runs
// as before, except that its idle processes keep the freed memory glibc holds.
import { spawnSync } from 'node:child_process';
import { renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../native/malloc-trim.c', import.meta.url));
const target = fileURLToPath(new URL('../native/malloc-trim.node', import.meta.url));
const partial = `${target}.${process.pid}.tmp`;

if (process.platform !== 'linux') {
  console.log(`native: malloc-trim not built (glibc only; this is ${process.platform})`);
  process.exit(0);
}
const cc = process.env.CC || 'cc';
const built = spawnSync(cc, ['-shared', '-fPIC', '-O2', '-Wall', '-Werror', '-o', partial, source], { stdio: ['ignore', 'inherit', 'inherit'] });
if (built.error || built.status !== 0) {
  rmSync(partial, { force: true });
  const why = built.error ? `no C compiler (${cc}: ${built.error.message})` : `${cc} failed`;
  console.log(`native: malloc-trim not built, ${why}: idle processes keep the freed memory glibc holds`);
  process.exit(0);
}
// Renamed into place: a running daemon may have the old file mapped.
renameSync(partial, target);
