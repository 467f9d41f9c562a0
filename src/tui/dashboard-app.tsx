import { useEffect, useMemo, useRef, useState, type ReactElement } from 'react';
import { Box, Text, useInput, useStdout } from 'ink';
import type { RecordAnswer } from '../control/answers/records.js';
import type { CloseTarget } from './model/connection-keys.js';
import { connectionRows, type ConnectionsRead } from './model/connection-rows.js';
import type { DashboardModel } from './model/dashboard-model.js';
import { curlCommand, type RecordedDetail, type RouteAnswer } from './model/detail-lines.js';
import { fit, formatClock, formatDuration, formatMinute } from './model/format.js';
import { parseFilter } from './model/traffic-filter.js';
import { activeFilter, INITIAL_UI, onKey, selectedIndex, splitKeys, type KeyPress, type Pane, type UiState } from './model/ui-state.js';
import { ConnectionsView } from './views/connections-view.js';
import { BackendDetailView, DetailView, HelpView, MessageLog } from './views/overlays.js';
import { BackendsPane, LimitsPane, ServerPane, ThroughputPane, TrafficPane } from './views/panes.js';
import { ThemeProvider, useTheme, useTint } from './views/theme.js';

/** What the dashboard can ask of the daemon (and of the terminal). */
export interface DashboardActions {
  /** One line saying what the reload did. */
  reload(): Promise<string>;
  /** Tests a backend against its own check target: whether it passed, and one line. */
  testBackend(name: string): Promise<{ ok: boolean; text: string }>;
  /** The recorded detail of a request (headers and bodies when the debugger kept them), if any. */
  detail(id: string): Promise<RecordedDetail>;
  /** How the daemon routes a host now, for a client address (the CLI's `rule test`). */
  route(host: string, client: string): Promise<RouteAnswer>;
  /** A backend's health check settings in one line, or null without one. */
  backendCheck(name: string): Promise<string | null>;
  /** Turns the daemon's debugger on or off; one line saying so. */
  setDebug(on: boolean): Promise<string>;
  /** Forgets the daemon's kept records; one line saying so. */
  clear(): Promise<string>;
  /** Writes the kept records of these requests as a HAR file (named, or one made up); one line saying where. */
  exportHar(ids: readonly string[], file?: string): Promise<string>;
  /** Sends a recorded request again (through `backend` when named); whether the replay got an answer, and one line comparing it with the original. */
  replay(id: string, backend: string | undefined, force: boolean): Promise<{ ok: boolean; text: string }>;
  /** Sends a rule's traffic to another backend (the config file is edited and reloaded); one line saying so. */
  switchBackend(rule: string, backend: string): Promise<string>;
  /** The daemon's open connections. */
  connections(): Promise<RecordAnswer[]>;
  /** Closes one connection or all of a client's; one line saying how many. */
  closeConnections(target: CloseTarget): Promise<string>;
  /** Puts text on the terminal's clipboard. */
  copy(text: string): void;
  quit(): void;
}

/** Fetches what a view needs when its key changes; null until it arrives (or when there is nothing to fetch). */
function useFetched<T>(key: string | null, fetch: (key: string) => Promise<T>): T | null | undefined {
  // undefined while the answer for this key is on its way; null when there is none.
  const [value, setValue] = useState<T | null | undefined>(undefined);
  useEffect(() => {
    setValue(undefined);
    if (key === null) return;
    let live = true;
    fetch(key).then((v) => live && setValue(() => v), () => live && setValue(null));
    return () => {
      live = false;
    };
    // The fetch function is the same for a given key: only the key decides.
  }, [key]);
  return value;
}

/** The Connections view's last answer from the daemon, and the one before it (rates are the growth between the two). */
interface OpenConnections {
  records: RecordAnswer[] | null;
  error: string | null;
  at: number;
  previous: ConnectionsRead | null;
}

/** How often the Connections view asks the daemon, while it is shown (and only then). */
const CONNECTIONS_POLL_MS = 2000;

