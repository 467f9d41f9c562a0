import { z } from 'zod';
import { cidr, duration, nonEmpty, portOrRange } from './values.js';

/*
 * The keys of a rule's `match:` and of `rule_sets:` (both dialects).
 */

/** The protocols a rule can match: how the client came in (a WebSocket upgrade is `http`). */
export const ROUTE_PROTOCOLS = ['http', 'connect', 'socks5', 'udp'] as const;

/** The keys of a rule's `match:`, each optional; every key given must hold. */
const MATCH_KEYS = ['domains', 'ip_cidr', 'ports', 'source_cidr', 'users', 'groups', 'protocols', 'rule_set', 'not', 'any', 'all'] as const;

/** A rule's `match:` (every key given must hold; `not`, `any` and `all` combine nested matches). */
export const matchSchema = z
  .strictObject({
    domains: z.array(nonEmpty).min(1, 'expected at least one domain pattern').optional(),
    ip_cidr: z.array(cidr).min(1, 'expected at least one CIDR block').optional(),
    ports: z.array(portOrRange).min(1, 'expected at least one port or range').optional(),
    source_cidr: z.array(cidr).min(1, 'expected at least one CIDR block').optional(),
    users: z.array(nonEmpty).min(1, 'expected at least one user name').optional(),
    groups: z.array(nonEmpty).min(1, 'expected at least one group name').optional(),
    protocols: z.array(z.enum(ROUTE_PROTOCOLS)).min(1, 'expected at least one protocol').optional(),
    rule_set: nonEmpty.optional(),
    get not(): z.ZodOptional<z.ZodType<MatchSpec>> {
      return matchSchema.optional();
    },
    get any(): z.ZodOptional<z.ZodArray<z.ZodType<MatchSpec>>> {
      return z.array(matchSchema).min(1, 'expected at least one match').optional();
    },
    get all(): z.ZodOptional<z.ZodArray<z.ZodType<MatchSpec>>> {
      return z.array(matchSchema).min(1, 'expected at least one match').optional();
    },
  })
  .refine((m) => MATCH_KEYS.some((key) => m[key] !== undefined), { error: `a match needs at least one of: ${MATCH_KEYS.join(', ')}` });

/** A rule's `match:` as written (keys as in the file). */
export interface MatchSpec {
  domains?: string[];
  ip_cidr?: string[];
  ports?: (number | string)[];
  source_cidr?: string[];
  users?: string[];
  groups?: string[];
  protocols?: (typeof ROUTE_PROTOCOLS)[number][];
  rule_set?: string;
  not?: MatchSpec;
  any?: MatchSpec[];
  all?: MatchSpec[];
}

/** One entry of `rule_sets:`: a named list of domains or CIDR blocks, from a file or an https URL refreshed on an interval. */
export const ruleSetSchema = z
  .strictObject({
    name: nonEmpty,
    path: nonEmpty.optional(),
    url: z.url({ protocol: /^https$/, error: 'expected an https:// URL' }).optional(),
    format: z.enum(['domains', 'hosts', 'adblock', 'cidr']),
    /** How often a URL set is fetched again. */
    interval: duration.default('24h'),
    /** CA certificate(s) to verify the URL's server with, beside the system ones (a private list server). */
    ca_file: nonEmpty.optional(),
  })
  .superRefine((r, ctx) => {
    if ((r.path === undefined) === (r.url === undefined)) ctx.addIssue({ code: 'custom', path: [], message: 'a rule set needs exactly one of "path" or "url"' });
    if (r.ca_file !== undefined && r.url === undefined) ctx.addIssue({ code: 'custom', path: ['ca_file'], message: '"ca_file" applies only to a rule set with a "url"' });
  });
