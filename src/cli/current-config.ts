import { locateConfig } from '../config/load.js';
import { loadEffectiveConfig } from '../config/remote-config.js';
import type { ConfigSnapshot } from '../config/model.js';
import { roleDefaults, type Role } from '../role.js';

/** The config a read-only command shows when no daemon runs: --config, or the one `start` would find. */
export async function configWithoutDaemon(role: Role, configFlag?: string): Promise<ConfigSnapshot> {
  const location = await locateConfig(role, configFlag);
  return loadEffectiveConfig(location.path, role);
}

/** Where a read-only command's answer came from: the running daemon, a config file, or the embedded default. */
export type AnswerSource = 'daemon' | 'embedded default' | (string & {});

/** The source of an answer read without a daemon (the file's path, or the embedded default). */
export function offlineSource(snapshot: { source: string | null }): AnswerSource {
  return snapshot.source ?? 'embedded default';
}

/**
 * The line a read-only command prints when it answered without a daemon and without --config,
 * so that nobody takes the file (or the embedded default) for what is running.
 */
export function offlineNote(role: Role, source: AnswerSource): string {
  return source === 'embedded default'
    ? `(no daemon is running and no config file was found: this is the embedded default config; create a file with "${roleDefaults(role).bin} config init" or pass --config FILE)`
    : `(no daemon is running: this is ${source})`;
}
