import type { ReactElement } from 'react';
import { Text } from 'ink';
import type { BackendRow, Message } from '../model/dashboard-model.js';
import { detailLines, type RecordedDetail, type RouteAnswer } from '../model/detail-lines.js';
import { fit, formatClock, sparkline } from '../model/format.js';
import type { TrafficRow } from '../model/traffic-row.js';
import { DETAIL_TABS, type DetailTab, type Pane as PaneName } from '../model/ui-state.js';
import { HEALTH_COLOUR } from './panes.js';
import { Line, Pane } from './theme.js';

/** A request's detail: Request, Response, Timing and Route tabs, scrollable. */
export function DetailView({ row, detail, route, tab, scroll, height, width }: { row: TrafficRow | undefined; detail: RecordedDetail | undefined; route: RouteAnswer; tab: DetailTab; scroll: number; height: number; width: number }): ReactElement {
  if (!row || row.marker !== undefined) {
    return (
      <Pane title="Detail" focused={false} width={width} height={height}>
        <Line dim>this record is no longer kept (Esc to go back)</Line>
      </Pane>
    );
  }
  const lines = detailLines(tab, row, detail, route);
  const room = Math.max(1, height - 4);
  const top = Math.max(0, Math.min(scroll, lines.length - room));
  const tabs = DETAIL_TABS.map((t) => (t === tab ? `[${t[0].toUpperCase()}${t.slice(1)}]` : ` ${t[0].toUpperCase()}${t.slice(1)} `)).join(' ');
  const position = lines.length > room ? `  lines ${top + 1}-${Math.min(lines.length, top + room)} of ${lines.length}` : '';
  return (
    <Pane title={`Detail ${row.id} (Esc back, Tab tab, ↑↓ scroll, n/N next/previous, c copy as curl, R replay)`} focused={false} width={width} height={height}>
      <Text bold>{fit(`${tabs}${position}`, width - 2)}</Text>
      {lines.slice(top, top + room).map((line, i) => (
        <Line key={i}>{fit(line, width - 2)}</Line>
      ))}
    </Pane>
  );
}

/** One backend: address, check settings, state and since when, the reason, the last checks as a latency strip. */
export function BackendDetailView({ backend, check, height, width }: { backend: BackendRow | undefined; check: string | null; height: number; width: number }): ReactElement {
  if (!backend) {
    return (
      <Pane title="Backend" focused={false} width={width} height={height}>
        <Line dim>this backend is gone from the config (Esc to go back)</Line>
      </Pane>
    );
  }
  const inner = width - 2;
  const strip = backend.checks.map((c) => (c === null ? 0 : c));
  const failed = backend.checks.filter((c) => c === null).length;
  return (
    <Pane title={`Backend ${backend.name} (Esc back, t test)`} focused={false} width={width} height={height}>
      <Line>{fit(`type ${backend.type}   address ${backend.address ?? '-'}`, inner)}</Line>
      <Line>{fit(`health check ${check ?? 'none configured'}`, inner)}</Line>
      <Line colour={HEALTH_COLOUR[backend.health]}>{fit(`● ${backend.health} since ${formatClock(backend.since)}`, inner)}</Line>
      {backend.reason !== undefined && backend.health !== 'healthy' && <Line colour="red">{fit(`reason: ${backend.reason}`, inner)}</Line>}
      <Line>{fit(`latency ${backend.latencyMs === null ? '-' : `${backend.latencyMs}ms`}   failures in a row ${backend.failures}   uptime ${backend.uptimePercent === null ? '-' : `${backend.uptimePercent}%`}`, inner)}</Line>
      <Line>{fit(`connections open ${backend.active}${backend.limit > 0 ? `/${backend.limit}` : ''}   total ${backend.total}   errors ${backend.errors}`, inner)}</Line>
      <Line dim>{fit(`last ${backend.checks.length} checks seen (latency; a gap is a failed check${failed > 0 ? `, ${failed} failed` : ''}):`, inner)}</Line>
      <Line colour={failed > 0 ? 'yellow' : 'green'}>{backend.checks.length === 0 ? fit('no checks seen yet', inner) : sparkline(strip, Math.min(inner, strip.length))}</Line>
    </Pane>
  );
}

