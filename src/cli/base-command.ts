import { Command, Flags } from '@oclif/core';
import { ControlClient, type ControlTarget } from '../control/control-client.js';
import { remoteTarget } from './remote-target.js';
import { daemonPaths, type DaemonPaths } from '../daemon/paths.js';
import { ConfigError, ProxyError } from '../errors.js';
import { errorText } from './error-text.js';
import { getRole, roleDefaults, type Role } from '../role.js';

/**
 * What every command shares: `--json`, `--socket`, the role of the bin that runs it, a control
 * client, and one-line errors with stable exit codes (no stack traces for expected failures).
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    socket: Flags.string({ description: 'control socket of the daemon (default: per role, or $SIMPLE_PROXY_SOCKET)', helpGroup: 'GLOBAL' }),
    remote: Flags.string({ description: "a daemon's management listener to drive instead of the local socket, https://HOST:PORT (or $SIMPLE_PROXY_REMOTE)", helpGroup: 'GLOBAL' }),
    'api-key': Flags.string({ description: 'the API key for --remote (or $SIMPLE_PROXY_API_KEY, or the keyring entry "api-key:https://HOST:PORT" stored with "secret set")', helpGroup: 'GLOBAL' }),
    'ca-file': Flags.string({ description: "a CA file (PEM) that signed the remote daemon's certificate, when the system's CAs do not", helpGroup: 'GLOBAL' }),
  };

  /** The remote daemon this run drives (--remote or $SIMPLE_PROXY_REMOTE), or null for the local socket. */
  private remote: ControlTarget | null = null;

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
    const { flags } = await this.parse(this.constructor as typeof BaseCommand);
    this.remote = await remoteTarget(flags.remote ?? process.env.SIMPLE_PROXY_REMOTE, flags['api-key'] ?? process.env.SIMPLE_PROXY_API_KEY, flags['ca-file'] ?? process.env.SIMPLE_PROXY_CA_FILE);
  }

  /** Whether this run drives a remote daemon (then nothing falls back to local files). */
  protected get remoteRun(): boolean {
    return this.remote !== null;
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

  /** A control client of the remote daemon, or on this role's socket. */
  protected client(socket?: string): ControlClient {
    return new ControlClient(this.remote ?? { kind: 'socket', path: this.paths(socket).socket }, this.role);
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
    } else {
      for (const line of errorText(error)) this.logToStderr(line);
    }
    return undefined;
  }
}
