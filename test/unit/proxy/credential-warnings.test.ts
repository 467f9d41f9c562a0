import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BackendSpec } from '../../../src/config/model.js';
import { CredentialWarnings } from '../../../src/proxy/credential-warnings.js';

const withAuth: BackendSpec = { name: 'us', type: 'http', host: '192.0.2.1', port: 3128, auth: { username: 'bob', password: 'Up-Secret-8' } };
const without: BackendSpec = { name: 'eu', type: 'socks5', host: '192.0.2.2', port: 1080 };

test('refused upstream credentials: once a minute per backend, naming the user and where to fix it, never the password', () => {
  const lines: string[] = [];
  const warnings = new CredentialWarnings((line) => lines.push(line));
  warnings.refused('us', withAuth, 'upstream 192.0.2.1:3128: proxy authentication required (407)', 1_000);
  warnings.refused('us', withAuth, 'upstream 192.0.2.1:3128: proxy authentication required (407)', 30_000);
  warnings.refused('eu', without, 'upstream 192.0.2.2:1080: SOCKS5 authentication failed', 30_000);
  warnings.refused('us', withAuth, 'upstream 192.0.2.1:3128: proxy authentication required (407)', 61_000);
  assert.deepEqual(lines, [
    'the upstream of backend "us" refused this proxy\'s credentials (user "bob"): upstream 192.0.2.1:3128: proxy authentication required (407); check the username and password of backend "us" in the config',
    'the upstream of backend "eu" wants credentials this proxy does not send: upstream 192.0.2.2:1080: SOCKS5 authentication failed; add a username and password to backend "eu" in the config',
    'the upstream of backend "us" refused this proxy\'s credentials (user "bob"): upstream 192.0.2.1:3128: proxy authentication required (407); check the username and password of backend "us" in the config',
  ]);
  assert.ok(!lines.join('\n').includes('Up-Secret-8'));
});
