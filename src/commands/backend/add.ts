import { resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { applyEdit, editNotes, type EditOutcome } from '../../cli/edit-target.js';
import { addBackend, backendFilesProblem } from '../../config/editor.js';
import type { BackendAdd } from '../../control/schemas.js';

/** `backend add`: define a backend (server role). */
export default class BackendAddCommand extends BaseCommand {
  static override roles = ['server'] as const;
  static override summary = 'Add a backend (server role)';
  static override examples = [
    '<%= config.bin %> backend add --name us-proxy --type http --address proxy.example.com:8080',
    '<%= config.bin %> backend add --name japan --type wireguard --config /etc/wireguard/japan.conf',
    '<%= config.bin %> backend add --name uk-vpn --type openvpn --config uk.ovpn --auth-file uk-auth.txt',
    '<%= config.bin %> backend add --name uk-vpn --type openvpn --config uk.ovpn --username me --password-env UK_VPN_PASSWORD',
  ];
  static override flags = {
    name: Flags.string({ description: 'backend name', required: true }),
    type: Flags.string({ description: 'backend type', required: true, options: ['direct', 'http', 'socks5', 'wireguard', 'openvpn'] }),
    address: Flags.string({ description: 'upstream proxy host:port (http, socks5)' }),
    username: Flags.string({ description: 'upstream proxy or openvpn username' }),
    'password-env': Flags.string({ description: 'name of an environment variable holding the upstream or openvpn password (written as ${VAR}, never in clear)' }),
    'config-file': Flags.string({ description: 'tunnel config file (.conf for wireguard, .ovpn for openvpn)' }),
    'auth-file': Flags.string({ description: 'openvpn username/password file' }),
    force: Flags.boolean({ description: 'add a tunnel backend even when its config or auth file is missing or invalid (it stays unavailable until fixed)', default: false }),
    config: Flags.string({
      char: 'c',
      description: 'edit this config file directly; for --type wireguard/openvpn without --config-file, a file not ending in .yaml/.yml is the tunnel file (spec form: --config japan.conf)',
    }),
  };

  async run(): Promise<EditOutcome & { warnings: string[] }> {
    const { flags } = await this.parse(BackendAddCommand);
    const tunnel = flags.type === 'wireguard' || flags.type === 'openvpn';
    // Tunnel files are also given as --config; a proxy config file is YAML.
    if (tunnel && !flags['config-file'] && flags.config && !/\.ya?ml$/i.test(flags.config)) {
      flags['config-file'] = flags.config;
      flags.config = undefined;
    }
    // The daemon resolves relative paths against its config file's dir; the person meant their cwd.
    if (flags['config-file']) flags['config-file'] = resolve(flags['config-file']);
    if (flags['auth-file']) flags['auth-file'] = resolve(flags['auth-file']);
    const backend: BackendAdd = {
      name: flags.name,
      type: flags.type as BackendAdd['type'],
      address: flags.address,
      username: flags.username,
      password: flags['password-env'] ? `\${${flags['password-env']}}` : undefined,
      config_file: flags['config-file'],
      auth_file: flags['auth-file'],
      ...(flags.force ? { force: true } : {}),
    };
    const client = this.client(flags.socket);
    const outcome = await applyEdit(this.role, flags.config, () => client.call('backendAdd', { body: backend }), addBackend(backend));
    this.say(`backend "${flags.name}" added (config version ${outcome.version})`);
    // Forced past a file problem: the backend is in the config but cannot carry traffic yet.
    const problem = flags.force ? backendFilesProblem(backend) : null;
    const warnings = [...outcome.warnings, ...(problem ? [`backend "${flags.name}" is unavailable: ${problem}`] : [])];
    for (const note of editNotes({ ...outcome, warnings })) this.say(note);
    return { ...outcome, warnings };
  }
}
