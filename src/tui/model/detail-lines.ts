import type { RecordAnswer } from '../../control/answers/records.js';
import type { RouteAnswer as RouteExplanationAnswer } from '../../control/answers/routing.js';
import { formatClock, formatDuration } from './format.js';
import type { TrafficRow } from './traffic-row.js';
import type { DetailTab } from './ui-state.js';

/** A request's detail as the daemon kept it (headers and bodies while the debugger recorded them). */
export type RecordedDetail = RecordAnswer | null;

/** The route the daemon would give the request's host now (`GET /api/rules/test`), as the CLI's `rule test` shows it. */
export type RouteAnswer = RouteExplanationAnswer | null;

/** Shown in place of headers and bodies while the daemon's answer is on its way. */
const LOADING = ['  (loading)'];

function headerLines(list: string[] | undefined): string[] {
  if (!list) return ['  (not recorded)'];
  const out: string[] = [];
  for (let i = 0; i + 1 < list.length; i += 2) out.push(`  ${list[i]}: ${list[i + 1]}`);
  return out;
}

/** A body: pretty-printed when it is JSON, line by line otherwise. */
function bodyLines(body: RecordAnswer['requestBody']): string[] {
  if (body === undefined) return ['  (none recorded)'];
  const about = `(${body.size} bytes${body.truncated ? ', cut' : ''}${body.encoding === 'base64' ? ', base64' : ''})`;
  let text = body.text;
  if (body.encoding !== 'base64') {
    try {
      text = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // Not JSON (or cut short): shown as it came.
    }
  }
  return [`  ${about}`, ...text.split('\n').map((line) => `  ${line}`)];
}

/** What the interception front knew of the TLS: decrypted or not, the SNI, the ALPN offered and chosen. */
function tlsLines(row: TrafficRow, detail: RecordedDetail | undefined): string[] {
  const tls = detail?.tls as { decrypted?: boolean; sni?: string; alpnOffered?: string[]; alpn?: string } | undefined;
  if (!tls) return [];
  const tunnel = row.protocol === 'connect' || row.protocol === 'socks5';
  const what = tls.decrypted ? (tunnel ? 'tunnel decrypted (HTTPS interception): its requests are rows of their own' : 'decrypted by HTTPS interception') : 'tunnel not decrypted: metadata only';
  const facts = [tls.sni ? `SNI ${tls.sni}` : null, tls.alpnOffered ? `ALPN offered ${tls.alpnOffered.join(', ')}` : null, tls.alpn ? `spoken ${tls.alpn}` : null].filter((f) => f !== null);
  return [`tls: ${what}${facts.length > 0 ? `   ${facts.join('   ')}` : ''}`];
}

/** The phases the daemon measured for the record (name resolution, dial, TLS with the client or the origin, wait for the head, the body). */
function phaseLines(row: TrafficRow, detail: RecordedDetail | undefined): string[] {
  const tunnel = row.protocol === 'connect' || row.protocol === 'socks5';
  const phases: [string, unknown][] = [['DNS (resolve the name)', detail?.dnsMs], ['connect (dial through the backend)', detail?.connectMs], [tunnel ? 'TLS with the client (interception)' : 'TLS with the origin (new connection)', detail?.tlsMs], ['wait for the response head', detail?.waitMs], ['receive the body', detail?.receiveMs]];
  const measured = phases.filter(([, ms]) => typeof ms === 'number').map(([name, ms]) => `${name}: ${formatDuration(ms as number)}`);
  return measured.length > 0 ? measured : ['connect, TLS, first byte: not measured for this record'];
}

const RECORDING_HINT = '(headers and bodies are kept only while the debugger records them: "debug on" with log_headers / log_body)';

