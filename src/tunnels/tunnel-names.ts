import { createHash } from 'node:crypto';

/** Where a daemon's tunnels live: one namespace and one interface name per tunnel backend. */
export interface TunnelNames {
  /** Every namespace this daemon creates starts with this (`sp-<hash of the state dir>-`). */
  netnsPrefix: string;
  /** Every interface this daemon creates starts with this (`sp<hash>`). */
  ifacePrefix: string;
  /** The namespace of a backend (stable for its name, so workers find it). */
  netns(backend: string): string;
  /** The tunnel interface of a backend (at most 15 characters, unique machine-wide). */
  iface(backend: string): string;
}

const short = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 6);

/**
 * Names derived from the daemon's state dir: two daemons never share a name, and a daemon
 * restarted after `kill -9` recognises (and removes) exactly what its previous run left.
 */
export function tunnelNames(stateDir: string): TunnelNames {
  const daemon = short(stateDir);
  return {
    netnsPrefix: `sp-${daemon}-`,
    ifacePrefix: `sp${daemon}`,
    netns: (backend) => `sp-${daemon}-${short(backend)}`,
    // wireguard-go's control socket is /var/run/wireguard/<iface>.sock for every namespace.
    iface: (backend) => `sp${daemon}${short(backend)}`,
  };
}
