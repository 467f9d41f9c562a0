import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { EngineEvents } from '../engine/engine-api.js';
import type { TrafficEvent } from '../debug/debug-request.js';
import { AttemptLeases } from '../auth/attempt-leases.js';
import { ByteLeases } from '../limits/byte-leases.js';
import { PrimaryStore } from '../limits/primary-store.js';
import { SlotLeases } from '../policy/slot-leases.js';
import { LAZY_HEADROOM } from '../policy/policy-state.js';
import type { LimitHit } from '../policy/limit-hit.js';
import { RemoteHealth } from '../health/remote-health.js';
import type { ConnectionRecord } from '../protocol/connection-record.js';
import { ProxyEngine } from './engine.js';
import { collectWhenQuiet } from './idle-collector.js';
import { RecordBatch } from './record-batch.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

/*
 * Entry point of one engine worker (node:cluster). It runs a full ProxyEngine on the listening
 * sockets every worker shares (and on the connections other workers pass to it through the
 * primary when over their share), and answers the primary's requests. Records travel to the
 * primary only while someone there listens, and in batches, so the hot path stays local.
 */
const FLUSH_MS = 50;
/** How often at most this worker tells the primary its open connections (for max_connections over all workers). */
const LOAD_MS = 20;
/**
 * On the shared sockets, far below max_connections and max_connections_per_backend (at least
 * LAZY_HEADROOM to go over every worker), a worker reports less often: each report costs the
 * primary and every other worker a message, and at some hundred per second that was a few percent
 * of a busy tunnel's CPU (with a backend counted, a report every 20 ms was about 3 µs of a
 * keep-alive request's CPU in a profile). No worker gains LAZY_HEADROOM in LOAD_FAR_MS unnoticed at any rate this proxy serves.
 */
const LOAD_FAR_MS = 200;
let engine: ProxyEngine | null = null;
const wanted = new Set<string>();
const records = new RecordBatch();
const traffic = new RecordBatch();
let hits: LimitHit[] = [];
let timer: NodeJS.Timeout | null = null;
let loadTimer: NodeJS.Timeout | null = null;
/** When the scheduled load report goes out. */
let loadDue = 0;
/** Connections the other workers have open, as the primary last said (shared sockets only). */
let openElsewhere = 0;

const send = (message: FromWorker): void => {
  if (process.connected) process.send!(message);
};
/** Sends when the primary is there; false when this worker is cut off from it (exiting). */
const sendIfConnected = (message: FromWorker): boolean => {
  if (!process.connected) return false;
  process.send!(message);
  return true;
};
/** max_connections_per_ip leased from the primary (shared sockets, several workers). */
let slotLeases: SlotLeases | null = null;
/** Failed logins counted in the primary (shared sockets, several workers). */
let attemptLeases: AttemptLeases | null = null;
/** max_mbps_per_ip and max_mbps_total leased from the primary (shared sockets, several workers). */
let byteLeases: ByteLeases | null = null;
// The primary runs the health checks; this worker skips what it marks unhealthy and reports what its traffic sees.
const health = new RemoteHealth((backend, ok, error) => send({ type: 'traffic', backend, ok, ...(error === undefined ? {} : { error }) }));

const sharedLimits = new PrimaryStore((id, buckets, lease) => sendIfConnected({ type: 'limit', id, buckets, lease }));

const sendThroughput = (bytes: number): void => send({ type: 'throughput', bytes });
/** Listens for the engine's throughput exactly while the primary wants it (the engine ticks only then). */
const followThroughput = (): void => {
  engine?.off('throughput', sendThroughput);
  if (wanted.has('throughput')) engine?.on('throughput', sendThroughput);
};

const reportLoad = (): void => {
  loadTimer = null;
  if (engine) send({ type: 'load', ...engine.worker.load() });
};

/** How long the next load report may wait: see LOAD_FAR_MS. */
const loadDelay = (): number => {
  if (!engine) return LOAD_MS;
  const headroom = engine.snapshot.network.limits.maxConnections - engine.worker.active - openElsewhere;
  return headroom >= LAZY_HEADROOM ? LOAD_FAR_MS : LOAD_MS;
};

