import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskHeaderList, maskedNames } from '../../../src/debug/header-mask.js';
import { formatAccessLine } from '../../../src/telemetry/access-log-format.js';
import type { ConnectionRecord } from '../../../src/protocol/connection-record.js';
import { debugSpec } from '../../../src/config/normalize.js';
import { debugSchema } from '../../../src/config/schema.js';

const HEADERS = ['Cookie', 's=SECRET', 'Set-Cookie', 'id=SECRET', 'Authorization', 'Bearer SECRET', 'X-Api-Key', 'SECRET', 'X-Trace', 'abc'];

test('header masks: cookies, credentials and API keys are masked by default, and a custom list adds to them', () => {
  for (const names of [maskedNames([]), maskedNames(['x-trace']), maskedNames(['X-Other'], ['cookie'])]) {
    const out = maskHeaderList(HEADERS, names);
    assert.ok(!out.join(' ').includes('SECRET'), out.join(' '));
    assert.equal(out[5], 'Bearer ***', 'the scheme stays');
  }
  assert.equal(maskHeaderList(HEADERS, maskedNames(['x-trace']))[9], '***');
  assert.equal(maskHeaderList(HEADERS, maskedNames([]))[9], 'abc');
});

test('header masks: only mask_headers: [] with an explicit unmask logs a default-masked header', () => {
  const out = maskHeaderList(HEADERS, maskedNames([], ['Cookie']));
  assert.equal(out[1], 's=SECRET');
  assert.equal(out[3], '***');
  const spec = debugSpec(debugSchema.parse({ mask_headers: [], unmask: ['Cookie'] }), '/tmp');
  assert.deepEqual([spec.maskHeaders, spec.unmask], [[], ['cookie']]);
});

test('header masks: the access log masks a Cookie with a custom mask_headers list', () => {
  const record = { requestHeaders: HEADERS, responseHeaders: undefined } as unknown as ConnectionRecord;
  const line = formatAccessLine(record, { format: 'json', fields: ['host'], mask_headers: ['x-trace'] });
  assert.ok(!line.includes('SECRET'), line);
  assert.match(line, /"Cookie":"\*\*\*"/);
});
