import { Flags } from '@oclif/core';
import { parse } from 'yaml';
import { matchSchema, type MatchSpec } from '../config/match-schema.js';
import { ProxyError } from '../errors.js';

/** The flags of `rule add` that set `match:` keys beyond the domains. */
export const matchFlags = {
  'ip-cidr': Flags.string({ description: 'target IP block, IPv4 or IPv6 (repeatable): match.ip_cidr', multiple: true }),
  resolve: Flags.boolean({ description: 'match --ip-cidr also against the addresses a name resolves to' }),
  port: Flags.string({ description: 'target port or range like 8000-9000 (repeatable): match.ports', multiple: true }),
  'source-cidr': Flags.string({ description: 'client address block (repeatable): match.source_cidr', multiple: true }),
  user: Flags.string({ description: 'authenticated user (repeatable): match.users', multiple: true }),
  group: Flags.string({ description: 'group of the authenticated user (repeatable): match.groups', multiple: true }),
  protocol: Flags.string({ description: 'how the client came in (repeatable): match.protocols', multiple: true, options: ['http', 'connect', 'socks5', 'udp'] }),
  'rule-set': Flags.string({ description: 'name of a rule set (rule_sets:): match.rule_set' }),
  match: Flags.string({ description: 'more match keys as YAML or JSON, e.g. "{not: {ports: [22]}}" (any, all, not)' }),
};

type MatchFlagValues = { [K in keyof typeof matchFlags]?: K extends 'resolve' ? boolean : K extends 'rule-set' | 'match' ? string : string[] };

/** The match keys the flags give (undefined when none), checked like the config file checks them. */
export function matchFromFlags(flags: MatchFlagValues): MatchSpec | undefined {
  let extra: unknown = {};
  if (flags.match !== undefined) {
    try {
      extra = parse(flags.match) ?? {};
    } catch (error) {
      throw new ProxyError('BAD_REQUEST', `--match: not YAML or JSON: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  const ports = flags.port?.map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  const keys: Record<string, unknown> = {
    ...(typeof extra === 'object' && extra !== null ? extra : {}),
    ...(flags['ip-cidr'] ? { ip_cidr: flags['ip-cidr'] } : {}),
    ...(ports ? { ports } : {}),
    ...(flags['source-cidr'] ? { source_cidr: flags['source-cidr'] } : {}),
    ...(flags.user ? { users: flags.user } : {}),
    ...(flags.group ? { groups: flags.group } : {}),
    ...(flags.protocol ? { protocols: flags.protocol } : {}),
    ...(flags['rule-set'] ? { rule_set: flags['rule-set'] } : {}),
  };
  if (Object.keys(keys).length === 0) return undefined;
  const checked = matchSchema.safeParse(keys);
  if (!checked.success) throw new ProxyError('BAD_REQUEST', checked.error.issues.map((i) => `${i.path.join('.') || 'match'}: ${i.message}`).join('; '));
  return checked.data;
}
