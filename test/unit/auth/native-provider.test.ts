import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, NativeProvider } from '../../../src/auth/native-provider.js';
import type { AuthSettings } from '../../../src/auth/auth-settings.js';

/** Hashes made by other implementations: crypt_blowfish's published `$2a$` vector and a `$2y$` one. */
const FOREIGN = [
  { password: 'U*U', hash: '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW' },
  { password: 'U*U', hash: '$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW' },
];

function provider(users: { username: string; password_hash: string }[]): NativeProvider {
  return new NativeProvider({ mode: 'native', native: { users: users.map((u) => ({ ...u, groups: ['g'] })), acl: [] } } as unknown as AuthSettings);
}

test('hashPassword writes a $2b$ cost-10 hash that verifies', async () => {
  const hash = await hashPassword('s3cret pw');
  assert.match(hash, /^\$2b\$10\$[./A-Za-z0-9]{53}$/);
  const p = provider([{ username: 'u', password_hash: hash }]);
  assert.deepEqual(await p.verify({ kind: 'password', username: 'u', password: 's3cret pw' }), { user: 'u', groups: ['g'] });
  assert.deepEqual(await p.verify({ kind: 'password', username: 'u', password: 's3cret PW' }), { rejected: 'wrong password', user: 'u' });
});

test('hashes made elsewhere ($2a$, $2y$) verify; unknown names are refused', async () => {
  for (const { password, hash } of FOREIGN) {
    const p = provider([{ username: 'u', password_hash: hash }]);
    assert.ok(await p.verify({ kind: 'password', username: 'u', password }), hash);
    assert.deepEqual(await p.verify({ kind: 'password', username: 'other', password }), { rejected: 'unknown user' });
  }
});
