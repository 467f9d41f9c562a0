import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { attachForwarding, forwardingReadOption, releaseSpareCopies } from '../../../src/backends/read-forwarding.js';
import { waitFor } from '../../helpers/run.js';

/** A connected loopback pair: `near` dialled (reading through forwardingReadOption when `forwarding`), `far` accepted. */
async function pair(t: TestContext, forwarding: boolean): Promise<{ near: Socket; far: Socket }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const option = forwarding ? forwardingReadOption() : undefined;
  const near = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, onread: option?.onread });
  await once(near, 'connect');
  option?.register(near);
  const [far] = await accepted;
  t.after(() => {
    near.destroy();
    far.destroy();
  });
  return { near, far };
}

/** Everything `socket` reads, hashed, and how many bytes. */
function collect(socket: Socket): { hash: () => string; bytes: () => number } {
  const hash = createHash('sha256');
  let bytes = 0;
  socket.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  return { hash: () => hash.copy().digest('hex'), bytes: () => bytes };
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

test('reads relayed into a socket that takes each write whole are copied into the same memory, not a new buffer per read', { timeout: 60_000 }, async (t) => {
  const source = await pair(t, true);
  const sink = await pair(t, false);
  const written = new Set<ArrayBufferLike>();
  let writes = 0;
  let pending = 0;
  const write = sink.near.write.bind(sink.near) as (chunk: Buffer) => boolean;
  sink.near.write = ((chunk: Buffer) => {
    written.add(chunk.buffer);
    writes++;
    const ok = write(chunk);
    if (sink.near.writableLength > 0) pending++;
    return ok;
  }) as typeof sink.near.write;
  const received = collect(sink.far);
  attachForwarding(source.near, sink.near);

  // One chunk at a time, each sent once the last one arrived: every write lands in an empty socket.
  const chunks = Array.from({ length: 20 }, () => randomBytes(48 * 1024));
  let sent = 0;
  for (const chunk of chunks) {
    source.far.write(chunk);
    sent += chunk.length;
    await waitFor(`${sent} bytes through the relay`, () => received.bytes() === sent || undefined);
  }
  assert.equal(received.hash(), sha256(Buffer.concat(chunks)));
  assert.ok(writes >= chunks.length, `${writes} writes`);
  assert.ok(pending < writes / 2, `${pending} of ${writes} writes stayed pending: the socket did not take them whole`);
  // One buffer per size class (16 to 256 KiB), plus one for each write that stayed pending.
  assert.ok(written.size <= 5 + pending, `${written.size} buffers for ${writes} writes (${pending} stayed pending)`);

  // Once released (an idle process collecting), the next read is copied into new memory.
  releaseSpareCopies();
  const before = new Set(written);
  const last = randomBytes(48 * 1024);
  source.far.write(last);
  sent += last.length;
  await waitFor(`${sent} bytes through the relay`, () => received.bytes() === sent || undefined);
  assert.ok(written.size > before.size, 'a new buffer after releaseSpareCopies');
});

test('a copy buffer held by a pending write is not reused: slow and fast tunnels side by side stay intact', { timeout: 120_000 }, async (t) => {
  const tunnels = await Promise.all(
    Array.from({ length: 6 }, async (_, i) => {
      const source = await pair(t, true);
      const sink = await pair(t, false);
      const payload = randomBytes(8 * 1024 * 1024);
      const slow = i % 2 === 0;
      // A slow reader takes nothing at first (paused before its data listener, which then does not
      // start the flow): its relay's writes stay pending while the others read.
      if (slow) sink.far.pause();
      const received = collect(sink.far);
      attachForwarding(source.near, sink.near);
      source.near.on('end', () => sink.near.end());
      source.far.end(payload);
      return { sink, payload, slow, received };
    }),
  );
  const fast = tunnels.filter((x) => !x.slow);
  const slow = tunnels.filter((x) => x.slow);
  await waitFor('the fast tunnels done', () => fast.every((x) => x.received.bytes() === x.payload.length) || undefined, 60_000);
  assert.ok(
    slow.every((x) => x.sink.near.writableLength > 0),
    'every slow tunnel has a write pending while the fast ones ran',
  );
  for (const x of slow) x.sink.far.resume();
  await waitFor('the slow tunnels done', () => slow.every((x) => x.received.bytes() === x.payload.length) || undefined, 60_000);
  for (const x of tunnels) assert.equal(x.received.hash(), sha256(x.payload), `${x.slow ? 'slow' : 'fast'} tunnel intact`);
});
