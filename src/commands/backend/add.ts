import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { applyEdit, type EditOutcome } from '../../cli/edit-target.js';
import { addBackend } from '../../config/editor.js';
import type { BackendAdd } from '../../control/schemas.js';

/** `backend add`: define a backend (server role). */
export default class BackendAddCommand extends BaseCommand {
  static override summary = 'Add a backend (server role)';
  static override examples = [
    '<%= config.bin %> backend add --name us-proxy --type http --address proxy.example.com:8080',
    '<%= config.bin %> backend add --name japan --type wireguard --config-file /etc/wireguard/japan.conf',
  ];
  static override flags = {
    name: Flags.string({ description: 'backend name', required: true }),
    type: Flags.string({ description: 'backend type', required: true, options: ['direct', 'http', 'socks5', 'wireguard', 'openvpn'] }),
    address: Flags.string({ description: 'upstream proxy host:port (http, socks5)' }),
    username: Flags.string({ description: 'upstream proxy username' }),
    'password-env': Flags.string({ description: 'name of an environment variable holding the upstream password (written as ${VAR}, never in clear)' }),
    'config-file': Flags.string({ description: 'tunnel config file (.conf for wireguard, .ovpn for openvpn)' }),
    'auth-file': Flags.string({ description: 'openvpn username/password file' }),
    config: Flags.string({ char: 'c', description: 'edit this config file directly' }),
  };

  async run(): Promise<EditOutcome> {
    const { flags } = await this.parse(BackendAddCommand);
    const backend: BackendAdd = {
      name: flags.name,
      type: flags.type as BackendAdd['type'],
      address: flags.address,
      username: flags.username,
      password: flags['password-env'] ? `\${${flags['password-env']}}` : undefined,
      config_file: flags['config-file'],
      auth_file: flags['auth-file'],
    };
    const client = this.client(flags.socket);
    const outcome = await applyEdit(this.role, flags.config, () => client.call('POST', '/api/backends', backend), addBackend(backend));
    this.say(`backend "${flags.name}" added (config version ${outcome.version})`);
    return outcome;
  }
}
