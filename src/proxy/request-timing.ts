import { subscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { takeTiming } from '../backends/dial-timing.js';
import type { ConnectionRecord } from '../protocol/connection-record.js';

/** What undici says as it writes a request's head on a connection. */
interface SendHeaders {
  request: { abort?: unknown };
  socket: Socket;
}

/** Recorded requests waiting for their head to go out, by the abort function undici handed them (it keeps it as `request.abort`). */
const waiting = new WeakMap<object, ConnectionRecord>();
let listening = false;

/**
 * Gives a recorded request the set-up phases (DNS, connect, TLS) of the pooled connection that
 * carries it, when that connection was opened for it; a request on a reused connection has none
 * (HAR's -1). Only for records the debugger keeps: the channel is subscribed the first time one
 * asks, so a proxy that never records pays nothing per request.
 */
export function timeConnection(abort: object, record: ConnectionRecord): void {
  if (!listening) {
    listening = true;
    subscribe('undici:client:sendHeaders', (message) => {
      const { request, socket } = message as SendHeaders;
      const record = typeof request.abort === 'function' ? waiting.get(request.abort) : undefined;
      if (!record) return;
      waiting.delete(request.abort as object);
      const timing = takeTiming(socket);
      if (!timing) return;
      if (timing.dnsMs !== undefined) record.dnsMs = timing.dnsMs;
      record.connectMs = timing.connectMs;
      if (timing.tlsMs !== undefined) record.tlsMs = timing.tlsMs;
    });
  }
  waiting.set(abort, record);
}
