import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as h2Connect, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { h1HeadSize } from '../../../src/mitm/h1-head-size.js';
import type { ConnectionRecord } from '../../../src/protocol/connection-record.js';
import { startIntercepting, type Intercepting } from './mitm-fixture.js';
import { startOrigin, type Origin } from '../../helpers/https-origin.js';
import { run, waitFor } from '../../helpers/run.js';

const HINT = '</style.css>; rel=preload; as=style';
/** `HTTP/1.1 200 Connection Established\r\n\r\n`, which curl counts in its header size. */
const CONNECT_ANSWER = 39;

/**
 * An origin answering /hints (103 Early Hints, then a page), /sized/N (N bytes) and /upload (the
 * length it read); a request expecting 100 Continue gets the origin's own 100, or at /refuse a
 * final 417 with the body never read.
 */
async function origin(t: TestContext): Promise<Origin> {
  const dir = mkdtempSync(join(tmpdir(), 'mitm-h2-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const site = await startOrigin(dir, (req, res) => {
    const url = req.url ?? '/';
    let length = 0;
    req.on('data', (chunk: Buffer) => (length += chunk.length));
    req.on('end', () => {
      if (url === '/hints') res.writeEarlyHints({ link: HINT });
      res.setHeader('content-type', 'text/plain');
      if (url.startsWith('/sized/')) return void res.end('s'.repeat(Number.parseInt(url.slice('/sized/'.length), 10)));
      res.end(`read ${length}`);
    });
  });
  site.server.on('checkContinue', (req, res) => {
    if (req.url === '/refuse') return void res.writeHead(417, { 'content-type': 'text/plain' }).end('no');
    res.writeContinue();
    site.server.emit('request', req, res);
  });
  t.after(() => site.server.close());
  return site;
}

/** An HTTP/2 session to the origin through a CONNECT tunnel of the intercepting proxy, trusting its CA. */
async function sessionThrough(t: TestContext, mitm: Intercepting, port: number): Promise<ClientHttp2Session> {
  const raw = netConnect(mitm.run.http.port, '127.0.0.1');
  await once(raw, 'connect');
  raw.write(`CONNECT localhost:${port} HTTP/1.1\r\nHost: localhost:${port}\r\n\r\n`);
  const [head] = (await once(raw, 'data')) as [Buffer];
  assert.match(head.toString('latin1'), /^HTTP\/1.1 200 /);
  const session = h2Connect(`https://localhost:${port}`, { createConnection: () => tlsConnect({ socket: raw, servername: 'localhost', ca: readFileSync(mitm.ca), ALPNProtocols: ['h2'] }) });
  t.after(() => session.destroy());
  await once(session, 'connect');
  return session;
}

/** What an HTTP/2 client got for one request: its 1xx heads, whether it heard 100, the final head and the body. */
interface Exchange {
  interim: IncomingHttpHeaders[];
  continued: boolean;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request on the session; with `expectContinue` the body is sent only after a 100. */
function exchange(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: Buffer, expectContinue = false): Promise<Exchange> {
  const stream = session.request({ ...headers, ...(expectContinue ? { expect: '100-continue' } : {}) }, { endStream: body === undefined });
  const got: Exchange = { interim: [], continued: false, headers: {}, body: Buffer.alloc(0) };
  if (body !== undefined && !expectContinue) stream.end(body);
  stream.on('continue', () => {
    got.continued = true;
    stream.end(body);
  });
  stream.on('headers', (interim: IncomingHttpHeaders) => got.interim.push(interim));
  stream.on('response', (final: IncomingHttpHeaders) => {
    got.headers = final;
    // A final answer instead of 100: the body is never sent.
    if (expectContinue && !got.continued) stream.end();
  });
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.once('end', () => resolve({ ...got, body: Buffer.concat(chunks) }));
  });
}

/** A head's fields as a flat list without pseudo-headers, as the client received them. */
function fields(headers: IncomingHttpHeaders): string[] {
  const flat: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) flat.push(name, String(v));
  }
  return flat;
}

const recordOf = (mitm: Intercepting, path: string): Promise<ConnectionRecord> =>
  waitFor(`the record of ${path}`, () => mitm.run.records.find((r) => r.protocol === 'http' && r.path === path && r.tls?.decrypted === true));

