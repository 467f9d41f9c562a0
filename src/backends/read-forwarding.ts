import type { OnReadOpts, Socket } from 'node:net';
import { holdAfterWrite, type Pace } from '../limits/bandwidth.js';

/*
 * Bulk reads of relayed sockets: each read lands in one large buffer instead of the stream
 * machinery's 64 KiB chunks, which means fewer syscalls and callbacks on tunnels.
 *
 * Invariant: the read buffer is referenced only inside the synchronous read callback. Every byte
 * handed on (to a peer socket's write, to a handshake reader, or kept until a peer is attached)
 * is first copied into memory of its own, which the write then owns until it completes (a relay
 * copies into a spare buffer that no write holds any more, see writeCopy).
 *
 * Why it holds: Node arms every socket's next read with the buffer the generator returned after
 * its previous read, long before that read happens, so one buffer is armed on many sockets at
 * once; libuv fills it for one socket at a time and calls back synchronously. Since nothing
 * outlives the callback, the buffer is free whenever any socket reads into it. (Handing the
 * buffer itself to a write is not safe: a write the kernel does not take at once keeps a
 * reference to it, and the next read of another socket, armed earlier, overwrites it.)
 */
const READ_SIZE = 256 * 1024;
const readBuffer = Buffer.allocUnsafeSlow(READ_SIZE);

/** A copy of the first `length` bytes just read, owned by whoever it is handed to. */
const owned = (buffer: Buffer, length: number): Buffer => Buffer.from(buffer.subarray(0, length));

/** The smallest copy buffer; each size class doubles it, up to READ_SIZE. */
const SMALLEST_COPY = 16 * 1024;
const SMALLEST_BITS = Math.log2(SMALLEST_COPY);

/**
 * One copy buffer per size class that no write holds any more, or null. A write the kernel takes
 * whole keeps no reference to what it wrote, so its buffer takes a later read's copy: a bulk
 * download copies into the same warm memory again and again, where a new buffer per read cost
 * page faults and V8 collections for the external memory (a 1 GiB download through one tunnel
 * took 0.69 core-seconds per GB instead of 0.90). A write that stays pending keeps its buffer;
 * the class sizes bound what it holds to twice what it wrote, or 16 KiB.
 */
const spares: (Buffer | null)[] = new Array<Buffer | null>(Math.log2(READ_SIZE / SMALLEST_COPY) + 1).fill(null);

/** Lets go of the spare copy buffers (up to 496 KiB), for an idle process to give back: a later relay allocates again. */
export function releaseSpareCopies(): void {
  spares.fill(null);
}

/** Copies a read into a spare buffer of its size class (or a new one) and writes it to `to`; the buffer is spare again if the write completed at once. */
function writeCopy(to: Socket, read: Buffer, length: number): boolean {
  const sizeClass = length <= SMALLEST_COPY ? 0 : 32 - Math.clz32(length - 1) - SMALLEST_BITS;
  const buffer = spares[sizeClass] ?? Buffer.allocUnsafeSlow(SMALLEST_COPY << sizeClass);
  spares[sizeClass] = null;
  read.copy(buffer, 0, 0, length);
  const ok = to.write(buffer.subarray(0, length));
  // Nothing pending: the kernel took the write whole, and the stream buffers nothing of it.
  if (to.writableLength === 0) spares[sizeClass] = buffer;
  return ok;
}

/*
 * No function literal is assigned to a property of this state (`state.sink = (read) => ...`):
 * V8 allocates such a literal in the old generation, as a method that will live long, and all it
 * holds then lives until the next mark-compact. A handshake reader wrapped that way kept the
 * dial's closure, its socket and promise, through every scavenge: each tunnel through an HTTP
 * proxy promoted 4.3 KB instead of 2.0, and scavenges paused 6.2 ms instead of 4.0 (two engine
 * workers opening CONNECT tunnels through tinyproxy). The sinks are chosen by a conditional
 * expression, which V8 allocates young.
 */
interface ForwardingState {
  /** Where read bytes go once a peer is attached (the read buffer and its length: valid during the call only); returns false to pause reading. */
  sink: ((read: Buffer, length: number) => boolean) | null;
  /** Where read bytes go (as copies) while the backend speaks a handshake itself, before a peer is attached. */
  handshake: ((chunk: Buffer) => void) | null;
  /** Bytes read before a peer was attached (copied; reading pauses after the first). */
  early: Buffer[];
}

/*
 * Where a forwarding socket keeps its state: a property of the socket, not a WeakMap entry. A
 * WeakMap's table in the old generation keeps its values alive through every scavenge, and this
 * value holds its key (the sink's `resume` holds the socket): each relayed upstream socket, with
 * its peer and their stream states, lived on until the next mark-compact and was promoted on the
 * way (3.5 KB of every new CONNECT tunnel on Node 20, 2 KB on Node 24, and scavenge pauses of 9
 * and 21 ms under `d_connect`).
 */
const STATE = Symbol('forwarding');
type Forwarding = Socket & { [STATE]?: ForwardingState };

/** Creates the `onread` option for a socket that will only be relayed, and registers it once connected. */
export function forwardingReadOption(): { onread: OnReadOpts; register(socket: Socket): void } {
  const state: ForwardingState = { sink: null, handshake: null, early: [] };
  return {
    onread: {
      buffer: readBuffer,
      callback: (length, bytes) => {
        const buffer = bytes as Buffer;
        if (state.sink) return state.sink(buffer, length);
        if (state.handshake) {
          state.handshake(owned(buffer, length));
          return true;
        }
        state.early.push(owned(buffer, length));
        return false;
      },
    },
    register: (socket) => {
      (socket as Forwarding)[STATE] = state;
    },
  };
}

/** Whether a socket reads through forwardingReadOption (it emits no 'data' events). */
export function isForwarding(socket: Socket): boolean {
  return (socket as Forwarding)[STATE] !== undefined;
}

/**
 * Starts forwarding everything read from `from` (a forwarding socket) into `to`, with
 * backpressure, and at the pace `pace` allows when a bandwidth limit applies.
 */
export function attachForwarding(from: Socket, to: Socket, pace?: Pace): void {
  const state = (from as Forwarding)[STATE];
  if (!state) throw new Error('not a forwarding socket');
  const resume = (): void => {
    from.resume();
  };
  state.sink = pace
    ? (read, length) =>
        // Returning false pauses the read; `resume` restarts it.
        holdAfterWrite(to.write(owned(read, length)), pace(length), to, () => undefined, resume)
    : (read, length) => {
        const ok = writeCopy(to, read, length);
        if (!ok) to.once('drain', resume);
        return ok;
      };
  let ok = true;
  for (const chunk of state.early.splice(0)) ok = to.write(chunk) && ok;
  if (ok) from.resume();
  else to.once('drain', resume);
}

/**
 * Hands reads of a forwarding socket to `onData` (as copies) for a handshake the backend speaks
 * itself (an upstream CONNECT). Call the returned function when the handshake is over, with any
 * bytes that followed it: they and later reads are kept for the relay.
 */
export function interceptReads(socket: Socket, onData: (chunk: Buffer) => void): (rest: Buffer) => void {
  const state = (socket as Forwarding)[STATE];
  if (!state) throw new Error('not a forwarding socket');
  state.handshake = onData;
  for (const chunk of state.early.splice(0)) onData(chunk);
  socket.resume();
  return (rest) => {
    state.handshake = null;
    if (rest.length > 0) state.early.unshift(rest);
  };
}
