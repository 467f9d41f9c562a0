import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private D-Bus session with an unlocked Secret Service (gnome-keyring) in it. */
export interface KeyringSession {
  /** The session bus address: give it to a process as DBUS_SESSION_BUS_ADDRESS. */
  address: string;
  /** Ends the session: the bus and the keyring daemon exit, the keyring files go. */
  stop(): Promise<void>;
}

const PROGRAMS = ['dbus-run-session', 'gnome-keyring-daemon'];
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

/** Why a Secret Service cannot be started here, or null when it can. */
export function keyringUnavailable(): string | null {
  const missing = PROGRAMS.filter((p) => spawnSync('sh', ['-c', `command -v ${p}`], { stdio: 'ignore' }).status !== 0);
  return missing.length > 0 ? `no ${missing.join(' or ')} here (Debian packages dbus-daemon and gnome-keyring; run scripts/setup-system.sh as root)` : null;
}

/**
 * Starts `dbus-run-session` with `gnome-keyring-daemon --unlock --components=secrets` inside it,
 * its keyring files in a temp dir and unlocked with a random password on its stdin. The session
 * lives until `stop` closes the stdin of the shell that holds it open; the keyring daemon exits
 * with its bus.
 */
export async function startKeyring(): Promise<KeyringSession> {
  const dir = mkdtempSync(join(tmpdir(), 'sp-keyring-'));
  const runtime = join(dir, 'run');
  mkdirSync(runtime, { mode: 0o700 });
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_RUNTIME_DIR: runtime, KEYRING_UNLOCK: randomBytes(12).toString('hex') };
  delete env.DBUS_SESSION_BUS_ADDRESS;
  const script = 'printf %s "$KEYRING_UNLOCK" | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 1; echo "bus=$DBUS_SESSION_BUS_ADDRESS"; exec cat >/dev/null';
  const child = spawn('dbus-run-session', ['--', 'sh', '-c', script], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    child.stdin.end();
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS).unref());
    if ((await Promise.race([exited, timer])) === 'timeout' && child.pid !== undefined) {
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!/bus=\S+\n/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the keyring session did not start: ${output.trim() || `exit ${child.exitCode}`}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { address: /bus=(\S+)\n/.exec(output)![1], stop };
}
