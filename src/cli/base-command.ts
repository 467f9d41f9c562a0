import { Command, Flags } from '@oclif/core';
import { ControlClient } from '../control/control-client.js';
import { daemonPaths, type DaemonPaths } from '../daemon/paths.js';
import { ConfigError, ProxyError } from '../errors.js';
import { getRole, roleDefaults, type Role } from '../role.js';

/**
 * What every command shares: `--json`, `--socket`, the role of the bin that runs it, a control
 * client, and one-line errors with stable exit codes (no stack traces for expected failures).
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    socket: Flags.string({ description: 'control socket of the daemon (default: per role, or $SIMPLE_PROXY_SOCKET)', helpGroup: 'GLOBAL' }),
  };

  /** The roles whose bin runs this command (server-only commands narrow it). */
  static roles: readonly Role[] = ['server', 'client'];

  /** Refuses a command of the other role before it parses anything (the client has no backends or users to edit). */
  override async init(): Promise<void> {
    const roles = (this.constructor as typeof BaseCommand).roles;
    if (!roles.includes(this.role)) {
      const words = this.id?.replaceAll(':', ' ') ?? '';
      throw new ProxyError('WRONG_ROLE', `"${words}" is not a ${this.role} command; run it as "${roleDefaults(roles[0]).bin} ${words}"`);
    }
    await super.init();
  }

  /** The role of the bin that was run. */
  protected get role(): Role {
    return getRole();
  }

  /** The bin name, for messages. */
  protected get bin(): string {
    return roleDefaults(this.role).bin;
  }

  /** The daemon's paths for this role (honouring --socket). */
  protected paths(socket?: string): DaemonPaths {
    return daemonPaths(this.role, process.env, socket);
  }

  /** A control client on this role's socket. */
  protected client(socket?: string): ControlClient {
    return new ControlClient({ kind: 'socket', path: this.paths(socket).socket }, this.role);
  }

  /** Prints human output unless `--json` is on. */
  protected say(text = ''): void {
    if (!this.jsonEnabled()) this.log(text);
  }

  override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    if (!(error instanceof ProxyError)) return super.catch(error);
    process.exitCode = error.exitCode;
    if (this.jsonEnabled()) {
      this.logJson({ error: { code: error.code, message: error.message, ...(error instanceof ConfigError ? { problems: error.problems } : {}) } });
    } else if (error instanceof ConfigError && error.problems.length > 0) {
      this.logToStderr(`Error: config is invalid (${error.problems.length} problem${error.problems.length > 1 ? 's' : ''}):`);
      for (const problem of error.problems) this.logToStderr(`  ${problem}`);
    } else {
      this.logToStderr(`Error: ${error.message}`);
    }
    return undefined;
  }
}
