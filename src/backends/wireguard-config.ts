import { isIP } from 'node:net';

/** A parsed wg-quick configuration (README "Tunnels"). */
export interface WireguardConfig {
  iface: { privateKey: string; addresses: string[]; dns: string[]; mtu?: number; listenPort?: number };
  peers: { publicKey: string; presharedKey?: string; endpoint?: string; allowedIps: string[]; persistentKeepalive?: number }[];
}

/** A problem in a tunnel file, with its 1-based line. */
export class TunnelFileError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
const INTERFACE_KEYS = new Set(['privatekey', 'address', 'dns', 'mtu', 'listenport', 'fwmark', 'table', 'preup', 'postup', 'predown', 'postdown', 'saveconfig']);
const PEER_KEYS = new Set(['publickey', 'presharedkey', 'endpoint', 'allowedips', 'persistentkeepalive']);

const list = (value: string): string[] => value.split(',').map((v) => v.trim()).filter(Boolean);

/** Parses a wg-quick `.conf`; throws TunnelFileError naming the line of the first problem. */
export function parseWireguardConfig(text: string): WireguardConfig {
  let section: 'interface' | 'peer' | null = null;
  let iface: Partial<WireguardConfig['iface']> & { addresses: string[]; dns: string[] } = { addresses: [], dns: [] };
  let sawInterface = 0;
  const peers: WireguardConfig['peers'] = [];
  const peerLines: number[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      const name = header[1].toLowerCase();
      if (name === 'interface') {
        if (sawInterface++) throw new TunnelFileError(lineNo, 'a second [Interface] section');
        section = 'interface';
      } else if (name === 'peer') {
        section = 'peer';
        peers.push({ publicKey: '', allowedIps: [] });
        peerLines.push(lineNo);
      } else {
        throw new TunnelFileError(lineNo, `unknown section [${header[1]}] (expected [Interface] or [Peer])`);
      }
      return;
    }
    const eq = line.indexOf('=');
    if (eq === -1) throw new TunnelFileError(lineNo, `expected "Key = Value", got "${line}"`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    const lower = key.toLowerCase();
    if (section === null) throw new TunnelFileError(lineNo, `"${key}" outside a section (expected [Interface] first)`);
    if (section === 'interface') {
      if (!INTERFACE_KEYS.has(lower)) throw new TunnelFileError(lineNo, `unknown [Interface] key "${key}"`);
      if (lower === 'privatekey') {
        if (!KEY.test(value)) throw new TunnelFileError(lineNo, 'PrivateKey is not a base64 WireGuard key');
        iface.privateKey = value;
      } else if (lower === 'address') {
        for (const a of list(value)) {
          if (isIP(a.split('/')[0]) === 0) throw new TunnelFileError(lineNo, `Address "${a}" is not an IP address or CIDR`);
          iface.addresses.push(a);
        }
      } else if (lower === 'dns') iface.dns.push(...list(value));
      else if (lower === 'mtu') iface.mtu = integer(value, lineNo, 'MTU', 576, 65535);
      else if (lower === 'listenport') iface.listenPort = integer(value, lineNo, 'ListenPort', 1, 65535);
      return;
    }
    const peer = peers[peers.length - 1];
    if (!PEER_KEYS.has(lower)) throw new TunnelFileError(lineNo, `unknown [Peer] key "${key}"`);
    if (lower === 'publickey') {
      if (!KEY.test(value)) throw new TunnelFileError(lineNo, 'PublicKey is not a base64 WireGuard key');
      peer.publicKey = value;
    } else if (lower === 'presharedkey') {
      if (!KEY.test(value)) throw new TunnelFileError(lineNo, 'PresharedKey is not a base64 WireGuard key');
      peer.presharedKey = value;
    } else if (lower === 'endpoint') {
      if (!/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(value)) throw new TunnelFileError(lineNo, `Endpoint "${value}" is not host:port`);
      peer.endpoint = value;
    } else if (lower === 'allowedips') peer.allowedIps.push(...list(value));
    else peer.persistentKeepalive = integer(value, lineNo, 'PersistentKeepalive', 0, 65535);
  });
  if (!sawInterface) throw new TunnelFileError(1, 'no [Interface] section');
  if (!iface.privateKey) throw new TunnelFileError(1, '[Interface] has no PrivateKey');
  if (peers.length === 0) throw new TunnelFileError(lines.length, 'no [Peer] section');
  peers.forEach((peer, i) => {
    if (!peer.publicKey) throw new TunnelFileError(peerLines[i], '[Peer] has no PublicKey');
  });
  return { iface: iface as WireguardConfig['iface'], peers };
}

function integer(value: string, line: number, name: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new TunnelFileError(line, `${name} must be a number from ${min} to ${max}`);
  return Number(value);
}
