import { everywhereKey, type ConnectionRef, type KeyPress, type UiCommand, type UiState } from './ui-types.js';

export type { CloseTarget, ConnectionRef } from './ui-types.js';

/**
 * Keys in the Connections view: ↑↓ move, `x` asks to close the selected connection, `X` all of
 * its client's; while asking, `y` confirms and any other key cancels. Esc or `o` go back.
 */
export function onConnectionsKey(state: UiState, key: KeyPress, rows: readonly ConnectionRef[]): { state: UiState; command?: UiCommand } {
  if (state.confirmClose !== null) {
    const target = state.confirmClose;
    return key.input === 'y' || key.input === 'Y' ? { state: { ...state, confirmClose: null }, command: { type: 'close-connections', target } } : { state: { ...state, confirmClose: null } };
  }
  const at = Math.max(0, Math.min(state.connectionIndex, rows.length - 1));
  const move = (delta: number): UiState => ({ ...state, connectionIndex: Math.max(0, Math.min(at + delta, rows.length - 1)) });
  if (key.escape || key.input === 'o') return { state: { ...state, connections: false } };
  if (key.upArrow || key.input === 'k') return { state: move(-1) };
  if (key.downArrow || key.input === 'j') return { state: move(1) };
  if (key.pageUp) return { state: move(-10) };
  if (key.pageDown) return { state: move(10) };
  const row = rows[at];
  const everywhere = everywhereKey(state, key.input);
  if (everywhere) return everywhere;
  switch (key.input) {
    case 'x':
      return row ? { state: { ...state, connectionIndex: at, confirmClose: { id: row.id } } } : { state };
    case 'X':
      return row ? { state: { ...state, connectionIndex: at, confirmClose: { client: row.client } } } : { state };
    default:
      return { state };
  }
}
