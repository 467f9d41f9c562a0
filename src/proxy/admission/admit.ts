import type { AuthOutcome } from '../../auth/auth-service.js';
import { refusal, VIA_LOOP, type Refusal } from '../../protocol/refusal.js';
import type { ProxyContext } from '../proxy-context.js';
import type { Resolution } from '../runtime.js';
import type { AdmissionRequest } from './admission-request.js';

/** What admission needs from the engine. */
export type AdmissionContext = Pick<ProxyContext, 'runtime' | 'policy' | 'auth' | 'routed' | 'viaToken'>;

/**
 * The one admission pipeline every front calls. In order: loop guard (Via), authentication, the
 * request check (open-relay guard, rate limits), route, group ACL, backend slot. It ends in exactly
 * one of `request.admitted()`, `request.refused(refusal)` or (self-addressed) `request.answerLocally()`.
 * Synchronous while verdicts are cached and limits are in memory; only a provider or a shared store
 * that must be asked makes it wait.
 */
export function admit(ctx: AdmissionContext, request: AdmissionRequest): void {
  if (request.via !== undefined && request.via.includes(ctx.viaToken)) {
    ctx.policy().refusedLoop(request.record, VIA_LOOP);
    return request.refused(refusal('via-loop', VIA_LOOP));
  }
  request.runtime = ctx.runtime();
  request.policy = ctx.policy();
  if (request.auth === undefined) request.auth = ctx.auth();
  const auth = request.auth;
  if (auth === null || request.authenticated) return check(ctx, request);
  const outcome = auth.checkHttp(request.authorization, request.client);
  if (outcome instanceof Promise) void outcome.then((answer) => authenticated(ctx, request, answer));
  else authenticated(ctx, request, outcome);
}

function authenticated(ctx: AdmissionContext, request: AdmissionRequest, outcome: AuthOutcome): void {
  if (!outcome.ok) return request.refused(outcome.refusal);
  const identity = outcome.identity;
  request.identity = identity;
  request.user = identity.user;
  request.groups = identity.groups;
  request.record.user = identity.user;
  check(ctx, request);
}

function check(ctx: AdmissionContext, request: AdmissionRequest): void {
  const verdict = request.policy.checkRequest(request);
  if (verdict instanceof Promise) void verdict.then((answer) => route(ctx, request, answer));
  else route(ctx, request, verdict);
}

function route(ctx: AdmissionContext, request: AdmissionRequest, refused: Refusal | null): void {
  if (refused !== null) return request.refused(refused);
  if (request.selfAddressed) return request.answerLocally();
  // Synchronous, with no closure allocated, unless the front sniffs the name first or a rule with `resolve: true` needs it looked up.
  if (request.sniffsFirst()) return request.beforeRoute(() => routeNow(ctx, request));
  routeNow(ctx, request);
}

function routeNow(ctx: AdmissionContext, request: AdmissionRequest): void {
  const runtime = request.runtime;
  if (runtime.needsLookup(request)) return runtime.route(request, (resolution) => routed(ctx, request, resolution));
  routed(ctx, request, runtime.resolve(request));
}

function routed(ctx: AdmissionContext, request: AdmissionRequest, resolution: Resolution): void {
  const record = request.record;
  record.rule = resolution.rule;
  if (!resolution.ok && resolution.rejected) {
    request.policy.refusedByRule(record, resolution.reason);
    return request.refused(refusal('rule-reject', resolution.reason));
  }
  if (!resolution.ok) return request.refused(refusal(resolution.unhealthy ? 'backend-unhealthy' : resolution.udpUnsupported ? 'udp-unsupported' : 'no-route', resolution.reason));
  const backend = resolution.backend.name;
  const forbidden = request.auth?.backendDenial(request.identity, backend, request);
  if (forbidden) return request.refused(forbidden);
  ctx.routed(record, backend);
  const policy = request.policy;
  const full = policy.acquireBackend(record, backend, request);
  if (full) return request.refused(full);
  request.resolution = resolution;
  request.connectTimeoutMs = request.runtime.config.network.timeouts.connectMs;
  request.refusePrivate = policy.refusesPrivate(request.client);
  request.admitted();
}