/** The open connections while `shown`, asked for every `CONNECTIONS_POLL_MS` and at once after each `refresh` bump; nothing is asked while hidden. */
function useOpenConnections(shown: boolean, refresh: number, fetch: () => Promise<RecordAnswer[]>): OpenConnections {
  const [answer, setAnswer] = useState<OpenConnections>({ records: null, error: null, at: 0, previous: null });
  useEffect(() => {
    if (!shown) {
      setAnswer({ records: null, error: null, at: 0, previous: null });
      return;
    }
    let live = true;
    const poll = (): void =>
      void fetch().then(
        // The answer before is kept: rates are the growth between the two.
        (records) => live && setAnswer((a) => ({ records, error: null, at: Date.now(), previous: a.records === null ? null : { records: a.records, at: a.at } })),
        (error: Error) => live && setAnswer((a) => ({ ...a, error: `cannot list connections: ${error.message}` })),
      );
    poll();
    const timer = setInterval(poll, CONNECTIONS_POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
    // The fetch function does not change while the view is open: only opening it and a refresh decide.
  }, [shown, refresh]);
  return answer;
}

/**
 * The full-screen dashboard: status line, traffic, throughput, backends, limits, footer. It draws
 * when something changed (at most once a `frameMs`) and once a second for the clock: left open
 * on an idle daemon it costs one small frame a second.
 */
export function DashboardApp({ model, actions, frameMs = 100, colour = true }: { model: DashboardModel; actions: DashboardActions; frameMs?: number; colour?: boolean }): ReactElement {
  const { stdout } = useStdout();
  const [size, setSize] = useState({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [ui, setUi] = useState<UiState>(INITIAL_UI);
  // Keys can arrive faster than frames: each one must see the state the previous one left.
  const current = useRef<UiState>(INITIAL_UI);
  const [now, setNow] = useState(Date.now());

  // Seconds a column of the throughput chart covers (the chart moves once a column).
  const chartStep = useRef(1);
  useEffect(() => {
    let seen = model.revision;
    let drawn = Date.now();
    const timer = setInterval(() => {
      const time = Date.now();
      // The clock shows minutes; the throughput chart moves a column at a time while it holds traffic.
      const column = (ms: number): number => Math.floor(ms / 1000 / chartStep.current);
      const tick = Math.floor(time / 60_000) !== Math.floor(drawn / 60_000) || (model.series.busySince(time) && column(time) !== column(drawn));
      if (model.revision === seen && !tick) return;
      seen = model.revision;
      drawn = time;
      setNow(time);
    }, frameMs);
    return () => clearInterval(timer);
  }, [model, frameMs]);

  useEffect(() => {
    const onResize = (): void => setSize({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout]);

  const detailRow = ui.detail === null ? undefined : model.traffic.get(ui.detail);
  const detail = useFetched(ui.detail, (id) => actions.detail(id));
  const routeKey = detailRow && detailRow.marker === undefined ? `${detailRow.host}\n${detailRow.client.replace(/^\[?(.*?)\]?:\d+$/, '$1')}` : null;
  const route = useFetched(routeKey, (key) => actions.route(...(key.split('\n') as [string, string]))) ?? null;
  const check = useFetched(ui.backendDetail, (name) => actions.backendCheck(name)) ?? null;

  const [refresh, setRefresh] = useState(0);
  const open = useOpenConnections(ui.connections, refresh, () => actions.connections());
  const connRows = useMemo(() => (open.records === null ? null : connectionRows(open.records, open.at, open.previous)), [open]);
  const connRefs = useRef<{ id: string; client: string }[]>([]);
  connRefs.current = connRows ?? [];

  const filterText = activeFilter(ui);
  const paused = model.traffic.paused;
  // The list is worked out again only when traffic or the filter changed, not at each clock tick.
  const rows = useMemo(() => model.traffic.visible(parseFilter(filterText), ui.sort), [model, model.revision, filterText, ui.sort, paused]);
  const stale = model.link.state === 'lost';
  const theme = useMemo(() => ({ colour, stale }), [colour, stale]);
  const selected = selectedIndex(ui, rows.map((r) => r.id));

  const report = (answer: Promise<string>): void =>
    void answer.then(
      (text) => model.tell(text, false, Date.now()),
      (error: Error) => model.tell(error.message, true, Date.now()),
    );
  const apply = (press: KeyPress): void => {
    const state0 = current.current;
    const ids = model.traffic.visible(parseFilter(activeFilter(state0)), state0.sort).map((r) => r.id);
    const { state, command } = onKey(state0, press, { trafficIds: ids, backendCount: model.backends.length, backendNames: model.backends.map((b) => b.name), connections: connRefs.current });
    current.current = state;
    setUi(state);
    if (!command) return;
    const at = Date.now();
    if (command.type === 'quit') actions.quit();
    else if (command.type === 'pause') {
      if (model.traffic.paused) model.traffic.resume();
      else model.traffic.pause();
      model.revision++;
    } else if (command.type === 'reload') {
      model.tell('reloading…', false, at);
      report(actions.reload());
    } else if (command.type === 'test-backend') {
      const backend = model.backends[command.index];
      model.tell(`testing ${backend.name}…`, false, at);
      actions.testBackend(backend.name).then(
        (result) => model.tell(result.text, !result.ok, Date.now()),
        (error: Error) => model.tell(`${backend.name}: ${error.message}`, true, Date.now()),
      );
    } else if (command.type === 'debug') {
      report(actions.setDebug(command.on ?? !model.summary?.debug));
    } else if (command.type === 'clear') {
      model.traffic.clear();
      report(actions.clear());
    } else if (command.type === 'export-har') {
      const shown = model.traffic.visible(parseFilter(activeFilter(state)), state.sort).filter((r) => r.marker === undefined);
      report(actions.exportHar(shown.map((r) => r.id), command.file));
    } else if (command.type === 'switch-backend') {
      const rule = model.traffic.get(ids[selectedIndex(state0, ids)])?.rule;
      if (rule) report(actions.switchBackend(rule, command.backend));
      else model.tell('the request under the cursor went by no rule: nothing to switch', true, at);
    } else if (command.type === 'unknown-command') {
      model.tell(`unknown command "${command.text}": debug on|off, clear, export [file], backend NAME, replay ID [BACKEND] [force], reload, quit`, true, at);
    } else if (command.type === 'replay') {
      model.tell(`replaying ${command.id}…`, false, at);
      actions.replay(command.id, command.backend, command.force).then(
        (result) => model.tell(result.text, !result.ok, Date.now()),
        (error: Error) => model.tell(`replay of ${command.id}: ${error.message}`, true, Date.now()),
      );
    } else if (command.type === 'close-connections') {
      model.tell('closing…', false, at);
      void actions.closeConnections(command.target).then(
        (text) => model.tell(text, false, Date.now()),
        (error: Error) => model.tell(`cannot close: ${error.message}`, true, Date.now()),
      ).finally(() => setRefresh((n) => n + 1));
    } else if (command.type === 'copy-curl') {
      const row = model.traffic.get(command.id);
      if (!row) return;
      const http = /(?:^|, )http ([^,]+)/.exec(model.summary?.listeners ?? '')?.[1] ?? null;
      const curl = curlCommand(row, detail ?? null, http ? `http://${http.replace(/^0\.0\.0\.0:/, '127.0.0.1:')}` : null);
      actions.copy(curl);
      model.tell(`copied as curl: ${curl}`, false, at);
    }
  };
  useInput((input, key) => splitKeys({ ...key, input }).forEach(apply));

  // One row short of the terminal: ink clears and rewrites the whole screen for every frame of an
  // app as tall as the terminal, even an unchanged one; for one that is not, it writes nothing
  // when the frame did not change.
  const columns = size.columns;
  const height = Math.max(10, size.rows - 1);
  const bottomHeight = height >= 30 ? 10 : 8;
  const mainHeight = Math.max(5, height - 2 - bottomHeight);
  const fullHeight = mainHeight + bottomHeight;
  const third = Math.floor(columns / 3);
  chartStep.current = model.series.stepFor(Math.max(4, third - 2));
  let main: ReactElement;
  if (ui.help) main = <HelpView pane={ui.connections ? 'connections' : ui.pane} height={fullHeight} />;
  else if (ui.messages) main = <MessageLog messages={model.messages} height={fullHeight} width={columns} />;
  else if (ui.connections) main = <ConnectionsView rows={connRows} selected={Math.min(ui.connectionIndex, Math.max(0, (connRows?.length ?? 0) - 1))} error={open.error} height={fullHeight} width={columns} />;
  else if (ui.detail !== null) main = <DetailView row={detailRow} detail={detail} route={route} tab={ui.detailTab} scroll={ui.detailScroll} height={fullHeight} width={columns} />;
  else if (ui.backendDetail !== null) main = <BackendDetailView backend={model.backends.find((b) => b.name === ui.backendDetail)} check={check} height={fullHeight} width={columns} />;
  else {
    const side = { width: columns - 2 * third, height: bottomHeight, focused: ui.pane === 'limits' };
    main = (
      <Box flexDirection="column">
        <TrafficPane rows={rows} selected={selected} follow={ui.follow} sort={ui.sort} filter={ui.editingFilter ? '' : ui.filter} height={mainHeight} width={columns} focused={ui.pane === 'traffic'} paused={paused} total={model.traffic.size} />
        <Box height={bottomHeight}>
          <ThroughputPane model={model} now={now} width={third} height={bottomHeight} focused={ui.pane === 'throughput'} />
          <BackendsPane backends={model.backends} selected={ui.backendIndex} width={third} height={bottomHeight} focused={ui.pane === 'backends'} />
          {model.summary?.role === 'client' ? <ServerPane model={model} {...side} /> : <LimitsPane model={model} {...side} />}
        </Box>
      </Box>
    );
  }
  return (
    <ThemeProvider value={theme}>
      <Box flexDirection="column" width={columns} height={height}>
        <StatusLine model={model} width={columns} now={now} />
        {main}
        <Footer model={model} ui={ui} width={columns} now={now} />
      </Box>
    </ThemeProvider>
  );
}

function StatusLine({ model, width, now }: { model: DashboardModel; width: number; now: number }): ReactElement {
  const { colour } = useTheme();
  const s = model.summary;
  const link = model.link;
  const linkText = link.state === 'connected' ? '● connected' : link.state === 'connecting' ? '○ connecting' : `✕ daemon unreachable since ${formatClock(link.since)}, retrying: ${link.error}`;
  // The listener list is the longest part: it goes last, so a narrow terminal cuts it first.
  const up = s ? now - s.startedAt : 0;
  const parts = s ? [`simple-proxy-${s.role}`, `up ${up < 60_000 ? '<1m' : formatDuration(up)}`, `config ${s.configVersion}`, `${s.connectionsActive} open`, s.debug ? 'debug on' : null, s.listeners] : ['simple-proxy'];
  const left = parts.filter((p) => p !== null).join(' │ ');
  const right = ` ${linkText} ${formatMinute(now)}`;
  // The link's colour is the one thing the status line must show even stale: not through the theme's grey.
  const linkColour = link.state === 'lost' ? 'red' : link.state === 'connected' ? 'green' : 'yellow';
  return (
    <Box width={width}>
      <Text inverse>{fit(left, Math.max(0, width - Math.min(right.length, width)))}</Text>
      <Text inverse color={colour ? linkColour : undefined}>
        {fit(right, Math.min(right.length, width), 'right')}
      </Text>
    </Box>
  );
}

function Footer({ model, ui, width, now }: { model: DashboardModel; ui: UiState; width: number; now: number }): ReactElement {
  const tint = useTint();
  if (ui.commandInput !== null) return <Text>{fit(`:${ui.commandInput}█  (Tab completes: debug on|off, clear, export [file], backend NAME, replay ID [BACKEND] [force], reload, quit; Esc closes)`, width)}</Text>;
  if (ui.editingFilter) {
    const parsed = parseFilter(ui.filterInput);
    const bad = [...parsed.unknown.map((w) => `unknown key ${w}`), ...parsed.invalid.map((w) => `cannot read ${w}`)];
    // Words it cannot use are marked in red as they are typed; the list narrows as you type.
    return (
      <Box width={width}>
        <Text>{`filter: ${ui.filterInput}█  `}</Text>
        {bad.length > 0 ? <Text color={tint('red')} bold>{fit(bad.join(', '), Math.max(0, width - ui.filterInput.length - 11))}</Text> : <Text dimColor>{fit('(Enter keep, Esc cancel, ↑↓ history)', Math.max(0, width - ui.filterInput.length - 11))}</Text>}
      </Box>
    );
  }
  if (ui.confirmClose !== null) {
    const what = 'id' in ui.confirmClose ? `connection ${ui.confirmClose.id}` : `every connection of client ${ui.confirmClose.client}`;
    return <Text color={tint('yellow')} bold>{fit(`close ${what}? y/n`, width)}</Text>;
  }
  const message = model.message && now - model.message.at < 15_000 ? model.message : null;
  if (message) return <Text color={tint(message.error ? 'red' : 'green')}>{fit(message.error && message.text.length > width ? `${message.text.slice(0, width - 12)}… (m: more)` : message.text, width)}</Text>;
  const hints: Record<Pane, string> = {
    traffic: 'Enter detail  o connections  / filter  F follow  s sort  b backend  : command',
    throughput: 'requests and bytes per second',
    backends: 't test  Enter detail  f: failures in a row  up: uptime  a: open/limit',
    limits: model.summary?.role === 'client' ? 'the server this client forwards to' : 'refusals by scope, top clients',
  };
  if (ui.connections) return <Text dimColor>{fit("q quit  ? help  Esc/o back  ↑↓ move  x close  X close all of the client's  r reload  m messages", width)}</Text>;
  return <Text dimColor>{fit(`q quit  ? help  Tab pane  r reload  m messages │ ${hints[ui.pane]}`, width)}</Text>;
}
