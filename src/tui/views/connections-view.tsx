import type { ReactElement } from 'react';
import type { ConnectionRow } from '../model/connection-rows.js';
import { fit } from '../model/format.js';
import { Line, Pane } from './theme.js';

/** The columns after the target, and how wide the target may be. */
function targetWidth(width: number): number {
  return Math.max(12, width - (7 + 22 + 10 + 9 + 12 + 12 + 7 + 7 + 9));
}

/** The daemon's open connections, oldest first; null until the first answer arrives. */
export function ConnectionsView({ rows, selected, error, height, width }: { rows: ConnectionRow[] | null; selected: number; error: string | null; height: number; width: number }): ReactElement {
  const inner = width - 2;
  const target = targetWidth(inner);
  const room = Math.max(1, height - 4);
  const list = rows ?? [];
  const start = Math.max(0, Math.min(selected - Math.floor(room / 2), list.length - room));
  const header = `${fit('AGE', 7)}${fit('CLIENT', 22)}${fit('USER', 10)}${fit('PROTO', 9)}${fit('TARGET', target)}${fit('RULE', 12)}${fit('BACKEND', 12)}${fit('UP', 7)}${fit('DOWN', 7)}${fit('RATE', 9)}`;
  return (
    <Pane title={`Connections ${list.length} open, oldest first, bytes so far and rate since the last read`} focused width={width} height={height}>
      <Line dim>{fit(header, inner)}</Line>
      {error !== null && <Line colour="red">{fit(error, inner)}</Line>}
      {rows === null && error === null && <Line dim>loading…</Line>}
      {rows !== null && list.length === 0 && <Line dim>no open connections</Line>}
      {list.slice(start, start + room).map((r, i) => (
        <Line key={r.id} inverse={start + i === selected}>
          {fit(`${fit(r.age, 7)}${fit(r.clientText, 22)}${fit(r.user, 10)}${fit(r.protocol, 9)}${fit(r.target, target)}${fit(r.rule, 12)}${fit(r.backend, 12)}${fit(r.up, 7)}${fit(r.down, 7)}${fit(r.rate, 9)}`, inner)}
        </Line>
      ))}
    </Pane>
  );
}
