import { locateConfig } from '../config/load.js';
import { editConfigFile, type Edit } from '../config/editor.js';
import { NoDaemonError } from '../control/control-client.js';
import { ProxyError } from '../errors.js';
import { roleDefaults, type Role } from '../role.js';

/** Where an edit was applied, and the resulting config version. */
export interface EditOutcome {
  via: 'daemon' | 'file';
  path: string | null;
  version: string;
  restartRequired: string[];
}

/**
 * Applies a config edit through the running daemon (which writes the file and reloads), or,
 * when no daemon runs, directly to the config file with the same library code.
 */
export async function applyEdit(role: Role, configFlag: string | undefined, viaDaemon: () => Promise<{ version: string; restartRequired: string[] }>, edit: Edit): Promise<EditOutcome> {
  if (configFlag === undefined) {
    try {
      const answer = await viaDaemon();
      return { via: 'daemon', path: null, version: answer.version, restartRequired: answer.restartRequired };
    } catch (error) {
      if (!(error instanceof NoDaemonError)) throw error;
    }
  }
  const location = await locateConfig(role, configFlag);
  if (location.path === null) {
    throw new ProxyError('NO_CONFIG_FILE', `no daemon is running and no config file was found; create one with "${roleDefaults(role).bin} config init" or pass --config FILE`);
  }
  const snapshot = await editConfigFile(location.path, role, edit);
  return { via: 'file', path: location.path, version: snapshot.version, restartRequired: [] };
}
