import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { ProxyError } from '../errors.js';

const IP_TIMEOUT_MS = 10_000;

/** Runs `ip ARGS…` (bounded); rejects with a TUNNEL_SETUP error carrying ip's own message. */
export async function ip(args: string[], input?: string): Promise<string> {
  // Loaded on first use: a daemon without tunnels never runs a command.
  const { execa } = await import('execa');
  const result = await execa('ip', args, { reject: false, timeout: IP_TIMEOUT_MS, input, stdin: input === undefined ? 'ignore' : 'pipe' });
  if (result.exitCode !== 0 || result.failed) {
    const detail = String(result.stderr || result.stdout || result.shortMessage).trim();
    throw new ProxyError('TUNNEL_SETUP', `ip ${args.join(' ')}: ${detail}`);
  }
  return String(result.stdout);
}

/** Names of the network namespaces that exist now. */
export function listNetns(): string[] {
  try {
    return readdirSync('/run/netns');
  } catch {
    return [];
  }
}

/** Creates a namespace with only `lo` up (reused when it already exists). */
export async function addNetns(name: string): Promise<void> {
  if (!listNetns().includes(name)) await ip(['netns', 'add', name]);
  await ip(['-n', name, 'link', 'set', 'lo', 'up']);
}

/** Kills whatever still runs inside a namespace, then deletes it (its interfaces go with it). */
export async function deleteNetns(name: string): Promise<void> {
  if (!listNetns().includes(name)) return;
  const pids = await ip(['netns', 'pids', name]).catch(() => '');
  for (const pid of pids.split(/\s+/).filter(Boolean)) killQuietly(Number(pid));
  await ip(['netns', 'del', name]).catch(() => undefined);
}

/** Deletes a host-namespace link if it exists (a tunnel interface not yet moved). */
export async function deleteHostLink(name: string): Promise<void> {
  await ip(['link', 'del', name]).catch(() => undefined);
}

/** Host-namespace links whose name starts with a prefix (read from /sys: every start asks, and running ip for it costs a process). */
export async function hostLinks(prefix: string): Promise<string[]> {
  try {
    return readdirSync('/sys/class/net').filter((name) => name.startsWith(prefix));
  } catch {
    return [];
  }
}

/** Processes running `program` with an argument that starts with `prefix` (tunnel processes of a previous run). */
export function processesWithArg(programs: string[], prefix: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (programs.includes(basename(argv[0])) && argv.slice(1).some((arg) => arg.startsWith(prefix))) found.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** Sends SIGKILL, ignoring a process that is already gone. */
export function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * Removes what a previous run of this daemon left after `kill -9`: its tunnel processes, its
 * namespaces (and the helpers in them), interfaces not yet moved, stale wireguard-go sockets.
 * Returns what it removed, for the log.
 */
export async function removeLeftovers(netnsPrefix: string, ifacePrefix: string): Promise<string[]> {
  const removed: string[] = [];
  for (const pid of processesWithArg(['wireguard-go', 'openvpn'], ifacePrefix)) {
    killQuietly(pid);
    removed.push(`process ${pid}`);
  }
  for (const name of listNetns().filter((n) => n.startsWith(netnsPrefix))) {
    await deleteNetns(name);
    removed.push(`namespace ${name}`);
  }
  for (const link of await hostLinks(ifacePrefix)) {
    await deleteHostLink(link);
    removed.push(`interface ${link}`);
  }
  try {
    for (const sock of readdirSync('/var/run/wireguard').filter((f) => f.startsWith(ifacePrefix))) {
      rmSync(`/var/run/wireguard/${sock}`, { force: true });
      removed.push(`socket /var/run/wireguard/${sock}`);
    }
  } catch {
    // No wireguard-go ever ran here.
  }
  return removed;
}
