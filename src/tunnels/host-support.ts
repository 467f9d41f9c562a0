import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The Debian package that provides each program the tunnels run. */
const PACKAGES: Record<string, string> = { ip: 'iproute2', 'wireguard-go': 'wireguard-go', wg: 'wireguard-tools', openvpn: 'openvpn' };

/** Programs each tunnel type needs. */
export const TUNNEL_PROGRAMS: Record<'wireguard' | 'openvpn', string[]> = {
  wireguard: ['ip', 'wireguard-go', 'wg'],
  openvpn: ['ip', 'openvpn'],
};

const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;

/** What the support check looks at: where programs are searched, and the process's effective capabilities. */
export interface HostFacts {
  dirs: string[];
  capabilities: bigint;
}

/** The dirs programs are searched in: PATH, plus the sbin dirs a non-login root shell may lack. */
export function programDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  return [...(env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'].filter(Boolean);
}

/** The absolute path of a program in `dirs` (default: programDirs()), or null. */
export function findProgram(name: string, dirs: string[] = programDirs()): string | null {
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Not in this dir.
    }
  }
  return null;
}

/**
 * Why this host cannot run a tunnel of the given type, or null when it can: network namespaces
 * (Linux only), CAP_NET_ADMIN and CAP_SYS_ADMIN (root), /dev/net/tun and the programs.
 */
export function tunnelSupportProblem(type: 'wireguard' | 'openvpn', host: HostFacts = { dirs: programDirs(), capabilities: effectiveCapabilities() }): string | null {
  if (process.platform !== 'linux' || !existsSync('/proc/self/ns/net')) {
    return `${type} backends are not supported here: they need Linux network namespaces (this is ${process.platform})`;
  }
  const caps = host.capabilities;
  const missing = [caps & (1n << CAP_NET_ADMIN) ? null : 'CAP_NET_ADMIN', caps & (1n << CAP_SYS_ADMIN) ? null : 'CAP_SYS_ADMIN'].filter(Boolean);
  if (missing.length > 0) return `${type} backends need root (${missing.join(' and ')}) to create network namespaces and tunnel interfaces; start the daemon as root`;
  if (!existsSync('/dev/net/tun')) return `${type} backends need /dev/net/tun (load the tun module, or pass the device to the container)`;
  for (const program of TUNNEL_PROGRAMS[type]) {
    if (!findProgram(program, host.dirs)) return `${type} backends need "${program}", which is not installed (Debian package ${PACKAGES[program]})`;
  }
  return null;
}

/** The effective capability set of this process (CapEff of /proc/self/status; none when unreadable). */
function effectiveCapabilities(): bigint {
  try {
    const line = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return line ? BigInt(`0x${line[1]}`) : 0n;
  } catch {
    return 0n;
  }
}
