import type { Server, Socket } from 'node:net';
import type { SlotLeases } from '../policy/slot-leases.js';
import { clientAddress } from '../protocol/client-address.js';

/**
 * Puts max_connections_per_ip over every engine process ahead of a server's own 'connection'
 * listeners (as they are when this is called): a connection its worker holds a slot for goes on
 * at once; one that needs the primary's answer waits for it unread (the listeners run then);
 * one over the cap goes to `refuse`. Its slot comes back when it closes. A client the IP lists
 * refuse (`listed` false) takes no slot: the listeners close it.
 */
export function holdForSlot(server: Server, slots: SlotLeases, listed: (address: string) => boolean, refuse: (socket: Socket) => void, tls: boolean): void {
  const accept = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  // One 'close' listener for every connection (the socket is `this`): taking a slot allocates no closure.
  const released = function (this: Socket): void {
    slots.release(clientAddress(this));
  };
  const run = (socket: Socket): void => {
    socket.on('close', released);
    for (const listener of accept) listener.call(server, socket);
  };
  server.on('connection', (socket: Socket) => {
    const address = slots.limited ? clientAddress(socket) : '';
    if (!slots.limited || !listed(address)) {
      for (const listener of accept) listener.call(server, socket);
      return;
    }
    const verdict = slots.admit(address);
    if (verdict === true) return run(socket);
    if (verdict === false) return refuse(socket);
    // A TLS server reads through its own handle (see readProxyHeaderFirst): only a plain socket is paused.
    if (!tls) socket.pause();
    void verdict.then((admitted) => {
      if (admitted && socket.destroyed) return slots.release(address);
      if (admitted) run(socket);
      else refuse(socket);
      // Read again: a refused client's close is noticed only while the socket reads.
      if (!tls) socket.resume();
    });
  });
}
