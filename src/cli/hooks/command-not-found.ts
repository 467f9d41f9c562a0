import type { Hook } from '@oclif/core';
import { didYouMean } from '../../config/problems.js';
import { getRole, roleDefaults } from '../../role.js';
import { roleCommandWords } from '../role-commands.js';

/**
 * An unknown command: named as it was typed (`rule ad`, never the internal `rule:ad`), with the
 * nearest command this bin offers, and exit 2 like any other bad usage.
 */
const hook: Hook.CommandNotFound = async function (options) {
  const typed = options.id.replaceAll(':', ' ');
  const bin = roleDefaults(getRole()).bin;
  process.stderr.write(`Error: unknown command "${typed}"${didYouMean(typed, roleCommandWords(options.config, getRole()))}; "${bin} --help" lists the commands\n`);
  process.exitCode = 2;
};

export default hook;
