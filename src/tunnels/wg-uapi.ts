import { connect } from 'node:net';

const UAPI_TIMEOUT_MS = 2_000;

/** A peer as wireguard-go's control socket reports it. */
export interface UapiPeer {
  publicKeyHex: string;
  lastHandshakeSeconds: number;
  persistentKeepalive: number;
  rxBytes: number;
  txBytes: number;
}

/** The path of wireguard-go's control socket for an interface (the same for every namespace). */
export const uapiSocket = (iface: string): string => `/var/run/wireguard/${iface}.sock`;

/** Reads the peers of a wireguard-go interface over its control socket (`get=1`), bounded in time. */
export function uapiPeers(iface: string): Promise<UapiPeer[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(uapiSocket(iface));
    let text = '';
    const timer = setTimeout(() => socket.destroy(new Error('wireguard-go control socket did not answer')), UAPI_TIMEOUT_MS);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('get=1\n\n'));
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (!text.endsWith('\n\n')) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(parsePeers(text));
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function parsePeers(text: string): UapiPeer[] {
  const peers: UapiPeer[] = [];
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'public_key') peers.push({ publicKeyHex: value, lastHandshakeSeconds: 0, persistentKeepalive: 0, rxBytes: 0, txBytes: 0 });
    const peer = peers[peers.length - 1];
    if (!peer) continue;
    if (key === 'last_handshake_time_sec') peer.lastHandshakeSeconds = Number(value);
    else if (key === 'persistent_keepalive_interval') peer.persistentKeepalive = Number(value);
    else if (key === 'rx_bytes') peer.rxBytes = Number(value);
    else if (key === 'tx_bytes') peer.txBytes = Number(value);
  }
  return peers;
}
