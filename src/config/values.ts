import { isIP } from 'node:net';
import { z } from 'zod';

const DURATION = /^(?:(\d+(?:\.\d+)?)(ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in a duration like `10s`, `1m30s`, `500ms`, `2h`; null when malformed. */
export function parseDuration(text: string): number | null {
  if (!DURATION.test(text)) return null;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) total += Number(amount) * UNIT_MS[unit];
  return Math.round(total);
}

/** A duration as written in the file (`"10s"`), validated. */
export const duration = z.string({ error: 'expected a duration like "10s", "1m30s" or "500ms"' }).refine((v) => parseDuration(v) !== null, {
  error: (issue) => `"${String(issue.input)}" is not a duration (expected something like "10s", "1m30s" or "500ms")`,
});

/** A TCP port number. */
export const port = z.number({ error: 'expected a port number (1-65535)' }).int('expected a whole port number').min(1, 'expected a port number (1-65535)').max(65535, 'expected a port number (1-65535)');

/** A port, or 0 for "any free port" (listeners only). */
export const listenPort = z.number({ error: 'expected a port number (0-65535)' }).int('expected a whole port number').min(0, 'expected a port number (0-65535)').max(65535, 'expected a port number (0-65535)');

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** Whether a string is an IP address or a host name. */
export function isHost(value: string): boolean {
  return isIP(value) !== 0 || HOSTNAME.test(value);
}

/** A bind address: an IP address or a host name. */
export const bindAddress = z.string().refine(isHost, { error: (issue) => `"${String(issue.input)}" is not an IP address or host name` });

/** Splits `host:port` or `[v6]:port`; null when malformed. */
export function parseHostPort(text: string): { host: string; port: number } | null {
  const match = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]]+):(\d{1,5})$/.exec(text);
  if (!match) return null;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return null;
  if (text.startsWith('[') ? isIP(match[1]) !== 6 : !isHost(match[1])) return null;
  return { host: match[1], port };
}

/** An address `host:port` (IPv6 in brackets). */
export const hostPort = z.string().refine((v) => parseHostPort(v) !== null, {
  error: (issue) => `"${String(issue.input)}" is not an address (expected "host:port" or "[ipv6]:port" with a port 1-65535)`,
});

/** Whether a string is an IP address or a CIDR block (IPv4 or IPv6). */
export function isCidr(value: string): boolean {
  const [address, bits, extra] = value.split('/');
  if (extra !== undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

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
