import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { flush, handle, run as oclifRun, type Interfaces } from '@oclif/core';
import { setRole, type Role } from '../role.js';

const packageRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Runs the shared oclif command set as the given role's bin. */
export async function run(role: Role, argv: string[]): Promise<void> {
  setRole(role);
  const pjson = JSON.parse(readFileSync(`${packageRoot}/package.json`, 'utf8')) as Interfaces.PJSON;
  // One command set, two bins: help, usage and completion must show the bin that was run, and each
  // bin keeps its own completion cache so installing both leaves each shell setup intact.
  const bin = `simple-proxy-${role}`;
  try {
    await oclifRun(argv, { root: packageRoot, pjson: { ...pjson, oclif: { ...pjson.oclif, bin, dirname: bin } } });
    await flush();
  } catch (error) {
    await handle(error as Error);
  }
}
