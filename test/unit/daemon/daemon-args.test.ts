import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonArgs } from '../../../src/daemon/daemon-args.js';

test('start --foreground with --config and --socket in their usual spellings goes to the daemon entry', () => {
  assert.deepEqual(daemonArgs(['start', '--foreground']), {});
  assert.deepEqual(daemonArgs(['start', '-f', '-c', 'a.yaml']), { config: 'a.yaml' });
  assert.deepEqual(daemonArgs(['start', '--config', 'a.yaml', '--foreground', '--socket', '/run/x.sock']), { config: 'a.yaml', socket: '/run/x.sock' });
  assert.deepEqual(daemonArgs(['start', '--config=a=b.yaml', '--socket=/s', '--foreground']), { config: 'a=b.yaml', socket: '/s' });
});

test('any other command line is left to the CLI, which parses and reports it', () => {
  for (const argv of [
    [],
    ['start'],
    ['status', '--foreground'],
    ['start', '--foreground', '--json'],
    ['start', '--foreground', '--help'],
    ['start', '--foreground', '--config'],
    ['start', '--foreground', '--config', '--socket', 'x'],
    ['start', '--foreground', '--config='],
    ['start', '--foreground', '-c', 'a', '--config', 'b'],
    ['start', '--foreground', '-f'],
    ['start', '--foreground', '--remote', 'https://h:1'],
    ['start', '--foreground', 'extra'],
  ]) {
    assert.equal(daemonArgs(argv), null, argv.join(' '));
  }
});
