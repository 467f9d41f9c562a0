import { useEffect, useRef, useState, type ReactElement, type ReactNode } from 'react';
import { Box, Text, useInput, useStdout } from 'ink';
import type { DashboardModel, BackendRow } from './model/dashboard-model.js';
import { fit, formatBytes, formatClock, formatDuration, sparkline } from './model/format.js';
import { parseFilter, statusClass, type TrafficRow } from './model/traffic-history.js';
import { INITIAL_UI, onKey, splitKeys, type KeyPress, type Pane, type UiState } from './model/ui-state.js';

/** What the dashboard can ask of the daemon; each answer is one line for the footer. */
export interface DashboardActions {
  reload(): Promise<string>;
  testBackend(name: string): Promise<string>;
  /** The recorded detail of a request (headers and bodies when the debugger kept them), if any. */
  detail(id: string): Promise<Record<string, unknown> | null>;
  quit(): void;
}

const CLASS_COLOUR: Record<string, string> = { '2xx': 'green', '3xx': 'cyan', '4xx': 'yellow', '5xx': 'red', err: 'red', open: 'gray' };
const HEALTH_COLOUR: Record<BackendRow['health'], string> = { healthy: 'green', unhealthy: 'red', unavailable: 'red', unknown: 'yellow' };
const HELP: [string, string][] = [
  ['q', 'quit'],
  ['?', 'this help'],
  ['Tab / ← →', 'next / previous pane'],
  ['↑ ↓ (j k)', 'move in the list'],
  ['/', 'filter traffic: text, host:, method:, status:5xx, backend:'],
  ['Enter', 'traffic: open the detail · backends: test the backend'],
  ['t', 'test the selected backend'],
  ['Esc', 'close the detail, clear the filter'],
  ['p', 'pause / resume the traffic list'],
  ['r', 'reload the config file'],
];

