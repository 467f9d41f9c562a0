import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AuthOutcome, AuthService } from '../../../../src/auth/auth-service.js';
import type { Identity } from '../../../../src/auth/identity.js';
import type { Backend } from '../../../../src/backends/backend.js';
import type { Policy, RequestInfo } from '../../../../src/policy/policy.js';
import type { ConnectionRecord, FrontProtocol } from '../../../../src/protocol/connection-record.js';
import { refusal, type Refusal } from '../../../../src/protocol/refusal.js';
import type { RouteQuery } from '../../../../src/routing/route-query.js';
import { admit, type AdmissionContext } from '../../../../src/proxy/admission/admit.js';
import { AdmissionRequest, type RequestKind } from '../../../../src/proxy/admission/admission-request.js';
import { answerRaw, answerResponse, answerSocks } from '../../../../src/proxy/admission/answers.js';
import type { Resolution, Runtime } from '../../../../src/proxy/runtime.js';

/** A fake backend: admission only reads its name. */
const backend = (name: string): Backend => ({ name, type: 'direct' }) as unknown as Backend;

/** What the fakes answer; each defaults to "let it pass". */
interface Script {
  auth?: 'off' | AuthOutcome | (() => Promise<AuthOutcome>);
  check?: Refusal | null | (() => Promise<Refusal | null>);
  resolution?: Resolution;
  acl?: Refusal | null;
  slot?: Refusal | null;
  refusesPrivate?: boolean;
}

/** The engine side of admission with fake policy, auth and runtime, and what each was asked. */
function fakes(script: Script) {
  const asked = { checks: [] as RequestInfo[], routes: [] as RouteQuery[], acls: [] as string[], slots: [] as string[], loops: [] as string[], routed: [] as string[], credentials: [] as (string | undefined)[] };
  const policy = {
    checkRequest: (info: RequestInfo) => {
      asked.checks.push({ ...info });
      return typeof script.check === 'function' ? script.check() : (script.check ?? null);
    },
    acquireBackend: (_record: ConnectionRecord, name: string) => {
      asked.slots.push(name);
      return script.slot ?? null;
    },
    refusesPrivate: () => script.refusesPrivate ?? false,
    refusedLoop: (_record: ConnectionRecord, reason: string) => asked.loops.push(reason),
  } as unknown as Policy;
  const auth = {
    checkHttp: (header: string | undefined) => {
      asked.credentials.push(header);
      return typeof script.auth === 'function' ? script.auth() : script.auth;
    },
    backendDenial: (_identity: Identity | undefined, name: string) => {
      asked.acls.push(name);
      return script.acl ?? null;
    },
  } as unknown as AuthService;
  const runtime = {
    config: { network: { timeouts: { connectMs: 1234 } } },
    resolve: (query: RouteQuery) => {
      asked.routes.push({ host: query.host, port: query.port, client: query.client, user: query.user, groups: query.groups, protocol: query.protocol });
      return script.resolution ?? { ok: true, rule: 'default', backend: backend('direct') };
    },
    needsLookup: () => false,
  } as unknown as Runtime;
  const ctx: AdmissionContext = {
    runtime: () => runtime,
    policy: () => policy,
    auth: () => (script.auth === undefined || script.auth === 'off' ? null : auth),
    routed: (record, name) => {
      record.backend = name;
      asked.routed.push(name);
    },
    viaToken: 'sp-test-token',
  };
  return { ctx, asked };
}

function record(protocol: FrontProtocol, host = 'example.com', port = 443): ConnectionRecord {
  return { id: 'r1', startedAt: 0, protocol, clientAddress: '192.0.2.7', clientPort: 40000, method: 'CONNECT', host, port, bytesIn: 0, bytesOut: 0 };
}

/** A front that notes how admission ended. */
class TestRequest extends AdmissionRequest {
  outcome: 'admitted' | 'local' | Refusal | undefined;

  constructor(kind: RequestKind, protocol: FrontProtocol, rec = record(protocol)) {
    super(kind, protocol, rec);
  }

  admitted(): void {
    this.outcome = 'admitted';
  }

  refused(refused: Refusal): void {
    this.outcome = refused;
  }

  override answerLocally(): void {
    this.outcome = 'local';
  }
}

