import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');

/*
 * A process whose old generation a burst left half used: 400,000 small objects promoted by full
 * collections, one in two kept. V8 compacts the pages it finds mostly empty on its own (one in
 * three kept: nothing left for a compaction to give), but leaves half-used ones: two plain
 * full collections give nothing back, one compacting collection moves what lives together and
 * gives the emptied pages back. Sizes are the old space's physical size, in kB, after each step.
 */
const CHILD = `
import { getHeapSpaceStatistics } from 'node:v8';
import { fullCollection } from ${JSON.stringify(resolve(ROOT, 'src/proxy/idle-collector.ts'))};
const oldSpace = () => Math.round(getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').physical_space_size / 1024);
const collect = fullCollection(gc);
const kept = [];
for (let round = 0; round < 8; round++) {
  let burst = [];
  for (let i = 0; i < 50_000; i++) burst.push({ id: i, name: 'connection ' + i, bytes: [i, i + 1] });
  gc();
  gc();
  for (let i = 0; i < burst.length; i += 2) kept.push(burst[i]);
  burst = null;
}
collect(false);
collect(false);
const plain = oldSpace();
collect(false);
collect(false);
const again = oldSpace();
collect(true);
collect(false);
console.log(JSON.stringify({ plain, again, compacted: oldSpace(), kept: kept.length }));
`;

test('a compacting full collection gives back the old-generation pages a burst left half used, which plain ones keep', () => {
  const child = spawnSync(process.execPath, ['--expose-gc', '--single-threaded-gc', '--import', 'tsx', '--input-type=module', '-e', CHILD], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.status, 0, child.stderr);
  const { plain, again, compacted, kept } = JSON.parse(child.stdout) as { plain: number; again: number; compacted: number; kept: number };
  assert.equal(kept, 200_000);
  assert.ok(plain > 20_000, `the burst took ${plain} kB of old space`);
  assert.ok(again > plain * 0.9, `plain collections give back nothing more: ${again} of ${plain} kB`);
  assert.ok(compacted < plain * 0.75, `after one compacting collection: ${compacted} of ${plain} kB`);
});
