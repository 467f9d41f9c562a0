import type { Hook } from '@oclif/core';
import { getRole, roleDefaults } from '../../role.js';
import { hideOtherRoleCommands } from '../role-commands.js';

/** Before help or a command: the bin shows only what its role can run, and a topic of the other role is refused. */
const hook: Hook.Init = async function (options) {
  const role = getRole();
  hideOtherRoleCommands(options.config, role);
  const topic = options.id === undefined ? undefined : options.config.findTopic(options.id);
  if (topic?.hidden && !options.config.findCommand(options.id!)) {
    const other = roleDefaults(role === 'server' ? 'client' : 'server').bin;
    process.stderr.write(`Error: "${topic.name.replaceAll(':', ' ')}" commands are not part of ${roleDefaults(role).bin}; run them as "${other} ${topic.name.replaceAll(':', ' ')}"\n`);
    this.exit(2);
  }
};

export default hook;