const ALICE: Identity = { user: 'alice', groups: ['staff'] };
const ok = (identity = ALICE): AuthOutcome => ({ ok: true, identity });
const no = (refused: Refusal): AuthOutcome => ({ ok: false, refusal: refused });

/** Runs admission and waits (bounded) for its end. */
async function run(request: TestRequest, ctx: AdmissionContext): Promise<TestRequest> {
  admit(ctx, request);
  const deadline = Date.now() + 2000;
  while (request.outcome === undefined && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
  assert.notEqual(request.outcome, undefined, 'admission ended');
  return request;
}

test('a request every check lets through is admitted synchronously, with its route, identity and dial options', () => {
  const { ctx, asked } = fakes({ auth: ok(), refusesPrivate: true });
  const request = new TestRequest('tunnel', 'connect');
  request.authorization = 'Basic YWxpY2U6cHc=';
  admit(ctx, request);
  assert.equal(request.outcome, 'admitted', 'no promise on the way when verdicts are at hand');
  assert.deepEqual(asked.credentials, ['Basic YWxpY2U6cHc=']);
  assert.deepEqual(asked.routes, [{ host: 'example.com', port: 443, client: '192.0.2.7', user: 'alice', groups: ['staff'], protocol: 'connect' }], 'the route query carries target, client, user, groups and protocol');
  assert.deepEqual([asked.acls, asked.routed, asked.slots], [['direct'], ['direct'], ['direct']]);
  assert.deepEqual([request.record.user, request.record.rule, request.record.backend, request.resolution.backend.name], ['alice', 'default', 'direct', 'direct']);
  assert.deepEqual([request.connectTimeoutMs, request.relayOnly, request.refusePrivate], [1234, true, true]);
});

test('kinds: only tunnels are relay-only; an upgrade and an HTTP request read their answers', async () => {
  for (const [kind, protocol, relayOnly] of [['tunnel', 'socks5', true], ['upgrade', 'upgrade', false], ['http-request', 'http', false]] as const) {
    const { ctx } = fakes({});
    const request = await run(new TestRequest(kind, protocol), ctx);
    assert.deepEqual([request.outcome, request.relayOnly], ['admitted', relayOnly], kind);
  }
});

test('a front that authenticated in its own handshake (SOCKS5) is not asked again; its identity still meets the ACL', async () => {
  const { ctx, asked } = fakes({ auth: no(refusal('auth-failed', 'should not be asked')), acl: refusal('acl-denied', 'user "alice" may not use backend "direct"') });
  const request = new TestRequest('tunnel', 'socks5');
  request.authenticated = true;
  request.identity = ALICE;
  request.user = 'alice';
  await run(request, ctx);
  assert.deepEqual(asked.credentials, []);
  assert.deepEqual((request.outcome as Refusal).code, 'acl-denied');
  assert.deepEqual(asked.routed, [], 'a refusal by the ACL publishes no start');
});

test('asynchronous verdicts (a provider asked, a shared store) end the same way', async () => {
  const { ctx } = fakes({ auth: async () => ok(), check: async () => null });
  const request = new TestRequest('http-request', 'http');
  admit(ctx, request);
  assert.equal(request.outcome, undefined, 'waits for the verdicts');
  await run(request, ctx);
  assert.equal(request.outcome, 'admitted');
  const refused = await run(new TestRequest('http-request', 'http'), fakes({ auth: async () => ok(), check: async () => refusal('rate-limited', 'rate_limiting.global exceeded', { 'Retry-After': 1 }) }).ctx);
  assert.equal((refused.outcome as Refusal).code, 'rate-limited');
});

test('a self-addressed request (Max-Forwards: 0) is answered by the front after auth and the request check, never routed', async () => {
  const { ctx, asked } = fakes({ auth: ok() });
  const request = new TestRequest('http-request', 'http');
  request.selfAddressed = true;
  await run(request, ctx);
  assert.equal(request.outcome, 'local');
  assert.deepEqual([asked.credentials.length, asked.checks.length, asked.routes.length], [1, 1, 0]);
  const denied = new TestRequest('http-request', 'http');
  denied.selfAddressed = true;
  await run(denied, fakes({ auth: no(refusal('auth-required', 'proxy authentication required')) }).ctx);
  assert.equal((denied.outcome as Refusal).code, 'auth-required');
});

/** Every refusal path: the script that provokes it, and where admission must stop. */
const PATHS: { name: string; script: Script; via?: string; code: string; routed: boolean; checked: boolean }[] = [
  { name: 'Via loop', script: { auth: ok() }, via: '1.1 other, 1.1 sp-test-token', code: 'via-loop', routed: false, checked: false },
  { name: 'no credentials', script: { auth: no(refusal('auth-required', 'proxy authentication required', { 'Proxy-Authenticate': 'Basic realm="p"' })) }, code: 'auth-required', routed: false, checked: false },
  { name: 'wrong credentials', script: { auth: no(refusal('auth-failed', 'proxy authentication failed', { 'Proxy-Authenticate': 'Basic realm="p"' })) }, code: 'auth-failed', routed: false, checked: false },
  { name: 'user outside the groups', script: { auth: no(refusal('auth-forbidden', 'not in an allowed group')) }, code: 'auth-forbidden', routed: false, checked: false },
  { name: 'too many failed logins', script: { auth: no(refusal('auth-throttled', 'too many failed attempts', { 'Retry-After': '30' })) }, code: 'auth-throttled', routed: false, checked: false },
  { name: 'provider down', script: { auth: async () => no(refusal('auth-unavailable', 'authentication service unavailable')) }, code: 'auth-unavailable', routed: false, checked: false },
  { name: 'port not allowed', script: { check: refusal('port-not-allowed', 'port 25 is not in access_control.connect_ports') }, code: 'port-not-allowed', routed: false, checked: true },
  { name: 'private target', script: { check: refusal('private-target', 'loopback target refused') }, code: 'private-target', routed: false, checked: true },
  { name: 'rate limit', script: { check: refusal('rate-limited', 'rate_limiting.per_ip exceeded', { 'Retry-After': 3 }) }, code: 'rate-limited', routed: false, checked: true },
  { name: 'no rule', script: { resolution: { ok: false, reason: 'no routing rule matches example.com' } }, code: 'no-route', routed: false, checked: true },
  { name: 'every backend unhealthy', script: { resolution: { ok: false, rule: 'pool', reason: 'every backend of rule "pool" is unhealthy', unhealthy: true } }, code: 'backend-unhealthy', routed: false, checked: true },
  { name: 'group ACL', script: { auth: ok(), acl: refusal('acl-denied', 'user "alice" may not use backend "direct"') }, code: 'acl-denied', routed: false, checked: true },
  { name: 'backend full', script: { slot: refusal('backend-limit', 'max_connections_per_backend (1) reached') }, code: 'backend-limit', routed: true, checked: true },
];

test('every refusal path stops admission where it should', async () => {
  for (const path of PATHS) {
    for (const [kind, protocol] of [['tunnel', 'connect'], ['http-request', 'http']] as const) {
      const { ctx, asked } = fakes(path.script);
      const request = new TestRequest(kind, protocol);
      request.via = path.via;
      await run(request, ctx);
      const label = `${path.name} (${protocol})`;
      assert.equal((request.outcome as Refusal).code, path.code, label);
      assert.equal(asked.routed.length > 0, path.routed, `${label}: start published`);
      assert.equal(asked.checks.length > 0, path.checked, `${label}: request checked`);
      if (path.code === 'via-loop') assert.equal(asked.loops.length, 1, `${label}: reported as a loop`);
    }
  }
});

/** A client socket that keeps what is written to it. */
function fakeSocket(): Socket & { written: string } {
  const socket = { destroyed: false, written: '', once: () => socket, on: () => socket, end: (data: string | Buffer) => ((socket.written = Buffer.isBuffer(data) ? data.toString('hex') : data), socket) };
  return socket as unknown as Socket & { written: string };
}

/** A ServerResponse that keeps the head and body written to it. */
function fakeResponse(): ServerResponse & { head?: [number, Record<string, string | number>]; body?: string } {
  const res = { headersSent: false, writeHead: (status: number, headers: Record<string, string | number>) => (res.head = [status, headers]), end: (body: string) => (res.body = body) } as { headersSent: boolean; head?: [number, Record<string, string | number>]; body?: string };
  return res as unknown as ServerResponse & { head?: [number, Record<string, string | number>]; body?: string };
}

test('each refusal path is answered in every protocol from the table: raw HTTP, forwarded HTTP, SOCKS5', async () => {
  const expected: Record<string, [string, string | undefined, string]> = {
    'via-loop': ['508 Loop Detected', 'proxy_loop_detected', '02'],
    'auth-required': ['407 Proxy Authentication Required', undefined, '02'],
    'auth-failed': ['407 Proxy Authentication Required', undefined, '02'],
    'auth-forbidden': ['403 Forbidden', undefined, '02'],
    'auth-throttled': ['429 Too Many Requests', undefined, '02'],
    'auth-unavailable': ['503 Service Unavailable', undefined, '01'],
    'port-not-allowed': ['403 Forbidden', 'http_request_denied', '02'],
    'private-target': ['403 Forbidden', 'destination_ip_prohibited', '02'],
    'rate-limited': ['429 Too Many Requests', undefined, '02'],
    'no-route': ['403 Forbidden', 'destination_ip_prohibited', '02'],
    'backend-unhealthy': ['502 Bad Gateway', 'destination_unavailable', '04'],
    'acl-denied': ['403 Forbidden', 'http_request_denied', '02'],
    'backend-limit': ['503 Service Unavailable', 'connection_limit_reached', '01'],
  };
  const ended: ConnectionRecord[] = [];
  const ctx = { end: (rec: ConnectionRecord) => ended.push(rec) };
  for (const path of PATHS) {
    const request = new TestRequest('tunnel', 'connect');
    request.via = path.via;
    await run(request, fakes(path.script).ctx);
    const refused = request.outcome as Refusal;
    const [statusLine, proxyStatus, socks] = expected[refused.code];

    const raw = fakeSocket();
    const rawRecord = record('connect');
    answerRaw(ctx, rawRecord, raw, refused);
    assert.ok(raw.written.startsWith(`HTTP/1.1 ${statusLine}\r\n`), `${path.name}: raw status line`);
    assert.equal(raw.written.includes('Proxy-Status:'), proxyStatus !== undefined, `${path.name}: raw Proxy-Status`);
    if (proxyStatus) assert.ok(raw.written.includes(`Proxy-Status: simple-proxy; error=${proxyStatus}\r\n`), path.name);
    for (const [name, value] of Object.entries(refused.headers ?? {})) assert.ok(raw.written.includes(`${name}: ${value}\r\n`), `${path.name}: ${name}`);
    assert.ok(raw.written.endsWith(`\r\n\r\n${refused.reason}\n`), `${path.name}: the reason is the body`);
    assert.equal(rawRecord.status, Number(statusLine.slice(0, 3)));

    const res = fakeResponse();
    const resRecord = record('http');
    answerResponse(res, resRecord, refused);
    assert.equal(res.head?.[0], Number(statusLine.slice(0, 3)), `${path.name}: response status`);
    assert.equal(res.head?.[1]['proxy-status'], proxyStatus && `simple-proxy; error=${proxyStatus}`, `${path.name}: response Proxy-Status`);
    for (const [name, value] of Object.entries(refused.headers ?? {})) assert.equal(res.head?.[1][name.toLowerCase()], value, `${path.name}: ${name}`);
    assert.equal(res.body, `${refused.reason}\n`);

    const socket = fakeSocket();
    const socksRecord = record('socks5');
    answerSocks(ctx, socksRecord, socket, refused);
    assert.equal(socket.written, `05${socks}0001000000000000`, `${path.name}: SOCKS5 reply`);
    assert.equal(socksRecord.status, Number.parseInt(socks, 16));
    assert.equal(socksRecord.error, rawRecord.error, `${path.name}: one log reason whatever the protocol`);
  }
  const gone = fakeSocket();
  (gone as { destroyed: boolean }).destroyed = true;
  const goneRecord = record('socks5');
  answerSocks(ctx, goneRecord, gone, refusal('no-route', 'no routing rule matches example.com'));
  assert.deepEqual([gone.written, ended.at(-1), goneRecord.error], ['', goneRecord, 'no-route'], 'a client already gone gets no answer; its record ends at once');
});
