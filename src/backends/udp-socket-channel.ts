import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { UdpChannel } from './backend.js';

/**
 * A UDP socket for one flow, bound to an ephemeral port of its own and connected to the
 * destination, so the kernel only lets the destination's answers in (a port-restricted NAT
 * entry). Bound exclusively: under engine workers no other process shares it.
 */
export function connectedUdpSocket(address: string, port: number): Promise<DgramSocket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
    socket.once('error', (error) => {
      socket.close();
      reject(error);
    });
    socket.bind({ port: 0, exclusive: true }, () => {
      socket.connect(port, address, () => {
        socket.removeAllListeners('error');
        resolve(socket);
      });
    });
  });
}

/** A flow's channel over a local UDP socket connected to the destination (see connectedUdpSocket). */
export function socketChannel(socket: DgramSocket, address: string): UdpChannel {
  let closed = false;
  const channel: UdpChannel = {
    remoteAddress: address,
    send: (payload) => socket.send(payload),
    onReply: () => undefined,
    onClose: () => undefined,
    close: () => {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
  socket.on('message', (payload, from) => channel.onReply(payload, from.address, from.port));
  socket.on('error', (error: NodeJS.ErrnoException) => {
    // An ICMP "port unreachable" for one datagram does not end the flow: the next one may be answered.
    if (error.code === 'ECONNREFUSED' || closed) return;
    channel.close();
    channel.onClose(error.message);
  });
  return channel;
}
