import { editCommand } from './command-line.js';
import { onConnectionsKey } from './connection-keys.js';
import { DEFAULT_SORT, SORT_KEYS } from './traffic-history.js';
import { DETAIL_TABS, everywhereKey, PANES, type KeyPress, type UiCommand, type UiContext, type UiState } from './ui-types.js';

export * from './ui-types.js';

/** Filters kept for ↑/↓ in the filter box. */
const FILTER_HISTORY = 20;


/** The dashboard as it opens: following the newest request. */
export const INITIAL_UI: UiState = {
  pane: 'traffic',
  selectedId: null,
  trafficIndex: 0,
  follow: true,
  backendIndex: 0,
  filter: '',
  filterInput: '',
  editingFilter: false,
  filterHistory: [],
  historyIndex: -1,
  sort: DEFAULT_SORT,
  detail: null,
  detailTab: 'request',
  detailScroll: 0,
  backendDetail: null,
  commandInput: null,
  messages: false,
  help: false,
  connections: false,
  connectionIndex: 0,
  confirmClose: null,
};

const clamp = (value: number, count: number): number => Math.max(0, Math.min(value, count - 1));

/** Where the cursor is in a list of ids: the newest row in follow mode, else the selected request (or where it was, once it is gone). */
export function selectedIndex(state: UiState, ids: readonly string[]): number {
  if (state.follow || ids.length === 0) return 0;
  const index = state.selectedId === null ? -1 : ids.indexOf(state.selectedId);
  return index >= 0 ? index : clamp(state.trafficIndex, ids.length);
}

/** The filter the list shows now: what is being typed, while the box is open. */
export function activeFilter(state: UiState): string {
  return state.editingFilter ? state.filterInput : state.filter;
}

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
  if (state.commandInput !== null) return editCommand(state, key, ctx.backendNames ?? []);
  if (state.help || state.messages) return key.input === 'q' ? { state, command: { type: 'quit' } } : { state: { ...state, help: false, messages: false } };
  if (state.connections) return onConnectionsKey(state, key, ctx.connections ?? []);
  if (state.detail !== null) return onDetailKey(state, key, ctx);
  if (state.backendDetail !== null) {
    if (key.input === 'q') return { state, command: { type: 'quit' } };
    const index = ctx.backendNames?.indexOf(state.backendDetail) ?? -1;
    if (key.input === 't' && index >= 0) return { state, command: { type: 'test-backend', index } };
    return key.escape || key.backspace || key.return ? { state: { ...state, backendDetail: null } } : { state };
  }
  const at = selectedIndex(state, ctx.trafficIds);
  const select = (index: number): UiState => {
    const i = clamp(index, ctx.trafficIds.length);
    return { ...state, follow: false, trafficIndex: i, selectedId: ctx.trafficIds[i] ?? null };
  };
  const move = (delta: number): UiState => {
    if (state.pane === 'traffic') return select(at + delta);
    if (state.pane === 'backends') return { ...state, backendIndex: clamp(state.backendIndex + delta, ctx.backendCount) };
    return state;
  };
  const cycle = (delta: number): UiState => ({ ...state, pane: PANES[(PANES.indexOf(state.pane) + delta + PANES.length) % PANES.length] });
  const backend = clamp(state.backendIndex, ctx.backendCount);
  if (key.tab) return { state: cycle(key.shift ? -1 : 1) };
  if (key.rightArrow) return { state: cycle(1) };
  if (key.leftArrow) return { state: cycle(-1) };
  if (key.upArrow || key.input === 'k') return { state: move(-1) };
  if (key.downArrow || key.input === 'j') return { state: move(1) };
  if (key.pageUp) return { state: move(-10) };
  if (key.pageDown) return { state: move(10) };
  if (key.return) {
    if (state.pane === 'traffic' && ctx.trafficIds.length > 0) return { state: { ...select(at), detail: ctx.trafficIds[at], detailScroll: 0 } };
    if (state.pane === 'backends' && ctx.backendCount > 0) return { state: { ...state, backendDetail: ctx.backendNames?.[backend] ?? null } };
    return { state };
  }
  if (key.escape) return { state: { ...state, filter: '', filterInput: '' } };
  const everywhere = everywhereKey(state, key.input);
  if (everywhere) return everywhere;
  switch (key.input) {
    case 'o':
      return { state: { ...state, connections: true, connectionIndex: 0, confirmClose: null } };
    case '/':
      return { state: { ...state, pane: 'traffic', editingFilter: true, filterInput: state.filter, historyIndex: -1 } };
    case 'F':
      return { state: state.follow ? select(at) : { ...state, follow: true } };
    case 's':
      return { state: { ...state, sort: { ...state.sort, key: SORT_KEYS[(SORT_KEYS.indexOf(state.sort.key) + 1) % SORT_KEYS.length] } } };
    case 'S':
      return { state: { ...state, sort: { ...state.sort, descending: !state.sort.descending } } };
    case ':':
      return { state: { ...state, commandInput: '' } };
    case 'd':
      return { state, command: { type: 'debug', on: null } };
    case 'C':
      return { state, command: { type: 'clear' } };
    case 'e':
      return { state, command: { type: 'export-har' } };
    case 'b':
      return ctx.trafficIds.length > 0 ? { state: { ...state, commandInput: 'backend ' } } : { state };
    case 'p':
      return { state, command: { type: 'pause' } };
    case 't':
      return state.pane === 'backends' && ctx.backendCount > 0 ? { state, command: { type: 'test-backend', index: backend } } : { state };
    default:
      return { state };
  }
}

