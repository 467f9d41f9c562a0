import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { ProxyError } from '../../errors.js';
import { DEFAULT_IP_ECHO_URL } from '../../control/schemas.js';
import type { TunnelTestReport } from '../../tunnels/tunnel-test.js';
import type { BackendTestAnswer } from '../../control/answers/backends.js';

/** `backend test`: run a health check through a backend now. */
export default class BackendTestCommand extends BaseCommand {
  static override summary = "Run a check through a backend now (its configured health check, or a tcp connection) and report how long it took";
  static override examples = ['<%= config.bin %> backend test --name germany', '<%= config.bin %> backend test --name us-proxy --target example.org:443'];
  static override flags = {
    name: Flags.string({ description: 'backend name', required: true }),
    target: Flags.string({ description: 'host:port to connect to through it instead of its configured check (default example.com:80)' }),
    'ip-url': Flags.string({
      description: `tunnels: an http:// or https:// URL that answers the caller's address, fetched through the tunnel and from the host to check the egress address does not leak (default ${DEFAULT_IP_ECHO_URL}; when it does not answer, the egress address is reported unknown)`,
    }),
  };

  async run(): Promise<BackendTestAnswer> {
    const { flags } = await this.parse(BackendTestCommand);
    const body = { ...(flags.target ? { target: flags.target } : {}), ...(flags['ip-url'] ? { ip_url: flags['ip-url'] } : {}) };
    const answer = await this.client(flags.socket).call('backendTest', { params: { name: flags.name }, body });
    if (!answer.ok) throw new ProxyError('BACKEND_TEST_FAILED', `backend "${answer.name}" failed its ${answer.type} check of ${answer.target} (${answer.latencyMs} ms): ${answer.error}`);
    this.say(`backend "${answer.name}" passed its ${answer.type} check of ${answer.target} in ${answer.latencyMs} ms`);
    if (answer.leaks) this.reportTunnel(answer as TunnelTestReport & BackendTestAnswer, flags['ip-url'] !== undefined);
    return answer;
  }

  /** The tunnel's leak self-test: egress address, DNS path, and loud failure on any leak (or on an echo URL the caller named that did not answer). */
  private reportTunnel(answer: TunnelTestReport & BackendTestAnswer, echoNamed: boolean): void {
    this.say(`  source address in the tunnel  ${answer.localAddress ?? '-'} (tunnel addresses: ${answer.tunnelAddresses.join(', ') || '-'})`);
    this.say(`  name resolved by              ${answer.resolvedBy ?? '-'}`);
    for (const d of answer.dns) this.say(`  DNS server ${d.server.padEnd(18)} reached via ${d.via ?? 'nothing (unreachable)'}`);
    const { egress } = answer;
    if (!egress.error) this.say(`  far side sees                 ${egress.throughTunnel} through the tunnel, ${egress.fromHost ?? 'nothing (unreachable)'} from the host (${egress.url})`);
    if (answer.leaks.length > 0) throw new ProxyError('TUNNEL_LEAK', `backend "${answer.name}" leaks to the host path:\n  ${answer.leaks.join('\n  ')}`);
    if (egress.error && echoNamed) throw new ProxyError('BACKEND_TEST_FAILED', `backend "${answer.name}": ${egress.error}`);
    if (egress.error) this.say(`  egress address not checked    ${egress.error}; pass --ip-url with an address-echo URL the far side can reach`);
    this.say('  no leak: traffic and DNS stay in the tunnel');
  }
}
