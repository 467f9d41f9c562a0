import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { hash } from '@node-rs/bcrypt';
import { z } from 'zod';
import { API, routePath, type RouteName } from '../../src/control/api.js';
import { curlVia, httpPort, okOrigin, sandbox } from './cli-harness.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';

interface Raw {
  status: number;
  contentType: string;
  text: string;
}

/** One request on the control socket, as any HTTP client sends it; streams are read until `lines` lines came. */
function raw(socket: string, name: RouteName, args: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown } = {}, lines = 0): Promise<Raw> {
  const spec = API[name];
  const path = `${routePath(spec, args.params)}${args.query ? `?${new URLSearchParams(args.query)}` : ''}`;
  const payload = args.body === undefined ? undefined : JSON.stringify(args.body);
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method: spec.method, path, headers: payload ? { 'content-type': 'application/json' } : {}, timeout: 30_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      const answer = (): Raw => ({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), text });
      res.on('data', (chunk: string) => {
        text += chunk;
        if (lines > 0 && text.split('\n').length > lines) {
          resolve(answer());
          req.destroy();
        }
      });
      res.on('end', () => resolve(answer()));
    });
    req.on('timeout', () => req.destroy(new Error(`${name}: no answer within 30 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The answer parsed against the route's schema: a field missing, mistyped or not declared in the table fails here. */
function checked(name: RouteName, answer: Raw): unknown {
  assert.equal(answer.status, 200, `${name}: ${answer.text}`);
  const spec = API[name];
  if (spec.answer === 'text') {
    assert.match(answer.contentType, /^text\/plain/, name);
    return answer.text;
  }
  if (spec.answer === 'stream') {
    const events = answer.text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);
    for (const event of events) {
      const parsed = (spec.event as z.ZodType).safeParse(event);
      assert.ok(parsed.success, `${name}: ${JSON.stringify(event)}\n${parsed.error?.message}`);
    }
    return events;
  }
  const parsed = spec.answer.safeParse(JSON.parse(answer.text));
  assert.ok(parsed.success, `${name} does not match its schema: ${parsed.error?.message}\n${answer.text}`);
  return parsed.data;
}

test('every route of the control API answers what its schema in the route table says (server role)', { timeout: 120_000 }, async (t) => {
  const origin = await okOrigin();
  t.after(() => origin.server.close());
  const box = sandbox(`server:\n  http_port: 0\n  socks5_port: 0\n  workers: 1\n  auth:\n    mode: native\n${TRUSTED_LOOPBACK_YAML}debug:\n  enabled: true\n  log_headers: true\n  log_body: true\n  log_file: traffic.log\n  mitm: { enabled: false }\nrule_sets:\n  - { name: ads, path: ads.txt, format: hosts }\nbackends:\n  - { name: direct, type: direct, health_check: { type: tcp, target: "127.0.0.1:${origin.port}", interval: 1s } }\nrules:\n  - { name: Default, match: { domains: ["*"] }, backend: direct }\n`);
  t.after(() => box.cleanup());
  writeFileSync(join(box.dir, 'ads.txt'), '0.0.0.0 ads.example\n');
  assert.equal((await box.cli(['start'])).code, 0);
  const status = await box.status();
  const socket = (status as unknown as { socket: string }).socket;
  const call = (name: RouteName, args?: Parameters<typeof raw>[2], lines?: number): Promise<unknown> => raw(socket, name, args, lines).then((answer) => checked(name, answer));
  const password_hash = await hash('pw-contract', 4);
  const userAdd = await call('userAdd', { body: { username: 'alice', password_hash, groups: ['staff'] } });
  assert.equal((userAdd as { ok: boolean }).ok, true);
  const proxied = await new Promise<string>((done) => {
    curlVia(httpPort(status), `http://alice:pw-contract@127.0.0.1:${origin.port}/seen`).then(done);
  });
  assert.match(proxied, /407|200/);

  // Every route, by name: a route added to the table without a case here fails to compile.
  const cases: Record<RouteName, () => Promise<unknown>> = {
    metrics: () => call('metrics'),
    events: () => call('events', {}, 1),
    status: () => call('status'),
    stats: () => call('stats'),
    clients: () => call('clients'),
    config: () => call('config'),
    reload: () => call('reload', { query: { dry_run: '1' } }),
    debugStatus: () => call('debugStatus'),
    debugEnable: () => call('debugEnable'),
    debugDisable: () => call('debugDisable'),
    debugMitmEnable: () => call('debugMitmEnable'),
    debugMitmDisable: () => call('debugMitmDisable'),
    debugTraffic: () => call('debugTraffic', { query: { limit: '10' } }),
    debugTrafficStream: () => call('debugTrafficStream', {}, 1),
    debugRecord: async () => {
      const { records } = (await call('debugTraffic')) as { records: { id: string }[] };
      assert.ok(records.length > 0, 'the proxied request was recorded');
      return call('debugRecord', { params: { id: records[0].id } });
    },
    debugReplay: async () => {
      const { records } = (await call('debugTraffic')) as { records: { id: string; method: string }[] };
      const get = records.find((r) => r.method === 'GET');
      assert.ok(get, 'a GET was recorded');
      return call('debugReplay', { body: { id: get.id, backend: 'direct' } });
    },
    debugClear: () => call('debugClear'),
    debugStats: () => call('debugStats'),
    backends: () => call('backends'),
    backendAdd: () => call('backendAdd', { body: { name: 'extra', type: 'http', address: '127.0.0.1:3128', username: 'u', password: 'p' } }),
    backendTest: () => call('backendTest', { params: { name: 'direct' }, body: { target: `127.0.0.1:${origin.port}` } }),
    backendHealth: () => call('backendHealth', { params: { name: 'direct' } }),
    rules: () => call('rules'),
    ruleTest: () => call('ruleTest', { query: { domain: 'a.test', ip: '127.0.0.1', port: '443', protocol: 'connect', client: '127.0.0.1', user: 'alice' } }),
    ruleSets: () => call('ruleSets'),
    ruleSetTest: () => call('ruleSetTest', { query: { name: 'ads', host: 'ads.example' } }),
    ruleAdd: () => call('ruleAdd', { body: { name: 'a', domains: ['a.test'], match: { ports: [443], not: { source_cidr: ['10.0.0.0/8'] } }, backend: 'extra' } }),
    ruleUpdate: async () => {
      const { rules } = (await call('rules')) as { rules: { name: string; match?: unknown }[] };
      assert.ok(rules.find((r) => r.name === 'a')?.match, 'the rules list carries the match keys');
      return call('ruleUpdate', { params: { name: 'a' }, body: { domains: ['b.test'] } });
    },
    ruleReorder: () => call('ruleReorder', { body: { order: ['Default', 'a'], allow_shadowed: true } }),
    ruleRemove: () => call('ruleRemove', { params: { name: 'a' } }),
    backendRemove: () => call('backendRemove', { params: { name: 'extra' } }),
    users: () => call('users'),
    userPassword: () => call('userPassword', { params: { name: 'alice' }, body: { password_hash } }),
    userGroups: () => call('userGroups', { params: { name: 'alice' }, body: { add: ['ops'] } }),
    userRemove: () => call('userRemove', { params: { name: 'alice' } }),
    userAdd: async () => userAdd,
    connections: () => call('connections', { query: { backend: 'direct' } }),
    connectionsClose: () => call('connectionsClose', { body: { backend: 'direct' } }),
    keyAdd: () => call('keyAdd', { body: { role: 'viewer', expires: new Date(Date.now() + 3_600_000).toISOString() } }),
    keys: () => call('keys'),
    keyRevoke: async () => {
      const { keys } = (await call('keys')) as { keys: { id: string }[] };
      return call('keyRevoke', { params: { id: keys[0].id } });
    },
    audit: () => call('audit', { query: { lines: '100' } }),
    stop: () => call('stop'),
  };
  // The order above matters (a rule is added before it is updated, stop comes last): run in it.
  for (const [name, run] of Object.entries(cases)) await t.test(name, () => run().then(() => undefined));
  assert.deepEqual(new Set(Object.keys(cases)), new Set(Object.keys(API)));
});

test('the client role answers what the route table says too: its status carries the server link', { timeout: 120_000 }, async (t) => {
  const box = sandbox('client:\n  http_port: 0\n  socks5_port: 0\n  workers: 1\nserver:\n  address: "127.0.0.1:9"\n  protocol: http\nrules:\n  - { name: all, match: { domains: ["*"] }, action: server }\n', 'client');
  t.after(() => box.cleanup());
  assert.equal((await box.cli(['start'])).code, 0);
  const socket = ((await box.status()) as unknown as { socket: string }).socket;
  const call = (name: RouteName, args?: Parameters<typeof raw>[2]): Promise<unknown> => raw(socket, name, args).then((answer) => checked(name, answer));
  const status = (await call('status')) as { server?: { address: string } | null };
  assert.equal(status.server?.address, '127.0.0.1:9');
  for (const name of ['stats', 'backends', 'rules', 'debugStatus', 'debugStats'] as const) await call(name);
  await call('ruleTest', { query: { domain: 'example.com' } });
});