/** The full-screen dashboard: status line, traffic, throughput, backends, limits, footer. */
export function DashboardApp({ model, actions, frameMs = 100 }: { model: DashboardModel; actions: DashboardActions; frameMs?: number }): ReactElement {
  const { stdout } = useStdout();
  const [size, setSize] = useState({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [ui, setUi] = useState<UiState>(INITIAL_UI);
  // Keys can arrive faster than frames: each one must see the state the previous one left.
  const current = useRef<UiState>(INITIAL_UI);
  const [, setFrame] = useState(0);
  const [detail, setDetail] = useState<Record<string, unknown> | null>(null);
  const [now, setNow] = useState(Date.now());

  // Rendering follows a clock, not the events: a burst of 1,000 events a second costs ten frames.
  useEffect(() => {
    let seen = -1;
    const timer = setInterval(() => {
      const time = Date.now();
      if (model.revision !== seen || Math.floor(time / 1000) !== Math.floor(now / 1000)) {
        seen = model.revision;
        setFrame((f) => f + 1);
        setNow(time);
      }
    }, frameMs);
    return () => clearInterval(timer);
  }, [model, frameMs, now]);

  useEffect(() => {
    const onResize = (): void => setSize({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout]);

  useEffect(() => {
    if (ui.detail === null) return setDetail(null);
    let live = true;
    actions.detail(ui.detail).then((d) => live && setDetail(d), () => undefined);
    return () => {
      live = false;
    };
  }, [ui.detail, actions]);

  const filter = parseFilter(ui.filter);
  const rows = model.traffic.visible(filter);
  const tell = (promise: Promise<string>): void => {
    promise.then(
      (text) => (model.message = { text, error: false, at: Date.now() }),
      (error: Error) => (model.message = { text: error.message, error: true, at: Date.now() }),
    );
  };

  const apply = (press: KeyPress): void => {
    const visibleIds = model.traffic.visible(parseFilter(current.current.filter)).map((r) => r.id);
    const { state, command } = onKey(current.current, press, { trafficIds: visibleIds, backendCount: model.backends.length });
    current.current = state;
    setUi(state);
    if (!command) return;
    if (command.type === 'quit') actions.quit();
    else if (command.type === 'pause') {
      if (model.traffic.paused) model.traffic.resume();
      else model.traffic.pause();
      model.revision++;
    } else if (command.type === 'reload') {
      model.message = { text: 'reloading…', error: false, at: Date.now() };
      tell(actions.reload());
    } else if (command.type === 'test-backend') {
      const backend = model.backends[command.index];
      model.message = { text: `testing ${backend.name}…`, error: false, at: Date.now() };
      tell(actions.testBackend(backend.name));
    }
  };
  useInput((input, key) => splitKeys({ ...key, input }).forEach(apply));

  const { columns, rows: height } = size;
  const bottomHeight = height >= 30 ? 10 : 8;
  const mainHeight = Math.max(5, height - 2 - bottomHeight);
  const third = Math.floor(columns / 3);
  let main: ReactElement;
  if (ui.help) main = <HelpView height={mainHeight + bottomHeight} />;
  else if (ui.detail !== null) main = <DetailView row={model.traffic.get(ui.detail)} detail={detail} height={mainHeight + bottomHeight} width={columns} />;
  else {
    main = (
      <Box flexDirection="column">
        <TrafficPane rows={rows} ui={ui} height={mainHeight} width={columns} focused={ui.pane === 'traffic'} paused={model.traffic.paused} total={model.traffic.size} />
        <Box height={bottomHeight}>
          <ThroughputPane model={model} now={now} width={third} height={bottomHeight} focused={ui.pane === 'throughput'} />
          <BackendsPane backends={model.backends} selected={ui.backendIndex} width={third} height={bottomHeight} focused={ui.pane === 'backends'} />
          <LimitsPane model={model} width={columns - 2 * third} height={bottomHeight} focused={ui.pane === 'limits'} />
        </Box>
      </Box>
    );
  }
  return (
    <Box flexDirection="column" width={columns} height={height}>
      <StatusLine model={model} width={columns} now={now} />
      {main}
      <Footer model={model} ui={ui} width={columns} now={now} />
    </Box>
  );
}

function StatusLine({ model, width, now }: { model: DashboardModel; width: number; now: number }): ReactElement {
  const s = model.summary;
  const link = model.link;
  const linkText = link.state === 'connected' ? '● connected' : link.state === 'connecting' ? '○ connecting' : `✕ daemon unreachable since ${formatClock(link.since)}, retrying: ${link.error}`;
  // The listener list is the longest part: it goes last, so a narrow terminal cuts it first.
  const parts = s ? [`simple-proxy-${s.role}`, `up ${formatDuration(s.uptimeSeconds * 1000)}`, `config ${s.configVersion}`, `${s.connectionsActive} open`, s.debug ? 'debug on' : null, s.listeners] : ['simple-proxy'];
  const left = parts.filter((p) => p !== null).join(' │ ');
  const right = ` ${linkText} ${formatClock(now)}`;
  return (
    <Box width={width}>
      <Text inverse>{fit(left, Math.max(0, width - Math.min(right.length, width)))}</Text>
      <Text inverse color={link.state === 'lost' ? 'red' : link.state === 'connected' ? 'green' : 'yellow'}>
        {fit(right, Math.min(right.length, width), 'right')}
      </Text>
    </Box>
  );
}

function Pane({ title, focused, width, height, children }: { title: string; focused: boolean; width?: number; height: number; children: ReactNode }): ReactElement {
  return (
    <Box flexDirection="column" borderStyle="single" borderColor={focused ? 'cyan' : 'gray'} width={width} height={height} overflow="hidden">
      <Text bold color={focused ? 'cyan' : undefined}>
        {title}
      </Text>
      {children}
    </Box>
  );
}

/** Which traffic columns fit in a width, and how wide the host column may be. */
function trafficColumns(width: number): { client: boolean; user: boolean; host: number } {
  const client = width >= 96;
  const user = width >= 110;
  const fixed = 9 + 8 + 11 + 5 + 7 + 7 + (client ? 22 : 0) + (user ? 11 : 0);
  return { client, user, host: Math.max(10, width - fixed) };
}

function TrafficPane({ rows, ui, height, width, focused, paused, total }: { rows: TrafficRow[]; ui: UiState; height: number; width: number; focused: boolean; paused: boolean; total: number }): ReactElement {
  const inner = width - 2;
  const cols = trafficColumns(inner);
  const visibleCount = Math.max(0, height - 4);
  const selected = Math.min(ui.trafficIndex, Math.max(0, rows.length - 1));
  const start = Math.max(0, Math.min(selected - Math.floor(visibleCount / 2), rows.length - visibleCount));
  const shown = rows.slice(start, start + visibleCount);
  const header = `${fit('TIME', 9)}${cols.client ? fit('CLIENT', 22) : ''}${cols.user ? fit('USER', 11) : ''}${fit('METHOD', 8)}${fit('HOST', cols.host)}${fit('BACKEND', 11)}${fit('STAT', 5)}${fit('BYTES', 7)}${fit('DUR', 7)}`;
  const title = `Traffic ${rows.length}/${total}${ui.filter ? ` filter: ${ui.filter}` : ''}${paused ? ' [PAUSED]' : ''}`;
  return (
    <Pane title={title} focused={focused} width={width} height={height}>
      <Text dimColor>{fit(header, inner)}</Text>
      {shown.length === 0 ? (
        <Text dimColor>{ui.filter ? 'no traffic matches the filter' : 'waiting for traffic…'}</Text>
      ) : (
        shown.map((row, i) => {
          const cls = statusClass(row);
          const status = row.status === undefined ? (row.open ? '…' : '-') : String(row.status);
          const defaultPort = row.protocol === 'http' && (row.port === 80 || row.port === 443);
          const host = `${row.host}${defaultPort ? '' : `:${row.port}`}${row.protocol === 'http' ? (row.path ?? '') : ''}`;
          // Without room for a user column, the user goes with the client address.
          const client = !cols.user && row.user !== undefined ? `${row.user}@${row.client}` : row.client;
          const line = `${fit(formatClock(row.startedAt), 9)}${cols.client ? fit(client, 22) : ''}${cols.user ? fit(row.user ?? '-', 11) : ''}${fit(row.method, 8)}${fit(host, cols.host)}${fit(row.backend ?? '-', 11)}${fit(status, 5)}${fit(formatBytes(row.bytesIn + row.bytesOut), 7)}${fit(row.durationMs === undefined ? '…' : formatDuration(row.durationMs), 7)}`;
          return (
            <Text key={row.id} color={CLASS_COLOUR[cls]} inverse={focused && start + i === selected}>
              {fit(line, inner)}
            </Text>
          );
        })
      )}
    </Pane>
  );
}

function ThroughputPane({ model, now, width, height, focused }: { model: DashboardModel; now: number; width: number; height: number; focused: boolean }): ReactElement {
  const inner = Math.max(4, width - 2);
  const { requests, bytes, step } = model.series.columns(now, inner);
  const rate = (value: number): string => (value >= 10 || Number.isInteger(value) ? String(Math.round(value)) : value.toFixed(1));
  const lastReq = requests.at(-1) ?? 0;
  const lastBytes = bytes.at(-1) ?? 0;
  return (
    <Pane title="Throughput" focused={focused} width={width} height={height}>
      <Text>{fit(`req/s ${rate(lastReq)}  max ${rate(Math.max(0, ...requests))}`, inner)}</Text>
      <Text color="green">{sparkline(requests, inner)}</Text>
      <Text>{fit(`bytes/s ${formatBytes(lastBytes)}  max ${formatBytes(Math.max(0, ...bytes))}`, inner)}</Text>
      <Text color="cyan">{sparkline(bytes, inner)}</Text>
      <Text dimColor>{fit(`last ${formatDuration(inner * step * 1000)}, ${step}s a column`, inner)}</Text>
    </Pane>
  );
}

function BackendsPane({ backends, selected, width, height, focused }: { backends: BackendRow[]; selected: number; width: number; height: number; focused: boolean }): ReactElement {
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
  const visible = Math.max(1, Math.floor((height - 3) / perBackend));
  const start = Math.max(0, Math.min(selected - visible + 1, backends.length - visible));
  return (
    <Pane title={`Backends ${backends.length}`} focused={focused} width={width} height={height}>
      {backends.slice(start, start + visible).map((b, i) => {
        const line = lines[start + i];
        const colour = HEALTH_COLOUR[b.health];
        const inverse = focused && start + i === selected;
        return twoLines ? (
          <Box key={b.name} flexDirection="column">
            <Text color={colour} inverse={inverse}>
              {fit(`● ${line.name} ${line.health}`, inner)}
            </Text>
            <Text color={colour}>{fit(`  ${line.type} ${line.figures}`, inner)}</Text>
          </Box>
        ) : (
          <Text key={b.name} color={colour} inverse={inverse}>
            {fit(oneLine(line), inner)}
          </Text>
        );
      })}
      {backends.length > 0 && backends.length * perBackend < height - 3 && <Text dimColor>{fit(inner >= 36 ? 'f: failures in a row  a: open/limit' : 'f: fails  a: open', inner)}</Text>}
    </Pane>
  );
}

function LimitsPane({ model, width, height, focused }: { model: DashboardModel; width: number; height: number; focused: boolean }): ReactElement {
  const inner = Math.max(4, width - 2);
  const scopes = model.limits.byScope();
  const load = model.load;
  const rows = Math.max(0, height - 5);
  const top = model.limits.topClients(load && load.busiest.length > 0 ? Math.ceil(rows / 2) : rows);
  const busiest = load ? load.busiest.slice(0, rows - top.length) : [];
  const of = (max: number): string => (max > 0 ? `/${max}` : '');
  return (
    <Pane title={`Limits ${model.limits.count} hits`} focused={focused} width={width} height={height}>
      <Text>{fit(scopes.length === 0 ? 'no limit hits' : scopes.map((s) => `${s.scope} ${s.count}`).join('  '), inner)}</Text>
      {top.map((c) => (
        <Text key={c.client} color="yellow">
          {fit(`${c.client} ${c.count} ${c.scope}`, inner)}
        </Text>
      ))}
      {load && <Text dimColor>{fit(`open ${load.active}${of(load.maxConnections)}${load.maxConnectionsPerIp > 0 ? `, ${load.maxConnectionsPerIp} per IP` : ''}`, inner)}</Text>}
      {busiest.map((c) => (
        <Text key={c.client} color={load && load.maxConnectionsPerIp > 0 && c.active >= load.maxConnectionsPerIp ? 'red' : undefined}>
          {fit(`${c.client} ${c.active}${of(load?.maxConnectionsPerIp ?? 0)} open`, inner)}
        </Text>
      ))}
    </Pane>
  );
}

function DetailView({ row, detail, height, width }: { row: TrafficRow | undefined; detail: Record<string, unknown> | null; height: number; width: number }): ReactElement {
  if (!row) {
    return (
      <Pane title="Detail" focused width={width} height={height}>
        <Text dimColor>this record is no longer kept (Esc to go back)</Text>
      </Pane>
    );
  }
  const headerLines = (label: string, list: unknown): string[] => {
    if (!Array.isArray(list)) return [];
    const out = [`${label}:`];
    for (let i = 0; i + 1 < list.length; i += 2) out.push(`  ${String(list[i])}: ${String(list[i + 1])}`);
    return out;
  };
  const body = (label: string, value: unknown): string[] => {
    const b = value as { text?: string; size?: number; truncated?: boolean; encoding?: string } | undefined;
    return b?.text !== undefined ? [`${label} (${b.size} bytes${b.truncated ? ', cut' : ''}${b.encoding === 'base64' ? ', base64' : ''}): ${b.text.replace(/\s+/g, ' ')}`] : [];
  };
  const lines = [
    `id ${row.id}   ${new Date(row.startedAt).toISOString()}`,
    `client ${row.client}${row.user ? `   user ${row.user}` : ''}`,
    `${row.method} ${row.host}:${row.port}${row.path ?? ''}   (${row.protocol})`,
    `rule ${row.rule ?? '-'}   backend ${row.backend ?? '-'}`,
    `status ${row.status ?? '-'}${row.error ? `   error ${row.error}` : ''}   ${row.open ? 'still open' : `duration ${formatDuration(row.durationMs ?? 0)}`}`,
    `bytes from client ${row.bytesIn}   to client ${row.bytesOut}`,
    ...headerLines('request headers', detail?.requestHeaders),
    ...body('request body', detail?.requestBody),
    ...headerLines('response headers', detail?.responseHeaders),
    ...body('response body', detail?.responseBody),
    ...(detail === null ? ['(headers and bodies are kept only while the debugger records them: "debug on" with log_headers / log_body)'] : []),
  ];
  return (
    <Pane title={`Detail ${row.id} (Esc to go back)`} focused width={width} height={height}>
      {lines.slice(0, Math.max(0, height - 3)).map((line, i) => (
        <Text key={i}>{fit(line, width - 2)}</Text>
      ))}
    </Pane>
  );
}

function HelpView({ height }: { height: number }): ReactElement {
  return (
    <Pane title="Keys (any key closes)" focused height={height}>
      {HELP.map(([keys, what]) => (
        <Text key={keys}>
          <Text bold>{fit(keys, 14)}</Text>
          {what}
        </Text>
      ))}
    </Pane>
  );
}

function Footer({ model, ui, width, now }: { model: DashboardModel; ui: UiState; width: number; now: number }): ReactElement {
  if (ui.editingFilter) return <Text>{fit(`filter: ${ui.filterInput}█  (Enter apply, Esc cancel)`, width)}</Text>;
  const message = model.message && now - model.message.at < 15_000 ? model.message : null;
  if (message) return <Text color={message.error ? 'red' : 'green'}>{fit(message.text, width)}</Text>;
  const hints: Record<Pane, string> = {
    traffic: 'Enter detail  / filter  p pause',
    throughput: 'requests and bytes per second',
    backends: 'Enter or t: test backend  f: failures in a row  up: uptime  a: open/limit',
    limits: 'refusals by scope, top clients',
  };
  return <Text dimColor>{fit(`q quit  ? help  Tab pane  r reload  │ ${hints[ui.pane]}`, width)}</Text>;
}
