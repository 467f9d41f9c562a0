import { z } from 'zod';

/** One line of the audit trail: who changed what (or was refused), from where, and with what result. */
export const auditEntrySchema = z.strictObject({
  time: z.string(),
  /** The API key's id (management listener), or null for a local user on the socket. */
  key: z.string().nullable(),
  /** The uid of the local process that made a change on the socket (its peer credentials); null for a key, or when it cannot be known. */
  uid: z.number().nullable(),
  role: z.enum(['viewer', 'operator', 'admin']).nullable(),
  /** The client's address, or "local" for the socket. */
  remote: z.string(),
  method: z.string(),
  path: z.string(),
  /** The route's name in the API table, or null when none matched. */
  action: z.string().nullable(),
  /** What it acted on (a rule, backend, user or key name), when it names one. */
  target: z.string().nullable(),
  /** What changed, in a few words (never a secret). */
  summary: z.string(),
  /** HTTP status and, for a refusal, its code. */
  result: z.strictObject({ status: z.number(), code: z.string().optional() }),
  versionBefore: z.string(),
  versionAfter: z.string(),
});
/** One audit line. */
export type AuditEntry = z.infer<typeof auditEntrySchema>;

/** `GET /api/audit`: the last lines of the audit log. */
export const auditAnswerSchema = z.strictObject({ file: z.string(), entries: z.array(auditEntrySchema) });

/** `GET /api/keys`: the API keys (never a secret or hash). */
export const keysAnswerSchema = z.strictObject({
  keys: z.array(z.strictObject({ id: z.string(), role: z.enum(['viewer', 'operator', 'admin']), created: z.string(), expires: z.string().nullable(), lastUsed: z.string().nullable(), expired: z.boolean() })),
});

/** `POST /api/keys`: the new key, with its secret (shown this once). */
export const keyAddAnswerSchema = z.strictObject({ id: z.string(), role: z.enum(['viewer', 'operator', 'admin']), secret: z.string(), expires: z.string().nullable() });

/** `POST /api/keys` request. */
export const keyAddSchema = z.strictObject({ role: z.enum(['viewer', 'operator', 'admin']), expires: z.iso.datetime({ offset: true }).optional() });

/** `DELETE /api/keys/:id`. */
export const keyRevokeAnswerSchema = z.strictObject({ id: z.string(), revoked: z.literal(true) });
