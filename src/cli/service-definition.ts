import { resolve } from 'node:path';
import { launchdPlist, servicePath, systemdUnit, type ServiceOptions } from '../daemon/service-unit.js';
import type { DaemonPaths } from '../daemon/paths.js';
import type { Role } from '../role.js';

/** The unit (or plist) for this installation: this node binary, this bin script, this config. */
export function serviceDefinition(role: Role, config: string | undefined, user: boolean, paths: DaemonPaths): { path: string; content: string } {
  const options: ServiceOptions = { role, node: process.execPath, bin: resolve(process.argv[1]), config: config ? resolve(config) : null, user };
  const content = process.platform === 'darwin' ? launchdPlist(options, paths) : systemdUnit(options);
  return { path: servicePath(options), content };
}