/** Schedules the next load report, or brings a lazy one forward when it must go sooner. */
const scheduleLoad = (delay = loadDelay()): void => {
  const due = Date.now() + delay;
  if (loadTimer !== null && loadDue <= due) return;
  if (loadTimer !== null) clearTimeout(loadTimer);
  loadDue = due;
  loadTimer = setTimeout(reportLoad, delay);
};

const flush = (): void => {
  timer = null;
  if (hits.length > 0) {
    send({ type: 'limit-hits', hits });
    hits = [];
  }
  if (records.empty && traffic.empty) return;
  send({ type: 'records', events: records.take(), traffic: traffic.take() });
};

const queue = (batch: RecordBatch, phase: 'start' | 'end', record: ConnectionRecord): void => {
  batch.add(phase, record);
  timer ??= setTimeout(flush, FLUSH_MS);
};

/** Listens to `event` with `forward` while the primary wants it, and not otherwise. */
function forwardWhileWanted<E extends 'connection:start' | 'connection:end' | 'traffic' | 'limit:hit'>(target: ProxyEngine, event: E, forward: (...args: EngineEvents[E]) => void): void {
  // The typed emitter cannot take an event name and its listener as one generic pair.
  const emitter = target as unknown as EventEmitter;
  emitter.off(event, forward);
  if (wanted.has(event)) emitter.on(event, forward);
}

const onStart = (record: ConnectionRecord): void => queue(records, 'start', record);
const onEnd = (record: ConnectionRecord): void => queue(records, 'end', record);
// The debugger's records stay here (its log, ring and counters are this process's) unless someone watches live.
const onTraffic = ({ phase, record }: TrafficEvent): void => queue(traffic, phase === 'request' ? 'start' : 'end', record);
const onHit = (hit: LimitHit): void => {
  hits.push(hit);
  timer ??= setTimeout(flush, FLUSH_MS);
};

/** Listens to the record events the primary wants, and only to those: a record nobody watches is emitted to no listener. */
const follow = (target: ProxyEngine): void => {
  forwardWhileWanted(target, 'connection:start', onStart);
  forwardWhileWanted(target, 'connection:end', onEnd);
  forwardWhileWanted(target, 'traffic', onTraffic);
  forwardWhileWanted(target, 'limit:hit', onHit);
};

/** On the shared sockets, connections this worker accepts while over its share go, unread, to the daemon for the worker with the fewest. */
const balanced = <T>(bound: T, processes: number): T => {
  if (processes > 1) engine?.worker.balance({ processes, elsewhere: () => openElsewhere, connected: () => process.connected, pass: (listener, socket) => process.send!({ type: 'pass', listener, ...engine!.worker.load() } satisfies FromWorker, socket, undefined, () => socket.destroy()) });
  return bound;
};

