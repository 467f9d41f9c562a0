import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { ProxyError } from '../../errors.js';

interface TestAnswer {
  name: string;
  target: { host: string; port: number };
  ok: boolean;
  latencyMs: number;
  error?: string;
}

/** `backend test`: open one connection through a backend now. */
export default class BackendTestCommand extends BaseCommand {
  static override summary = 'Open a connection through a backend now and report how long it took';
  static override examples = ['<%= config.bin %> backend test --name germany', '<%= config.bin %> backend test --name us-proxy --target example.org:443'];
  static override flags = {
    name: Flags.string({ description: 'backend name', required: true }),
    target: Flags.string({ description: 'host:port to reach through it (default example.com:80)' }),
  };

  async run(): Promise<TestAnswer> {
    const { flags } = await this.parse(BackendTestCommand);
    const answer = await this.client(flags.socket).call<TestAnswer>('POST', `/api/backends/${encodeURIComponent(flags.name)}/test`, flags.target ? { target: flags.target } : {});
    const where = `${answer.target.host}:${answer.target.port}`;
    if (!answer.ok) throw new ProxyError('BACKEND_TEST_FAILED', `backend "${answer.name}" could not reach ${where} (${answer.latencyMs} ms): ${answer.error}`, { exitCode: 6 });
    this.say(`backend "${answer.name}" reached ${where} in ${answer.latencyMs} ms`);
    return answer;
  }
}
