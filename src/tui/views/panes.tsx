import { memo, type ReactElement } from 'react';
import { Box } from 'ink';
import type { BackendRow, DashboardModel } from '../model/dashboard-model.js';
import { fit, formatBytes, formatClock, formatDuration, sparkline } from '../model/format.js';
import { statusClass } from '../model/traffic-filter.js';
import type { SortOrder } from '../model/traffic-history.js';
import type { TrafficRow } from '../model/traffic-row.js';
import { Line, Pane } from './theme.js';

/** The colour of a row by its status class. */
export const CLASS_COLOUR: Record<string, string> = { '2xx': 'green', '3xx': 'cyan', '4xx': 'yellow', '5xx': 'red', err: 'red', open: 'gray' };
/** The colour of a backend by its health. */
export const HEALTH_COLOUR: Record<BackendRow['health'], string> = { healthy: 'green', unhealthy: 'red', unavailable: 'red', unknown: 'yellow' };

/** Which traffic columns fit in a width, and how wide the host column may be. */
function trafficColumns(width: number): { client: boolean; user: boolean; host: number } {
  const client = width >= 96;
  const user = width >= 110;
  const fixed = 9 + 8 + 11 + 5 + 7 + 7 + (client ? 22 : 0) + (user ? 11 : 0);
  return { client, user, host: Math.max(10, width - fixed) };
}

/** The traffic list: the selected request stays under the cursor whatever arrives; follow mode keeps the newest there (drawn again only when its rows or the cursor change). */
export const TrafficPane = memo(function TrafficPane(props: { rows: TrafficRow[]; selected: number; follow: boolean; sort: SortOrder; filter: string; height: number; width: number; focused: boolean; paused: boolean; total: number }): ReactElement {
  const { rows, selected, height, width, focused } = props;
  const inner = width - 2;
  const cols = trafficColumns(inner);
  const visibleCount = Math.max(0, height - 4);
  const start = Math.max(0, Math.min(selected - Math.floor(visibleCount / 2), rows.length - visibleCount));
  const shown = rows.slice(start, start + visibleCount);
  const header = `${fit('TIME', 9)}${cols.client ? fit('CLIENT', 22) : ''}${cols.user ? fit('USER', 11) : ''}${fit('METHOD', 8)}${fit('HOST', cols.host)}${fit('BACKEND', 11)}${fit('STAT', 5)}${fit('BYTES', 7)}${fit('DUR', 7)}`;
  const sort = props.sort.key === 'time' && props.sort.descending ? '' : ` sort: ${props.sort.key} ${props.sort.descending ? '↓' : '↑'}`;
  const title = `Traffic ${rows.length}/${props.total}${props.follow ? ' [follow]' : ''}${sort}${props.filter ? ` filter: ${props.filter}` : ''}${props.paused ? ' [PAUSED]' : ''}`;
  return (
    <Pane title={title} focused={focused} width={width} height={height}>
      <Line dim>{fit(header, inner)}</Line>
      {shown.length === 0 ? (
        <Line dim>{props.filter ? 'no traffic matches the filter' : 'waiting for traffic…'}</Line>
      ) : (
        shown.map((row, i) => {
          const inverse = focused && start + i === selected;
          if (row.marker !== undefined) {
            return (
              <Line key={row.id} colour="magenta" inverse={inverse}>
                {fit(`${formatClock(row.startedAt)} ${row.marker}`, inner)}
              </Line>
            );
          }
          const status = row.status === undefined ? (row.open ? '…' : '-') : String(row.status);
          const defaultPort = row.protocol === 'http' && (row.port === 80 || row.port === 443);
          const host = `${row.host}${defaultPort ? '' : `:${row.port}`}${row.protocol === 'http' ? (row.path ?? '') : ''}`;
          // Without room for a user column, the user goes with the client address.
          const client = !cols.user && row.user !== undefined ? `${row.user}@${row.client}` : row.client;
          const line = `${fit(formatClock(row.startedAt), 9)}${cols.client ? fit(client, 22) : ''}${cols.user ? fit(row.user ?? '-', 11) : ''}${fit(row.method, 8)}${fit(host, cols.host)}${fit(row.backend ?? '-', 11)}${fit(status, 5)}${fit(formatBytes(row.bytesIn + row.bytesOut), 7)}${fit(row.durationMs === undefined ? '…' : formatDuration(row.durationMs), 7)}`;
          return (
            <Line key={row.id} colour={CLASS_COLOUR[statusClass(row)]} inverse={inverse}>
              {fit(line, inner)}
            </Line>
          );
        })
      )}
    </Pane>
  );
});

