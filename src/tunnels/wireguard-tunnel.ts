import { EventEmitter } from 'node:events';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { parseWireguardConfig, type WireguardConfig } from '../backends/wireguard-config.js';
import { ProxyError } from '../errors.js';
import { deleteHostLink, ip } from './netns.js';
import { TunnelProcess } from './tunnel-process.js';
import type { RunPlace, TunnelProbe, TunnelRun, TunnelRunEvents } from './tunnel-run.js';
import { uapiPeers, uapiSocket } from './wg-uapi.js';

const SOCKET_WAIT_MS = 10_000;
/** How long a peer with PersistentKeepalive may take to answer the first handshake. */
const FIRST_HANDSHAKE_MS = 10_000;
/** WireGuard rekeys every 120 s while packets flow; keepalives make packets flow. */
const HANDSHAKE_STALE_S = 180;
const DEFAULT_MTU = 1420;
/** WireGuard's own overhead over IPv6 (the worst case), for an MTU that fits the underlay. */
const WG_OVERHEAD = 80;

/** The wg-quick fields `wg setconf` rejects; applied by hand inside the namespace instead. */
const WG_QUICK_ONLY = /^\s*(Address|DNS|MTU|Table|PreUp|PostUp|PreDown|PostDown|SaveConfig)\s*=/i;

/** A wg-quick file without the fields only wg-quick knows (same as `wg-quick strip`). */
export function stripWgQuick(text: string): string {
  return text
    .split(/\r?\n/)
    .filter((line) => !WG_QUICK_ONLY.test(line))
    .join('\n');
}

/**
 * One run of a WireGuard tunnel: `wireguard-go -f` in the host namespace (its UDP socket uses
 * the host's normal routing), `wg setconf` with the stripped file, the interface moved into the
 * backend's namespace, where Address, MTU and one route per AllowedIPs entry are applied. The
 * host gets no address, no route and no interface.
 */
export class WireguardRun extends EventEmitter<TunnelRunEvents> implements TunnelRun {
  private process: TunnelProcess | null = null;
  private configuredAt = 0;
  private config!: WireguardConfig;

  constructor(
    private readonly place: RunPlace,
    private readonly configFile: string,
  ) {
    super();
  }

  /** The wireguard-go process id. */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Starts wireguard-go and configures the tunnel; rejects with wireguard-go's or wg's reason. */
  async start(): Promise<void> {
    const { iface, netns } = this.place;
    const text = readFileSync(this.configFile, 'utf8');
    this.config = parseWireguardConfig(text);
    rmSync(uapiSocket(iface), { force: true });
    await deleteHostLink(iface);
    const proc = await TunnelProcess.spawn('wireguard-go', ['-f', iface], { env: { WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: 'error' } });
    this.process = proc;
    void proc.exited.then((how) => this.emit('exit', `${how}${proc.lastLines() ? `: ${proc.lastLines()}` : ''}`));
    await this.waitForSocket(proc);
    // wg reads a file by name (a socketpair stdin is not one): a private temp file, gone at once.
    const stripped = join(this.place.dir, `${iface}.conf`);
    writeFileSync(stripped, stripWgQuick(text), { mode: 0o600 });
    const { execa } = await import('execa');
    const set = await execa('wg', ['setconf', iface, stripped], { reject: false, timeout: 10_000 }).finally(() => rmSync(stripped, { force: true }));
    if (set.exitCode !== 0 || set.failed) throw new ProxyError('TUNNEL_SETUP', `wg setconf refused ${this.configFile}: ${String(set.stderr || set.shortMessage).trim()}`);
    const mtu = this.config.iface.mtu ?? (await underlayMtu(this.config));
    await ip(['link', 'set', iface, 'netns', netns]);
    for (const address of this.config.iface.addresses) await ip(['-n', netns, address.includes(':') ? '-6' : '-4', 'addr', 'add', address, 'dev', iface]);
    await ip(['-n', netns, 'link', 'set', iface, 'mtu', String(mtu), 'up']);
    for (const route of new Set(this.config.peers.flatMap((p) => p.allowedIps))) {
      const v6 = route.includes(':');
      const dest = route === '0.0.0.0/0' || route === '::/0' ? 'default' : route;
      await ip(['-n', netns, v6 ? '-6' : '-4', 'route', 'replace', dest, 'dev', iface]);
    }
    this.configuredAt = Date.now();
    this.emit('up', { dns: this.config.iface.dns.filter((d) => isIP(d) !== 0), addresses: this.config.iface.addresses.map((a) => a.split('/')[0]) });
  }

