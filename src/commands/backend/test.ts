import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { ProxyError } from '../../errors.js';

interface TestAnswer {
  name: string;
  /** The check that ran: the backend's configured one, or tcp. */
  type: 'tcp' | 'http' | 'ping';
  target: string;
  ok: boolean;
  latencyMs: number;
  error?: string;
}

/** `backend test`: run a health check through a backend now. */
export default class BackendTestCommand extends BaseCommand {
  static override summary = "Run a check through a backend now (its configured health check, or a tcp connection) and report how long it took";
  static override examples = ['<%= config.bin %> backend test --name germany', '<%= config.bin %> backend test --name us-proxy --target example.org:443'];
  static override flags = {
    name: Flags.string({ description: 'backend name', required: true }),
    target: Flags.string({ description: 'host:port to connect to through it instead of its configured check (default example.com:80)' }),
  };

  async run(): Promise<TestAnswer> {
    const { flags } = await this.parse(BackendTestCommand);
    const answer = await this.client(flags.socket).call<TestAnswer>('POST', `/api/backends/${encodeURIComponent(flags.name)}/test`, flags.target ? { target: flags.target } : {});
    if (!answer.ok) throw new ProxyError('BACKEND_TEST_FAILED', `backend "${answer.name}" failed its ${answer.type} check of ${answer.target} (${answer.latencyMs} ms): ${answer.error}`, { exitCode: 6 });
    this.say(`backend "${answer.name}" passed its ${answer.type} check of ${answer.target} in ${answer.latencyMs} ms`);
    return answer;
  }
}
