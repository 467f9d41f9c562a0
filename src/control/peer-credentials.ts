import { execFile } from 'node:child_process';
import { fstatSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';

/** How long `ss` may take before the uid is given up as unknown. */
const SS_TIMEOUT_MS = 5000;

/**
 * The effective uid of the process at the other end of an accepted Unix socket, or null when it
 * cannot be known (not Linux, `ss` missing, the peer gone or out of sight).
 *
 * Node does not expose SO_PEERCRED, so the peer is found as `ss` finds it (sock_diag): the
 * accepted socket's inode (fstat of its fd) is the peer inode of exactly one other socket, whose
 * owning processes `ss -p` lists; their uid comes from /proc. It costs a process spawn and a scan
 * of /proc, so it is done for audited requests only, while the peer still waits for its answer.
 */
export function peerUid(socket: Socket): Promise<number | null> {
  // A kept-alive connection has one peer: looked up once for all its changes.
  let known = looked.get(socket);
  if (!known) looked.set(socket, (known = lookUp(socket)));
  return known;
}

/** peerUid, or null when the answer takes longer than `ms` (the lookup goes on for the connection's later calls). */
export function peerUidWithin(socket: Socket, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  return Promise.race([peerUid(socket), late]).finally(() => clearTimeout(timer));
}

/** The lookup of each connection's peer, for as long as the connection lives. */
const looked = new WeakMap<Socket, Promise<number | null>>();

async function lookUp(socket: Socket): Promise<number | null> {
  if (process.platform !== 'linux') return null;
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return null;
  let inode: number;
  try {
    inode = fstatSync(fd).ino;
  } catch {
    return null;
  }
  const table = await freshTable();
  return table === null ? null : uidOfPeer(table, inode);
}

/** The peer's uid in `ss -xpnH` output: the processes holding the socket whose peer inode is `inode`, when they agree. */
export function uidOfPeer(table: string, inode: number, uidOf: (pid: number) => number | null = processUid): number | null {
  for (const line of table.split('\n')) {
    // "<local address> <local inode> <peer address> <peer inode> users:((...))"; addresses may hold spaces, inodes never.
    const row = /\s(\d+)\s+\S+\s+(\d+)\s+users:\((.*)\)\s*$/.exec(line);
    if (!row || Number(row[2]) !== inode || Number(row[1]) === inode) continue;
    const uids = new Set([...row[3].matchAll(/pid=(\d+)/g)].map((m) => uidOf(Number(m[1]))));
    // A socket shared by processes of different users (or one whose uid could not be read) names nobody.
    return uids.size === 1 ? [...uids][0] : null;
  }
  return null;
}

/** The effective uid of a running process, from /proc. */
function processUid(pid: number): number | null {
  try {
    const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return uid ? Number(uid[1]) : null;
  } catch {
    return null;
  }
}

/** The `ss` run going on now, and the one queued after it. */
let running: Promise<string | null> | null = null;
let queued: Promise<string | null> | null = null;

/**
 * A table taken after this call. A run already going may have started before the connection was
 * made, so a caller waits for the next; callers in a burst share that one run.
 */
function freshTable(): Promise<string | null> {
  if (!running) {
    running = ssUnixTable().finally(() => (running = null));
    return running;
  }
  queued ??= running.then(() => {
    queued = null;
    return freshTable();
  });
  return queued;
}

/** Every Unix socket with its owning processes, as `ss` lists them; null when `ss` cannot run. */
function ssUnixTable(): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('ss', ['-xpnH'], { timeout: SS_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => resolve(error ? null : stdout));
  });
}
