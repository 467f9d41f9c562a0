import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionLedger } from '../../../src/proxy/connection-ledger.js';

test('the ledger lists open records oldest first, whichever ended in between', () => {
  const ledger = new ConnectionLedger({ ended: () => undefined, warn: () => undefined });
  const records = Array.from({ length: 40 }, (_, n) => ledger.begin({ protocol: 'http', clientAddress: '127.0.0.1', clientPort: 40_000 + n, method: 'GET', host: 'example.com', port: 80, path: `/${n}` }));
  // Ending records moves later ones into their places in the open set.
  for (const n of [0, 3, 4, 17, 38]) ledger.finish(records[n]);
  const listed = ledger.list().map((record) => record.path);
  const expected = records.filter((_, n) => ![0, 3, 4, 17, 38].includes(n)).map((record) => record.path);
  assert.deepEqual(listed, expected);
  assert.equal(ledger.open.size, 35);
});
