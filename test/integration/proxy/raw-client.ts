import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { ConnectionLedger } from '../../../src/proxy/connection-ledger.js';
import type { TestContext } from 'node:test';
import type { ConfigSnapshot } from '../../../src/config/model.js';
import { snapshot, startEngine, type RunningEngine } from './engine-fixture.js';
import { echoServer } from '../../e2e/cli-harness.js';

/** An echo origin and an engine (on `config`, the fixture's default unless given) in front of it, both stopped after the test. */
export async function echoBehindProxy(t: TestContext, config: ConfigSnapshot = snapshot()): Promise<{ origin: { port: number }; proxy: RunningEngine }> {
  const origin = await echoServer();
  const proxy = await startEngine(config);
  t.after(async () => {
    await proxy.stop();
    origin.close();
  });
  return { origin, proxy };
}

/** Reads from `socket` (as latin1 text) until `done(received)` holds (or fails after a generous deadline). */
export async function readUntil(socket: Socket, done: (received: string) => boolean, what: string): Promise<string> {
  let received = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: got ${JSON.stringify(received)}`)), 20_000);
    const check = (): void => {
      if (!done(received)) return;
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(received);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.toString('latin1');
      check();
    };
    socket.on('data', onData);
    socket.once('close', () => {
      clearTimeout(timer);
      if (done(received)) resolve(received);
      else reject(new Error(`${what}: closed after ${JSON.stringify(received)}`));
    });
  });
}

/** A connected loopback client socket. */
export async function open(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

/** The proxy's side of its open client connections (the engine runs in this process). */
export function serverSides(proxy: RunningEngine): Socket[] {
  return [...(proxy.engine as unknown as { ledger: ConnectionLedger }).ledger.clients];
}

/** Waits (polling, with a deadline) until the engine has no client connection open. */
export async function noClientsLeft(proxy: RunningEngine): Promise<void> {
  for (const deadline = Date.now() + 10_000; serverSides(proxy).length > 0; await new Promise((r) => setTimeout(r, 20))) {
    assert.ok(Date.now() < deadline, `${serverSides(proxy).length} client connections still open`);
  }
}
