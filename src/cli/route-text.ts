import type { BackendChoice } from '../routing/load-balancer.js';
import type { RouteExplanation } from '../routing/route-explanation.js';
import type { RuleHit } from '../routing/router.js';

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

/** What made a rule match: its domain pattern, or each key and entry (`ip_cidr 10.0.0.0/8, ports 443`). */
function matched(hit: RuleHit): string {
  return hit.keys.length === 1 && hit.keys[0].key === 'domains' ? `pattern ${hit.pattern}` : hit.pattern;
}

function shadowed(hits: RuleHit[]): string[] {
  return hits.map((hit) => `  also matches rule #${hit.index} "${hit.name}" (${matched(hit)}), but the earlier rule wins`);
}

/** The lines `rule test` prints for an explanation. */
export function routeLines(answer: RouteExplanation): string[] {
  // The IP lists act before any rule: a refused client never gets as far as the route below.
  const refused = answer.clientRefused ? [`  REFUSED: client ${answer.client}: ${answer.clientRefused}: the connection is closed at accept`] : [];
  const asked = [answer.ip && answer.ip !== answer.host ? `ip ${answer.ip}` : '', answer.port ? `port ${answer.port}` : '', answer.protocol ?? ''].filter((p) => p !== '');
  const what = asked.length > 0 ? `${answer.host} (${asked.join(', ')})` : answer.host;
  if (answer.rule && answer.rejected) return [`${what} -> rule #${answer.rule.index} "${answer.rule.name}" (${matched(answer.rule)}) -> rejected (403 / SOCKS5 0x02)`, ...refused, ...shadowed(answer.alsoMatching)];
  if (!answer.rule || !answer.choice) return [`${what}: no rule matches; the connection is refused (403 / SOCKS5 0x02)`, ...refused];
  const { rule, choice } = answer;
  const lines = [`${what} -> rule #${rule.index} "${rule.name}" (${matched(rule)}) -> ${target(choice, answer.client)}`, ...refused];
  for (const skipped of choice.skipped) lines.push(`  skips backend ${skipped.name}: ${skipped.reason}`);
  if (answer.access) {
    const who = `user "${answer.access.user}"${answer.access.groups ? ` (groups: ${answer.access.groups.join(', ') || 'none'})` : ''}`;
    lines.push(`  ${answer.access.allowed === false ? 'REFUSED: ' : ''}${who}: ${answer.access.reason}`);
  }
  return [...lines, ...shadowed(answer.alsoMatching)];
}
