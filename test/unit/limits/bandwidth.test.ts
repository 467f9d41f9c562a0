import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../src/config/load.js';
import { BandwidthLimiter } from '../../../src/limits/bandwidth.js';
import type { Hold } from '../../../src/limits/hold.js';
import { Policy, PolicyState } from '../../../src/policy/policy.js';

const MB = 1_000_000;

/** A wait of about `ms` (the buckets refill during the microseconds the test runs). */
function about(wait: Hold, ms: number): void {
  assert.equal(typeof wait, 'number', 'a local bucket waits a time');
  const waited = wait as number;
  assert.ok(waited > ms - 100 && waited <= ms, `waits ${waited} ms, expected about ${ms} ms`);
}

test('BandwidthLimiter: no limit gives no pacer (the relay keeps its plain pipe)', () => {
  const limiter = new BandwidthLimiter();
  assert.equal(limiter.pacer('10.0.0.1'), null);
  limiter.configure({ perConnection: MB, perIp: 0, total: 0 });
  assert.notEqual(limiter.pacer('10.0.0.1'), null);
  limiter.configure({ perConnection: 0, perIp: 0, total: 0 });
  assert.equal(limiter.pacer('10.0.0.1'), null, 'switched off by a reload');
});

test('BandwidthLimiter: per connection each has its own bucket; per IP the connections of one client queue behind each other; total spans every client', () => {
  // A bucket holds a tenth of a second: taking 1.1 s worth leaves a debt of one second.
  const perConnection = new BandwidthLimiter();
  perConnection.configure({ perConnection: MB, perIp: 0, total: 0 });
  const [a, b] = [perConnection.pacer('10.0.0.1')!, perConnection.pacer('10.0.0.1')!];
  about(a.down(1.1 * MB), 1000);
  about(b.down(1.1 * MB), 1000);
  assert.equal(a.up(50_000), 0, 'each direction has its own bucket');

  const perIp = new BandwidthLimiter();
  perIp.configure({ perConnection: 0, perIp: MB, total: 0 });
  const [first, second, other] = [perIp.pacer('10.0.0.1')!, perIp.pacer('10.0.0.1')!, perIp.pacer('10.0.0.2')!];
  about(first.down(1.1 * MB), 1000);
  about(second.down(MB), 2000);
  about(other.down(1.1 * MB), 1000);
  first.release();
  second.release();
  about(perIp.pacer('10.0.0.1')!.down(1.1 * MB), 1000);

  const total = new BandwidthLimiter();
  total.configure({ perConnection: 0, perIp: 0, total: MB });
  about(total.pacer('10.0.0.1')!.down(1.1 * MB), 1000);
  about(total.pacer('10.0.0.2')!.down(MB), 2000);
});

test('Policy: bandwidth limits apply only with rate_limiting.enabled and bandwidth.enabled', () => {
  const policy = (rateLimiting: string): Policy => {
    const config = parseConfigText(`rate_limiting:\n${rateLimiting}\nrules:\n  - name: all\n    match: { domains: ["*"] }\n    backend: direct\n`, null, 'server');
    return new Policy(config, new PolicyState({ hit: () => undefined, warn: () => undefined }));
  };
  const limits = 'max_mbps_per_connection: 100, max_mbps_per_ip: 500, max_mbps_total: 10000';
  assert.equal(policy(`  enabled: true\n  bandwidth: { enabled: false, ${limits} }`).pacer('10.0.0.1'), null, "the spec's example: limits set, switched off");
  assert.equal(policy(`  enabled: false\n  bandwidth: { enabled: true, ${limits} }`).pacer('10.0.0.1'), null);
  assert.notEqual(policy(`  enabled: true\n  bandwidth: { enabled: true, ${limits} }`).pacer('10.0.0.1'), null);
});
