import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { configWithoutDaemon } from '../../cli/current-config.js';
import { NoDaemonError } from '../../control/control-client.js';
import type { RouteExplanation } from '../../proxy/engine.js';
import { Router } from '../../routing/router.js';

/** `rule test`: which rule and backend a host takes, and why. */
export default class RuleTestCommand extends BaseCommand {
  static override summary = 'Show which rule and backend a domain takes, and the later rules it shadows';
  static override examples = ['<%= config.bin %> rule test --domain www.crunchyroll.com', '<%= config.bin %> rule test --domain api.example.com --config ./server-config.yaml'];
  static override flags = {
    domain: Flags.string({ description: 'host name to route', required: true }),
    client: Flags.string({ description: 'client address (for rules that depend on it)' }),
    user: Flags.string({ description: 'authenticated user (for group ACLs)' }),
    config: Flags.string({ char: 'c', description: 'explain with this config file instead of the running daemon' }),
  };

  async run(): Promise<RouteExplanation> {
    const { flags } = await this.parse(RuleTestCommand);
    let answer: RouteExplanation;
    try {
      if (flags.config) throw new NoDaemonError(this.role, '');
      answer = await this.client(flags.socket).call<RouteExplanation>('GET', `/api/rules/test?domain=${encodeURIComponent(flags.domain)}`);
    } catch (error) {
      if (!(error instanceof NoDaemonError)) throw error;
      const snapshot = await configWithoutDaemon(this.role, flags.config);
      const [winner, ...rest] = new Router(snapshot.rules).explain(flags.domain);
      answer = { host: flags.domain, rule: winner ?? null, backend: winner ? snapshot.rules[winner.index].backends[0]?.name ?? null : null, alsoMatching: rest };
    }
    if (!answer.rule) {
      this.say(`${flags.domain}: no rule matches; the connection is refused (403 / SOCKS5 0x02)`);
    } else {
      this.say(`${flags.domain} -> rule #${answer.rule.index} "${answer.rule.name}" (pattern ${answer.rule.pattern}) -> backend ${answer.backend}`);
      for (const hit of answer.alsoMatching) this.say(`  also matches rule #${hit.index} "${hit.name}" (pattern ${hit.pattern}), but the earlier rule wins`);
    }
    return answer;
  }
}
