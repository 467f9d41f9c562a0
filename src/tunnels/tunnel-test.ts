import { networkInterfaces } from 'node:os';
import { Agent, request } from 'undici';
import type { Target } from '../backends/backend.js';
import { ip } from './netns.js';
import { NsDialer } from './ns-dialer.js';
import type { TunnelStatus } from './tunnel-status.js';

/** What `backend test` reports for a tunnel, besides reaching the target. */
export interface TunnelTestReport {
  ok: boolean;
  latencyMs: number;
  error?: string;
  /** Who resolved the target's name (the tunnel's DNS inside its namespace). */
  resolvedBy?: string;
  /** The connection's source address inside the namespace (a tunnel address). */
  localAddress?: string;
  tunnelAddresses: string[];
  /** DNS servers of the tunnel and the interface the namespace reaches each through. */
  dns: { server: string; via: string | null }[];
  /** What the far side saw as the source address (`ipUrl` fetched through the tunnel), and what it sees from the host. */
  egress?: { throughTunnel: string | null; fromHost: string | null; url: string };
  /** Every way traffic or DNS would leave by the host's path instead of the tunnel; empty when none. */
  leaks: string[];
}

const FETCH_TIMEOUT_MS = 5_000;

/**
 * Opens a connection through a running tunnel (as any engine process does) and checks that
 * nothing leaks to the host's path: the source address is the tunnel's and no host address,
 * every DNS server is reached through the tunnel interface, and, given an address-echo URL
 * (`GET` answers the caller's address), the far side sees a different address than from the host.
 */
export async function testTunnel(status: TunnelStatus, statusFile: string, target: Target, timeoutMs: number, ipUrl?: string): Promise<TunnelTestReport> {
  const report: TunnelTestReport = { ok: false, latencyMs: 0, tunnelAddresses: status.addresses, dns: [], leaks: [] };
  const dialer = new NsDialer(status.netns, statusFile);
  try {
    for (const server of status.dns) {
      const via = await ip(['-n', status.netns, 'route', 'get', server]).then(
        (out) => /\bdev (\S+)/.exec(out)?.[1] ?? null,
        () => null,
      );
      report.dns.push({ server, via });
      if (via !== null && via !== status.iface) report.leaks.push(`DNS server ${server} is reached through ${via}, not the tunnel interface ${status.iface}`);
    }
    const started = performance.now();
    try {
      const connection = await dialer.dial(target.host, target.port, timeoutMs);
      report.latencyMs = Math.round(performance.now() - started);
      connection.socket.destroy();
      report.ok = true;
      report.resolvedBy = connection.resolvedBy;
      report.localAddress = connection.localAddress;
      if (status.addresses.length > 0 && !status.addresses.includes(connection.localAddress)) {
        report.leaks.push(`the connection left from ${connection.localAddress}, not from the tunnel address ${status.addresses.join(', ')}`);
      }
      if (hostAddresses().has(connection.localAddress)) report.leaks.push(`the connection left from ${connection.localAddress}, an address of the host`);
    } catch (error) {
      report.latencyMs = Math.round(performance.now() - started);
      report.error = (error as Error).message;
    }
    if (ipUrl) {
      const agent = new Agent({
        connect: (options, callback) => {
          const port = Number(options.port) || 80;
          dialer.dial(options.hostname, port, timeoutMs).then(
            (c) => callback(null, c.socket),
            (error: Error) => callback(error, null),
          );
        },
      });
      const throughTunnel = await fetchText(ipUrl, agent);
      await agent.close();
      const fromHost = await fetchText(ipUrl);
      report.egress = { throughTunnel, fromHost, url: ipUrl };
      if (throughTunnel === null) report.leaks.push(`${ipUrl} did not answer through the tunnel, so the egress address is unknown`);
      else if (throughTunnel === fromHost) report.leaks.push(`the far side sees ${throughTunnel} both through the tunnel and from the host: traffic leaves by the host's path`);
    }
  } finally {
    dialer.close();
  }
  return report;
}

async function fetchText(url: string, dispatcher?: Agent): Promise<string | null> {
  try {
    const answer = await request(url, { dispatcher, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headersTimeout: FETCH_TIMEOUT_MS, bodyTimeout: FETCH_TIMEOUT_MS });
    const text = (await answer.body.text()).trim();
    return answer.statusCode === 200 ? text.slice(0, 200) : null;
  } catch {
    return null;
  }
}

function hostAddresses(): Set<string> {
  return new Set(
    Object.values(networkInterfaces())
      .flat()
      .filter((a) => a !== undefined)
      .map((a) => a!.address),
  );
}
