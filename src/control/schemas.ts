import { z } from 'zod';

/*
 * Bodies of the control API (spec 5.3 and 5.4). The server validates what it receives with these;
 * the client uses the inferred types.
 */

/** POST /api/rules */
export const ruleAddSchema = z.strictObject({
  name: z.string().min(1),
  domains: z.array(z.string().min(1)).min(1),
  backend: z.string().min(1).optional(),
  action: z.enum(['server', 'direct']).optional(),
  position: z.number().int().min(0).optional(),
});
/** A rule to add. */
export type RuleAdd = z.infer<typeof ruleAddSchema>;

/** PUT /api/rules/:name */
export const ruleUpdateSchema = z.strictObject({
  name: z.string().min(1).optional(),
  domains: z.array(z.string().min(1)).min(1).optional(),
  backend: z.string().min(1).optional(),
  action: z.enum(['server', 'direct']).optional(),
  position: z.number().int().min(0).optional(),
});
/** Changes to a rule. */
export type RuleUpdate = z.infer<typeof ruleUpdateSchema>;

/** POST /api/rules/reorder: the full new order of rule names. */
export const ruleReorderSchema = z.strictObject({ order: z.array(z.string().min(1)).min(1) });
/** A new rule order. */
export type RuleReorder = z.infer<typeof ruleReorderSchema>;

/** POST /api/backends */
export const backendAddSchema = z.strictObject({
  name: z.string().min(1),
  type: z.enum(['direct', 'http', 'socks5', 'wireguard', 'openvpn']),
  address: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  config_file: z.string().optional(),
  auth_file: z.string().optional(),
});
/** A backend to add. */
export type BackendAdd = z.infer<typeof backendAddSchema>;

/** POST /api/backends/:name/test */
export const backendTestSchema = z.strictObject({ target: z.string().optional(), ip_url: z.url({ protocol: /^http$/ }).optional() });

/** POST /api/stop */
export const stopSchema = z.strictObject({ force: z.boolean().default(false) });

/** Every error answer of the control API. */
export interface ApiError {
  error: { code: string; message: string; problems?: string[] };
}
