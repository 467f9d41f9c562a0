import type { AuthService } from '../../auth/auth-service.js';
import type { Identity } from '../../auth/identity.js';
import type { UdpChannel } from '../../backends/backend.js';
import type { Policy } from '../../policy/policy.js';
import type { ConnectionRecord } from '../../protocol/connection-record.js';
import { REFUSALS, type Refusal } from '../../protocol/refusal.js';
import { AdmissionRequest } from '../admission/admission-request.js';
import { admit, type AdmissionContext } from '../admission/admit.js';
import { dialRefusal } from '../admission/dial-refusal.js';
import type { ProxyContext } from '../proxy-context.js';
import type { Runtime } from '../runtime.js';

/** What an association fixes at its start and every one of its flows uses. */
export interface FlowContext {
  ctx: ProxyContext;
  runtime: Runtime;
  policy: Policy;
  auth: AuthService | null;
  identity: Identity | undefined;
  /** The association's own record: its start is published when its first flow is routed. */
  record: ConnectionRecord;
}

/** A flow's way out: the channel, the rule and backend that carry it and how to give its backend slot back; or the refusal. */
export type FlowOutcome = { ok: true; channel: UdpChannel; rule: string; backend: string; release: () => void } | { ok: false; error: string; reason: string; rule?: string };

/**
 * Admits and opens one destination of an association through the admission pipeline, as a TCP
 * request: the open-relay guard (safe ports, private targets for untrusted clients) and rate
 * limits (one new destination is one request), the route (rules by destination, `udp: skip`), the
 * group ACL and the backend slot; then the backend's UDP socket (names resolved by that backend).
 * Calls `done` once. The flow has a record of its own for admission (what a refusal names), never
 * published: the association's record is the one that is logged.
 */
export function openFlow(fc: FlowContext, host: string, port: number, done: (outcome: FlowOutcome) => void): void {
  const association = fc.record;
  const admission: AdmissionContext = {
    runtime: () => fc.runtime,
    policy: () => fc.policy,
    auth: () => fc.auth,
    viaToken: fc.ctx.viaToken,
    routed: (record, backend) => {
      record.backend = backend;
      // The association is published as started once, with the backend of its first destination.
      if (association.backend === undefined) {
        association.rule = record.rule;
        fc.ctx.routed(association, backend);
      }
    },
  };
  const request = new FlowRequest(fc, flowRecord(association, host, port), done);
  request.auth = fc.auth;
  request.authenticated = true;
  if (fc.auth) {
    request.identity = fc.identity;
    request.user = association.user;
    request.groups = fc.identity?.groups;
  }
  admit(admission, request);
}

/** One new destination on its way through admission. */
class FlowRequest extends AdmissionRequest {
  constructor(
    private readonly fc: FlowContext,
    record: ConnectionRecord,
    private readonly done: (outcome: FlowOutcome) => void,
  ) {
    super('datagram', 'udp', record);
  }

  admitted(): void {
    const { record, fc, done } = this;
    const backend = this.resolution.backend;
    const release = (): void => this.policy.releaseBackend(record);
    // Routing gives UDP only backends that carry it (see Runtime.resolve).
    backend.openUdp!(this, { timeoutMs: this.connectTimeoutMs, refusePrivate: this.refusePrivate }).then(
      (channel) => done({ ok: true, channel, rule: this.resolution.rule, backend: backend.name, release }),
      (error: unknown) => {
        release();
        const refused = dialRefusal(fc.ctx, record, error);
        done({ ok: false, error: REFUSALS[refused.code].logReason, reason: refused.reason, rule: this.resolution.rule });
      },
    );
  }

  refused(refusal: Refusal): void {
    this.done({ ok: false, error: REFUSALS[refusal.code].logReason, reason: refusal.reason, rule: this.record.rule });
  }
}

/** The record a flow is admitted with: the association's client and user, the flow's destination. */
function flowRecord(association: ConnectionRecord, host: string, port: number): ConnectionRecord {
  return {
    id: association.id,
    startedAt: Date.now(),
    protocol: 'udp',
    clientAddress: association.clientAddress,
    clientPort: association.clientPort,
    user: association.user,
    method: 'UDP',
    host,
    port,
    bytesIn: 0,
    bytesOut: 0,
  };
}
