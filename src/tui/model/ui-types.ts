import type { SortOrder } from './traffic-history.js';

/** What `x` / `X` close: one connection by id, or every one of a client address. */
export type CloseTarget = { id: string } | { client: string };

/** What the Connections view needs to know about the rows it shows, in order. */
export type ConnectionRef = { id: string; client: string };

/** The panes, in Tab order. */
export const PANES = ['traffic', 'throughput', 'backends', 'limits'] as const;

/** One pane of the dashboard. */
export type Pane = (typeof PANES)[number];

/** The tabs of a request's detail view. */
export const DETAIL_TABS = ['request', 'response', 'timing', 'route'] as const;

/** One tab of the detail view. */
export type DetailTab = (typeof DETAIL_TABS)[number];

/** Where the person is in the dashboard. */
export interface UiState {
  pane: Pane;
  /** The request under the cursor (by id, so new traffic does not move it), and where it last was. */
  selectedId: string | null;
  trafficIndex: number;
  /** Follow mode: the cursor stays on the newest request. */
  follow: boolean;
  backendIndex: number;
  /** The filter in force, and the text being typed while the filter box is open (applied as typed). */
  filter: string;
  filterInput: string;
  editingFilter: boolean;
  /** Filters applied before, newest first, and which one ↑/↓ shows (-1: what is typed). */
  filterHistory: string[];
  historyIndex: number;
  sort: SortOrder;
  /** Id of the traffic record whose detail is open, its tab and how far it is scrolled. */
  detail: string | null;
  detailTab: DetailTab;
  detailScroll: number;
  /** Name of the backend whose detail is open. */
  backendDetail: string | null;
  /** The `:` command line, while it is open. */
  commandInput: string | null;
  /** The message log (`m`) and help (`?`) overlays. */
  messages: boolean;
  help: boolean;
  /** The Connections view (`o`): whether it is open, its cursor, and the close it asks to confirm. */
  connections: boolean;
  connectionIndex: number;
  confirmClose: CloseTarget | null;
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
export type UiCommand =
  | { type: 'quit' }
  | { type: 'reload' }
  | { type: 'pause' }
  | { type: 'test-backend'; index: number }
  | { type: 'copy-curl'; id: string }
  /** The debugger on (true), off (false) or the other way round (null). */
  | { type: 'debug'; on: boolean | null }
  | { type: 'clear' }
  /** The requests the list shows (the filter in force) as a HAR file; `file` when named. */
  | { type: 'export-har'; file?: string }
  /** The rule of the request under the cursor goes to this backend from now on. */
  | { type: 'switch-backend'; backend: string }
  | { type: 'unknown-command'; text: string }
  /** Sends a recorded request again (`debug replay`), through `backend` when named; `force` for a method that is not idempotent. */
  | { type: 'replay'; id: string; backend?: string; force: boolean }
  /** Closes open connections through the daemon (confirmed with `y`). */
  | { type: 'close-connections'; target: CloseTarget };

/** What the reducer needs to know about the current lists. */
export interface UiContext {
  /** Ids of the traffic rows shown, in order. */
  trafficIds: readonly string[];
  backendCount: number;
  /** Backend names in the order shown (for the backend detail). */
  backendNames?: readonly string[];
  /** The open connections the Connections view shows, in order. */
  connections?: readonly ConnectionRef[];
}

/** The keys that do the same in every view: q quits, ? help, m messages, r reload; null for any other key. */
export function everywhereKey(state: UiState, input: string): { state: UiState; command?: UiCommand } | null {
  switch (input) {
    case 'q':
      return { state, command: { type: 'quit' } };
    case '?':
      return { state: { ...state, help: true } };
    case 'm':
      return { state: { ...state, messages: true } };
    case 'r':
      return { state, command: { type: 'reload' } };
    default:
      return null;
  }
}
