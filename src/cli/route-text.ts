import type { BackendChoice } from '../routing/load-balancer.js';
import type { RouteExplanation } from '../routing/route-explanation.js';

/** Where the choice goes, as the end of the first line of `rule test`. */
function target(choice: BackendChoice, client: string | null): string {
  if (choice.basis === 'none') return 'no usable backend: the connection is refused (502 / SOCKS5 0x04)';
  const one = choice.candidates.length === 1;
  const head = one ? `backend ${choice.candidates[0]}` : `one of: ${choice.candidates.join(', ')}`;
  const notes: string[] = [];
  if (choice.basis === 'sticky') notes.push(`sticky session of ${client}`);
  if (choice.basis === 'client-address') notes.push(one ? `${choice.algorithm} of client ${client}` : `${choice.algorithm}: depends on the client address, give --client`);
  if (choice.basis === 'per-connection') notes.push(one ? `${choice.algorithm}: fewest open connections now` : `${choice.algorithm}: chosen per connection`);
  if (choice.fallback) notes.push('fallback: no weighted backend is usable');
  return notes.length > 0 ? `${head} (${notes.join('; ')})` : head;
}

/** The lines `rule test` prints for an explanation. */
export function routeLines(answer: RouteExplanation): string[] {
  // The IP lists act before any rule: a refused client never gets as far as the route below.
  const refused = answer.clientRefused ? [`  REFUSED: client ${answer.client}: ${answer.clientRefused}: the connection is closed at accept`] : [];
  if (!answer.rule || !answer.choice) return [`${answer.host}: no rule matches; the connection is refused (403 / SOCKS5 0x02)`, ...refused];
  const { rule, choice } = answer;
  const lines = [`${answer.host} -> rule #${rule.index} "${rule.name}" (pattern ${rule.pattern}) -> ${target(choice, answer.client)}`, ...refused];
  for (const skipped of choice.skipped) lines.push(`  skips backend ${skipped.name}: ${skipped.reason}`);
  if (answer.access) {
    const who = `user "${answer.access.user}"${answer.access.groups ? ` (groups: ${answer.access.groups.join(', ') || 'none'})` : ''}`;
    lines.push(`  ${answer.access.allowed === false ? 'REFUSED: ' : ''}${who}: ${answer.access.reason}`);
  }
  for (const hit of answer.alsoMatching) lines.push(`  also matches rule #${hit.index} "${hit.name}" (pattern ${hit.pattern}), but the earlier rule wins`);
  return lines;
}
