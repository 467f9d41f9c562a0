import { loadConfig, locateConfig } from '../config/load.js';
import type { ConfigSnapshot } from '../config/model.js';
import type { Role } from '../role.js';

/** The config a read-only command shows when no daemon runs: --config, or the one `start` would find. */
export async function configWithoutDaemon(role: Role, configFlag?: string): Promise<ConfigSnapshot> {
  const location = await locateConfig(role, configFlag);
  return loadConfig(location.path, role);
}
