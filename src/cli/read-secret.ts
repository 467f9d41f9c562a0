import { ProxyError } from '../errors.js';

const MAX_SECRET = 64 * 1024;

/** Reads all of stdin (a pipe), without its one trailing newline. */
async function fromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_SECRET) throw new ProxyError('BAD_REQUEST', `the secret on stdin is longer than ${MAX_SECRET} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Prompts on the terminal with echo off (raw mode); Ctrl-C aborts. */
function prompt(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    // Echo goes off before the question shows: an answer typed (or pasted) the moment it appears is never echoed.
    stdin.setRawMode(true);
    process.stderr.write(question);
    stdin.resume();
    stdin.setEncoding('utf8');
    let text = '';
    const done = (error?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(text);
    };
    const onData = (data: string): void => {
      for (const ch of data) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new ProxyError('ABORTED', 'aborted'));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * A secret typed by a person: from stdin with `fromStdinFlag` (for scripts), otherwise from a
 * no-echo prompt, asked twice when `confirm`. Never from the command line, where `ps` and shell
 * history would keep it.
 */
export async function readSecret(options: { fromStdinFlag: boolean; label: string; confirm: boolean; flagName: string }): Promise<string> {
  let secret: string;
  if (options.fromStdinFlag) secret = await fromStdin();
  else {
    if (!process.stdin.isTTY) throw new ProxyError('BAD_REQUEST', `no terminal to ask for the ${options.label} on; pipe it in with --${options.flagName}`);
    secret = await prompt(`${options.label[0].toUpperCase()}${options.label.slice(1)}: `);
    if (options.confirm && (await prompt(`Repeat the ${options.label}: `)) !== secret) throw new ProxyError('BAD_REQUEST', `the two ${options.label}s differ`);
  }
  if (secret === '') throw new ProxyError('BAD_REQUEST', `the ${options.label} is empty`);
  return secret;
}
