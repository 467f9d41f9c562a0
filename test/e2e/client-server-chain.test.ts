import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import { join } from 'node:path';
import { hashPassword } from '../../src/auth/native-provider.js';
import { makeTlsFiles, type TlsFiles } from '../helpers/tls-files.js';
import { filesUnder, sandbox, type Sandbox } from './cli-harness.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';

const USER = 'alice';
const PASSWORD = 'chain-Secret-7q';
const WRONG = 'not-the-Secret-9z';

/** What curl printed and how it ended. */
interface CurlResult {
  code: number;
  status: string;
  body: string;
  stderr: string;
}

/** Runs curl (bounded) and returns the status code it saw, the body and its error text. */
function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve) =>
    execFile('curl', ['-sS', '--max-time', '10', '-w', '\n%{http_code}', ...args], { timeout: 15_000 }, (error, stdout, stderr) => {
      const cut = stdout.lastIndexOf('\n');
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, status: stdout.slice(cut + 1), body: stdout.slice(0, cut), stderr });
    }),
  );
}

/** Starts a server on a free loopback port and returns the port. */
async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** An origin's handler answering with what it saw: its scheme, the path and the Via chain. */
const answer = (scheme: string) => (req: IncomingMessage, res: ServerResponse) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ scheme, path: req.url, via: req.headers.via ?? null }));
};

