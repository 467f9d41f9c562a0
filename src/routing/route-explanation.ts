import { isIPv4 } from 'node:net';
import { Acl, type KnownGroups } from '../auth/acl.js';
import { authSettings } from '../auth/auth-settings.js';
import type { ConfigSnapshot } from '../config/model.js';
import { ClientLists } from '../policy/client-lists.js';
import { policySettings } from '../policy/policy-settings.js';
import { previewChoice, type BackendChoice } from './load-balancer.js';
import type { RouteQuery } from './route-query.js';
import type { Router, RuleHit } from './router.js';

/** Who asks `rule test`: the client address (source_cidr, ip_hash, sticky sessions), the user (users, groups, ACLs), and the target's address, port and protocol. */
export interface RouteQuestion {
  client?: string;
  user?: string;
  /** The user's groups as the daemon knows them (native users, or users who authenticated). */
  groups?: KnownGroups;
  /** The target's IP address: the target itself without a name, else what the name resolves to. */
  ip?: string;
  port?: number;
  protocol?: RouteQuery['protocol'];
}

/** Whether the user's groups may use the backends the rule would pick. */
export interface AccessCheck {
  user: string;
  /** The user's groups, or null when they are not known. */
  groups: string[] | null;
  /** True: allowed for every candidate; false: refused for every one; null: not known, or allowed for some only. */
  allowed: boolean | null;
  /** Candidates the ACL refuses this user (403 / SOCKS5 0x02). */
  refused: string[];
  /** One line saying why. */
  reason: string;
}

/** The answer to "where would this host go?". */
export interface RouteExplanation {
  host: string;
  /** The target address, port and protocol asked about, when given. */
  ip: string | null;
  port: number | null;
  protocol: string | null;
  client: string | null;
  /** The winning rule rejects (`action: reject`): 403 / SOCKS5 0x02. */
  rejected: boolean;
  /** Why access_control's IP lists refuse the client asked about (its connection is closed at accept, before any rule), or null. */
  clientRefused: string | null;
  /** The rule that wins (first match in file order), with its position (0-based). */
  rule: RuleHit | null;
  /** The backend a new connection would take; null when the choice is made per connection or none is usable. */
  backend: string | null;
  /** How the backend is chosen, among which members, and which are skipped now. */
  choice: BackendChoice | null;
  /** The group ACL verdict for the user asked about. */
  access: AccessCheck | null;
  /** Later rules that also match this host but lose to the winner. */
  alsoMatching: RuleHit[];
}

/** The key the engine hashes for a client: a listener on `::` sees IPv4 clients as IPv4-mapped IPv6 addresses. */
function clientKey(client: string | undefined, snapshot: ConfigSnapshot): string | undefined {
  if (client === undefined || !isIPv4(client)) return client;
  return snapshot.listeners.some((l) => l.host === '::') ? `::ffff:${client}` : client;
}

/**
 * Explains a host's route under a snapshot: the winning rule and the shadowed ones, the backend
 * `choose` reports for the rule (live health and balancing state in a daemon, the config alone
 * without one) and the ACL verdict for a user.
 */
export function explainRoute(snapshot: ConfigSnapshot, router: Router, host: string | undefined, choose: (index: number, client?: string) => BackendChoice, question: RouteQuestion = {}): RouteExplanation {
  const target = host ?? question.ip ?? '';
  const query: RouteQuery = {
    host: target,
    port: question.port ?? 0,
    client: clientKey(question.client, snapshot) ?? '',
    user: question.user,
    groups: question.groups?.known ? question.groups.groups : undefined,
    protocol: question.protocol,
    ...(host !== undefined && question.ip !== undefined ? { addresses: [question.ip] } : {}),
  };
  const [winner, ...alsoMatching] = router.explain(query);
  const rejected = winner !== undefined && snapshot.rules[winner.index].reject === true;
  const choice = winner && !rejected ? choose(winner.index, clientKey(question.client, snapshot)) : null;
  const backend = choice?.candidates.length === 1 && choice.basis !== 'per-connection' ? choice.candidates[0] : null;
  const access = question.user === undefined ? null : accessCheck(snapshot, question.user, question.groups, choice?.candidates ?? []);
  const clientRefused = question.client === undefined ? null : new ClientLists(policySettings(snapshot).accessControl).refusal(question.client);
  const asked = { ip: question.ip ?? null, port: question.port ?? null, protocol: question.protocol ?? null };
  return { host: target, ...asked, client: question.client ?? null, rejected, clientRefused, rule: winner ?? null, backend, choice, access, alsoMatching };
}

/** How rule `index` chooses its backend by the config alone: every member counted healthy (no health checks run without a daemon). */
export function configuredChoice(snapshot: ConfigSnapshot, index: number, client?: string): BackendChoice {
  const rule = snapshot.rules[index];
  const members = rule.backends.map((m) => ({ name: m.name, weight: m.weight, down: snapshot.backends.find((b) => b.name === m.name)?.unavailable }));
  return previewChoice(members, rule.loadBalancing, client);
}

function accessCheck(snapshot: ConfigSnapshot, user: string, known: KnownGroups | undefined, candidates: string[]): AccessCheck {
  const settings = authSettings(snapshot);
  if (settings.mode === 'none') return { user, groups: null, allowed: null, refused: [], reason: 'authentication is off (server.auth.mode "none"): users are not checked' };
  if (!known?.known) return { user, groups: null, allowed: known?.refused ? false : null, refused: [], reason: known?.reason ?? `the groups of "${user}" are not known` };
  const acl = Acl.of(settings);
  if (acl === null) return { user, groups: known.groups, allowed: true, refused: [], reason: 'no server.auth acl: every authenticated user may use every backend' };
  const refused = candidates.filter((name) => !acl.allows(known.groups, name));
  const groups = known.groups.length > 0 ? `groups ${known.groups.join(', ')}` : 'no groups';
  if (refused.length === 0) return { user, groups: known.groups, allowed: true, refused, reason: `allowed by the acl (${groups})` };
  const all = refused.length === candidates.length;
  return { user, groups: known.groups, allowed: all ? false : null, refused, reason: `refused by the acl for ${refused.join(', ')} (${groups}): 403 / SOCKS5 0x02` };
}
