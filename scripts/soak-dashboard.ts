// `npm run soak:dashboard` (needs tmux and a build): leaves the dashboard open on an idle daemon
// with a health-checked backend for 10 minutes (`--minutes N` to change) and reports its CPU
// share and resident memory, sampled every 10 s: an operator leaves it open all day, so its
// memory must stay flat. The garbage collector makes RSS a sawtooth of a few tens of MB, so what
// is compared is its floor: the lowest sample of the last third against that of the first third
// (within 10 MB).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox } from '../test/e2e/cli-harness.js';
import { checkedDaemonConfig, dashboardCommand, hasTmux, idleCost, startOrigin, Tmux, withPidFile } from '../test/e2e/tmux-harness.js';

const args = process.argv.slice(2);
const at = args.indexOf('--minutes');
const minutes = at === -1 ? 10 : Number(args[at + 1]);
if (!hasTmux) throw new Error('the soak needs tmux');

const origin = await startOrigin();
const box = sandbox(checkedDaemonConfig(origin.port));
const tmux = new Tmux(box.dir);
try {
  if ((await box.cli(['start'])).code !== 0) throw new Error('the daemon did not start');
  const pidFile = join(box.dir, 'dashboard.pid');
  tmux.start(withPidFile(pidFile, dashboardCommand(box.env)), 100, 30);
  await tmux.waitFor('the connected dashboard', (s) => s.includes('● connected'));
  const pid = Number(readFileSync(pidFile, 'utf8'));
  // The first minute settles start-up allocations; memory is compared from there.
  const warm = await idleCost(pid, 60_000, 10_000);
  const soak = await idleCost(pid, minutes * 60_000, 10_000);
  const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);
  const third = Math.max(1, Math.floor(soak.rssSamples.length / 3));
  const firstFloor = Math.min(...soak.rssSamples.slice(0, third));
  const lastFloor = Math.min(...soak.rssSamples.slice(-third));
  const growth = lastFloor - firstFloor;
  console.log(`dashboard idle for ${minutes} min after a 1 min warm-up: ${soak.cpuPercent.toFixed(2)} % of a core`);
  console.log(`RSS after warm-up ${mb(warm.rssEndBytes)} MB, at the end ${mb(soak.rssEndBytes)} MB; floor of the first third ${mb(firstFloor)} MB, of the last third ${mb(lastFloor)} MB (growth ${mb(growth)} MB); min ${mb(Math.min(...soak.rssSamples))}, max ${mb(Math.max(...soak.rssSamples))}`);
  console.log(`samples (MB, every 10 s): ${soak.rssSamples.map(mb).join(' ')}`);
  process.exitCode = growth < 10e6 ? 0 : 1;
} finally {
  tmux.kill();
  await box.cleanup();
  origin.server.close();
}
