import { z } from 'zod';

/** `GET /api/rules`: the rules in file order, with their position. */
export const rulesAnswerSchema = z.strictObject({
  rules: z.array(
    z.strictObject({
      index: z.number(),
      name: z.string(),
      domains: z.array(z.string()),
      backends: z.array(z.strictObject({ name: z.string(), weight: z.number() })),
      loadBalancing: z.strictObject({ algorithm: z.enum(['round_robin', 'least_conn', 'random', 'ip_hash']), stickySessions: z.boolean() }).optional(),
    }),
  ),
});
/** One rule as the API lists it. */
export type RuleAnswer = z.infer<typeof rulesAnswerSchema>['rules'][number];

const ruleHit = z.strictObject({ name: z.string(), index: z.number(), pattern: z.string() });

/** `GET /api/rules/test`: where a host would go, and why. */
export const routeAnswerSchema = z.strictObject({
  host: z.string(),
  client: z.string().nullable(),
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

/** `GET /api/users`: native users and their groups (never a hash). */
export const usersAnswerSchema = z.strictObject({ mode: z.string(), users: z.array(z.strictObject({ username: z.string(), groups: z.array(z.string()) })) });
/** The user list. */
export type UsersAnswer = z.infer<typeof usersAnswerSchema>;