/** Waits (bounded) until `pattern` occurs `count` times in a file the daemon writes; returns the text. */
async function waitForText(path: string, pattern: RegExp, count = 1, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const global = new RegExp(pattern.source, 'g');
  for (;;) {
    const text = readFileSync(path, { encoding: 'utf8', flag: 'a+' });
    if ((text.match(global)?.length ?? 0) >= count || Date.now() > deadline) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts a sandbox's daemon and returns its listener ports. */
async function start(box: Sandbox): Promise<{ http: number; socks: number }> {
  const started = await box.cli(['start']);
  assert.equal(started.code, 0, started.stderr + started.stdout);
  const status = await box.status();
  return { http: status.listeners.find((l) => l.kind === 'http')!.port, socks: status.listeners.find((l) => l.kind === 'socks5')!.port };
}

/** A server role requiring native auth, logging access and traffic (with headers) to files. */
function serverConfig(hash: string, tls: TlsFiles | null): string {
  return `server:
  http_port: 0
  socks5_port: 0
  workers: 1
  log_level: debug
${tls ? `  tls: { cert_file: "${tls.cert}", key_file: "${tls.key}" }\n` : ''}  auth:
    mode: native
    native:
      users:
        - username: ${USER}
          password_hash: "${hash}"
${TRUSTED_LOOPBACK_YAML}access_log:
  enabled: true
  output: file
  file: access.log
debug:
  enabled: true
  log_headers: true
  log_file: traffic.log
`;
}

/** A client role sending 127.0.0.1 to the server with credentials, everything else direct. */
function clientConfig(protocol: string, serverPort: number, password: string, ca: string | null): string {
  return `client:
  http_port: 0
  socks5_port: 0
  log_level: debug
server:
  address: "127.0.0.1:${serverPort}"
  protocol: ${protocol}
  auth:
    enabled: true
    username: ${USER}
    password: "${password}"
${ca ? `  tls:\n    ca_file: "${ca}"\n` : ''}debug:
  enabled: true
  log_headers: true
  log_file: traffic.log
rules:
  - name: via server
    match: { domains: ["127.0.0.1"] }
    action: server
  - name: everything else direct
    match: { domains: ["*"] }
    action: direct
`;
}

for (const protocol of ['http', 'https', 'socks5'] as const) {
  test(`client daemon -> server daemon (${protocol}, native auth) -> origin; direct rules skip the server; wrong credentials are refused clearly`, { timeout: 180_000 }, async (t) => {
    const serverBox = sandbox('');
    t.after(() => serverBox.cleanup());
    const tls = makeTlsFiles(serverBox.dir);
    writeFileSync(serverBox.config, serverConfig(await hashPassword(PASSWORD), protocol === 'https' ? tls : null));
    const server = await start(serverBox);
    const serverPort = protocol === 'socks5' ? server.socks : server.http;

    const clientBox = sandbox(clientConfig(protocol, serverPort, PASSWORD, protocol === 'https' ? tls.ca : null), 'client');
    t.after(() => clientBox.cleanup());
    const client = await start(clientBox);

    const plainOrigin = createServer(answer('http'));
    const tlsOrigin = createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, answer('https'));
    const plainPort = await listen(plainOrigin);
    const tlsPort = await listen(tlsOrigin);
    t.after(() => (plainOrigin.close(), tlsOrigin.close()));

    const viaHttp = ['-x', `http://127.0.0.1:${client.http}`];
    const viaSocks = ['--socks5-hostname', `127.0.0.1:${client.socks}`];
    const trustOrigin = ['--cacert', tls.ca];
    const cases = [
      { name: 'plain HTTP via the HTTP listener', args: [...viaHttp, `http://127.0.0.1:${plainPort}/p1`], path: '/p1', scheme: 'http' },
      { name: 'HTTPS (CONNECT) via the HTTP listener', args: [...viaHttp, ...trustOrigin, `https://127.0.0.1:${tlsPort}/p2`], path: '/p2', scheme: 'https' },
      { name: 'plain HTTP via the SOCKS5 listener', args: [...viaSocks, `http://127.0.0.1:${plainPort}/p3`], path: '/p3', scheme: 'http' },
      { name: 'HTTPS via the SOCKS5 listener', args: [...viaSocks, ...trustOrigin, `https://127.0.0.1:${tlsPort}/p4`], path: '/p4', scheme: 'https' },
    ];
    for (const c of cases) {
      const result = await curl(c.args);
      assert.equal(result.status, '200', `${c.name}: ${result.stderr}${result.body}`);
      const seen = JSON.parse(result.body) as { scheme: string; path: string; via: string | null };
      assert.equal(seen.path, c.path, c.name);
      assert.equal(seen.scheme, c.scheme, c.name);
    }
    // Plain HTTP over an HTTP(S) hop is forwarded by both daemons, each adding its Via.
    const forwarded = JSON.parse((await curl([...viaHttp, `http://127.0.0.1:${plainPort}/via`])).body) as { via: string };
    assert.equal(forwarded.via.match(/simple-proxy-\w+/g)?.length, protocol === 'socks5' ? 1 : 2, `Via: ${forwarded.via}`);

    // The server saw the user on every one of them: its access log names alice for each path and tunnel.
    const accessLog = join(serverBox.dir, 'access.log');
    // Over SOCKS5 the client's plain-HTTP requests share one pooled tunnel, which ends when the origin's keep-alive does.
    const expected = protocol === 'socks5' ? cases.length : cases.length + 1;
    const logged = await waitForText(accessLog, /\n/, expected, 15_000);
    const entries = logged.trim().split('\n').map((line) => JSON.parse(line) as { username: string | null; host: string; path: string | null; status: number });
    assert.equal(entries.length, expected, logged);
    assert.ok(entries.every((e) => e.username === USER && e.host === '127.0.0.1'), logged);
    if (protocol !== 'socks5') {
      assert.deepEqual(entries.filter((e) => e.path !== null).map((e) => e.path).sort(), ['/p1', '/via']);
    }

    // A name the client's rules send direct never reaches the server (counted at the server's backend: the client's light check connects to the server, never through it).
    const carried = async (): Promise<number> => ((await serverBox.status()).backends as { name: string; connections: { total: number } }[]).find((b) => b.name === 'direct')!.connections.total;
    const before = await carried();
    for (const args of [[...viaHttp, `http://localhost:${plainPort}/direct`], [...viaSocks, `http://localhost:${plainPort}/direct`], [...viaHttp, ...trustOrigin, `https://localhost:${tlsPort}/direct`]]) {
      const direct = await curl(args);
      assert.equal(direct.status, '200', direct.stderr + direct.body);
      const via = String(JSON.parse(direct.body).via);
      assert.ok(via === 'null' || via.match(/simple-proxy-\w+/g)?.length === 1, `Via: ${via}`);
    }
    assert.equal(await carried(), before, 'direct traffic opened no connection through the server');
    const clientTraffic = await waitForText(join(clientBox.dir, 'traffic.log'), /host=localhost[^\n]*route=direct/);
    assert.match(clientTraffic, /host=localhost:\d+ path=\/direct [^\n]*route=direct/);
    assert.match(clientTraffic, /host=127\.0\.0\.1:\d+ path=\/p1 [^\n]*route=server/);

    // Wrong credentials in the client's config: hot-reloaded, then every way in is refused with a reason.
    writeFileSync(clientBox.config, clientConfig(protocol, serverPort, WRONG, protocol === 'https' ? tls.ca : null));
    const reload = await clientBox.cli(['config', 'reload']);
    assert.equal(reload.code, 0, reload.stderr + reload.stdout);
    const reason = protocol === 'socks5' ? /SOCKS5 authentication failed/ : /proxy authentication required \(407\)/;
    const plain = await curl([...viaHttp, `http://127.0.0.1:${plainPort}/denied`]);
    assert.equal(plain.status, '502', `plain HTTP: ${plain.body}`);
    assert.match(plain.body, reason);
    const tunnel = await curl(['-v', ...viaHttp, ...trustOrigin, `https://127.0.0.1:${tlsPort}/denied`]);
    assert.notEqual(tunnel.code, 0);
    assert.match(tunnel.stderr, /< HTTP\/1\.1 502/, tunnel.stderr);
    const socks = await curl([...viaSocks, `http://127.0.0.1:${plainPort}/denied`]);
    assert.notEqual(socks.code, 0);
    // SOCKS5 has no room for a reason: general failure (0x01).
    assert.match(socks.stderr, /Can't complete SOCKS5 connection to 127\.0\.0\.1\. \(1\)/, socks.stderr);
    const refusals = await waitForText(join(clientBox.dir, 'traffic.log'), /error=upstream-auth/, 3);
    assert.equal(refusals.match(/error=upstream-auth/g)?.length, 3, refusals);

    // Both daemons say so in their own logs: the client that its server refused it (once, not per request), the server who failed to log in.
    const clientLog = await waitForText(join(clientBox.dir, 'state', 'client', 'daemon.log'), /refused this proxy's credentials/);
    assert.match(clientLog, /warn the upstream of backend "server" refused this proxy's credentials \(user "alice"\): upstream 127\.0\.0\.1:\d+: [^\n]*; check the username and password of server\.auth in the client config\n/);
    assert.match(clientLog, reason);
    assert.equal(clientLog.match(/refused this proxy's credentials/g)?.length, 1, 'once a minute per backend, not once per request');
    const failedLogin = new RegExp(`info refused: failed login: wrong password scope=auth client=127\\.0\\.0\\.1 protocol=${protocol === 'socks5' ? 'socks5' : 'http'} user=${USER} mode=native\n`, 'g');
    const serverLog = await waitForText(join(serverBox.dir, 'state', 'server', 'daemon.log'), failedLogin, 3);
    assert.equal(serverLog.match(failedLogin)?.length, 3, serverLog);

    // No daemon wrote either password (nor the Basic token made of it) to any file of its own.
    const secrets = [PASSWORD, WRONG, Buffer.from(`${USER}:${PASSWORD}`).toString('base64'), Buffer.from(`${USER}:${WRONG}`).toString('base64')];
    for (const file of [...filesUnder(serverBox.dir), ...filesUnder(clientBox.dir)].filter((f) => f !== clientBox.config)) {
      const text = readFileSync(file, 'latin1');
      for (const secret of secrets) assert.ok(!text.includes(secret), `${file} holds a credential`);
    }
    assert.ok(!reload.stdout.includes(WRONG) && !reload.stderr.includes(WRONG), 'reload output holds the password');
  });
}
