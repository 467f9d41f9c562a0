/** The panes, in Tab order. */
export const PANES = ['traffic', 'throughput', 'backends', 'limits'] as const;

/** One pane of the dashboard. */
export type Pane = (typeof PANES)[number];

/** Where the person is in the dashboard. */
export interface UiState {
  pane: Pane;
  /** Selected row in the traffic and backends panes. */
  trafficIndex: number;
  backendIndex: number;
  /** The filter in force, and the text being typed while the filter box is open. */
  filter: string;
  filterInput: string;
  editingFilter: boolean;
  /** Id of the traffic record whose detail is open. */
  detail: string | null;
  help: boolean;
}

/** A key as ink reports it (the fields the dashboard uses). */
export interface KeyPress {
  input: string;
  tab?: boolean;
  shift?: boolean;
  ctrl?: boolean;
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  return?: boolean;
  escape?: boolean;
  backspace?: boolean;
  delete?: boolean;
}

/** Something a key asks the dashboard to do beyond moving around. */
export type UiCommand = { type: 'quit' } | { type: 'reload' } | { type: 'pause' } | { type: 'test-backend'; index: number };

/** What the reducer needs to know about the current lists. */
export interface UiContext {
  /** Ids of the traffic rows shown, in order. */
  trafficIds: readonly string[];
  backendCount: number;
}

/** The dashboard as it opens. */
export const INITIAL_UI: UiState = { pane: 'traffic', trafficIndex: 0, backendIndex: 0, filter: '', filterInput: '', editingFilter: false, detail: null, help: false };

const clamp = (value: number, count: number): number => Math.max(0, Math.min(value, count - 1));

/**
 * Splits a chunk of several keys that arrived at once (fast typing over SSH, a paste, tmux
 * send-keys) into single presses: ink reports such a chunk as one input string with no key flags.
 */
export function splitKeys(key: KeyPress): KeyPress[] {
  const { input } = key;
  const flagged = Object.entries(key).some(([name, value]) => name !== 'input' && value === true);
  if (flagged || input.length <= 1 || input.includes('\x1b')) return [key];
  return Array.from(input, (ch): KeyPress => {
    if (ch === '\t') return { input: '', tab: true };
    if (ch === '\r' || ch === '\n') return { input: '', return: true };
    if (ch === '\x7f' || ch === '\b') return { input: '', backspace: true };
    return { input: ch };
  });
}

/** Applies one key press: the next state and, when the key asks for it, a command. */
export function onKey(state: UiState, key: KeyPress, ctx: UiContext): { state: UiState; command?: UiCommand } {
  if (key.ctrl && key.input === 'c') return { state, command: { type: 'quit' } };
  if (state.editingFilter) return { state: editFilter(state, key) };
  if (state.help) return key.input === 'q' ? { state, command: { type: 'quit' } } : { state: { ...state, help: false } };
  if (state.detail !== null) {
    if (key.input === 'q') return { state, command: { type: 'quit' } };
    return key.escape || key.return || key.backspace ? { state: { ...state, detail: null } } : { state };
  }
  const move = (delta: number): UiState => {
    if (state.pane === 'traffic') return { ...state, trafficIndex: clamp(state.trafficIndex + delta, ctx.trafficIds.length) };
    if (state.pane === 'backends') return { ...state, backendIndex: clamp(state.backendIndex + delta, ctx.backendCount) };
    return state;
  };
  const cycle = (delta: number): UiState => ({ ...state, pane: PANES[(PANES.indexOf(state.pane) + delta + PANES.length) % PANES.length] });
  if (key.tab) return { state: cycle(key.shift ? -1 : 1) };
  if (key.rightArrow) return { state: cycle(1) };
  if (key.leftArrow) return { state: cycle(-1) };
  if (key.upArrow || key.input === 'k') return { state: move(-1) };
  if (key.downArrow || key.input === 'j') return { state: move(1) };
  if (key.pageUp) return { state: move(-10) };
  if (key.pageDown) return { state: move(10) };
  if (key.return) {
    if (state.pane === 'traffic' && ctx.trafficIds.length > 0) return { state: { ...state, detail: ctx.trafficIds[clamp(state.trafficIndex, ctx.trafficIds.length)] } };
    if (state.pane === 'backends' && ctx.backendCount > 0) return { state, command: { type: 'test-backend', index: clamp(state.backendIndex, ctx.backendCount) } };
    return { state };
  }
  if (key.escape) return { state: { ...state, filter: '', filterInput: '', trafficIndex: 0 } };
  switch (key.input) {
    case 'q':
      return { state, command: { type: 'quit' } };
    case '?':
      return { state: { ...state, help: true } };
    case '/':
      return { state: { ...state, pane: 'traffic', editingFilter: true, filterInput: state.filter } };
    case 'p':
      return { state, command: { type: 'pause' } };
    case 'r':
      return { state, command: { type: 'reload' } };
    case 't':
      return state.pane === 'backends' && ctx.backendCount > 0 ? { state, command: { type: 'test-backend', index: clamp(state.backendIndex, ctx.backendCount) } } : { state };
    default:
      return { state };
  }
}

function editFilter(state: UiState, key: KeyPress): UiState {
  if (key.return) return { ...state, editingFilter: false, filter: state.filterInput.trim(), trafficIndex: 0 };
  if (key.escape) return { ...state, editingFilter: false, filterInput: state.filter };
  if (key.backspace || key.delete) return { ...state, filterInput: state.filterInput.slice(0, -1) };
  if (key.ctrl || key.tab || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow) return state;
  return { ...state, filterInput: state.filterInput + key.input };
}