test('HTTP/2 clients get the origin\'s 1xx answers: 103 Early Hints, its 100 Continue, and its final answer instead of 100', { timeout: 60_000 }, async (t) => {
  const site = await origin(t);
  const mitm = await startIntercepting(site.files.ca);
  t.after(() => mitm.close());
  const session = await sessionThrough(t, mitm, site.port);

  const hinted = await exchange(session, { ':path': '/hints' });
  assert.equal(hinted.headers[':status'], 200);
  assert.deepEqual(hinted.interim.map((h) => [h[':status'], h.link]), [[103, HINT]], 'the early hints reach the HTTP/2 client before the answer');

  const upload = Buffer.alloc(70_000, 7);
  const continued = await exchange(session, { ':method': 'POST', ':path': '/continue', 'content-length': String(upload.length) }, upload, true);
  assert.equal(continued.continued, true, 'the client heard 100 Continue');
  assert.equal(continued.body.toString(), `read ${upload.length}`);

  const refused = await exchange(session, { ':method': 'POST', ':path': '/refuse', 'content-length': String(upload.length) }, upload, true);
  assert.equal(refused.headers[':status'], 417, 'the origin\'s final answer, not a 100 of the proxy\'s own');
  assert.equal(refused.continued, false, 'no 100 reached the client: its body stayed unsent');

  const viaCurl = await run('curl', ['-sS', '--http2', '--proxy', mitm.proxy, '--cacert', mitm.ca, '-D', '-', '-o', '/dev/null', `https://localhost:${site.port}/hints`]);
  assert.equal(viaCurl.code, 0, viaCurl.stderr);
  assert.match(viaCurl.stdout, /HTTP\/2 103 \r\nlink: <\/style.css>; rel=preload; as=style\r\n\r\nHTTP\/2 200 /);
});

test('an HTTP/2 request\'s byte counts are its own stream\'s, as the client received and sent them, with concurrent streams on one connection', { timeout: 60_000 }, async (t) => {
  const site = await origin(t);
  const mitm = await startIntercepting(site.files.ca);
  t.after(() => mitm.close());
  const session = await sessionThrough(t, mitm, site.port);
  const upload = Buffer.alloc(90_000, 3);
  const requests: [OutgoingHttpHeaders, Buffer?][] = [
    [{ ':path': '/sized/100000' }],
    [{ ':path': '/sized/10', 'x-note': 'small' }],
    [{ ':method': 'POST', ':path': '/upload', 'content-type': 'application/octet-stream', 'content-length': String(upload.length) }, upload],
    [{ ':path': '/hints' }],
  ];
  const answers = await Promise.all(requests.map(([headers, body]) => exchange(session, headers, body)));
  for (const [i, [headers, body]] of requests.entries()) {
    const path = String(headers[':path']);
    const record = await recordOf(mitm, path);
    const got = answers[i];
    const received = got.interim.reduce((sum, h) => sum + h1HeadSize(fields(h), Number(h[':status'])), 0) + h1HeadSize(fields(got.headers), Number(got.headers[':status'])) + got.body.length;
    assert.equal(record.bytesOut, received, `${path}: bytes out are the heads and body this client received`);
    const sentHead = `${String(headers[':method'] ?? 'GET')} ${path} HTTP/2\r\n`.length + h1HeadSize(fields(headers as IncomingHttpHeaders)) + `host: localhost:${site.port}\r\n`.length;
    assert.equal(record.bytesIn, sentHead + (body?.length ?? 0), `${path}: bytes in are the head and body this client sent`);
  }

  const viaCurl = await run('curl', ['-sS', '--http2', '--proxy', mitm.proxy, '--cacert', mitm.ca, '-o', '/dev/null', '-w', '%{size_header} %{size_download}', `https://localhost:${site.port}/sized/5000?curl`]);
  assert.equal(viaCurl.code, 0, viaCurl.stderr);
  const [headerSize, bodySize] = viaCurl.stdout.split(' ').map(Number);
  const record = await recordOf(mitm, '/sized/5000?curl');
  assert.equal(record.bytesOut, headerSize - CONNECT_ANSWER + bodySize, 'what curl counts for the answer (without the CONNECT answer)');
});
