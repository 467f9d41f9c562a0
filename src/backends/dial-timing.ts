import type { Socket } from 'node:net';

const LOOKUP = Symbol('lookup ms');
const TIMING = Symbol('connection timing');

/** How a fresh connection to an origin was set up (ms): name resolution, the dial after it, the TLS handshake. */
export interface DialTiming {
  dnsMs?: number;
  connectMs: number;
  tlsMs?: number;
}

type Stamped = Socket & { [LOOKUP]?: number; [TIMING]?: DialTiming };

/** Notes on `socket` how long its name took to resolve, counted from `started` (a literal address never resolves: nothing noted). */
export function timeLookup(socket: Socket, started: number): void {
  socket.once('lookup', () => ((socket as Stamped)[LOOKUP] = Date.now() - started));
}

/** How long the dial that opened `socket` spent resolving the name, if it resolved one here. */
export function lookupMs(socket: Socket): number | undefined {
  return (socket as Stamped)[LOOKUP];
}

/** Notes how a pooled connection was set up, for the first request it carries. */
export function stampTiming(socket: Socket, timing: DialTiming): void {
  (socket as Stamped)[TIMING] = timing;
}

/** How the connection was set up, once: the first request on it takes the timing, later ones reuse it and have none. */
export function takeTiming(socket: Socket): DialTiming | undefined {
  const timing = (socket as Stamped)[TIMING];
  if (timing) (socket as Stamped)[TIMING] = undefined;
  return timing;
}