  /**
   * Whether the peer answers: with PersistentKeepalive the peer must have completed a handshake
   * (first within 15 s, then at least every 180 s). Without it an idle tunnel sends nothing, so
   * only traffic (the health check through the tunnel) can tell.
   */
  async probe(): Promise<TunnelProbe> {
    const peers = await uapiPeers(this.place.iface);
    const now = Date.now() / 1000;
    const watched = peers.filter((p) => p.persistentKeepalive > 0);
    const latest = Math.max(0, ...peers.map((p) => p.lastHandshakeSeconds));
    const lastHandshake = latest > 0 ? latest * 1000 : null;
    if (watched.length === 0) return { ok: true, lastHandshake };
    const answered = watched.filter((p) => p.lastHandshakeSeconds > 0 && now - p.lastHandshakeSeconds < HANDSHAKE_STALE_S + p.persistentKeepalive);
    if (answered.length > 0) return { ok: true, lastHandshake };
    const endpoint = this.config.peers.find((p) => p.endpoint)?.endpoint ?? 'the peer';
    if (lastHandshake === null) {
      if (Date.now() - this.configuredAt < FIRST_HANDSHAKE_MS) return { ok: false, pending: true, reason: 'waiting for the first handshake', lastHandshake };
      return { ok: false, reason: `no handshake with ${endpoint} after ${FIRST_HANDSHAKE_MS / 1000} s (peer unreachable, or the keys do not match)`, lastHandshake };
    }
    return { ok: false, reason: `no handshake with ${endpoint} since ${Math.round(now - latest)} s`, lastHandshake };
  }

  /** Ends wireguard-go (its interface goes with it) and removes its control socket. */
  async stop(): Promise<void> {
    await this.process?.stop();
    rmSync(uapiSocket(this.place.iface), { force: true });
  }

  private async waitForSocket(proc: TunnelProcess): Promise<void> {
    const deadline = Date.now() + SOCKET_WAIT_MS;
    for (;;) {
      try {
        await uapiPeers(this.place.iface);
        return;
      } catch {
        // Not listening yet.
      }
      if (proc.ended) throw new ProxyError('TUNNEL_SETUP', `${await proc.exited}: ${proc.lastLines() || 'no output'}`);
      if (Date.now() > deadline) throw new ProxyError('TUNNEL_SETUP', `wireguard-go did not open ${uapiSocket(this.place.iface)} within ${SOCKET_WAIT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** The MTU that fits the host's path to the first endpoint (its link MTU minus WireGuard's overhead), at most 1420. */
async function underlayMtu(config: WireguardConfig): Promise<number> {
  const endpoint = config.peers.find((p) => p.endpoint)?.endpoint;
  if (!endpoint) return DEFAULT_MTU;
  try {
    const host = endpoint.slice(0, endpoint.lastIndexOf(':')).replace(/^\[|\]$/g, '');
    const address = isIP(host) ? host : (await lookup(host)).address;
    const dev = /\bdev (\S+)/.exec(await ip(['route', 'get', address]))?.[1];
    if (!dev) return DEFAULT_MTU;
    const linkMtu = Number(readFileSync(`/sys/class/net/${dev}/mtu`, 'utf8'));
    return Number.isFinite(linkMtu) && linkMtu > 0 ? Math.max(1280, Math.min(DEFAULT_MTU, linkMtu - WG_OVERHEAD)) : DEFAULT_MTU;
  } catch {
    return DEFAULT_MTU;
  }
}