const HELP_COMMON: [string, string][] = [
  ['q', 'quit'],
  ['?', 'this help'],
  ['Tab / ← →', 'next / previous pane'],
  ['m', 'message log (long errors in full)'],
  ['r', 'reload the config file'],
  ['o', 'open connections (Esc back)'],
];

/** What the help overlay is about: a pane, or the Connections view. */
export type HelpTopic = PaneName | 'connections';

const HELP_PANE: Record<HelpTopic, [string, string][]> = {
  traffic: [
    ['↑ ↓ (j k)', 'move the cursor (it stays on the request you chose)'],
    ['F', 'follow mode: the cursor stays on the newest request'],
    ['Enter', 'open the detail (Tab tabs, ↑↓ scroll, n/N next/previous, c copy as curl, R replay)'],
    ['/', 'filter: host: method: status:5xx|>=400|err backend: client: user: rule: proto: dur:>1s bytes:>1M, ! not, | or, /regex/; ↑↓ history'],
    ['s / S', 'sort by time, duration, bytes, status, host / reverse'],
    ['Esc', 'clear the filter'],
    ['p', 'pause / resume the list'],
    ['d', 'debugger on / off'],
    ['e', 'export the listed requests (the filter in force) as a HAR file'],
    ['C', 'clear the list and the records the daemon kept'],
    ['b', "switch the backend of the selected request's rule (:backend NAME)"],
    [':', 'command line: debug on|off, clear, export [file], backend NAME, replay ID [BACKEND] [force], reload, quit (Tab completes)'],
  ],
  throughput: [],
  backends: [
    ['↑ ↓ (j k)', 'move in the list (unhealthy first)'],
    ['Enter', 'open the backend detail'],
    ['t', "test the backend against its own check target"],
  ],
  limits: [],
  connections: [
    ['↑ ↓ (j k)', 'move in the list (oldest first; asked again every 2 s while shown)'],
    ['x', 'close the selected connection (y to confirm)'],
    ['X', "close every connection of the selected row's client (y to confirm)"],
    ['Esc / o', 'back to the panes'],
  ],
};

/** The keys of the focused pane, then the ones that work everywhere. */
export function HelpView({ pane, height }: { pane: HelpTopic; height: number }): ReactElement {
  return (
    <Pane title={`Keys (any key closes): ${pane === 'connections' ? 'connections view' : `${pane} pane`}`} focused={false} height={height}>
      {/* The Connections view has no panes to move between. */}
      {[...HELP_PANE[pane], ...HELP_COMMON.filter(([keys]) => pane !== 'connections' || !keys.startsWith('Tab'))].map(([keys, what]) => (
        <Text key={keys} wrap="truncate">
          <Text bold>{fit(keys, 14)}</Text>
          {what}
        </Text>
      ))}
    </Pane>
  );
}

/** Every message so far, newest last, wrapped so long errors show in full. */
export function MessageLog({ messages, height, width }: { messages: readonly Message[]; height: number; width: number }): ReactElement {
  const inner = width - 2;
  const lines = messages.flatMap((m) => {
    const text = `${formatClock(m.at)} ${m.text}`;
    const out: { text: string; error: boolean }[] = [];
    for (let i = 0; i < text.length; i += inner) out.push({ text: text.slice(i, i + inner), error: m.error });
    return out;
  });
  const room = Math.max(1, height - 3);
  return (
    <Pane title={`Messages ${messages.length} (any key closes)`} focused={false} width={width} height={height}>
      {lines.length === 0 ? <Line dim>no messages yet</Line> : lines.slice(-room).map((l, i) => <Line key={i} colour={l.error ? 'red' : undefined}>{fit(l.text, inner)}</Line>)}
    </Pane>
  );
}
