import { constants, accessSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, dirname, resolve } from 'node:path';
import type { ConfigSnapshot } from '../config/model.js';
import { openRelayProblem } from '../policy/open-relay.js';
import { policySettings } from '../policy/policy-settings.js';
import { checkTlsFiles } from '../proxy/tls-material.js';

/** What `start` would refuse (problems) or run with but regret (warnings), beyond the file's own validity. */
export interface Preflight {
  problems: string[];
  warnings: string[];
}

/**
 * The checks `start` makes after the config loads, run without starting: the open-relay guard,
 * the TLS files, the access log (which `start` refuses when it cannot be written), and as
 * warnings the debug log, files backends read when they connect (a CA file, an OpenVPN auth
 * file) and, when `listeners` is set, fixed ports in use now (they may be free by the time the
 * daemon starts; a port that cannot be bound at all is a problem).
 */
export async function preflight(snapshot: ConfigSnapshot, options: { listeners: boolean }): Promise<Preflight> {
  const file = snapshot.source === null ? '(embedded default)' : basename(snapshot.source);
  const problems: string[] = [];
  const warnings: string[] = [];
  const relay = openRelayProblem(snapshot);
  if (relay) problems.push(`${file}: ${relay}`);
  try {
    checkTlsFiles(snapshot);
  } catch (error) {
    problems.push(`${file}: ${(error as Error).message}`);
  }
  const access = policySettings(snapshot).accessLog;
  if (access.enabled && access.output !== 'stdout' && access.file !== undefined) {
    const base = snapshot.source === null ? process.cwd() : dirname(snapshot.source);
    const problem = unwritable(resolve(base, access.file));
    if (problem) problems.push(`${file}: access_log.file: ${problem}`);
  }
  if (snapshot.debug.enabled && snapshot.debug.output !== 'stdout') {
    const problem = unwritable(snapshot.debug.logFile);
    if (problem) warnings.push(`debug.log_file: ${problem}; traffic would not be logged to it`);
  }
  for (const b of snapshot.backends) {
    const named = b.type === 'server' ? b.tls?.caFile : b.type === 'openvpn' ? b.authFile : undefined;
    const problem = named === undefined ? null : unreadable(named);
    if (problem) warnings.push(`backend "${b.name}": ${b.type === 'server' ? 'server.tls.ca_file' : 'openvpn.auth_file'} ${problem}; its connections would fail`);
  }
  if (options.listeners) {
    const ports = [...snapshot.listeners.map((l) => ({ what: `${l.kind} listener`, host: l.host, port: l.port })), ...(snapshot.metrics?.port ? [{ what: 'metrics listener', host: snapshot.metrics.host, port: snapshot.metrics.port }] : [])];
    for (const { what, host, port } of ports) {
      if (port === 0) continue;
      const code = await bindProblem(host, port);
      if (code === 'EADDRINUSE') warnings.push(`${what} ${host}:${port}: the port is in use now; start fails unless it is free by then`);
      else if (code !== null) problems.push(`${file}: ${what} ${host}:${port} cannot be bound (${code === 'EADDRNOTAVAIL' ? 'no such address on this host' : code === 'EACCES' ? 'permission denied' : code})`);
    }
  }
  return { problems, warnings };
}

/** Why a log file could not be opened for appending (null: it can, or its missing directories can be created). */
function unwritable(path: string): string | null {
  let probe = path;
  for (;;) {
    try {
      const stat = statSync(probe);
      if (probe !== path && !stat.isDirectory()) return `${path} cannot be created: ${probe} is not a directory`;
      if (probe === path && stat.isDirectory()) return `${path} is a directory`;
      accessSync(probe, probe === path ? constants.W_OK : constants.W_OK | constants.X_OK);
      return null;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EACCES') return `${path} cannot be ${probe === path ? 'written' : 'created'}: permission denied on ${probe}`;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return `${path}: ${code}`;
      const parent = dirname(probe);
      if (parent === probe) return `${path} cannot be created`;
      probe = parent;
    }
  }
}

/** Why a file the config names cannot be read (null: it can). */
function unreadable(path: string): string | null {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile() ? null : `${path} is not a file`;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return `${path} cannot be read (${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code})`;
  }
}

/** The error code binding host:port gives now, or null when it binds. */
function bindProblem(host: string, port: number): Promise<string | null> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => done(null)));
  });
}
