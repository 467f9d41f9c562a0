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
  static override summary = 'Show which rule and backend a connection takes (by domain, target IP, port, protocol, client address and user), and the later rules it shadows';
  static override description =
    'Names the rule, each match key that held and the entry that made it hold (pattern, IP block, port, rule-set entry). With a running daemon the answer uses its live state: unhealthy backends are skipped, ip_hash hashes --client, a --client the IP lists refuse is reported, rule sets are the ones loaded now, and the group ACL is checked for --user. Without one it is read from the config file, every backend counted healthy and rule sets not loaded.';
  static override examples = [
    '<%= config.bin %> rule test www.crunchyroll.com',
    '<%= config.bin %> rule test www.crunchyroll.com --client 203.0.113.7 --user alice',
    '<%= config.bin %> rule test --ip 10.20.1.5 --port 443 --protocol socks5',
    '<%= config.bin %> rule test --domain api.example.com --config ./server-config.yaml',
  ];
  static override args = { domain: Args.string({ description: 'host name (or IP address) to route' }) };
  static override flags = {
    domain: Flags.string({ description: 'host name to route (instead of the argument)' }),
    ip: Flags.string({ description: 'target IP address: the target itself without a domain, else the address the domain resolves to' }),
    port: Flags.string({ description: 'target port' }),
    protocol: Flags.string({ description: 'how the client comes in', options: ['http', 'connect', 'socks5', 'udp'] }),
    client: Flags.string({ description: 'client address (source_cidr; checked against access_control whitelist and blacklist; ip_hash and sticky sessions pick by it)' }),
    user: Flags.string({ description: 'authenticated user (users and groups keys; checked against the group ACL)' }),
    config: Flags.string({ char: 'c', description: 'explain with this config file instead of the running daemon' }),
  };

  async run(): Promise<RouteAnswer> {
    const { args, flags } = await this.parse(RuleTestCommand);
    const domain = args.domain ?? flags.domain;
    // Exit code 2, like the flag errors oclif reports itself.
    if (!domain && !flags.ip) throw new ProxyError('BAD_REQUEST', `give the domain or --ip to route: ${this.bin} rule test DOMAIN`);
    const asked = { domain, ip: flags.ip, port: flags.port, protocol: flags.protocol, client: flags.client, user: flags.user };
    const parsed = ruleTestSchema.safeParse(asked);
    if (!parsed.success) throw new ProxyError('BAD_REQUEST', parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
    const { domain: host, ...question } = parsed.data;
    let answer: RouteAnswer;
    try {
      if (flags.config) throw new NoDaemonError(this.role, '');
      answer = await this.client(flags.socket).call('ruleTest', { query: parsed.data });
    } catch (error) {
      if (!(error instanceof NoDaemonError)) throw error;
      const snapshot = await configWithoutDaemon(this.role, flags.config);
      const groups = question.user === undefined ? undefined : knownGroups(authSettings(snapshot), question.user, []);
      answer = explainRoute(snapshot, new Router(snapshot.rules), host, (index, client) => configuredChoice(snapshot, index, client), { ...question, groups });
      this.say(`(no daemon: answered from ${snapshot.source ?? 'the embedded default'}; backend health is not known, every backend counts as healthy${snapshot.ruleSets.length > 0 ? '; rule sets are not loaded' : ''})`);
    }
    for (const line of routeLines(answer)) this.say(line);
    return answer;
  }
}
