import type { Identity } from '../auth/identity.js';
import { targetText } from '../auth/http-auth.js';
import type { UdpChannel } from '../backends/backend.js';
import type { ProxyContext } from '../proxy/proxy-context.js';
import type { Runtime } from '../proxy/runtime.js';
import type { Policy } from '../policy/policy.js';
import type { AuthService } from '../auth/auth-service.js';
import { routeUdp } from './udp-route.js';

/** What an association fixes at its start and every one of its flows uses. */
export interface FlowContext {
  ctx: ProxyContext;
  runtime: Runtime;
  policy: Policy;
  auth: AuthService | null;
  identity: Identity | undefined;
  user: string | undefined;
  client: string;
}

/** A flow's way out: the channel and the rule and backend that carry it, or the refusal. */
export type FlowOutcome = { ok: true; channel: UdpChannel; rule: string; backend: string } | { ok: false; error: string; reason: string; rule?: string };

/**
 * Admits and opens one destination of an association, as a TCP request is admitted: the
 * open-relay guard (safe ports, private targets for untrusted clients) and rate limits (one
 * flow is one request), the route (rules by destination), the group ACL, then the backend's UDP
 * socket (names resolved by that backend). Calls `done` once with the channel or the refusal.
 */
export function openFlow(fc: FlowContext, host: string, port: number, done: (outcome: FlowOutcome) => void): void {
  fc.policy.checkRequest({ protocol: 'udp', client: fc.client, user: fc.user, host, port }, (denial) => {
    if (denial) return done({ ok: false, error: denial.error, reason: denial.reason });
    const route = routeUdp(fc.runtime, host, fc.client);
    if (!route.ok) return done({ ok: false, error: route.error, reason: route.reason, rule: route.rule });
    const forbidden = fc.auth?.backendDenial(fc.identity, route.backend.name, { client: fc.client, protocol: 'udp', target: targetText(host, port) });
    if (forbidden) return done({ ok: false, error: forbidden.error, reason: forbidden.reason, rule: route.rule });
    const options = { timeoutMs: fc.runtime.config.network.timeouts.connectMs, refusePrivate: fc.policy.refusesPrivate(fc.client) };
    route.backend.openUdp({ host, port }, options).then(
      (channel) => done({ ok: true, channel, rule: route.rule, backend: route.backend.name }),
      (error: Error & { reason?: string }) => done({ ok: false, error: error.reason ?? 'failed', reason: error.message, rule: route.rule }),
    );
  });
}
