import type { OnReadOpts, Socket } from 'node:net';
import { holdAfterWrite, type Pace } from '../limits/bandwidth.js';

/*
 * Bulk reads straight into a large buffer that is handed to the peer socket's write, instead of
 * the stream machinery's 64 KiB chunks: fewer syscalls and no allocation per chunk on tunnels.
 *
 * One buffer is shared by every forwarding socket: libuv allocates, reads and calls back
 * synchronously for one socket at a time, so the buffer is free again as soon as a write of it
 * completed inside the callback. When the kernel did not take the whole chunk, the pending write
 * keeps that buffer and later reads get a fresh one (ownership passes to the write).
 */
const READ_SIZE = 256 * 1024;
let shared = Buffer.allocUnsafeSlow(READ_SIZE);
const sharedBuffer = (): Buffer => shared;

interface ForwardingState {
  /** Where read bytes go once a peer is attached; returns false to pause reading. */
  sink: ((length: number, buffer: Buffer) => boolean) | null;
  /** Bytes read before a peer was attached (copied; reading pauses after the first). */
  early: Buffer[];
}

const states = new WeakMap<Socket, ForwardingState>();

/** Creates the `onread` option for a socket that will only be relayed, and registers it once connected. */
export function forwardingReadOption(): { onread: OnReadOpts; register(socket: Socket): void } {
  const state: ForwardingState = { sink: null, early: [] };
  return {
    onread: {
      buffer: sharedBuffer,
      callback: (length, bytes) => {
        const buffer = bytes as Buffer;
        if (state.sink) return state.sink(length, buffer);
        state.early.push(Buffer.from(buffer.subarray(0, length)));
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
    ? (length, buffer) => {
        const ok = to.write(buffer.subarray(0, length));
        if (buffer === shared && to.writableLength > 0) shared = Buffer.allocUnsafeSlow(READ_SIZE);
        // Returning false pauses the read; `resume` restarts it.
        return holdAfterWrite(ok, pace(length), to, () => undefined, resume);
      }
    : (length, buffer) => {
        const ok = to.write(buffer.subarray(0, length));
        if (buffer === shared && to.writableLength > 0) shared = Buffer.allocUnsafeSlow(READ_SIZE);
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
  state.sink = (length, buffer) => {
    onData(Buffer.from(buffer.subarray(0, length)));
    return true;
  };
  for (const chunk of state.early.splice(0)) onData(chunk);
  socket.resume();
  return (rest) => {
    state.sink = null;
    if (rest.length > 0) state.early.unshift(rest);
  };
}
