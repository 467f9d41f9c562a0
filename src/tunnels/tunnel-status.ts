import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';

/** Where a tunnel is in its life: only `up` carries traffic. */
export type TunnelState = 'starting' | 'up' | 'down' | 'stopped';

/** A tunnel as the daemon, its workers and the API see it. */
export interface TunnelStatus {
  name: string;
  type: 'wireguard' | 'openvpn';
  state: TunnelState;
  /** Why it is not up (the tunnel process's own words when it has some). */
  reason?: string;
  /** When the state last changed (ms since epoch). */
  since: number;
  netns: string;
  iface: string;
  /** DNS servers inside the tunnel (from `DNS =` or pushed by the OpenVPN server). */
  dns: string[];
  /** The tunnel interface's own addresses (what the far side sees as the source). */
  addresses: string[];
  /** Times the tunnel process was restarted after it died. */
  restarts: number;
  pid?: number;
  /** WireGuard: when the last handshake with the peer completed (ms since epoch; null: none yet). */
  lastHandshake?: number | null;
}

/** Writes a status file atomically (workers and the dialer helper read it). */
export function writeStatusFile(file: string, status: TunnelStatus): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(status), { mode: 0o600 });
  renameSync(temp, file);
}

/** Reads status files, parsing one again only when it changed (one stat per call). */
export class StatusReader {
  private cached: { ino: number; mtimeMs: number; size: number; status: TunnelStatus } | null = null;

  constructor(private readonly file: string) {}

  /** The current status, or null when the daemon has not written one (no such tunnel). */
  read(): TunnelStatus | null {
    try {
      const stat = statSync(this.file);
      if (this.cached && this.cached.ino === stat.ino && this.cached.mtimeMs === stat.mtimeMs && this.cached.size === stat.size) return this.cached.status;
      const status = JSON.parse(readFileSync(this.file, 'utf8')) as TunnelStatus;
      this.cached = { ino: stat.ino, mtimeMs: stat.mtimeMs, size: stat.size, status };
      return status;
    } catch {
      return null;
    }
  }
}
