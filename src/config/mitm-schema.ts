import { z } from 'zod';
import { parseDomainPattern } from '../routing/domain-pattern.js';

/** A domain pattern as rules write it (`example.com`, `*.example.com`, `*`). */
const domainPatternText = z.string().min(1, 'must not be empty').superRefine((value, ctx) => {
  try {
    parseDomainPattern(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

/** `debug.mitm:` HTTPS interception for the debugger (off unless enabled here or by `debug mitm on`). */
export const mitmSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** Hosts to intercept (first the ignore list is consulted). */
  hosts: z.array(domainPatternText).default(['*']),
  /** Hosts never intercepted (pinned apps, banking): their tunnels stay end to end. */
  ignore_hosts: z.array(domainPatternText).default([]),
  /** TLS handshakes a client may refuse for a host before that host is passed through untouched. */
  passthrough_after_failures: z.number().int().min(1).default(3),
  /** Extra CA certificates (PEM) trusted for origins, on top of the system store. */
  upstream_ca_file: z.string().min(1, 'must not be empty').optional(),
  /** Per-host leaf certificates kept ready in memory (least recently used go first). */
  cert_cache_size: z.number().int().min(1).max(1_000_000).default(1000),
});

/** The `debug.mitm:` section as parsed. */
export type MitmConfig = z.infer<typeof mitmSchema>;
