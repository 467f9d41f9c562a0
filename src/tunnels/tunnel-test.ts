import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Dispatcher } from 'undici';
import type { Target } from '../backends/backend.js';
import { createTunnelAgent } from '../backends/tunnel-agent.js';
import type { NetworkSpec } from '../config/model.js';
import { DEFAULT_IP_ECHO_URL } from '../control/schemas.js';
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
  /**
   * What the far side saw as the source address (`url` fetched through the tunnel), and what it
   * sees from the host; `error` says why the egress address is unknown (no answer through the tunnel).
   */
  egress: { throughTunnel: string | null; fromHost: string | null; url: string; error?: string };
  /** Every way traffic or DNS would leave by the host's path instead of the tunnel; empty when none. */
  leaks: string[];
}

const FETCH_TIMEOUT_MS = 5_000;

/**
 * Opens a connection through a running tunnel (as any engine process does) and checks that
 * nothing leaks to the host's path: the source address is the tunnel's and no host address,
 * every DNS server is reached through the tunnel interface, and the far side of an address-echo
 * URL (`GET` answers the caller's address; http or https) sees a different address through the
 * tunnel than from the host.
 */
export async function testTunnel(status: TunnelStatus, statusFile: string, target: Target, network: NetworkSpec, ipUrl = DEFAULT_IP_ECHO_URL): Promise<TunnelTestReport> {
  const timeoutMs = network.timeouts.connectMs;
  const report: TunnelTestReport = { ok: false, latencyMs: 0, tunnelAddresses: status.addresses, dns: [], leaks: [], egress: { throughTunnel: null, fromHost: null, url: ipUrl } };
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
    // The same connection path as traffic (TLS for https over the socket dialed in the namespace).
    const echoDialMs = Math.min(timeoutMs, FETCH_TIMEOUT_MS);
    const agent = createTunnelAgent((to) => dialer.dial(to.host, to.port, echoDialMs).then((c) => c.socket), network, () => ({ connectTimeoutMs: echoDialMs }));
    const [throughTunnel, fromHost] = await Promise.all([askAddress(ipUrl, agent).finally(() => agent.close()), askAddress(ipUrl)]);
    report.egress = { throughTunnel: throughTunnel.address ?? null, fromHost: fromHost.address ?? null, url: ipUrl };
    if (throughTunnel.error) report.egress.error = `${ipUrl} did not answer through the tunnel (${throughTunnel.error}), so the egress address is unknown`;
    else if (throughTunnel.address === fromHost.address) report.leaks.push(`the far side sees ${throughTunnel.address} both through the tunnel and from the host: traffic leaves by the host's path`);
  } finally {
    dialer.close();
  }
  return report;
}

/** The address an echo URL answers (through `dispatcher`, or from the host), or why there is none. */
async function askAddress(url: string, dispatcher?: Dispatcher): Promise<{ address?: string; error?: string }> {
  try {
    // Loaded on first use: the daemon runs such a test only when asked.
    const { request } = await import('undici');
    const answer = await request(url, { dispatcher, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headersTimeout: FETCH_TIMEOUT_MS, bodyTimeout: FETCH_TIMEOUT_MS });
    const text = (await answer.body.text()).trim();
    if (answer.statusCode !== 200) return { error: `status ${answer.statusCode}` };
    return isIP(text) ? { address: text } : { error: `the answer is not an address: ${JSON.stringify(text.slice(0, 40))}` };
  } catch (error) {
    return { error: (error as Error).message };
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
