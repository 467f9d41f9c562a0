import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackendHealthState } from '../../../src/health/health-state.js';

const thresholds = { healthyThreshold: 2, unhealthyThreshold: 3 };

test('the first check decides; then thresholds in a row flip the status', () => {
  const state = new BackendHealthState();
  assert.equal(state.status, 'unknown');
  assert.equal(state.recordCheck(true, 12, undefined, thresholds, 1000), true);
  assert.equal(state.status, 'healthy');
  assert.equal(state.recordCheck(false, 5, 'refused', thresholds), false);
  assert.equal(state.recordCheck(false, 5, 'refused', thresholds), false);
  assert.equal(state.recordCheck(true, 9, undefined, thresholds), false, 'a pass in between resets the failures');
  for (let i = 0; i < 2; i++) assert.equal(state.recordCheck(false, 5, 'refused', thresholds), false);
  assert.equal(state.recordCheck(false, 5, 'refused', thresholds), true);
  assert.equal(state.status, 'unhealthy');
  assert.equal(state.recordCheck(true, 7, undefined, thresholds), false, 'one pass is not enough to come back');
  assert.equal(state.recordCheck(true, 8, undefined, thresholds, 5000), true);
  const { since, lastError, ...view } = state.view('b');
  assert.deepEqual(view, { name: 'b', status: 'healthy', checked: true, lastCheck: 5000, latencyMs: 8, consecutiveFailures: 0, uptimePercent: 44.4, checks: 9 });
  assert.equal(typeof since, 'number');
  assert.equal(lastError?.message, 'refused', 'the last failure is kept after recovery');
});

test('a first failed check marks unhealthy at once, with the reason', () => {
  const state = new BackendHealthState();
  assert.equal(state.recordCheck(false, 3, 'upstream 127.0.0.1:1: connection refused', thresholds), true);
  assert.deepEqual(state.event('x'), { backend: 'x', healthy: false, status: 'unhealthy', latencyMs: null, consecutiveFailures: 1, lastCheck: state.lastCheck, reason: 'upstream 127.0.0.1:1: connection refused' });
});

test('failures on live traffic count toward the unhealthy threshold; a success resets them', () => {
  const state = new BackendHealthState();
  state.recordCheck(true, 1, undefined, thresholds);
  assert.equal(state.recordTraffic(false, 'refused', thresholds), false);
  assert.equal(state.recordTraffic(true, undefined, thresholds), false);
  assert.equal(state.consecutiveFailures, 0);
  state.recordTraffic(false, 'refused', thresholds);
  state.recordTraffic(false, 'refused', thresholds);
  assert.equal(state.recordTraffic(false, 'refused', thresholds), true);
  assert.equal(state.status, 'unhealthy');
  assert.equal(state.reason, '3 connections in a row failed: refused');
  assert.equal(state.view('x').uptimePercent, 100, 'uptime counts active checks only');
});

test('passive health: a success marks healthy at once, failures in a row unhealthy, with the credentials refusal noted; expire ends the mark', () => {
  const state = new BackendHealthState();
  assert.equal(state.recordPassive(true, undefined, 3), true);
  assert.equal(state.status, 'healthy');
  assert.equal(state.credentials, 'accepted');
  assert.equal(state.recordPassive(false, 'upstream 127.0.0.1:1: proxy authentication required (407)', 3), false);
  assert.equal(state.credentials, 'refused');
  assert.equal(state.recordPassive(false, 'upstream 127.0.0.1:1: connection refused', 3), false);
  assert.equal(state.recordPassive(false, 'upstream 127.0.0.1:1: connection refused', 3), true);
  assert.equal(state.status, 'unhealthy');
  assert.equal(state.reason, '3 connections in a row failed: upstream 127.0.0.1:1: connection refused');
  assert.equal(state.view('p', false).checked, false);
  assert.equal(state.expire(), true);
  assert.equal(state.status, 'unknown');
  assert.match(state.reason ?? '', /\(no connection tried since\)$/);
  assert.equal(state.recordPassive(true, undefined, 3), true);
  assert.equal(state.status, 'healthy');
});
