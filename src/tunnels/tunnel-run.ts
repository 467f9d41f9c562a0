import type { EventEmitter } from 'node:events';

/** What a run learns when its tunnel comes up. */
export interface TunnelUp {
  dns: string[];
  addresses: string[];
}

/** Events of one run of a tunnel process. */
export interface TunnelRunEvents {
  /** The tunnel carries traffic (again, after an OpenVPN reconnect). */
  up: [TunnelUp];
  /** The tunnel stopped carrying traffic but its process lives on (it reconnects by itself). */
  down: [string];
  /** The tunnel process ended; the reason names how. */
  exit: [string];
}

/** A liveness answer from the tunnel itself (WireGuard handshakes). */
export interface TunnelProbe {
  ok: boolean;
  /** Too early to tell (waiting for the first handshake). */
  pending?: boolean;
  reason?: string;
  /** When the newest handshake completed (ms since epoch), null when none yet. */
  lastHandshake?: number | null;
}

/** Where a run puts things: its namespace, its interface and the daemon's tunnel directory. */
export interface RunPlace {
  name: string;
  netns: string;
  iface: string;
  /** Directory (mode 0700) for hook scripts, credentials and pushed settings. */
  dir: string;
}

/** One run of a tunnel process: from spawning it until it ends. The supervisor restarts runs. */
export interface TunnelRun extends EventEmitter<TunnelRunEvents> {
  readonly pid: number | undefined;
  /** Spawns the process and sets the tunnel up; rejects with the reason when it cannot. */
  start(): Promise<void>;
  /** Asks the tunnel whether its peer still answers (only where the protocol tells). */
  probe?(): Promise<TunnelProbe>;
  /** Ends the process and removes what this run made outside the namespace. */
  stop(): Promise<void>;
}