/** Requests and bytes per second over the last minutes. */
export function ThroughputPane({ model, now, width, height, focused }: { model: DashboardModel; now: number; width: number; height: number; focused: boolean }): ReactElement {
  const inner = Math.max(4, width - 2);
  const { requests, bytes, step } = model.series.columns(now, inner);
  const rate = (value: number): string => (value >= 10 || Number.isInteger(value) ? String(Math.round(value)) : value.toFixed(1));
  const lastReq = requests.at(-1) ?? 0;
  const lastBytes = bytes.at(-1) ?? 0;
  return (
    <Pane title="Throughput" focused={focused} width={width} height={height}>
      <Line>{fit(`req/s ${rate(lastReq)}  max ${rate(Math.max(0, ...requests))}`, inner)}</Line>
      <Line colour="green">{sparkline(requests, inner)}</Line>
      <Line>{fit(`bytes/s ${formatBytes(lastBytes)}  max ${formatBytes(Math.max(0, ...bytes))}`, inner)}</Line>
      <Line colour="cyan">{sparkline(bytes, inner)}</Line>
      <Line dim>{fit(`last ${formatDuration(inner * step * 1000)}, ${step}s a column`, inner)}</Line>
    </Pane>
  );
}

/**
 * Backends, unhealthy first (the model orders them) so a small terminal never hides one that
 * needs a look; what does not fit is counted (`+N more`).
 */
export function BackendsPane({ backends, selected, width, height, focused }: { backends: BackendRow[]; selected: number; width: number; height: number; focused: boolean }): ReactElement {
  const inner = Math.max(4, width - 2);
  const lines = backends.map((b) => {
    const latency = b.latencyMs === null ? '-' : `${b.latencyMs}ms`;
    const uptime = b.uptimePercent === null ? '' : ` up ${Math.round(b.uptimePercent)}%`;
    const active = `a${b.active}${b.limit > 0 ? `/${b.limit}` : ''}`;
    return { name: b.name, health: b.health, type: b.type, figures: `${latency} f${b.failures}${uptime} ${active}` };
  });
  // Too narrow for one line a backend (80 columns): type and figures go on a second line.
  const oneLine = (l: (typeof lines)[number]): string => `● ${l.name} ${l.type} ${l.health} ${l.figures}`;
  const twoLines = lines.some((l) => oneLine(l).length > inner);
  const perBackend = twoLines ? 2 : 1;
  const room = Math.max(1, height - 3);
  const fits = backends.length * perBackend <= room;
  // Without room for all, one line is kept for "+N more".
  const visible = fits ? backends.length : Math.max(1, Math.floor((room - 1) / perBackend));
  const start = Math.max(0, Math.min(selected - visible + 1, backends.length - visible));
  const more = backends.length - visible;
  return (
    <Pane title={`Backends ${backends.length}`} focused={focused} width={width} height={height}>
      {backends.slice(start, start + visible).map((b, i) => {
        const line = lines[start + i];
        const colour = HEALTH_COLOUR[b.health];
        const inverse = focused && start + i === selected;
        return twoLines ? (
          <Box key={b.name} flexDirection="column">
            <Line colour={colour} inverse={inverse}>
              {fit(`● ${line.name} ${line.health}`, inner)}
            </Line>
            <Line colour={colour}>{fit(`  ${line.type} ${line.figures}`, inner)}</Line>
          </Box>
        ) : (
          <Line key={b.name} colour={colour} inverse={inverse}>
            {fit(oneLine(line), inner)}
          </Line>
        );
      })}
      {more > 0 && <Line dim>{fit(`+${more} more (↑↓ to scroll)`, inner)}</Line>}
      {fits && backends.length > 0 && backends.length * perBackend < room && <Line dim>{fit(inner >= 36 ? 'f: failures in a row  a: open/limit' : 'f: fails  a: open', inner)}</Line>}
    </Pane>
  );
}

