import type { KeyPress, UiCommand, UiState } from './ui-types.js';

/** The words the `:` command line knows, for Tab completion. */
export const COMMANDS = ['debug on', 'debug off', 'clear', 'export', 'backend', 'replay', 'reload', 'quit'] as const;

/** The command a `:` line asks for. */
function parseCommand(text: string): UiCommand {
  const [word, ...rest] = text.trim().split(/\s+/);
  if (word === 'debug' && (rest[0] === 'on' || rest[0] === 'off')) return { type: 'debug', on: rest[0] === 'on' };
  if (word === 'clear' && rest.length === 0) return { type: 'clear' };
  if (word === 'export' && rest.length <= 1) return { type: 'export-har', ...(rest[0] ? { file: rest[0] } : {}) };
  if (word === 'backend' && rest.length === 1) return { type: 'switch-backend', backend: rest[0] };
  if (word === 'reload' && rest.length === 0) return { type: 'reload' };
  if (word === 'replay' && rest.length >= 1 && rest.length <= 3) {
    const [id, ...more] = rest;
    const backend = more.find((w) => w !== 'force');
    if (more.filter((w) => w !== 'force').length <= 1) return { type: 'replay', id, ...(backend ? { backend } : {}), force: more.includes('force') };
  }
  if (word === 'quit' && rest.length === 0) return { type: 'quit' };
  return { type: 'unknown-command', text: text.trim() };
}

/** Keys on the `:` command line: Tab completes the command (and backend names), Enter runs it, Esc closes it. */
export function editCommand(state: UiState, key: KeyPress, backendNames: readonly string[]): { state: UiState; command?: UiCommand } {
  const input = state.commandInput ?? '';
  if (key.escape) return { state: { ...state, commandInput: null } };
  if (key.return) return input.trim() === '' ? { state: { ...state, commandInput: null } } : { state: { ...state, commandInput: null }, command: parseCommand(input) };
  if (key.tab) {
    // `replay ID ` completes a backend name after the id.
    const replaying = /^replay \S+ /.exec(input)?.[0];
    const words = replaying ? backendNames.map((name) => `${replaying}${name}`) : [...COMMANDS.filter((c) => c !== 'backend'), ...backendNames.map((name) => `backend ${name}`)];
    const matches = words.filter((c) => c.startsWith(input));
    // One match: completed; several: as far as they agree.
    const common = matches.reduce<string>((prefix, c) => {
      let i = 0;
      while (i < prefix.length && prefix[i] === c[i]) i++;
      return prefix.slice(0, i);
    }, matches[0] ?? input);
    return { state: { ...state, commandInput: matches.length === 1 ? `${common}${common === 'export' ? ' ' : ''}` : common.length > input.length ? common : input } };
  }
  if (key.backspace || key.delete) return { state: { ...state, commandInput: input.slice(0, -1) } };
  if (key.ctrl || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow) return { state };
  return { state: { ...state, commandInput: input + key.input } };
}
