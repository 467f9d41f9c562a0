import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../config/atomic-write.js';
import { ProxyError } from '../errors.js';
import { API_ROLES, type ApiRole } from './api.js';

/** One stored key: never the secret, only its SHA-256 (the secret is 256 random bits: no slow hash needed). */
const storedKey = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{8}$/),
  role: z.enum(['viewer', 'operator', 'admin']),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  created: z.number(),
  expires: z.number().nullable(),
  lastUsed: z.number().nullable(),
});
const keyFile = z.strictObject({ keys: z.array(storedKey) });

/** A key as `apikey list` shows it (no hash). */
export interface KeyView {
  id: string;
  role: ApiRole;
  created: string;
  expires: string | null;
  lastUsed: string | null;
  expired: boolean;
}

/** A key that passed the check. */
export interface KeyHolder {
  id: string;
  role: ApiRole;
}

type Stored = z.infer<typeof storedKey>;

const SECRET = /^spk_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;
/** Last-used times are written at most this often per key (a busy dashboard must not rewrite the file each second). */
const TOUCH_EVERY_MS = 60_000;

/** The file the API keys of a role's daemon live in. */
export function keysFile(stateDir: string): string {
  return join(stateDir, 'api-keys.json');
}

const digest = (secret: string): Buffer => createHash('sha256').update(secret).digest();

/**
 * The API keys of the management listener, in a 0600 JSON file of the state dir. Only hashes
 * are stored; a secret is shown once, when it is made. Reads go to memory; every change is
 * written at once, so a revoked key is refused by the next request.
 */
export class KeyStore {
  private keys: Stored[] = [];

  constructor(readonly file: string) {}

  /** Loads the file (none yet: no keys). */
  load(): this {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return ((this.keys = []), this);
      throw error;
    }
    const parsed = keyFile.safeParse(JSON.parse(text));
    if (!parsed.success) throw new ProxyError('BAD_KEY_FILE', `${this.file} is not a key file: ${parsed.error.issues[0]?.message}`);
    this.keys = parsed.data.keys;
    return this;
  }

  /** Keys that can be used now (not expired). */
  usable(now = Date.now()): number {
    return this.keys.filter((k) => k.expires === null || k.expires > now).length;
  }

  /** Makes a key; the secret is returned once and never stored. */
  add(role: ApiRole, expires: number | null, now = Date.now()): { id: string; secret: string; view: KeyView } {
    if (!API_ROLES.includes(role)) throw new ProxyError('BAD_REQUEST', `role must be one of ${API_ROLES.join(', ')}`);
    if (expires !== null && expires <= now) throw new ProxyError('BAD_REQUEST', 'the expiry is in the past');
    let id: string;
    do id = randomBytes(4).toString('hex');
    while (this.keys.some((k) => k.id === id));
    const secret = `spk_${id}_${randomBytes(32).toString('base64url')}`;
    const key: Stored = { id, role, hash: digest(secret).toString('hex'), created: now, expires, lastUsed: null };
    this.keys.push(key);
    this.save();
    return { id, secret, view: view(key, now) };
  }

  /** Removes a key; false when there is none by that id. */
  revoke(id: string): boolean {
    const before = this.keys.length;
    this.keys = this.keys.filter((k) => k.id !== id);
    if (this.keys.length === before) return false;
    this.save();
    return true;
  }

  /** Every key, oldest first. */
  list(now = Date.now()): KeyView[] {
    return this.keys.map((k) => view(k, now));
  }

  /** The holder of a secret, or why it is refused (unknown, wrong or expired: all the same to the caller). */
  check(secret: string, now = Date.now()): KeyHolder | null {
    const match = SECRET.exec(secret);
    const key = match ? this.keys.find((k) => k.id === match[1]) : undefined;
    if (!key || !timingSafeEqual(digest(secret), Buffer.from(key.hash, 'hex'))) return null;
    if (key.expires !== null && key.expires <= now) return null;
    if (key.lastUsed === null || now - key.lastUsed > TOUCH_EVERY_MS) {
      key.lastUsed = now;
      this.save();
    }
    return { id: key.id, role: key.role };
  }

  private save(): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    // Created 0600 before anything is in it; the atomic rewrite keeps the mode.
    closeSync(openSync(this.file, 'a', 0o600));
    chmodSync(this.file, 0o600);
    writeFileAtomic(this.file, `${JSON.stringify({ keys: this.keys }, null, 2)}\n`);
  }
}

function view(key: Stored, now: number): KeyView {
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  return { id: key.id, role: key.role, created: new Date(key.created).toISOString(), expires: iso(key.expires), lastUsed: iso(key.lastUsed), expired: key.expires !== null && key.expires <= now };
}
