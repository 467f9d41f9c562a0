import { writeFileSync } from 'node:fs';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { ensureCa } from '../../mitm/ca-store.js';
import { caAs, type CaFormat } from '../../mitm/ca-export.js';
import { ProxyError } from '../../errors.js';

/** `ca export`: the CA's certificate (never its key) as PEM, DER or PKCS#12. */
export default class CaExportCommand extends BaseCommand {
  static override summary = "Write the interception CA's certificate as PEM, DER or PKCS#12 (the key never leaves the state dir)";
  static override examples = ['<%= config.bin %> ca export > simple-proxy-ca.pem', '<%= config.bin %> ca export --format der --output simple-proxy-ca.cer', '<%= config.bin %> ca export --format p12 --output simple-proxy-ca.p12'];
  static override flags = {
    format: Flags.string({ description: 'pem (text), der (binary, Windows and Android) or p12 (PKCS#12 with the certificate only, empty password)', options: ['pem', 'der', 'p12'], default: 'pem' }),
    output: Flags.string({ char: 'o', description: 'file to write (default: standard output, pem only)' }),
  };

  async run(): Promise<{ format: string; output: string | null; bytes: number }> {
    const { flags } = await this.parse(CaExportCommand);
    const format = flags.format as CaFormat;
    if (format !== 'pem' && flags.output === undefined) throw new ProxyError('BAD_REQUEST', `--format ${format} is binary: give --output FILE`);
    const { ca } = await ensureCa(this.paths(flags.socket).stateDir);
    const bytes = await caAs(ca.certPem, format);
    if (flags.output === undefined) {
      if (!this.jsonEnabled()) process.stdout.write(bytes);
      return { format, output: null, bytes: bytes.length };
    }
    writeFileSync(flags.output, bytes, { mode: 0o644 });
    this.say(`wrote the CA certificate (${format}) to ${flags.output}`);
    return { format, output: flags.output, bytes: bytes.length };
  }
}
