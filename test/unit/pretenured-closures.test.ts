import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import ts from 'typescript';
import { sourceFiles } from '../helpers/source-files.js';

/*
 * V8's parser takes a function literal assigned to a property (`socket.onX = () => ...`, also with
 * `||=`, `&&=`, `??=`) for a method that will live long and allocates it in the old generation.
 * Everything it holds then lives until the next mark-compact, however soon it is dropped: made
 * per connection, it carries the connection's objects through every scavenge into the old
 * generation (the forwarding path's handshake reader did: each tunnel through an HTTP proxy
 * promoted 4.3 KB instead of 2.0). Node 24's streams do it in every Writable's state
 * (`this.onwrite = (er) => ...`): there a closed socket can live until a mark-compact, whoever
 * made it. Here, a function made per connection is made apart from the assignment (a `const`, a
 * conditional expression, a call argument), all of which V8 allocates young. The sites below run
 * once per process or per long-lived object.
 */

const SRC = resolve(import.meta.dirname, '../../src');

/** The sites that may assign a function literal to a property, as `file: target`, with why each runs once. */
const ONCE: Record<string, string> = {
  'daemon/daemon.ts: this.router.version': 'the daemon wires its router once',
  'daemon/daemon.ts: this.endGrace': 'once per stop',
  'daemon/management.ts: router.observer': 'the management API wires its router once',
  'limits/fleet-state.ts: options.failures.share': 'once per fleet store',
  'policy/policy-state.ts: this.perIpClosed': 'once per policy state (one per engine)',
  'proxy/connection-ledger.ts: this.clientClosed': 'once per ledger (one per engine)',
  'proxy/connection-ledger.ts: this.upstreamClosed': 'once per ledger (one per engine)',
  'proxy/intercept-front.ts: inner.begin': 'once per interception front',
};

const ASSIGNMENTS = new Set([ts.SyntaxKind.EqualsToken, ts.SyntaxKind.BarBarEqualsToken, ts.SyntaxKind.AmpersandAmpersandEqualsToken, ts.SyntaxKind.QuestionQuestionEqualsToken]);

/** What TypeScript leaves of an expression in the JavaScript V8 parses (parentheses are not in its tree either). */
function emitted(expression: ts.Expression): ts.Expression {
  let inner = expression;
  while (ts.isParenthesizedExpression(inner) || ts.isAsExpression(inner) || ts.isSatisfiesExpression(inner) || ts.isNonNullExpression(inner) || ts.isTypeAssertionExpression(inner)) inner = inner.expression;
  return inner;
}

/** Every function literal assigned to a property in `text`, as `target` and its line. */
function pretenuredClosures(fileName: string, text: string): { target: string; line: number }[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, fileName.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found: { target: string; line: number }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isBinaryExpression(node) && ASSIGNMENTS.has(node.operatorToken.kind)) {
      const target = emitted(node.left);
      const value = emitted(node.right);
      if ((ts.isPropertyAccessExpression(target) || ts.isElementAccessExpression(target)) && (ts.isArrowFunction(value) || ts.isFunctionExpression(value))) {
        found.push({ target: target.getText(source), line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1 });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

test('the finder sees function literals assigned to properties, and nothing V8 allocates young', () => {
  const text = [
    'a.b = () => 1;',
    'a[k] = function () {};',
    'a.c ??= (x: number) => x;',
    'a.d = (() => 2) as F;',
    'const f = () => 3; a.e = f;',
    'a.g = flag ? () => 4 : () => 5;',
    'a.on("x", () => 6);',
    'const o = { h: () => 7 };',
    'let v; v = () => 8;',
  ].join('\n');
  assert.deepEqual(pretenuredClosures('x.ts', text), [
    { target: 'a.b', line: 1 },
    { target: 'a[k]', line: 2 },
    { target: 'a.c', line: 3 },
    { target: 'a.d', line: 4 },
  ]);
});

test('no function literal is assigned to a property under src/ but where it runs once', () => {
  const unexpected: string[] = [];
  const seen = new Set<string>();
  for (const file of sourceFiles(SRC)) {
    const name = relative(SRC, file);
    for (const { target, line } of pretenuredClosures(name, readFileSync(file, 'utf8'))) {
      const key = `${name}: ${target}`;
      seen.add(key);
      if (ONCE[key] === undefined) unexpected.push(`src/${name}:${line}: ${target} = <function literal>`);
    }
  }
  assert.deepEqual(unexpected, [], 'make the function apart from the assignment (a const), or list the site in ONCE if it runs once');
  assert.deepEqual(Object.keys(ONCE).filter((key) => !seen.has(key)), [], 'sites listed in ONCE that are gone');
});