/** The lines of one tab of a request's detail view; `detail` is undefined while it is being fetched. */
export function detailLines(tab: DetailTab, row: TrafficRow, detail: RecordedDetail | undefined, route: RouteAnswer): string[] {
  const hint = detail === null ? [RECORDING_HINT] : [];
  switch (tab) {
    case 'request':
      return [
        `id ${row.id}   ${new Date(row.startedAt).toISOString()}`,
        `client ${row.client}${row.user ? `   user ${row.user}` : ''}`,
        `${row.method} ${row.host}:${row.port}${row.path ?? ''}   (${row.protocol})`,
        `rule ${row.rule ?? '-'}   backend ${row.backend ?? '-'}`,
        `status ${row.status ?? '-'}${row.error ? `   error ${row.error}` : ''}   ${row.open ? 'still open' : `duration ${formatDuration(row.durationMs ?? 0)}`}`,
        `bytes from client ${row.bytesIn}   to client ${row.bytesOut}`,
        ...tlsLines(row, detail),
        ...(row.udp ? [`datagrams from client ${row.udp.datagramsIn}   to client ${row.udp.datagramsOut}   dropped ${row.udp.dropped}`, `destinations ${row.udp.destinations.join(' ')}${row.udp.destinationCount > row.udp.destinations.length ? ` (${row.udp.destinationCount} in all)` : ''}`] : []),
        'request headers:',
        ...(detail === undefined ? LOADING : headerLines(detail?.requestHeaders)),
        'request body:',
        ...(detail === undefined ? LOADING : bodyLines(detail?.requestBody)),
        ...hint,
      ];
    case 'response':
      return [
        `the proxy answered: ${row.status ?? (row.open ? 'nothing yet (still open)' : 'no status')}`,
        ...(row.error ? [`error: ${row.error}`] : []),
        `bytes to client ${row.bytesOut}`,
        'response headers:',
        ...(detail === undefined ? LOADING : headerLines(detail?.responseHeaders)),
        'response body:',
        ...(detail === undefined ? LOADING : bodyLines(detail?.responseBody)),
        ...hint,
      ];
    case 'timing':
      return [
        `started ${formatClock(row.startedAt)} (${new Date(row.startedAt).toISOString()})`,
        `total ${row.open ? `still open after ${formatDuration(Date.now() - row.startedAt)}` : formatDuration(row.durationMs ?? 0)}`,
        ...phaseLines(row, detail),
      ];
    case 'route':
      return routeLines(row, route);
  }
}

function routeLines(row: TrafficRow, route: RouteAnswer): string[] {
  const lines = [`this request: rule ${row.rule ?? '-'}, backend ${row.backend ?? '-'}`];
  if (route === null) return [...lines, `how ${row.host} routes now: asking the daemon…`];
  const { rule, choice } = route;
  lines.push(`how ${row.host} routes now:`);
  if (route.clientRefused !== null) lines.push(`  client refused before any rule: ${route.clientRefused}`);
  lines.push(rule ? `  rule #${rule.index + 1} ${rule.name} (pattern ${rule.pattern})` : '  no rule matches');
  if (choice) {
    if (choice.candidates.length > 0) lines.push(`  candidates ${choice.candidates.join(', ')}${choice.algorithm ? ` (${choice.algorithm}, ${choice.basis})` : ''}`);
    for (const skipped of choice.skipped) lines.push(`  skipped ${skipped.name}: ${skipped.reason}`);
  }
  lines.push(`  backend ${route.backend ?? 'chosen per connection'}`);
  for (const also of route.alsoMatching) lines.push(`  also matches (loses to the first): ${also.name}`);
  return lines;
}

/** The request as a curl command (headers as recorded; the proxy given with -x when known). */
export function curlCommand(row: TrafficRow, detail: RecordedDetail, proxy: string | null): string {
  const quote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;
  const decrypted = (detail?.tls as { decrypted?: boolean } | undefined)?.decrypted === true;
  const scheme = row.protocol === 'http' && !decrypted ? 'http' : 'https';
  const defaultPort = (scheme === 'http' && row.port === 80) || (scheme === 'https' && row.port === 443);
  const url = `${scheme}://${row.host.includes(':') ? `[${row.host}]` : row.host}${defaultPort ? '' : `:${row.port}`}${row.path ?? '/'}`;
  const parts = ['curl', ...(proxy ? ['-x', proxy] : []), ...(row.method === 'GET' || row.method === 'CONNECT' ? [] : ['-X', row.method]), quote(url)];
  const headers = detail?.requestHeaders ?? [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (/^(host|proxy-connection|proxy-authorization|content-length)$/i.test(headers[i])) continue;
    parts.push('-H', quote(`${headers[i]}: ${headers[i + 1]}`));
  }
  const body = detail?.requestBody;
  if (body !== undefined && body.encoding !== 'base64') parts.push('--data-raw', quote(body.text));
  return parts.join(' ');
}
