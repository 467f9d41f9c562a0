import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { parseConfigText } from '../../config/load.js';
import { configTemplate } from '../../config/template.js';
import { ProxyError } from '../../errors.js';
import { roleDefaults } from '../../role.js';

/** `config init`: write a commented starting config file. */
export default class ConfigInitCommand extends BaseCommand {
  static override summary = 'Write a commented starting config file (the embedded default, written out)';
  static override examples = ['<%= config.bin %> config init', '<%= config.bin %> config init --output /etc/simple-proxy/server-config.yaml'];
  static override flags = {
    output: Flags.string({ char: 'o', description: 'where to write it (default: ./<role>-config.yaml)' }),
    force: Flags.boolean({ description: 'overwrite an existing file' }),
  };

  async run(): Promise<{ path: string }> {
    const { flags } = await this.parse(ConfigInitCommand);
    const path = resolve(flags.output ?? roleDefaults(this.role).configFileName);
    if (existsSync(path) && !flags.force) throw new ProxyError('CONFLICT', `${path} already exists (use --force to overwrite)`);
    const text = configTemplate(this.role);
    parseConfigText(text, path, this.role);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text, { mode: 0o600 });
    this.say(`wrote ${path}`);
    return { path };
  }
}
