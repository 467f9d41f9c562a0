import type { BackendChoice } from '../routing/load-balancer.js';
import type { RouteExplanation } from '../routing/route-explanation.js';

/** Where the choice goes, as the end of the first line of `rule test`. */
function target(choice: BackendChoice, client: string | null): string {
  const among = choice.candidates.join(', ');
  const spare = choice.fallback ? '; fallback: no weighted backend is usable' : '';
  switch (choice.basis) {
    case 'only':
      return `backend ${among}${spare ? ` (${spare.slice(2)})` : ''}`;
    case 'sticky':
      return `backend ${among} (sticky session of ${client})`;
    case 'client-address':
      return choice.candidates.length === 1
        ? `backend ${among} (${choice.algorithm} of client ${client}${spare})`
        : `one of: ${among} (${choice.algorithm}: depends on the client address, give --client${spare})`;
    case 'per-connection':
      return choice.candidates.length === 1
        ? `backend ${among} (${choice.algorithm}: fewest open connections now${spare})`
        : `one of: ${among} (${choice.algorithm}: chosen per connection${spare})`;
    case 'none':
      return 'no usable backend: the connection is refused (502 / SOCKS5 0x04)';
  }
}

/** The lines `rule test` prints for an explanation. */
export function routeLines(answer: RouteExplanation): string[] {
  if (!answer.rule || !answer.choice) return [`${answer.host}: no rule matches; the connection is refused (403 / SOCKS5 0x02)`];
  const { rule, choice } = answer;
  const lines = [`${answer.host} -> rule #${rule.index} "${rule.name}" (pattern ${rule.pattern}) -> ${target(choice, answer.client)}`];
  for (const skipped of choice.skipped) lines.push(`  skips backend ${skipped.name}: ${skipped.reason}`);
  if (answer.access) {
    const who = `user "${answer.access.user}"${answer.access.groups ? ` (groups: ${answer.access.groups.join(', ') || 'none'})` : ''}`;
    lines.push(`  ${answer.access.allowed === false ? 'REFUSED: ' : ''}${who}: ${answer.access.reason}`);
  }
  for (const hit of answer.alsoMatching) lines.push(`  also matches rule #${hit.index} "${hit.name}" (pattern ${hit.pattern}), but the earlier rule wins`);
  return lines;
}
