import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { sandbox, type Sandbox } from './cli-harness.js';

const HASH = '$2b$10$abcdefghijklmnopqrstuuN4HvSq5XJwWT4cFxkFs3MZb9lqJXo5m';

/** Flow sequences and maps, every quoting style, a long list over two lines, double blank lines, comments with odd spacing. */
const RICH = `# Rich formatting: every byte outside an edit must survive.
server:
  http_port: 0          # any free port
  socks5_port: 0
  workers: 1
  bind_address: '127.0.0.1'


  auth:
    mode: native
    native:
      users:
        - { username: ann, password_hash: "${HASH}", groups: [work, "video"] }
        - username: bob
          password_hash: '${HASH}'
          groups:
            - work

access_control:
  whitelist: ["127.0.0.0/8", '::1/128', 10.0.0.0/8, 192.168.0.0/16, 172.16.0.0/12, 100.64.0.0/10, 169.254.0.0/16, fc00::/7]
  blacklist: []   # nobody yet

backends:
  - name: "direct"          # straight out
    type: "direct"
  - {name: 'up', type: http, proxy: {address: "127.0.0.1:3128"}}
  - name: spare
    type: socks5
    proxy: { address: '127.0.0.1:1080' }   # kept for later

# Rules: first match wins.
rules:
  - name: "Streaming"
    match:
      domains: ["*.crunchyroll.com", 'crunchyroll.com', "*.netflix.com",
                "*.hulu.com", "*.funimation.com"]
    backend: up

  - name: Mail
    match: { domains: [ "mail.example.com" ] }
    backend: 'direct'

  # Default rule (always last)
  - name: "Default"
    match:
      domains:
        - "*"
    backend: "direct"
`;

const MAIL = `  - name: Mail
    match: { domains: [ "mail.example.com" ] }
    backend: 'direct'
`;

/** Replaces exactly one occurrence. */
function once(text: string, from: string, to: string): string {
  assert.equal(text.split(from).length, 2, `exactly one ${JSON.stringify(from)}`);
  return text.replace(from, () => to);
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Each edit command with the file it must leave: the original with only the edited lines changed. */
const CASES: { args: string[]; input?: string; expected: string | RegExp }[] = [
  { args: ['rule', 'add', '--name', 'Work', '--domain', '*.company.com', '--backend', 'direct'], expected: once(RICH, MAIL, `${MAIL}\n  - name: Work\n    match:\n      domains:\n        - "*.company.com"\n    backend: direct\n`) },
  { args: ['rule', 'update', '--name', 'Mail', '--backend', 'up'], expected: once(RICH, "    backend: 'direct'", "    backend: 'up'") },
  { args: ['rule', 'update', '--name', 'Mail', '--domain', 'mail.example.org'], expected: once(RICH, '[ "mail.example.com" ]', '[ "mail.example.org" ]') },
  { args: ['rule', 'remove', '--name', 'Mail'], expected: once(RICH, `\n${MAIL}`, '') },
  { args: ['rule', 'reorder', 'Mail', 'Streaming', 'Default'], expected: once(once(RICH, `\n${MAIL}`, ''), 'rules:\n', `rules:\n${MAIL}\n`) },
  { args: ['backend', 'add', '--name', 'corp', '--type', 'http', '--address', '127.0.0.1:8888'], expected: once(RICH, '   # kept for later\n', '   # kept for later\n  - name: corp\n    type: http\n    proxy:\n      address: 127.0.0.1:8888\n') },
  { args: ['backend', 'remove', '--name', 'spare'], expected: once(RICH, "  - name: spare\n    type: socks5\n    proxy: { address: '127.0.0.1:1080' }   # kept for later\n", '') },
  {
    args: ['user', 'add', '--username', 'cat', '--groups', 'work', '--password-stdin'],
    input: 'cat-Secret-1\n',
    expected: new RegExp(`^${escape(once(RICH, '            - work\n', '            - work\n@@'))
      .replace('@@', '        - username: cat\\n          password_hash: \\$2b\\$10\\$[./A-Za-z0-9]{53}\\n          groups:\\n            - work\\n')}$`),
  },
  { args: ['user', 'remove', '--username', 'ann'], expected: once(RICH, `        - { username: ann, password_hash: "${HASH}", groups: [work, "video"] }\n`, '') },
  {
    args: ['user', 'passwd', '--username', 'bob', '--password-stdin'],
    input: 'bob-Secret-2\n',
    expected: new RegExp(`^${escape(once(RICH, `          password_hash: '${HASH}'`, '@@')).replace('@@', "          password_hash: '\\$2b\\$10\\$[./A-Za-z0-9]{53}'")}$`),
  },
  { args: ['user', 'groups', '--username', 'bob', '--add', 'video'], expected: once(RICH, '            - work\n', '            - work\n            - video\n') },
  { args: ['user', 'groups', '--username', 'ann', '--add', 'ops'], expected: once(RICH, 'groups: [work, "video"] }', 'groups: [work, "video", ops] }') },
];

function check(box: Sandbox, expected: string | RegExp, what: string): void {
  const after = readFileSync(box.config, 'utf8');
  if (typeof expected === 'string') assert.equal(after, expected, what);
  else assert.match(after, expected, what);
}

test('every edit command changes only the lines it edits: flow sequences, quoting, long lists, blank lines and comments elsewhere stay byte for byte', { timeout: 180_000 }, async (t) => {
  const box = sandbox(RICH);
  t.after(() => box.cleanup());
  for (const { args, input, expected } of CASES) {
    writeFileSync(box.config, RICH);
    const result = input === undefined ? await box.cli(args) : await box.cliWithInput(args, input);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    check(box, expected, args.join(' '));
  }

  // Through the daemon (the API edits the file with the same code).
  writeFileSync(box.config, RICH);
  const started = await box.cli(['start']);
  assert.equal(started.code, 0, started.stderr + started.stdout);
  const updated = await box.cli(['rule', 'update', '--name', 'Mail', '--backend', 'up']);
  assert.equal(updated.code, 0, updated.stderr);
  check(box, CASES[1].expected, 'rule update through the daemon');
});
