import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { toHar } from '../../../src/debug/har.js';
import { startIntercepting } from './mitm-fixture.js';
import { startOrigin } from '../../helpers/https-origin.js';
import { run, waitFor } from '../../helpers/run.js';

const missing = ['chromium', 'certutil'].find((tool) => spawnSync('which', [tool]).status !== 0);

const PAGE = `<!doctype html><html><head><title>before</title><link rel="stylesheet" href="/style.css"><script src="/app.js"></script></head>
<body><img src="/pixel.svg"><img src="/after-socket.svg"></body></html>`;
const SCRIPT = `const ws = new WebSocket('wss://' + location.host + '/live');
ws.onopen = () => ws.send('hello from the page');
ws.onmessage = (event) => { document.title = event.data; };`;
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>';

test('headless Chromium with the CA in its NSS database loads a page with subresources and a wss:// WebSocket from an HTTP/2 origin, all decrypted', { skip: missing ? `${missing} is not installed` : false, timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mitm-chromium-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let socketMessage: string | null = null;
  const waiting: (() => void)[] = [];
  const site = await startOrigin(dir, (req, res) => {
    const path = req.url ?? '/';
    const send = (type: string, body: string): void => {
      res.setHeader('content-type', type);
      res.end(body);
    };
    if (path === '/') return send('text/html; charset=utf-8', PAGE);
    if (path === '/app.js') return send('text/javascript', SCRIPT);
    if (path === '/style.css') return send('text/css', 'body { color: #123456 }');
    if (path === '/pixel.svg') return send('image/svg+xml', SVG);
    // Held until the page's WebSocket spoke, so that the page's load event waits for it.
    if (path === '/after-socket.svg') {
      const answer = (): void => send('image/svg+xml', SVG);
      return socketMessage === null ? void waiting.push(answer) : answer();
    }
    res.statusCode = 404;
    res.end();
  });
  t.after(() => site.server.close());
  const sockets = new WebSocketServer({ server: site.server as unknown as Server });
  sockets.on('connection', (socket) =>
    socket.on('message', (data) => {
      socketMessage = String(data);
      socket.send(`origin got: ${socketMessage}`);
      for (const answer of waiting.splice(0)) answer();
    }),
  );
  t.after(() => sockets.close());
  const mitm = await startIntercepting(site.files.ca);
  t.after(() => mitm.close());

  const home = join(dir, 'home');
  mkdirSync(join(home, '.pki', 'nssdb'), { recursive: true });
  const db = `sql:${join(home, '.pki', 'nssdb')}`;
  assert.equal((await run('certutil', ['-d', db, '-N', '--empty-password'])).code, 0);
  const added = await run('certutil', ['-d', db, '-A', '-t', 'C,,', '-n', 'simple-proxy', '-i', mitm.ca]);
  assert.equal(added.code, 0, added.stderr);
  const browser = await run(
    'chromium',
    ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage', `--user-data-dir=${join(dir, 'profile')}`, `--proxy-server=${mitm.proxy}`, '--proxy-bypass-list=<-loopback>', '--dump-dom', `https://localhost:${site.port}/`],
    { HOME: home },
    90_000,
  );
  assert.equal(browser.code, 0, browser.stderr.slice(-2000));
  assert.match(browser.stdout, /<title>origin got: hello from the page<\/title>/, 'the page ran its script and its WebSocket answered');
  assert.equal(socketMessage, 'hello from the page');

  const paths = await waitFor('the decrypted page, subresources and WebSocket', () => {
    const seen = new Set(mitm.run.records.filter((r) => r.tls?.decrypted && r.protocol !== 'connect').map((r) => `${r.protocol} ${r.path}`));
    const wanted = ['http /', 'http /app.js', 'http /style.css', 'http /pixel.svg', 'http /after-socket.svg', 'upgrade /live'];
    return wanted.every((w) => seen.has(w)) ? seen : undefined;
  });
  assert.ok(paths.size >= 6);
  const page = mitm.run.records.find((r) => r.protocol === 'http' && r.path === '/');
  assert.equal(page?.tls?.alpn, 'h2', 'Chromium spoke HTTP/2 to the interception front');
  const har = toHar(await mitm.debug.list(100), 'test');
  const { default: validator } = await import('har-validator');
  await assert.doesNotReject(validator.har(har));
  assert.equal(har.log.entries.find((e) => e.request.url === `https://localhost:${site.port}/app.js`)?.response.content.text, SCRIPT, 'the HAR body is what the origin sent');
});
