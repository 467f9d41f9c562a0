import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { ConfigSnapshot } from '../config/model.js';
import { RemoteConfig, type SourceMode } from '../config/remote-config.js';
import type { ConfigSourceStatus } from '../control/answers/config-source.js';
import type { Role } from '../role.js';

/**
 * Reads the daemon's config: the file, or, when the file names `config.source`, the body of that
 * URL (last good copy in `<state dir>/config-source/`), asked again every `interval`.
 */
export class ConfigReader {
  private readonly remote: RemoteConfig;
  private timer: NodeJS.Timeout | null = null;
  private every = 0;
  private polling = false;

  constructor(
    private readonly role: Role,
    stateDir: string,
  ) {
    this.remote = new RemoteConfig(join(stateDir, 'config-source'));
  }

  /** The config at `path` (null: the embedded default); null when a poll found the URL's body unchanged. */
  async read(path: string | null, mode: SourceMode): Promise<ConfigSnapshot | null> {
    const local = await loadConfig(path, this.role);
    return local.configSource ? this.remote.load(local, this.role, mode) : local;
  }

  /** `snapshot` is in force: keeps its body as the last good copy and asks its URL on its interval (`poll` runs each time). Returns a warning when the copy cannot be kept. */
  inForce(snapshot: ConfigSnapshot, poll: () => Promise<void>): string | null {
    const spec = snapshot.configSource;
    const every = spec?.intervalMs ?? 0;
    if (every !== this.every) {
      this.stop();
      this.every = every;
      if (every > 0) this.timer = setInterval(() => void this.tick(poll), every).unref();
    }
    return spec ? this.remote.commit(snapshot.version) : null;
  }

  /** The body fetched last was refused after it validated (secrets, TLS files, policy checks). */
  rejected(reason: string): void {
    this.remote.rejected(reason);
  }

  /** Where the URL source stands (null when the config is a file). */
  status(snapshot: ConfigSnapshot): ConfigSourceStatus | null {
    return this.remote.status(snapshot.configSource);
  }

  /** The `remote` part of the status's config section (empty when the config is a file). */
  statusPart(snapshot: ConfigSnapshot): { remote?: ConfigSourceStatus } {
    const remote = this.status(snapshot);
    return remote ? { remote } : {};
  }

  /** Stops asking the URL. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.every = 0;
  }

  /** One poll at a time: a slow origin does not pile fetches up. */
  private async tick(poll: () => Promise<void>): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      await poll();
    } finally {
      this.polling = false;
    }
  }
}