/** Refusals by scope and client, and open connections against network.limits (server role). */
export function LimitsPane({ model, width, height, focused }: { model: DashboardModel; width: number; height: number; focused: boolean }): ReactElement {
  const inner = Math.max(4, width - 2);
  const scopes = model.limits.byScope();
  const load = model.load;
  const files = load?.files;
  // Shown once descriptors run short (80 % of the limit) or have refused a connection.
  const filesShort = files !== undefined && (files.refused > 0 || (files.limit > 0 && files.open >= files.limit * 0.8));
  const rows = Math.max(0, height - 5 - (filesShort ? 1 : 0));
  const top = model.limits.topClients(load && load.busiest.length > 0 ? Math.ceil(rows / 2) : rows);
  const busiest = load ? load.busiest.slice(0, rows - top.length) : [];
  const of = (max: number): string => (max > 0 ? `/${max}` : '');
  return (
    <Pane title={`Limits ${model.limits.count} hits`} focused={focused} width={width} height={height}>
      <Line>{fit(scopes.length === 0 ? 'no limit hits' : scopes.map((s) => `${s.scope} ${s.count}`).join('  '), inner)}</Line>
      {top.map((c) => (
        <Line key={c.client} colour="yellow">
          {fit(`${c.client} ${c.count} ${c.scope}`, inner)}
        </Line>
      ))}
      {load && <Line dim>{fit(`open ${load.active}${of(load.maxConnections)}${load.maxConnectionsPerIp > 0 ? `, ${load.maxConnectionsPerIp} per IP` : ''}`, inner)}</Line>}
      {filesShort && <Line colour="red">{fit(`files ${files.open}/${files.limit}${files.refused > 0 ? `, ${files.refused} refused (EMFILE)` : ''}`, inner)}</Line>}
      {busiest.map((c) => (
        <Line key={c.client} colour={load && load.maxConnectionsPerIp > 0 && c.active >= load.maxConnectionsPerIp ? 'red' : undefined}>
          {fit(`${c.client} ${c.active}${of(load?.maxConnectionsPerIp ?? 0)} open`, inner)}
        </Line>
      ))}
    </Pane>
  );
}

/** The client role's hop: the server it forwards to, and whether it is reachable (in place of server-side limits). */
export function ServerPane({ model, width, height, focused }: { model: DashboardModel; width: number; height: number; focused: boolean }): ReactElement {
  const inner = Math.max(4, width - 2);
  const hops = model.backends.filter((b) => b.address !== null);
  return (
    <Pane title="Server" focused={focused} width={width} height={height}>
      {hops.length === 0 ? (
        <Line dim>{fit('no server configured: every rule goes direct', inner)}</Line>
      ) : (
        hops.slice(0, Math.max(1, Math.floor((height - 3) / 2))).map((b) => (
          <Box key={b.name} flexDirection="column">
            <Line colour={HEALTH_COLOUR[b.health]}>{fit(`● ${b.address} ${b.health === 'healthy' ? 'reachable' : b.health === 'unknown' ? 'not checked' : 'unreachable'}`, inner)}</Line>
            <Line dim={b.health === 'healthy'} colour={b.health === 'healthy' ? undefined : 'red'}>
              {fit(b.health === 'healthy' ? `  ${b.type} ${b.latencyMs ?? '-'}ms, ${b.active} open` : `  ${b.reason ?? `${b.failures} failed checks`}`, inner)}
            </Line>
          </Box>
        ))
      )}
    </Pane>
  );
}
