import type { Socket } from 'node:net';
import { SNIFF_MAX_BYTES, sniffName, type Sniffed } from '../../routing/sniff-name.js';

/** How long the client's first bytes are waited for once success was answered. */
export const SNIFF_WAIT_MS = 1000;

const nameOf = (verdict: Sniffed): string | null => (verdict === null || verdict === 'more' ? null : verdict.name);

/**
 * Reads a tunnel client's first bytes (those that came already, then more up to one TLS record
 * within SNIFF_WAIT_MS) and the name they carry (TLS SNI, HTTP Host), if any. Every byte read is
 * handed back to be forwarded first; the socket is left paused for the relay.
 */
export function sniffOpening(socket: Socket, first: Buffer, done: (opening: Buffer, name: string | null) => void): void {
  let opening = first;
  const verdict = sniffName(opening);
  if (verdict !== 'more' || opening.length >= SNIFF_MAX_BYTES || socket.destroyed) return done(opening, nameOf(verdict));
  let finished = false;
  const finish = (name: string | null): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('close', onClose);
    socket.pause();
    done(opening, name);
  };
  const onData = (chunk: Buffer): void => {
    opening = opening.length === 0 ? chunk : Buffer.concat([opening, chunk]);
    const next = sniffName(opening);
    if (next !== 'more' || opening.length >= SNIFF_MAX_BYTES) finish(nameOf(next));
  };
  const onClose = (): void => finish(null);
  const timer = setTimeout(() => finish(null), SNIFF_WAIT_MS);
  socket.on('data', onData);
  socket.once('close', onClose);
  socket.resume();
}
