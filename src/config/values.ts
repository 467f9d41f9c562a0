import { z } from 'zod';
import { isCidr, isHost, parseDuration, parseHostPort } from './value-parsers.js';

/** A duration as written in the file (`"10s"`), validated. */
export const duration = z.string({ error: 'expected a duration like "10s", "1m30s" or "500ms"' }).refine((v) => parseDuration(v) !== null, {
  error: (issue) => `"${String(issue.input)}" is not a duration (expected something like "10s", "1m30s" or "500ms")`,
});

/** A TCP port number. */
export const port = z.number({ error: 'expected a port number (1-65535)' }).int('expected a whole port number').min(1, 'expected a port number (1-65535)').max(65535, 'expected a port number (1-65535)');

/** A port, or 0 for "any free port" (listeners only). */
export const listenPort = z.number({ error: 'expected a port number (0-65535)' }).int('expected a whole port number').min(0, 'expected a port number (0-65535)').max(65535, 'expected a port number (0-65535)');

/** A bind address: an IP address or a host name. */
export const bindAddress = z.string().refine(isHost, { error: (issue) => `"${String(issue.input)}" is not an IP address or host name` });

/** An address `host:port` (IPv6 in brackets). */
export const hostPort = z.string().refine((v) => parseHostPort(v) !== null, {
  error: (issue) => `"${String(issue.input)}" is not an address (expected "host:port" or "[ipv6]:port" with a port 1-65535)`,
});

/** An IP address or CIDR block. */
export const cidr = z.string().refine(isCidr, { error: (issue) => `"${String(issue.input)}" is not an IP address or CIDR block (like "10.0.0.0/8" or "2001:db8::/32")` });

/** A port (`443`) or an inclusive range (`"1025-65535"`), the low end first. */
export const portOrRange = z.union([
  port,
  z
    .string()
    .regex(/^\d{1,5}-\d{1,5}$/, 'expected a port or a range like "1025-65535"')
    .refine(
      (v) => {
        const [low, high] = v.split('-').map(Number);
        return low >= 1 && high <= 65535 && low <= high;
      },
      { error: (issue) => `"${String(issue.input)}" is not a port range (expected "LOW-HIGH" with 1 <= LOW <= HIGH <= 65535)` },
    ),
]);

/** A string that is not empty. */
export const nonEmpty = z.string().min(1, 'must not be empty');
