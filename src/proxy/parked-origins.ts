import type { Socket } from 'node:net';
import type { Backend } from '../backends/backend.js';

/** The list a parked connection waits in. */
const LIST = Symbol('parked in');
type ParkedSocket = Socket & { [LIST]?: Socket[] };

/** Idle origin connections by backend, then by what they serve (keyOf): a backend a reload replaced takes its lists with it. */
const parked = new WeakMap<Backend, Map<string, Socket[]>>();

/**
 * Whatever happens to a parked connection ends its wait: it closed, failed, sat idle for its idle
 * time (the timeout its last answer set), or sent bytes nobody asked for.
 */
function leave(this: ParkedSocket): void {
  const list = this[LIST];
  if (list) list.splice(list.indexOf(this), 1);
  this[LIST] = undefined;
  off(this);
  this.destroy();
}

function off(socket: Socket): void {
  socket.off('data', leave).off('end', leave).off('close', leave).off('error', leave).off('timeout', leave);
}

/**
 * Keeps an idle, reusable origin connection that a client connection let go (it closed, or its
 * next request went elsewhere), for the next client connection that asks for the same origin
 * through the same backend: a client that opens a connection per request does not cost an origin
 * connection per request. The connection's idle timer runs on; it holds no process alive.
 */
export function park(backend: Backend, key: string, socket: Socket): void {
  let lists = parked.get(backend);
  if (!lists) parked.set(backend, (lists = new Map()));
  let list = lists.get(key);
  if (!list) lists.set(key, (list = []));
  list.push(socket);
  (socket as ParkedSocket)[LIST] = list;
  socket.on('data', leave).on('end', leave).on('close', leave).on('error', leave).on('timeout', leave);
  // A connection its client held back (backpressure) must still be heard closing.
  socket.resume();
  // Idle, it keeps no process alive (as undici's pool lets its idle connections go).
  socket.unref();
}

/** The connection parked last for `key` through `backend`, taken out of the park (its listeners removed), or null. */
export function unpark(backend: Backend, key: string): Socket | null {
  const socket = parked.get(backend)?.get(key)?.pop() as ParkedSocket | undefined;
  if (!socket) return null;
  socket[LIST] = undefined;
  off(socket);
  socket.ref();
  return socket;
}
