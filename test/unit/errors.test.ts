import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, EXIT_CODES, ProxyError } from '../../src/errors.js';

test('exit codes follow the error code, wherever the error was raised', () => {
  assert.equal(new ProxyError('BAD_REQUEST', 'a daemon answer').exitCode, 2);
  assert.equal(new ConfigError('bad file').exitCode, 3);
  assert.equal(new ProxyError('NO_DAEMON', 'x').exitCode, 7);
  assert.equal(new ProxyError('NOT_FOUND', 'no such rule').exitCode, 1, 'a code without its own exit code exits 1');
  assert.equal(new ProxyError('BAD_REQUEST', 'x', { exitCode: 9 }).exitCode, 9, 'an explicit exit code wins');
  assert.deepEqual([...new Set(Object.values(EXIT_CODES))].sort(), [2, 3, 4, 5, 6, 7, 8, 9], 'each code of the README table is used');
});