process.on('message', (message: ToWorker, handle?: Socket) => {
  if (message.type === 'connection') {
    if (!engine || !handle) return void handle?.destroy();
    engine.worker.accept(message.listener, handle);
    scheduleLoad(LOAD_MS);
    return;
  }
  if (message.type === 'elsewhere') {
    openElsewhere = message.active;
    engine?.worker.setOpenElsewhere(message.active);
    engine?.worker.setBackendsElsewhere(message.backends);
    return;
  }
  if (message.type === 'slots-grant') return void slotLeases?.granted(message.address, message.held);
  if (message.type === 'slots-unpin') return void slotLeases?.unpin(message.address);
  if (message.type === 'slots-reclaim') return void send({ type: 'reply', id: message.id, ok: true, value: slotLeases?.reclaim(message.address) ?? 0 });
  if (message.type === 'auth-watch') return void attemptLeases?.watch(message.address, message.until, message.locked);
  if (message.type === 'auth-answer') return void attemptLeases?.answer(message.id, message.until);
  if (message.type === 'bytes-grant') return void byteLeases?.granted(message.id, message.bytes);
  if (message.type === 'verdict') {
    sharedLimits.answer(message.id, message.verdict);
    return;
  }
  if (message.type === 'subscribe') {
    wanted.clear();
    for (const event of message.events) wanted.add(event);
    followThroughput();
    if (engine) follow(engine);
    send({ type: 'reply', id: message.id, ok: true, value: null });
    return;
  }
  if (message.type === 'health') {
    health.apply(message.down);
    return;
  }
  if (message.type === 'mitm-rejected') {
    engine?.heardRejection(message.host);
    return;
  }
  const reply = (work: () => Promise<unknown>): void => {
    work().then(
      (value) => send({ type: 'reply', id: message.id, ok: true, value: value as never }),
      (error: Error) => send({ type: 'reply', id: message.id, ok: false, error: error.message }),
    );
  };
  switch (message.type) {
    case 'start':
      reply(async () => {
        const onClients = (): void => scheduleLoad();
        // A client's connections land on any worker: per-client limits and budgets are leased from the primary.
        if (message.processes > 1) {
          slotLeases = new SlotLeases(message.processes, {
            ask: (address, open, want) => sendIfConnected({ type: 'slots-ask', address, open, want }),
            release: (address) => sendIfConnected({ type: 'slots-release', address }),
          });
          slotLeases.pin(message.pinned);
          attemptLeases = new AttemptLeases({
            ask: (id, address) => sendIfConnected({ type: 'auth-ask', id, address }),
            done: (address) => sendIfConnected({ type: 'auth-done', address }),
            failed: (id, address, leased) => sendIfConnected({ type: 'auth-failed', id, address, leased }),
          });
          for (const { address, until, locked } of message.watched) attemptLeases.watch(address, until, locked);
          byteLeases = new ByteLeases({
            ask: (id, key, rate, bytes) => sendIfConnected({ type: 'bytes-ask', id, key, rate, bytes }),
            giveBack: (key, rate, bytes) => sendIfConnected({ type: 'bytes-return', key, rate, bytes }),
          });
        }
        engine = new ProxyEngine(message.snapshot, { processMetrics: true, health, sharedLimits, onClients, ...(slotLeases ? { slotLeases } : {}), ...(attemptLeases ? { attemptLeases } : {}), ...(byteLeases ? { byteLeases } : {}) });
        const started = engine;
        // The others count this worker's connections per backend from its reports: a change near the limit goes out within
        // LOAD_MS; far from it, with the next report or within LOAD_FAR_MS (a change in open connections schedules its own).
        engine.worker.watchBackends((near) => {
          if (near) scheduleLoad(LOAD_MS);
          else if (loadTimer === null) scheduleLoad(LOAD_FAR_MS);
        });
        collectWhenQuiet({ activity: () => started.activity });
        if (message.debug) await engine.debug({ op: 'set', state: message.debug });
        follow(engine);
        engine.on('warning', (text) => send({ type: 'warning', message: text }));
        engine.on('mitm:rejected', (host) => send({ type: 'mitm-rejected', host }));
        followThroughput();
        return balanced(await engine.start(), message.processes);
      });
      break;
    case 'reload':
      reply(async () => engine!.reload(message.snapshot));
      break;
    case 'stats':
      // A load report still waiting goes first: the primary then counts what the answer counts.
      if (loadTimer !== null) {
        clearTimeout(loadTimer);
        reportLoad();
      }
      reply(async () => engine!.stats());
      break;
    case 'metrics':
      reply(async () => engine!.metricsJson());
      break;
    case 'clients':
      reply(async () => engine!.authClients());
      break;
    case 'connections':
      reply(async () => engine!.openConnections());
      break;
    case 'close':
      reply(async () => engine!.closeConnections(message.filter));
      break;
    case 'debug':
      reply(async () => engine!.debug(message.request));
      break;
    case 'stop':
      reply(async () => {
        const result = await engine!.stop({ drainMs: message.drainMs, forceMs: message.forceMs });
        flush();
        return result;
      });
      break;
  }
});

// The primary owns signals: a terminal's Ctrl-C must not kill workers before they drain.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
process.on('disconnect', () => process.exit(0));
// Messages sent before the listener above existed would be lost: say when it does.
send({ type: 'ready' });
