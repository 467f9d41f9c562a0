import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../../src/config/load.js';
import { ConfigError } from '../../../../src/errors.js';
import { udpSettings } from '../../../../src/proxy/udp/udp-settings.js';

const parse = (text: string) => parseConfigText(text, '/etc/simple-proxy/server-config.yaml', 'server', { env: {} });

test('socks5.udp has its defaults when absent (5 minute idle timeout) and takes the file\'s values', () => {
  assert.deepEqual(udpSettings(parse('')), { enabled: true, advertiseAddress: undefined, idleMs: 300_000, flowIdleMs: 60_000, maxFlowsPerAssociation: 256, maxFlows: 16_384 });
  const set = udpSettings(parse('socks5:\n  udp:\n    advertise_address: 203.0.113.5\n    idle_timeout: 30s\n    max_flows: 10\n'));
  assert.equal(set.advertiseAddress, '203.0.113.5');
  assert.equal(set.idleMs, 30_000);
  assert.equal(set.maxFlows, 10);
});

test('a bad socks5.udp value or rule udp option is a config error naming the key', () => {
  const problems = (text: string): string => {
    try {
      parse(text);
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.problems.join('\n');
    }
    return assert.fail('expected a config error');
  };
  assert.match(problems('socks5:\n  udp:\n    advertise_address: proxy.example\n'), /socks5\.udp\.advertise_address.*not an IP address/);
  assert.match(problems('socks5:\n  udp:\n    idle_timeout: soon\n'), /socks5\.udp\.idle_timeout/);
  assert.match(problems('socks5:\n  udp:\n    max_flows: 0\n'), /socks5\.udp\.max_flows/);
  assert.match(problems('rules:\n  - name: r\n    match: { domains: ["*"] }\n    backend: direct\n    udp: maybe\n'), /rules\.0\.udp|rules\[0\]\.udp/);
  assert.equal(parse('rules:\n  - name: r\n    match: { domains: ["*"] }\n    backend: direct\n    udp: skip\n').rules[0].udpSkip, true);
});
