import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { send } from '../../helpers/fuzz.js';
import { curl, origin } from '../policy/policy-fixture.js';
import { startDaemonProcess } from './daemon-process.js';

/**
 * Inputs the proxy and the control API must refuse, each with the answer it must get: the cases
 * a fuzz run or a campaign ever found mishandled, and classic malformed openings. `npm run fuzz`
 * adds a control request it saw answered 5xx; add an opening that stopped the proxy by hand.
 */
interface Case {
  target: 'http' | 'socks5' | 'control';
  input: string;
  answer: string;
  why: string;
}
const CORPUS = JSON.parse(readFileSync(new URL('./fuzz-corpus.json', import.meta.url), 'utf8')) as Case[];

test(`the fuzz corpus: ${CORPUS.length} refused inputs (HTTP, SOCKS5, control API) get their refusal, and the daemon still serves`, { timeout: 60_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  const daemon = await startDaemonProcess();
  t.after(() => daemon.stop());
  const to = { http: daemon.port, socks5: daemon.socks5, control: daemon.socket };
  for (const c of CORPUS) {
    const answer = (await send(to[c.target], Buffer.from(c.input, 'latin1'), 5000)).toString('latin1');
    assert.match(answer, new RegExp(c.answer), `${c.target}: ${c.why} (${JSON.stringify(c.input.slice(0, 60))})`);
    assert.ok(daemon.alive(), `the daemon survived: ${c.why}`);
  }
  const served = await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${daemon.port}`, `http://127.0.0.1:${site.port}/`]);
  assert.equal(served.stdout, '200');
});
