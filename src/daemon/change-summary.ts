import type { ConfigDiff } from '../config/diff.js';
import type { RouteName } from '../control/api.js';

/**
 * What a call changed, in a few words for the audit trail: the config diff of an edit or reload,
 * or the switch it threw. Built from names only: never a body's secrets (a new key's secret, a
 * password hash).
 */
export function changeSummary(action: RouteName | null, answer: unknown, request: unknown): string {
  const body = (answer ?? {}) as { diff?: ConfigDiff; error?: { message?: string }; id?: string; role?: string; enabled?: boolean; dryRun?: boolean };
  if (body.error) return body.error.message ?? 'refused';
  if (body.diff) {
    const d = body.diff;
    const parts = [
      ...(d.rulesAdded.length ? [`rules added: ${d.rulesAdded.join(', ')}`] : []),
      ...(d.rulesRemoved.length ? [`rules removed: ${d.rulesRemoved.join(', ')}`] : []),
      ...(d.rulesChanged.length ? [`rules changed: ${d.rulesChanged.join(', ')}`] : []),
      ...(d.rulesReordered ? ['rules reordered'] : []),
      ...(d.backendsAdded.length ? [`backends added: ${d.backendsAdded.join(', ')}`] : []),
      ...(d.backendsRemoved.length ? [`backends removed: ${d.backendsRemoved.join(', ')}`] : []),
      ...(d.backendsChanged.length ? [`backends changed: ${d.backendsChanged.join(', ')}`] : []),
      ...(d.settingsChanged.length ? [`settings changed: ${d.settingsChanged.join(', ')}`] : []),
    ];
    const text = parts.join('; ') || (action?.startsWith('user') ? 'users changed' : 'no change');
    return body.dryRun ? `dry run: ${text}` : text;
  }
  if (action === 'keyAdd') return `key ${body.id} added with role ${body.role}`;
  if (action === 'keyRevoke') return `key ${body.id} revoked`;
  if (action === 'debugEnable' || action === 'debugDisable') return `debugger ${body.enabled ? 'on' : 'off'}`;
  if (action === 'debugClear') return 'debug records cleared';
  if (action === 'stop') return `stop${(request as { force?: boolean } | undefined)?.force ? ' (forced)' : ''}`;
  if (action === 'backendTest') return 'backend tested';
  return action ?? '';
}
