import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { BackendSpec } from '../../src/config/model.js';
import { peerUnavailable, startPeer } from '../helpers/peers.js';
import { startEngine, snapshot } from './proxy/engine-fixture.js';
import { echoOrigin } from './proxy/raw-peers.js';

const run = promisify(execFile);
const curl = async (...args: string[]): Promise<string> => (await run('curl', ['-sS', '--max-time', '15', ...args])).stdout;

const CASES: { peer: 'tinyproxy' | 'squid' | 'microsocks' | 'dante'; type: 'http' | 'socks5'; auth?: boolean }[] = [
  { peer: 'tinyproxy', type: 'http' },
  { peer: 'tinyproxy', type: 'http', auth: true },
  { peer: 'squid', type: 'http' },
  { peer: 'microsocks', type: 'socks5' },
  { peer: 'microsocks', type: 'socks5', auth: true },
  { peer: 'dante', type: 'socks5' },
];

for (const c of CASES) {
  test(`interop: ${c.peer} as the ${c.type} upstream${c.auth ? ' with username/password' : ''}, driven by curl`, { timeout: 60_000 }, async (t) => {
    const why = peerUnavailable(c.peer);
    if (why) return t.skip(why);
    const credentials = c.auth ? { username: 'proxyuser', password: 'pr0xy-pass' } : undefined;
    const peer = await startPeer(c.peer, credentials);
    t.after(() => peer.stop());
    const origin = await echoOrigin();
    t.after(() => origin.close());
    const backend: BackendSpec = { name: c.peer, type: c.type, host: peer.host, port: peer.port, auth: credentials };
    const proxy = await startEngine(snapshot([backend]));
    t.after(() => proxy.stop());
    const url = `http://127.0.0.1:${origin.port}`;
    const http = `http://127.0.0.1:${proxy.http.port}`;
    const socks = `127.0.0.1:${proxy.socks.port}`;

    assert.equal(JSON.parse(await curl('-x', http, `${url}/plain`)).url, '/plain');
    assert.equal(JSON.parse(await curl('-x', http, '--proxytunnel', `${url}/tunnel`)).url, '/tunnel');
    assert.equal(JSON.parse(await curl('--socks5', socks, `${url}/socks`)).url, '/socks');
    assert.equal(JSON.parse(await curl('--socks5-hostname', socks, `${url}/socks-hostname`)).url, '/socks-hostname');
    const viaHeaders = origin.seen.map((h) => String(h.via ?? ''));
    if (c.peer === 'squid') assert.ok(viaHeaders.some((v) => v.includes('test-squid')), `squid carried the plain request (Via: ${viaHeaders.join(' | ')})`);
    if (c.peer === 'tinyproxy') assert.ok(viaHeaders.some((v) => /tinyproxy/i.test(v)), `tinyproxy carried the plain request (Via: ${viaHeaders.join(' | ')})`);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(proxy.records.length >= 4 && proxy.records.every((r) => r.backend === c.peer && !r.error), 'every request went through the upstream');
  });
}

test('interop: wrong upstream credentials are reported, never bypassed', { timeout: 60_000 }, async (t) => {
  const why = peerUnavailable('tinyproxy') ?? peerUnavailable('microsocks');
  if (why) return t.skip(why);
  const tiny = await startPeer('tinyproxy', { username: 'a', password: 'right' });
  t.after(() => tiny.stop());
  const micro = await startPeer('microsocks', { username: 'a', password: 'right' });
  t.after(() => micro.stop());
  const origin = await echoOrigin();
  t.after(() => origin.close());
  const proxy = await startEngine(
    snapshot(
      [
        { name: 'tiny', type: 'http', host: tiny.host, port: tiny.port, auth: { username: 'a', password: 'wrong' } },
        { name: 'micro', type: 'socks5', host: micro.host, port: micro.port, auth: { username: 'a', password: 'wrong' } },
      ],
      [
        { name: 'to-tiny', domains: ['127.0.0.1'], backends: [{ name: 'tiny', weight: 1 }] },
        { name: 'to-micro', domains: ['localhost'], backends: [{ name: 'micro', weight: 1 }] },
      ],
    ),
  );
  t.after(() => proxy.stop());
  const http = `http://127.0.0.1:${proxy.http.port}`;
  const tunnel = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_connect}', '--max-time', '15', '-x', http, '--proxytunnel', `http://127.0.0.1:${origin.port}/`]).catch((e: { stdout: string }) => e);
  assert.equal(tunnel.stdout, '502');
  const socksAnswer = await run('curl', ['-s', '-w', '%{http_code}', '--max-time', '15', '-x', http, `http://localhost:${origin.port}/`]);
  assert.match(socksAnswer.stdout, /SOCKS5 authentication failed[^]*502$/);
  assert.equal(origin.seen.length, 0, 'nothing reached the origin');
});
