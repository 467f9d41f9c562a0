import { NoDaemonError, type ControlClient } from '../control/control-client.js';
import type { RuleSpec } from '../config/model.js';
import type { Role } from '../role.js';
import { configWithoutDaemon } from './current-config.js';

/** What a completion asks for: backend, rule or user names, or the domains rules name (for `rule test`). */
export type NameKind = 'backend' | 'rule' | 'user' | 'domain';

interface Names {
  backends: string[];
  rules: Pick<RuleSpec, 'name' | 'domains'>[];
  users: string[];
}

/** The names of the running daemon, or of the config file `start` would use when none runs. */
async function currentNames(role: Role, client: ControlClient): Promise<Names> {
  try {
    const [backends, rules, users] = await Promise.all([
      client.call('backends'),
      client.call('rules'),
      role === 'server' ? client.call('users') : Promise.resolve({ users: [] }),
    ]);
    return { backends: backends.backends.map((b) => b.name), rules: rules.rules, users: users.users.map((u) => u.username) };
  } catch (error) {
    if (!(error instanceof NoDaemonError)) throw error;
  }
  const snapshot = await configWithoutDaemon(role);
  return { backends: snapshot.backends.map((b) => b.name), rules: snapshot.rules, users: (snapshot.auth.native?.users ?? []).map((u) => u.username) };
}

/** The live names of a kind, for shell completion (domains without their `*.`; the catch-all left out). */
export async function completionNames(role: Role, client: ControlClient, kind: NameKind): Promise<string[]> {
  const names = await currentNames(role, client);
  if (kind === 'backend') return names.backends;
  if (kind === 'rule') return names.rules.map((r) => r.name);
  if (kind === 'user') return names.users;
  return [...new Set(names.rules.flatMap((r) => r.domains).map((d) => d.replace(/^\*\./, '')).filter((d) => d !== '*'))];
}
