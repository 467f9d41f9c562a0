import { TunnelFileError } from './wireguard-config.js';

/** What the proxy needs to know of an OpenVPN client profile (README "Tunnels"). */
export interface OpenvpnConfig {
  remotes: { host: string; port?: number; proto?: string }[];
  dev?: string;
  /** The profile asks for a username and password (`auth-user-pass`). */
  authUserPass: boolean;
  /** Inline blocks present (`ca`, `cert`, `key`, `tls-auth`, …). */
  inline: string[];
  /** Every directive with its arguments and line, for the tunnel to inspect. */
  directives: { name: string; args: string[]; line: number }[];
}

/** Parses an `.ovpn` profile; throws TunnelFileError naming the line of the first problem. */
export function parseOpenvpnConfig(text: string): OpenvpnConfig {
  const config: OpenvpnConfig = { remotes: [], authUserPass: false, inline: [], directives: [] };
  const lines = text.split(/\r?\n/);
  let block: { name: string; line: number } | null = null;
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    if (block) {
      if (line === `</${block.name}>`) {
        config.inline.push(block.name);
        block = null;
      }
      return;
    }
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const open = /^<([a-z-]+)>$/.exec(line);
    if (open) {
      block = { name: open[1], line: lineNo };
      return;
    }
    if (line.startsWith('</')) throw new TunnelFileError(lineNo, `closing ${line} without an opening tag`);
    const [name, ...args] = line.split(/\s+/);
    if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new TunnelFileError(lineNo, `"${name}" is not an OpenVPN directive`);
    config.directives.push({ name, args, line: lineNo });
    if (name === 'remote') {
      if (args.length === 0) throw new TunnelFileError(lineNo, '"remote" needs a host');
      const port = args[1] === undefined ? undefined : Number(args[1]);
      if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new TunnelFileError(lineNo, `"${args[1]}" is not a port`);
      config.remotes.push({ host: args[0], port, proto: args[2] });
    } else if (name === 'dev') {
      config.dev = args[0];
    } else if (name === 'auth-user-pass') {
      config.authUserPass = true;
    }
  });
  if (block !== null) {
    const open = block as { name: string; line: number };
    throw new TunnelFileError(open.line, `<${open.name}> is never closed`);
  }
  if (config.remotes.length === 0) throw new TunnelFileError(lines.length, 'no "remote" directive (the server to connect to)');
  if (config.dev !== undefined && !config.dev.startsWith('tun')) throw new TunnelFileError(config.directives.find((d) => d.name === 'dev')!.line, `"dev ${config.dev}" is not supported (only tun)`);
  return config;
}
