import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';

/** `stop`: stop the daemon gracefully (drain, then exit). */
export default class Stop extends BaseCommand {
  static override summary = 'Stop the proxy daemon';
  static override description = 'Reports not ready at once, keeps accepting for shutdown.accept_grace (0 s unless set: time for a balancer to notice), then stops accepting, lets open connections finish for up to shutdown.drain_timeout, closes the rest and exits. --force closes everything at once.';
  static override examples = ['<%= config.bin %> stop', '<%= config.bin %> stop --force'];
  static override flags = { force: Flags.boolean({ description: 'do not wait for open connections' }) };

  async run(): Promise<{ stopped: boolean; pid: number }> {
    const { flags } = await this.parse(Stop);
    const client = this.client(flags.socket);
    const answer = await client.call('stop', { body: { force: flags.force } });
    const grace = answer.acceptGraceMs > 0 ? `; not ready, still accepting for ${answer.acceptGraceMs / 1000} s` : '';
    this.say(flags.force ? `stopping ${this.bin} (pid ${answer.pid}) now` : `stopping ${this.bin} (pid ${answer.pid})${grace}; open connections have up to ${answer.drainTimeoutMs / 1000} s to finish`);
    const deadline = Date.now() + answer.acceptGraceMs + answer.drainTimeoutMs + 15_000;
    while (Date.now() < deadline && (await client.answers())) await new Promise((r) => setTimeout(r, 100));
    this.say('stopped');
    return { stopped: true, pid: answer.pid };
  }
}
