import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { ProxyError } from '../../errors.js';

/** `connections close ID|--backend NAME|--client IP`: ends open tunnels and requests now. */
export default class ConnectionsCloseCommand extends BaseCommand {
  static override summary = 'Close an open tunnel or request by id, or all of those through a backend or from a client';
  static override examples = ['<%= config.bin %> connections close 1a2b3c4', '<%= config.bin %> connections close --backend germany', '<%= config.bin %> connections close --client 192.0.2.7'];
  static override args = { id: Args.string({ description: 'the connection id (connections list)' }) };
  static override flags = {
    backend: Flags.string({ description: 'close every one through this backend' }),
    client: Flags.string({ description: 'close every one from this client address' }),
  };

  async run(): Promise<{ closed: number }> {
    const { args, flags } = await this.parse(ConnectionsCloseCommand);
    if (args.id === undefined && flags.backend === undefined && flags.client === undefined) throw new ProxyError('BAD_REQUEST', 'name what to close: an id, --backend NAME or --client IP');
    const body = { ...(args.id ? { id: args.id } : {}), ...(flags.backend ? { backend: flags.backend } : {}), ...(flags.client ? { client: flags.client } : {}) };
    const answer = await this.client(flags.socket).call('connectionsClose', { body });
    if (answer.closed === 0 && args.id !== undefined) throw new ProxyError('NOT_FOUND', `no open connection with id "${args.id}" (closed already, or not a tunnel or request that can be closed)`);
    this.say(`closed ${answer.closed} connection${answer.closed === 1 ? '' : 's'}`);
    return answer;
  }
}
