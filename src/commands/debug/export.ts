import { existsSync, writeFileSync } from 'node:fs';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { toHar } from '../../debug/har.js';
import { ProxyError } from '../../errors.js';

/** `debug export`: recorded traffic as a HAR 1.2 file. */
export default class DebugExportCommand extends BaseCommand {
  static override summary = 'Write the recorded traffic as a HAR 1.2 file (for browser dev tools and HAR viewers)';
  static override examples = ['<%= config.bin %> debug export --output traffic.har', '<%= config.bin %> debug export --output api.har --filter api.example.com'];
  static override flags = {
    output: Flags.string({ char: 'o', description: 'file to write (an existing one only with --force)', required: true }),
    force: Flags.boolean({ description: 'overwrite the output file if it exists' }),
    filter: Flags.string({ char: 'f', description: 'only records whose method, host, path, client, user, backend, status or error contain this text' }),
  };

  async run(): Promise<{ output: string; entries: number }> {
    const { flags } = await this.parse(DebugExportCommand);
    if (!flags.force && existsSync(flags.output)) throw exists(flags.output);
    const { records } = await this.client(flags.socket).call('debugTraffic', { query: { limit: '100000', ...(flags.filter ? { filter: flags.filter } : {}) } });
    const har = toHar(records, this.config.version);
    // Headers are masked, but URLs and bodies may still be private.
    try {
      // "wx" also refuses a file that appeared while the records were fetched.
      writeFileSync(flags.output, `${JSON.stringify(har, null, 2)}\n`, { mode: 0o600, flag: flags.force ? 'w' : 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw exists(flags.output);
      throw error;
    }
    this.say(`wrote ${har.log.entries.length} entr${har.log.entries.length === 1 ? 'y' : 'ies'} to ${flags.output}`);
    return { output: flags.output, entries: har.log.entries.length };
  }
}

function exists(path: string): ProxyError {
  return new ProxyError('FILE_EXISTS', `${path} already exists; pass --force to overwrite it`);
}
