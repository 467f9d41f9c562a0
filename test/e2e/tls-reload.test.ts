import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { makeTlsFiles } from '../helpers/tls-files.js';
import { httpPort, sandbox } from './cli-harness.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';

const run = promisify(execFile);

/** The SHA-256 fingerprint of a PEM certificate file. */
const fingerprint = (file: string): string => new X509Certificate(readFileSync(file)).fingerprint256;

/** A TLS connection to the proxy listener, trusting both test CAs. */
async function handshake(port: number, cas: string[]): Promise<TLSSocket> {
  const socket = connect({ host: '127.0.0.1', port, ca: cas.map((ca) => readFileSync(ca)) });
  await once(socket, 'secureConnect');
  return socket;
}

/** Sends a request over an open tunnel and reads the answer's body. */
async function through(socket: TLSSocket, path: string): Promise<string> {
  socket.write(`GET ${path} HTTP/1.1\r\nHost: origin\r\nConnection: keep-alive\r\n\r\n`);
  let seen = '';
  for (;;) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    seen += chunk.toString('latin1');
    const body = /\r\n\r\n(.*)$/s.exec(seen)?.[1];
    if (body !== undefined && body.includes(path)) return body;
  }
}

test('config reload serves a certificate renewed in place on the TLS listener; tunnels open before keep theirs; a renewal whose key does not match is refused and the old one keeps serving', { timeout: 90_000 }, async (t) => {
  const origin = createServer((req, res) => res.end(`origin ${req.url}`));
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  t.after(() => void origin.close());
  const originPort = (origin.address() as { port: number }).port;

  const box = sandbox(`server:\n  http_port: 0\n  socks5_port: 0\n  tls: { cert_file: live.crt, key_file: live.key }\n${TRUSTED_LOOPBACK_YAML}`);
  t.after(() => box.cleanup());
  const [first, renewed] = ['first', 'renewed'].map((name) => {
    mkdirSync(join(box.dir, name));
    return makeTlsFiles(join(box.dir, name));
  });
  const install = (cert: string, key: string): void => {
    copyFileSync(cert, join(box.dir, 'live.crt'));
    copyFileSync(key, join(box.dir, 'live.key'));
  };
  install(first.cert, first.key);
  const started = await box.cli(['start']);
  assert.equal(started.code, 0, started.stderr);
  const port = httpPort(await box.status());
  const cas = [first.ca, renewed.ca];

  const before = await handshake(port, cas);
  t.after(() => void before.destroy());
  assert.equal(before.getPeerX509Certificate()?.fingerprint256, fingerprint(first.cert));
  before.write(`CONNECT 127.0.0.1:${originPort} HTTP/1.1\r\nHost: 127.0.0.1:${originPort}\r\n\r\n`);
  const [established] = (await once(before, 'data')) as [Buffer];
  assert.match(established.toString(), /^HTTP\/1\.1 200/);
  assert.equal(await through(before, '/before-renewal'), 'origin /before-renewal');

  install(renewed.cert, renewed.key);
  const reloaded = await box.cli(['config', 'reload']);
  assert.equal(reloaded.code, 0, reloaded.stderr);
  assert.doesNotMatch(reloaded.stdout + reloaded.stderr, /restart/i, 'a new certificate needs no restart');
  // Several handshakes: with workers each engine process serves the listener, and every one must have it.
  for (let i = 0; i < 6; i++) {
    const after = await handshake(port, cas);
    assert.equal(after.getPeerX509Certificate()?.fingerprint256, fingerprint(renewed.cert), `handshake ${i + 1} after the reload`);
    after.destroy();
  }
  const curl = await run('curl', ['-s', '--max-time', '10', '--proxy', `https://127.0.0.1:${port}`, '--proxy-cacert', renewed.ca, `http://127.0.0.1:${originPort}/curl`]);
  assert.equal(curl.stdout, 'origin /curl', 'curl trusts the renewed certificate through its CA');
  assert.equal(await through(before, '/after-renewal'), 'origin /after-renewal', 'the tunnel opened before the reload goes on');

  // A botched renewal: the first certificate with the renewed key.
  install(first.cert, renewed.key);
  const refused = await box.cli(['config', 'reload']);
  assert.equal(refused.code, 3, refused.stdout + refused.stderr);
  assert.match(refused.stderr, /live\.crt and .*live\.key are not a usable certificate and key/);
  const still = await handshake(port, cas);
  assert.equal(still.getPeerX509Certificate()?.fingerprint256, fingerprint(renewed.cert), 'the last good certificate keeps serving');
  still.destroy();
});

test('start with a TLS certificate that cannot be read is a config error naming the key and the file (exit 3), and nothing listens', { timeout: 60_000 }, async (t) => {
  const box = sandbox('server:\n  http_port: 0\n  socks5_port: 0\n  tls: { cert_file: missing.crt, key_file: missing.key }\n');
  t.after(() => box.cleanup());
  const started = await box.cli(['start']);
  assert.equal(started.code, 3, started.stdout + started.stderr);
  assert.match(started.stderr, new RegExp(`server\\.tls\\.cert_file: cannot read ${join(box.dir, 'missing.crt').replaceAll('.', '\\.')} \\(ENOENT\\)`));
  assert.equal((await box.cli(['status'])).code, 7, 'no daemon was left running');
});