/** Keys in a request's detail: tabs, scrolling, the next and previous request, copy as curl, replay. */
function onDetailKey(state: UiState, key: KeyPress, ctx: UiContext): { state: UiState; command?: UiCommand } {
  if (key.input === 'q') return { state, command: { type: 'quit' } };
  if (key.escape || key.backspace) return { state: { ...state, detail: null } };
  const tab = (delta: number): UiState => ({ ...state, detailTab: DETAIL_TABS[(DETAIL_TABS.indexOf(state.detailTab) + delta + DETAIL_TABS.length) % DETAIL_TABS.length], detailScroll: 0 });
  const scroll = (delta: number): UiState => ({ ...state, detailScroll: Math.max(0, state.detailScroll + delta) });
  if (key.tab) return { state: tab(key.shift ? -1 : 1) };
  if (key.rightArrow) return { state: tab(1) };
  if (key.leftArrow) return { state: tab(-1) };
  if (key.upArrow || key.input === 'k') return { state: scroll(-1) };
  if (key.downArrow || key.input === 'j') return { state: scroll(1) };
  if (key.pageUp) return { state: scroll(-10) };
  if (key.pageDown) return { state: scroll(10) };
  if (key.input === 'c') return { state, command: { type: 'copy-curl', id: state.detail! } };
  // R: the command line, ready to replay this request (Enter: the same backend; Tab: another).
  if (key.input === 'R') return { state: { ...state, commandInput: `replay ${state.detail} ` } };
  if (key.input === 'n' || key.input === 'N') {
    // n goes down the list (older, in the default order), N back up; the cursor goes along.
    const index = ctx.trafficIds.indexOf(state.detail!);
    const next = index < 0 ? -1 : index + (key.input === 'n' ? 1 : -1);
    if (next < 0 || next >= ctx.trafficIds.length) return { state };
    const id = ctx.trafficIds[next];
    return { state: { ...state, detail: id, selectedId: id, trafficIndex: next, follow: false, detailScroll: 0 } };
  }
  return { state };
}

function editFilter(state: UiState, key: KeyPress): UiState {
  if (key.return) {
    const filter = state.filterInput.trim();
    const filterHistory = filter === '' ? state.filterHistory : [filter, ...state.filterHistory.filter((f) => f !== filter)].slice(0, FILTER_HISTORY);
    return { ...state, editingFilter: false, filter, filterHistory, historyIndex: -1 };
  }
  if (key.escape) return { ...state, editingFilter: false, filterInput: state.filter };
  if (key.upArrow || key.downArrow) {
    const historyIndex = Math.max(-1, Math.min(state.historyIndex + (key.upArrow ? 1 : -1), state.filterHistory.length - 1));
    return { ...state, historyIndex, filterInput: historyIndex < 0 ? '' : state.filterHistory[historyIndex] };
  }
  if (key.backspace || key.delete) return { ...state, filterInput: state.filterInput.slice(0, -1) };
  if (key.ctrl || key.tab || key.leftArrow || key.rightArrow) return state;
  return { ...state, filterInput: state.filterInput + key.input };
}
