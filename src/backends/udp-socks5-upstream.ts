import type { Socket } from 'node:net';
import type { Credentials } from '../config/model.js';
import type { Target, UdpChannel } from './backend.js';
import { loadSocks } from './socks-library.js';
import { connectedUdpSocket } from './udp-socket-channel.js';

/**
 * Asks an upstream SOCKS5 proxy for a UDP association over `control` (sending 0.0.0.0:0, as a
 * client that does not know its address yet) and returns a channel that wraps each payload in
 * the SOCKS5 UDP header for `target` (a name goes as a name: the upstream resolves it). The
 * association lives as long as `control`: when the upstream closes it, the channel closes too.
 */
export async function openSocks5Udp(control: Socket, upstream: { host: string; port: number; auth?: Credentials }, target: Target, timeoutMs: number): Promise<UdpChannel> {
  const { SocksClient } = await loadSocks();
  // The library's createConnection only does CONNECT; an association is driven through its events.
  const established = await new Promise<{ remoteHost?: { host: string; port: number } }>((resolve, reject) => {
    const client = new SocksClient({
      proxy: { host: upstream.host, port: upstream.port, type: 5, userId: upstream.auth?.username, password: upstream.auth?.password },
      command: 'associate',
      destination: { host: '0.0.0.0', port: 0 },
      timeout: timeoutMs,
    });
    client.once('established', resolve);
    client.once('error', reject);
    client.connect(control);
  });
  const bound = established.remoteHost;
  // A relay that answers with the unspecified address means "where you reached me".
  const relayHost = !bound || bound.host === '0.0.0.0' || bound.host === '::' ? (control.remoteAddress ?? upstream.host) : bound.host;
  const relay = await connectedUdpSocket(relayHost.replace(/^::ffff:/, ''), bound?.port ?? upstream.port);
  const remoteHost = { host: target.host, port: target.port };
  let closed = false;
  const channel: UdpChannel = {
    remoteAddress: target.host,
    send: (payload) => relay.send(SocksClient.createUDPFrame({ remoteHost, data: payload })),
    onReply: () => undefined,
    onClose: () => undefined,
    close: () => {
      if (closed) return;
      closed = true;
      relay.close();
      control.destroy();
    },
  };
  relay.on('message', (datagram) => {
    let frame;
    try {
      frame = SocksClient.parseUDPFrame(datagram);
    } catch {
      return;
    }
    if (frame.frameNumber === 0) channel.onReply(frame.data, frame.remoteHost.host, frame.remoteHost.port);
  });
  relay.on('error', () => undefined);
  control.on('data', () => undefined);
  control.on('error', () => undefined);
  control.once('close', () => {
    if (closed) return;
    channel.close();
    channel.onClose('the upstream closed its UDP association');
  });
  return channel;
}
