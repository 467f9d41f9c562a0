import { z } from 'zod';
import { matchSchema, ROUTE_PROTOCOLS } from '../config/match-schema.js';

/*
 * Bodies of the control API (spec 5.3 and 5.4). The server validates what it receives with these;
 * the client uses the inferred types.
 */

/** POST /api/rules */
export const ruleAddSchema = z.strictObject({
  name: z.string().min(1),
  domains: z.array(z.string().min(1)).min(1).optional(),
  /** The other keys of `match:` (ip_cidr, ports, source_cidr, users, groups, protocols, rule_set, not, any, all), as in the config file. */
  match: matchSchema.optional(),
  resolve: z.boolean().optional(),
  backend: z.string().min(1).optional(),
  action: z.enum(['server', 'direct', 'reject']).optional(),
  position: z.number().int().min(0).optional(),
  /** Keep the rule even if an earlier rule leaves it unreachable. */
  allow_shadowed: z.boolean().optional(),
});
/** A rule to add. */
export type RuleAdd = z.infer<typeof ruleAddSchema>;

/** PUT /api/rules/:name */
export const ruleUpdateSchema = z.strictObject({
  name: z.string().min(1).optional(),
  domains: z.array(z.string().min(1)).min(1).optional(),
  /** A new `match:` as a whole (replaces the rule's). */
  match: matchSchema.optional(),
  resolve: z.boolean().optional(),
  backend: z.string().min(1).optional(),
  action: z.enum(['server', 'direct', 'reject']).optional(),
  position: z.number().int().min(0).optional(),
  /** Keep the change even if it leaves a rule unreachable. */
  allow_shadowed: z.boolean().optional(),
});
/** Changes to a rule. */
export type RuleUpdate = z.infer<typeof ruleUpdateSchema>;

/** POST /api/rules/reorder: the full new order of rule names. */
export const ruleReorderSchema = z.strictObject({ order: z.array(z.string().min(1)).min(1), allow_shadowed: z.boolean().optional() });
/** A new rule order. */
export type RuleReorder = z.infer<typeof ruleReorderSchema>;

const ipAddress = z.union([z.ipv4(), z.ipv6()], { error: 'expected an IPv4 or IPv6 address' });

/** GET /api/rules/test: the host (a name, an IP address, or both), and optionally the port, protocol and who asks (client address, user). */
export const ruleTestSchema = z
  .strictObject({
    domain: z.string().min(1).optional(),
    ip: ipAddress.optional(),
    port: z.coerce.number({ error: 'expected a port number (1-65535)' }).int().min(1, 'expected a port number (1-65535)').max(65535, 'expected a port number (1-65535)').optional(),
    protocol: z.enum(ROUTE_PROTOCOLS).optional(),
    client: ipAddress.optional(),
    user: z.string().min(1).optional(),
  })
  .refine((q) => q.domain !== undefined || q.ip !== undefined, { error: 'give the domain or the ip to route' });

/** GET /api/rule-sets/test: a rule set and the host (name or IP address) to look up in it. */
export const ruleSetTestSchema = z.strictObject({ name: z.string().min(1), host: z.string().min(1) });

/** POST /api/backends */
export const backendAddSchema = z.strictObject({
  name: z.string().min(1),
  type: z.enum(['direct', 'http', 'socks5', 'wireguard', 'openvpn']),
  address: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  config_file: z.string().optional(),
  auth_file: z.string().optional(),
  /** Add a tunnel backend even when its files are missing or invalid (it stays unavailable until they are fixed). */
  force: z.boolean().optional(),
});
/** A backend to add. */
export type BackendAdd = z.infer<typeof backendAddSchema>;

/** The address-echo service a tunnel's `backend test` asks when `ip_url` names none (the URL spec 11.2 checks through a tunnel). */
export const DEFAULT_IP_ECHO_URL = 'https://api.ipify.org';

/** POST /api/backends/:name/test */
export const backendTestSchema = z.strictObject({ target: z.string().optional(), ip_url: z.url({ protocol: /^https?$/ }).optional() });

const userName = z.string().min(1).max(256).regex(/^[^:\s]+$/, 'a user name has no colon or white space');
const bcryptHash = z.string().regex(/^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/, 'expected a bcrypt hash');

/** POST /api/users: a native user, with the bcrypt hash the CLI computed (the password never travels). */
export const userAddSchema = z.strictObject({ username: userName, password_hash: bcryptHash, groups: z.array(z.string().min(1)).default([]) });
/** A user to add. */
export type UserAdd = z.infer<typeof userAddSchema>;

/** PUT /api/users/:name/password */
export const userPasswordSchema = z.strictObject({ password_hash: bcryptHash });

/** PUT /api/users/:name/groups */
export const userGroupsSchema = z.strictObject({ add: z.array(z.string().min(1)).default([]), remove: z.array(z.string().min(1)).default([]) });

/** `POST /api/debug/replay`: a recorded request to send again, through its own backend or another. */
export const replaySchema = z.strictObject({ id: z.string().min(1), backend: z.string().min(1).optional(), force: z.boolean().default(false) });

/** POST /api/stop */
export const stopSchema = z.strictObject({ force: z.boolean().default(false) });

/** Every error answer of the control API. */
export interface ApiError {
  error: { code: string; message: string; problems?: string[] };
}
