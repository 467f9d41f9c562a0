import type { Command, Interfaces } from '@oclif/core';
import type { Role } from '../role.js';

/** A command as oclif lists it, with the roles it declares (`static roles`; both when unset). */
type ListedCommand = Command.Loadable & { roles?: readonly Role[] };

/** Whether a role's bin can run a command (server-only commands declare `static roles = ['server']`). */
export function commandServes(command: ListedCommand, role: Role): boolean {
  return command.roles === undefined || command.roles.includes(role);
}

/** The command ids a role's bin offers, as a person types them (`rule add`, not `rule:add`). */
export function roleCommandWords(config: Interfaces.Config, role: Role): string[] {
  const ids = config.commands.filter((c) => !c.hidden && commandServes(c, role)).map((c) => c.id);
  const topics = new Set(ids.flatMap((id) => id.split(':').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join(':'))));
  return [...ids, ...topics].map((id) => id.replaceAll(':', ' ')).sort();
}

/** Hides from help and completion what a role's bin cannot run, and topics left with nothing to show. */
export function hideOtherRoleCommands(config: Interfaces.Config, role: Role): void {
  for (const command of config.commands) if (!commandServes(command, role)) command.hidden = true;
  for (const topic of config.topics) {
    const children = config.commands.filter((c) => c.id.startsWith(`${topic.name}:`));
    if (children.length > 0 && children.every((c) => c.hidden)) topic.hidden = true;
  }
}
