import { lookup } from 'node:dns/promises';
import { isIPv6 } from 'node:net';
import type { NetworkSpec } from '../config/model.js';
import { DialError } from '../errors.js';
import { normalizeAddress } from '../policy/ip-address.js';
import { isPrivateAddress, privateTargetError } from '../policy/private-target.js';
import type { Target, UdpChannel, UdpOptions } from './backend.js';
import { toDialError } from './dial-errors.js';
import { connectedUdpSocket, socketChannel } from './udp-socket-channel.js';

/**
 * Opens a UDP flow from this host (dual stack): a name is resolved by the host's resolver,
 * honouring `ipv6.enabled` and `prefer_ipv6`; with `refusePrivate` every answer is checked, and
 * the address datagrams go to is one of those checked.
 */
export async function openDirectUdp(target: Target, options: UdpOptions, network: Pick<NetworkSpec, 'ipv6'>): Promise<UdpChannel> {
  const label = `${target.host}:${target.port}`;
  const address = await resolveFor(target.host, network, options.refusePrivate === true, label, options.timeoutMs);
  try {
    return socketChannel(await connectedUdpSocket(address, target.port), address);
  } catch (error) {
    throw toDialError(error, label);
  }
}

async function resolveFor(host: string, network: Pick<NetworkSpec, 'ipv6'>, refusePrivate: boolean, label: string, timeoutMs: number): Promise<string> {
  const literal = normalizeAddress(host);
  if (literal !== null) {
    if (refusePrivate && isPrivateAddress(literal)) throw privateTargetError(host === literal ? literal : `${host} (${literal})`);
    const address = host.includes(':') ? host.replace(/^\[(.*)\]$/, '$1') : literal;
    if (!network.ipv6.enabled && isIPv6(address)) throw new DialError('unreachable', `${label}: IPv6 is off (network.ipv6.enabled: false)`);
    return address;
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DialError('timeout', `${label}: name not resolved within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const answers = await Promise.race([lookup(host, { all: true, family: network.ipv6.enabled ? 0 : 4 }), timeout]);
    if (refusePrivate) {
      const inward = answers.find((a) => isPrivateAddress(a.address));
      if (inward) throw privateTargetError(`${host} (resolves to ${inward.address})`);
    }
    const preferred = network.ipv6.enabled && network.ipv6.preferIpv6 ? 6 : 4;
    const chosen = answers.find((a) => a.family === preferred) ?? answers[0];
    if (!chosen) throw new DialError('dns', `${label}: no address`);
    return chosen.address;
  } catch (error) {
    throw error instanceof DialError ? error : toDialError(error, label);
  } finally {
    clearTimeout(timer);
  }
}
