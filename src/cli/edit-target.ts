import { locateConfig } from '../config/load.js';
import { editConfigFile, type Edit, type EditOptions } from '../config/editor.js';
import { rulePlacement, type RulePlacement } from '../config/rule-placement.js';
import { NoDaemonError } from '../control/control-client.js';
import type { EditAnswer } from '../control/answers/daemon.js';
import { ProxyError } from '../errors.js';
import { roleDefaults, type Role } from '../role.js';

/** Where an edit was applied, the resulting config version, and what the new config warns about. */
export interface EditOutcome {
  via: 'daemon' | 'file';
  path: string | null;
  version: string;
  restartRequired: string[];
  /** Warnings of the config after the edit (a rule that can never match, an unusable backend, …). */
  warnings: string[];
  /** Where the rule named by `placed` stands now (rule edits only). */
  placement?: RulePlacement | null;
}

/**
 * Applies a config edit through the running daemon (which writes the file and reloads), or,
 * when no daemon runs, directly to the config file with the same library code. `placed` names
 * a rule whose place the outcome reports.
 */
export async function applyEdit(role: Role, configFlag: string | undefined, viaDaemon: () => Promise<EditAnswer>, edit: Edit, options: EditOptions & { placed?: string } = {}): Promise<EditOutcome> {
  if (configFlag === undefined) {
    try {
      const answer = await viaDaemon();
      return { via: 'daemon', path: null, version: answer.version, restartRequired: answer.restartRequired, warnings: answer.warnings, ...(options.placed === undefined ? {} : { placement: answer.placement ?? null }) };
    } catch (error) {
      if (!(error instanceof NoDaemonError)) throw error;
    }
  }
  const location = await locateConfig(role, configFlag);
  if (location.path === null) {
    throw new ProxyError('NO_CONFIG_FILE', `no daemon is running and no config file was found; create one with "${roleDefaults(role).bin} config init" or pass --config FILE`);
  }
  const snapshot = await editConfigFile(location.path, role, edit, options);
  return { via: 'file', path: location.path, version: snapshot.version, restartRequired: [], warnings: snapshot.warnings, ...(options.placed === undefined ? {} : { placement: rulePlacement(snapshot, options.placed) }) };
}

/** The lines every edit command prints after its own: the config's warnings and what needs a restart. */
export function editNotes(outcome: EditOutcome): string[] {
  return [
    ...(outcome.restartRequired.length > 0 ? [`needs a restart to take effect: ${outcome.restartRequired.join(', ')}`] : []),
    ...outcome.warnings.map((w) => `warning: ${w}`),
  ];
}

/** ` at position N, before the catch-all rule "X"` (or `(last)`), for rule edits. */
export function placementText(placement: RulePlacement | null | undefined): string {
  if (!placement) return '';
  const where = placement.beforeCatchAll !== null ? `, before the catch-all rule "${placement.beforeCatchAll}"` : placement.position === placement.count - 1 ? ' (last)' : '';
  return ` at position ${placement.position}${where}`;
}
