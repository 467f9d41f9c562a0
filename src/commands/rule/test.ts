import { Args, Flags } from '@oclif/core';
import { knownGroups } from '../../auth/acl.js';
import { authSettings } from '../../auth/auth-settings.js';
import { BaseCommand } from '../../cli/base-command.js';
import { configWithoutDaemon } from '../../cli/current-config.js';
import { routeLines } from '../../cli/route-text.js';
import { NoDaemonError } from '../../control/control-client.js';
import { ruleTestSchema } from '../../control/schemas.js';
import { ProxyError } from '../../errors.js';
import { configuredChoice, explainRoute } from '../../routing/route-explanation.js';
import type { RouteAnswer } from '../../control/answers/routing.js';
import { Router } from '../../routing/router.js';

/** `rule test`: which rule and backend a host takes, for which client and user, and why. */
export default class RuleTestCommand extends BaseCommand {
  static override summary = 'Show which rule and backend a domain takes (for a client address and user), and the later rules it shadows';
  static override description =
    'With a running daemon the answer uses its live state: unhealthy backends are skipped, ip_hash hashes --client, a --client the IP lists refuse is reported, and the group ACL is checked for --user. Without one it is read from the config file, every backend counted healthy.';
  static override examples = [
    '<%= config.bin %> rule test www.crunchyroll.com',
    '<%= config.bin %> rule test www.crunchyroll.com --client 203.0.113.7 --user alice',
    '<%= config.bin %> rule test --domain api.example.com --config ./server-config.yaml',
  ];
  static override args = { domain: Args.string({ description: 'host name to route' }) };
  static override flags = {
    domain: Flags.string({ description: 'host name to route (instead of the argument)' }),
    client: Flags.string({ description: 'client address (checked against access_control whitelist and blacklist; ip_hash and sticky sessions pick by it)' }),
    user: Flags.string({ description: 'authenticated user (checked against the group ACL)' }),
    config: Flags.string({ char: 'c', description: 'explain with this config file instead of the running daemon' }),
  };

  async run(): Promise<RouteAnswer> {
    const { args, flags } = await this.parse(RuleTestCommand);
    const domain = args.domain ?? flags.domain;
    // Exit code 2, like the flag errors oclif reports itself.
    if (!domain) throw new ProxyError('BAD_REQUEST', `give the domain to route: ${this.bin} rule test DOMAIN`);
    const parsed = ruleTestSchema.safeParse({ domain, client: flags.client, user: flags.user });
    if (!parsed.success) throw new ProxyError('BAD_REQUEST', parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
    const question = parsed.data;
    let answer: RouteAnswer;
    try {
      if (flags.config) throw new NoDaemonError(this.role, '');
      answer = await this.client(flags.socket).call('ruleTest', { query: question });
    } catch (error) {
      if (!(error instanceof NoDaemonError)) throw error;
      const snapshot = await configWithoutDaemon(this.role, flags.config);
      const groups = question.user === undefined ? undefined : knownGroups(authSettings(snapshot), question.user, []);
      answer = explainRoute(snapshot, new Router(snapshot.rules), question.domain, (index, client) => configuredChoice(snapshot, index, client), { ...question, groups });
      this.say(`(no daemon: answered from ${snapshot.source ?? 'the embedded default'}; backend health is not known, every backend counts as healthy)`);
    }
    for (const line of routeLines(answer)) this.say(line);
    return answer;
  }
}
