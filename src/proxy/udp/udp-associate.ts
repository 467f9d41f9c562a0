import { createSocket } from 'node:dgram';
import { isIPv6, type Socket } from 'node:net';
import type { AuthService } from '../../auth/auth-service.js';
import type { Identity } from '../../auth/identity.js';
import { unmapIpv4 } from '../../policy/ip-address.js';
import type { ProxyContext } from '../proxy-context.js';
import { SocksReply } from '../../protocol/socks5-codes.js';
import { encodeReply } from '../../protocol/socks5-codec.js';
import { UdpAssociation } from './udp-association.js';
import { udpSettings } from './udp-settings.js';

/**
 * Answers a SOCKS5 UDP ASSOCIATE request (the handshake and authentication done): binds a relay
 * socket of its own on the address the client reached (never a wildcard, so answers leave from
 * the address the client sends to), exclusively (under engine workers no other process shares
 * it), and replies with that address, or `socks5.udp.advertise_address`, and the port.
 * `clientPort` is the port the request named (0: learned from the first datagram).
 */
export function associateUdp(ctx: ProxyContext, control: Socket, clientPort: number, auth: AuthService | null, identity: Identity | undefined): void {
  const user = auth ? identity?.user : undefined;
  const runtime = ctx.runtime();
  const settings = udpSettings(runtime.config);
  const record = ctx.begin({ protocol: 'udp', clientAddress: control.remoteAddress ?? '', clientPort: control.remotePort ?? 0, method: 'UDP', host: '', port: 0, user });
  const refuse = (code: number, error: string): void => {
    record.status = code;
    record.error = error;
    control.once('close', () => ctx.end(record));
    control.end(encodeReply(code, '0.0.0.0', 0));
  };
  if (!settings.enabled) return refuse(SocksReply.commandNotSupported, 'udp-disabled');
  const local = unmapIpv4(control.localAddress ?? '');
  const relay = createSocket({ type: isIPv6(local) ? 'udp6' : 'udp4' });
  relay.once('error', () => {
    relay.close();
    refuse(SocksReply.generalFailure, 'udp-bind');
  });
  relay.bind({ address: local, port: 0, exclusive: true }, () => {
    relay.removeAllListeners('error');
    if (control.destroyed) {
      relay.close();
      record.error = 'client-closed';
      return ctx.end(record);
    }
    const bound = relay.address();
    record.status = SocksReply.succeeded;
    control.write(encodeReply(SocksReply.succeeded, settings.advertiseAddress ?? bound.address, bound.port));
    const policy = ctx.policy();
    const client = unmapIpv4(record.clientAddress);
    new UdpAssociation({
      flows: { ctx, runtime, policy, auth, identity, record },
      client,
      hub: ctx.udp,
      settings,
      control,
      relay,
      record,
      pacer: policy.pacer(client),
      clientPort,
    });
  });
}
