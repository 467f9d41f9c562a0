import { z } from 'zod';
import { matchSchema } from '../../config/match-schema.js';

/** `GET /api/rules`: the rules in file order, with their position. */
export const rulesAnswerSchema = z.strictObject({
  rules: z.array(
    z.strictObject({
      index: z.number(),
      name: z.string(),
      domains: z.array(z.string()),
      /** The whole `match:` when the rule uses keys beyond `domains`. */
      match: matchSchema.optional(),
      resolve: z.boolean().optional(),
      sniff: z.boolean().optional(),
      /** `action: reject` (backends is then empty). */
      reject: z.boolean().optional(),
      udpSkip: z.literal(true).optional(),
      backends: z.array(z.strictObject({ name: z.string(), weight: z.number() })),
      loadBalancing: z.strictObject({ algorithm: z.enum(['round_robin', 'least_conn', 'random', 'ip_hash']), stickySessions: z.boolean() }).optional(),
    }),
  ),
});
/** One rule as the API lists it. */
export type RuleAnswer = z.infer<typeof rulesAnswerSchema>['rules'][number];

/** A matching rule, with each key that held and the entry that made it hold. */
const ruleHit = z.strictObject({ name: z.string(), index: z.number(), pattern: z.string(), keys: z.array(z.strictObject({ key: z.string(), entry: z.string() })) });

/** `GET /api/rules/test`: where a host would go, and why. */
export const routeAnswerSchema = z.strictObject({
  host: z.string(),
  ip: z.string().nullable(),
  port: z.number().nullable(),
  protocol: z.string().nullable(),
  client: z.string().nullable(),
  /** The winning rule rejects (`action: reject`). */
  rejected: z.boolean(),
  clientRefused: z.string().nullable(),
  rule: ruleHit.nullable(),
  backend: z.string().nullable(),
  choice: z
    .strictObject({
      algorithm: z.enum(['round_robin', 'least_conn', 'random', 'ip_hash']).nullable(),
      basis: z.enum(['only', 'client-address', 'sticky', 'per-connection', 'none']),
      candidates: z.array(z.string()),
      fallback: z.boolean(),
      skipped: z.array(z.strictObject({ name: z.string(), reason: z.string() })),
    })
    .nullable(),
  access: z.strictObject({ user: z.string(), groups: z.array(z.string()).nullable(), allowed: z.boolean().nullable(), refused: z.array(z.string()), reason: z.string() }).nullable(),
  alsoMatching: z.array(ruleHit),
});
/** A route explanation. */
export type RouteAnswer = z.infer<typeof routeAnswerSchema>;

/** What the API shows of one rule set. */
const ruleSetStatus = z.strictObject({
  name: z.string(),
  format: z.enum(['domains', 'hosts', 'adblock', 'cidr']),
  source: z.string(),
  entries: z.number().nullable(),
  bytes: z.number().nullable(),
  from: z.enum(['file', 'url', 'cache']).nullable(),
  loadedAt: z.number().nullable(),
  checkedAt: z.number().nullable(),
  error: z.string().nullable(),
});

/** `GET /api/rule-sets`: the rule sets as loaded now. */
export const ruleSetsAnswerSchema = z.strictObject({ ruleSets: z.array(ruleSetStatus) });
/** The rule set list. */
export type RuleSetsAnswer = z.infer<typeof ruleSetsAnswerSchema>;

/** `GET /api/rule-sets/test`: whether a rule set matches a host, and by which entry. */
export const ruleSetTestAnswerSchema = z.strictObject({ name: z.string(), host: z.string(), entry: z.string().nullable(), status: ruleSetStatus });
/** A rule set test. */
export type RuleSetTestAnswer = z.infer<typeof ruleSetTestAnswerSchema>;

/** `GET /api/users`: native users and their groups (never a hash). */
export const usersAnswerSchema = z.strictObject({ mode: z.string(), users: z.array(z.strictObject({ username: z.string(), groups: z.array(z.string()) })) });
/** The user list. */
export type UsersAnswer = z.infer<typeof usersAnswerSchema>;
