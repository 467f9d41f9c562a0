import type { OnReadOpts, Socket } from 'node:net';
import { holdAfterWrite, type Pace } from '../limits/bandwidth.js';

/*
 * Bulk reads of relayed sockets: each read lands in one large buffer instead of the stream
 * machinery's 64 KiB chunks, which means fewer syscalls and callbacks on tunnels.
 *
 * Invariant: the read buffer is referenced only inside the synchronous read callback. Every byte
 * handed on (to a peer socket's write, to a handshake reader, or kept until a peer is attached)
 * is first copied into memory of its own, which the write then owns until it completes.
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

interface ForwardingState {
  /** Where read bytes go (as an owned copy) once a peer is attached; returns false to pause reading. */
  sink: ((chunk: Buffer) => boolean) | null;
  /** Bytes read before a peer was attached (copied; reading pauses after the first). */
  early: Buffer[];
}

const states = new WeakMap<Socket, ForwardingState>();

/** Creates the `onread` option for a socket that will only be relayed, and registers it once connected. */
export function forwardingReadOption(): { onread: OnReadOpts; register(socket: Socket): void } {
  const state: ForwardingState = { sink: null, early: [] };
  return {
    onread: {
      buffer: readBuffer,
      callback: (length, bytes) => {
        const buffer = bytes as Buffer;
        if (state.sink) return state.sink(owned(buffer, length));
        state.early.push(owned(buffer, length));
        return false;
      },
    },
    register: (socket) => states.set(socket, state),
  };
}

/** Whether a socket reads through forwardingReadOption (it emits no 'data' events). */
export function isForwarding(socket: Socket): boolean {
  return states.has(socket);
}

/**
 * Starts forwarding everything read from `from` (a forwarding socket) into `to`, with
 * backpressure, and at the pace `pace` allows when a bandwidth limit applies.
 */
export function attachForwarding(from: Socket, to: Socket, pace?: Pace): void {
  const state = states.get(from);
  if (!state) throw new Error('not a forwarding socket');
  const resume = (): void => {
    from.resume();
  };
  state.sink = pace
    ? (chunk) =>
        // Returning false pauses the read; `resume` restarts it.
        holdAfterWrite(to.write(chunk), pace(chunk.length), to, () => undefined, resume)
    : (chunk) => {
        const ok = to.write(chunk);
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
  const state = states.get(socket);
  if (!state) throw new Error('not a forwarding socket');
  state.sink = (chunk) => {
    onData(chunk);
    return true;
  };
  for (const chunk of state.early.splice(0)) onData(chunk);
  socket.resume();
  return (rest) => {
    state.sink = null;
    if (rest.length > 0) state.early.unshift(rest);
  };
}
