import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports.js';

/** Why HAProxy cannot run here, or null when it can. */
export function haproxyUnavailable(): string | null {
  return spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status === 0 ? null : 'haproxy is not installed (Debian: haproxy; scripts/setup-system.sh)';
}

/** One proxy node behind the balancer: its proxy port, and the port of its /health/ready. */
export interface HaproxyServer {
  port: number;
  healthPort?: number;
}

/** A running HAProxy in TCP mode on a loopback port. */
export interface Haproxy {
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts HAProxy (TCP mode, loopback) in front of `servers`, round robin, checking `/health/ready`
 * on a server's health port when it has one. With `sendProxy` it sends a PROXY header to each
 * (`send-proxy` or `send-proxy-v2`), its checks included (`check-send-proxy`).
 */
export async function startHaproxy(servers: HaproxyServer[], options: { sendProxy?: 'v1' | 'v2' } = {}): Promise<Haproxy> {
  const dir = mkdtempSync(join(tmpdir(), 'sp-haproxy-'));
  const port = await freePort();
  const send = options.sendProxy === undefined ? '' : options.sendProxy === 'v1' ? ' send-proxy' : ' send-proxy-v2';
  const lines = [
    'global',
    '  maxconn 1000',
    'defaults',
    '  mode tcp',
    // A node that stopped accepting before its check noticed: try the connection on another one.
    '  retries 3',
    '  option redispatch',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    'frontend front',
    `  bind 127.0.0.1:${port}`,
    '  default_backend nodes',
    'backend nodes',
    '  balance roundrobin',
    ...(servers.some((s) => s.healthPort) ? ['  option httpchk GET /health/ready'] : []),
    ...servers.map((s, i) => `  server n${i} 127.0.0.1:${s.port}${send}${s.healthPort ? ` check port ${s.healthPort}${send ? ' check-send-proxy' : ''} inter 300ms fall 1 rise 1` : ''}`),
  ];
  writeFileSync(join(dir, 'haproxy.cfg'), `${lines.join('\n')}\n`);
  const child = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  await waitForPort(port, child, 'haproxy', () => output);
  return {
    port,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
