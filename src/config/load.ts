import type { Role } from '../role.js';
import type { ConfigSnapshot } from './model.js';

/** Where a configuration was found, and how (flag, env, cwd, user dir, system dir, or embedded). */
export interface ConfigLocation {
  path: string | null;
  origin: 'flag' | 'env' | 'cwd' | 'user' | 'system' | 'embedded';
}

/**
 * Finds the config file: `--config`, `$SIMPLE_PROXY_CONFIG`, `./<role>-config.yaml`,
 * the user config dir, `/etc/simple-proxy/`; null path means the embedded default.
 */
export declare function locateConfig(role: Role, flagPath?: string): Promise<ConfigLocation>;

/** Loads, substitutes `${VAR}`, validates and normalises a config file (or the embedded default when path is null). */
export declare function loadConfig(path: string | null, role: Role, options?: { strict?: boolean; env?: NodeJS.ProcessEnv }): Promise<ConfigSnapshot>;
