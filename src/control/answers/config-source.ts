import { z } from 'zod';

/** `status`'s `config.remote`: where a URL-sourced config stands (null fields: not yet). */
export const configSourceStatusSchema = z.strictObject({
  /** The URL, any password in it masked. */
  url: z.string(),
  /** The sha256 pin of `config.source`, or null when the body is not pinned. */
  pin: z.string().nullable(),
  intervalSeconds: z.number(),
  /** Where the config in force came from: the URL, or the last good copy kept in the state dir. */
  from: z.enum(['url', 'last good copy']),
  /** When the URL was last asked, and when a new body was last applied. */
  lastFetch: z.string().nullable(),
  lastChange: z.string().nullable(),
  /** ETag of the body in force. */
  etag: z.string().nullable(),
  /** What the last fetch came to. */
  result: z.enum(['applied', 'not modified', 'invalid', 'pin mismatch', 'unreachable']).nullable(),
  /** Why the last fetch was not applied (the running config stays), or null. */
  error: z.string().nullable(),
});
/** Where a URL-sourced config stands. */
export type ConfigSourceStatus = z.infer<typeof configSourceStatusSchema>;
