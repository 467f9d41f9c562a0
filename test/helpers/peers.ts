import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports.js';

/** A reference proxy from Debian running on a loopback port. */
export interface Peer {
  name: string;
  host: string;
  port: number;
  stop(): Promise<void>;
}

const BINARIES: Record<string, string> = { tinyproxy: 'tinyproxy', squid: 'squid', microsocks: 'microsocks', dante: 'danted' };

/** Why a peer cannot run here (binary missing, or needs root), or null when it can. */
export function peerUnavailable(name: keyof typeof BINARIES): string | null {
  const found = spawnSync('sh', ['-c', `command -v ${BINARIES[name]} || test -x /usr/sbin/${BINARIES[name]}`]).status === 0;
  if (!found) return `${BINARIES[name]} is not installed (run scripts/setup-system.sh as root)`;
  if (name === 'dante' && process.getuid?.() !== 0) return 'danted needs root to switch users';
  return null;
}

/**
 * Starts a reference proxy (loopback only, no cache, no log) in a temp dir: tinyproxy or squid as
 * HTTP proxies, microsocks or dante as SOCKS5. `auth` turns on username/password where the peer
 * supports it simply (tinyproxy, microsocks); `udp` lets dante relay UDP (UDP ASSOCIATE) too.
 */
export async function startPeer(name: 'tinyproxy' | 'squid' | 'microsocks' | 'dante', auth?: { username: string; password: string }, options: { udp?: boolean } = {}): Promise<Peer> {
  const dir = mkdtempSync(join(tmpdir(), `sp-peer-${name}-`));
  chmodSync(dir, 0o755);
  const port = await freePort();
  let child: ChildProcess;
  if (name === 'tinyproxy') {
    writeFileSync(
      join(dir, 'tinyproxy.conf'),
      `Port ${port}\nListen 127.0.0.1\nTimeout 600\nLogLevel Critical\nMaxClients 1000\nAllow 127.0.0.0/8\n${process.getuid?.() === 0 ? 'User nobody\nGroup nogroup\n' : ''}${auth ? `BasicAuth ${auth.username} ${auth.password}\n` : ''}`,
    );
    child = spawn('tinyproxy', ['-d', '-c', join(dir, 'tinyproxy.conf')], { stdio: 'ignore' });
  } else if (name === 'squid') {
    writeFileSync(
      join(dir, 'squid.conf'),
      [
        `http_port 127.0.0.1:${port}`,
        'visible_hostname test-squid',
        `pid_filename ${dir}/squid.pid`,
        `cache_log ${dir}/cache.log`,
        'access_log none',
        'cache deny all',
        'cache_mem 0 MB',
        'dns_nameservers 127.0.0.1',
        'pinger_enable off',
        'shutdown_lifetime 0 seconds',
        `coredump_dir ${dir}`,
        'acl lo_src src 127.0.0.0/8 ::1',
        'acl lo_dst dst 127.0.0.0/8 ::1',
        'acl all_ports port 1-65535',
        'acl CONNECT method CONNECT',
        'http_access allow lo_src lo_dst',
        'http_access deny all',
        'udp_incoming_address 127.0.0.1',
        'udp_outgoing_address 127.0.0.1',
        'icp_port 0',
        'htcp_port 0',
        '',
      ].join('\n'),
    );
    child = spawn('squid', ['-N', '-f', join(dir, 'squid.conf')], { stdio: 'ignore' });
  } else if (name === 'microsocks') {
    child = spawn('microsocks', ['-i', '127.0.0.1', '-p', String(port), ...(auth ? ['-u', auth.username, '-P', auth.password] : [])], { stdio: 'ignore' });
  } else {
    writeFileSync(
      join(dir, 'danted.conf'),
      `logoutput: ${dir}/danted.log\ninternal: 127.0.0.1 port = ${port}\nexternal: 127.0.0.1\nclientmethod: none\nsocksmethod: none\nuser.privileged: root\nuser.unprivileged: nobody\n` +
        `client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }\nsocks pass { from: 127.0.0.0/8 to: 127.0.0.0/8 command: connect${options.udp ? ' udpassociate udpreply' : ''} }\nsocks block { from: 0.0.0.0/0 to: 0.0.0.0/0 }\n`,
    );
    child = spawn('danted', ['-f', join(dir, 'danted.conf'), '-p', join(dir, 'danted.pid')], { stdio: 'ignore' });
  }
  const stop = async (): Promise<void> => {
    // Stopped before (a test that stops a peer midway and again after): a signalled child has no exit code.
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await new Promise((resolve) => child.once('exit', resolve));
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, name);
  } catch (error) {
    await stop();
    throw error;
  }
  return { name, host: '127.0.0.1', port, stop };
}
