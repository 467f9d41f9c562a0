import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');
const ADDON = resolve(ROOT, 'native/malloc-trim.node');

/** Why the addon cannot be tested here, or false: it is built first when a C compiler is there. */
function unavailable(): string | false {
  if (process.platform !== 'linux') return 'malloc_trim is glibc\'s (Linux only)';
  if (!existsSync(ADDON)) execFileSync(process.execPath, [resolve(ROOT, 'scripts/build-native.mjs')], { stdio: 'ignore' });
  return existsSync(ADDON) ? false : 'native/malloc-trim.node is not built: no C compiler (Debian: gcc, libc6-dev; scripts/setup-system.sh)';
}

/*
 * A process that fragments its heap as a burst of connections does: 200,000 small native
 * allocations (typed arrays' backing stores, 300-500 bytes, as socket handles and read buffers
 * are), one in a hundred kept, the rest freed by a full collection. glibc keeps the freed pages;
 * returnFreedMemory hands them back. Sizes are the PSS of the process's brk heap, in kB.
 */
const CHILD = `
import { readFileSync } from 'node:fs';
import { returnFreedMemory } from ${JSON.stringify(resolve(ROOT, 'src/proxy/native-memory.ts'))};
const brkHeap = () => Number(readFileSync('/proc/self/smaps', 'utf8').split(/\\n(?=[0-9a-f]+-)/).find((m) => m.includes('[heap]'))?.match(/\\nPss:\\s+(\\d+)/)?.[1] ?? 0);
const kept = [];
let freed = [];
for (let i = 0; i < 200_000; i++) (i % 100 === 0 ? kept : freed).push(new Uint8Array(300 + (i % 5) * 50));
const held = brkHeap();
freed = null;
gc();
gc();
const collected = brkHeap();
const released = returnFreedMemory();
console.log(JSON.stringify({ held, collected, released, returned: brkHeap(), kept: kept.length }));
`;

test('returnFreedMemory hands the heap memory a collection freed back to the system, which glibc otherwise keeps', { skip: unavailable() }, () => {
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', CHILD], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.status, 0, child.stderr);
  const { held, collected, released, returned } = JSON.parse(child.stdout) as { held: number; collected: number; released: boolean; returned: number };
  assert.ok(held > 60_000, `the allocations took ${held} kB of the brk heap`);
  assert.ok(collected > held * 0.8, `after the collection glibc still holds what was freed: ${collected} of ${held} kB`);
  assert.equal(released, true, 'malloc_trim says memory went back');
  assert.ok(returned < held * 0.2, `after returnFreedMemory: ${returned} kB of ${held} kB`);
});
