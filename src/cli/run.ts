import { fileURLToPath } from 'node:url';
import { Config, flush, handle, run as oclifRun } from '@oclif/core';
import { setRole, type Role } from '../role.js';

const packageRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Runs the shared oclif command set as the given role's bin. */
export async function run(role: Role, argv: string[]): Promise<void> {
  setRole(role);
  const config = await Config.load({ root: packageRoot });
  // One command set, two bins: help, usage and completion must show the bin that was run.
  config.bin = `simple-proxy-${role}`;
  try {
    await oclifRun(argv, config);
    await flush();
  } catch (error) {
    await handle(error as Error);
  }
}
