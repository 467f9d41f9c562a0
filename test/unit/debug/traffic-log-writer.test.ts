import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrafficLogWriter } from '../../../src/debug/traffic-log-writer.js';

test('writers of several processes append whole lines to one file, and every line is written by close', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'log-writer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'logs', 'traffic.log');
  const writers = [new TrafficLogWriter(file, false, assert.fail), new TrafficLogWriter(file, false, assert.fail)];
  const long = 'x'.repeat(300);
  // Enough for batches written because they are full, and the rest on the timer.
  for (let i = 0; i < 6000; i++) writers[i % 2].write([`w${i % 2} line ${i} ${long}`, `  detail ${i}`]);
  await new Promise((resolve) => setTimeout(resolve, 100));
  await Promise.all(writers.map((w) => w.close()));
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, 12_000);
  for (let i = 0; i < 6000; i++) {
    const at = lines.indexOf(`w${i % 2} line ${i} ${long}`);
    assert.ok(at >= 0 && lines[at + 1] === `  detail ${i}`, `line ${i} is whole and followed by its detail`);
  }
  assert.equal(statSync(file).mode & 0o777, 0o600, 'only the owner reads the log');
});
