import type { ReactElement } from 'react';
import type { ConnectionRow } from '../model/connection-rows.js';
import { fit } from '../model/format.js';
import { Line, Pane } from './theme.js';

/** Widths of the columns other than the target, in order: age, client, user, protocol, (target), rule, backend, up, down, rate. */
const W = { age: 7, client: 22, user: 8, proto: 8, rule: 10, backend: 10, up: 6, down: 6, rate: 8 };

/** How wide the target may be: what the other columns leave (a 100-column terminal leaves it 13). */
function targetWidth(width: number): number {
  return Math.max(12, width - Object.values(W).reduce((a, b) => a + b, 0));
}

/** The daemon's open connections, oldest first; null until the first answer arrives. */
export function ConnectionsView({ rows, selected, error, height, width }: { rows: ConnectionRow[] | null; selected: number; error: string | null; height: number; width: number }): ReactElement {
  const inner = width - 2;
  const target = targetWidth(inner);
  const room = Math.max(1, height - 4);
  const list = rows ?? [];
  const start = Math.max(0, Math.min(selected - Math.floor(room / 2), list.length - room));
  const line = (c: { age: string; client: string; user: string; proto: string; target: string; rule: string; backend: string; up: string; down: string; rate: string }): string =>
    `${fit(c.age, W.age)}${fit(c.client, W.client)}${fit(c.user, W.user)}${fit(c.proto, W.proto)}${fit(c.target, target)}${fit(c.rule, W.rule)}${fit(c.backend, W.backend)}${fit(c.up, W.up)}${fit(c.down, W.down)}${fit(c.rate, W.rate)}`;
  const header = line({ age: 'AGE', client: 'CLIENT', user: 'USER', proto: 'PROTO', target: 'TARGET', rule: 'RULE', backend: 'BACKEND', up: 'UP', down: 'DOWN', rate: 'RATE' });
  return (
    <Pane title={`Connections ${list.length} open, oldest first, bytes so far and rate since the last read`} focused width={width} height={height}>
      <Line dim>{fit(header, inner)}</Line>
      {error !== null && <Line colour="red">{fit(error, inner)}</Line>}
      {rows === null && error === null && <Line dim>loading…</Line>}
      {rows !== null && list.length === 0 && <Line dim>no open connections</Line>}
      {list.slice(start, start + room).map((r, i) => (
        <Line key={r.id} inverse={start + i === selected}>
          {fit(line({ ...r, client: r.clientText, proto: r.protocol }), inner)}
        </Line>
      ))}
    </Pane>
  );
}
