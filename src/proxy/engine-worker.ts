import type { LimitHit } from '../policy/limit-hit.js';
import { RemoteHealth } from '../health/remote-health.js';
import type { ConnectionRecord } from './connection-record.js';
import { ProxyEngine } from './engine.js';
import type { FromWorker, RecordEvent, ToWorker } from './worker-protocol.js';

/*
 * Entry point of one engine worker (node:cluster). It runs a full ProxyEngine on the listening
 * sockets it shares with its siblings and answers the primary's requests. Records travel to the
 * primary only while someone there listens, and in batches, so the hot path stays local.
 */
const FLUSH_MS = 50;
let engine: ProxyEngine | null = null;
const wanted = new Set<string>();
let batch: RecordEvent[] = [];
/** Where each record started in this batch has its start event, by id. */
const startsInBatch = new Map<string, number>();
let hits: LimitHit[] = [];
let timer: NodeJS.Timeout | null = null;

const send = (message: FromWorker): void => {
  if (process.connected) process.send!(message);
};
// The primary runs the health checks; this worker skips what it marks unhealthy and reports what its traffic sees.
const health = new RemoteHealth((backend, ok, error) => send({ type: 'traffic', backend, ok, ...(error === undefined ? {} : { error }) }));

const flush = (): void => {
  timer = null;
  if (hits.length > 0) {
    send({ type: 'limit-hits', hits });
    hits = [];
  }
  if (batch.length === 0) return;
  send({ type: 'records', events: batch });
  batch = [];
  startsInBatch.clear();
};

const queue = (phase: 'start' | 'end', record: ConnectionRecord): void => {
  // Records are serialised when the batch is sent, not copied here: a start shows the record as it
  // is then, and a request that ends before the batch goes out travels once, as `both`.
  if (phase === 'end') {
    const at = startsInBatch.get(record.id);
    if (at !== undefined) {
      batch[at] = { phase: 'both', record };
      startsInBatch.delete(record.id);
      return;
    }
  } else {
    startsInBatch.set(record.id, batch.length);
  }
  batch.push({ phase, record });
  timer ??= setTimeout(flush, FLUSH_MS);
};

process.on('message', (message: ToWorker) => {
  if (message.type === 'subscribe') {
    wanted.clear();
    for (const event of message.events) wanted.add(event);
    return;
  }
  if (message.type === 'health') {
    health.apply(message.down);
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
        engine = new ProxyEngine(message.snapshot, { processMetrics: true, health });
        await engine.setCapture(message.capture);
        engine.on('connection:start', (record) => wanted.has('connection:start') && queue('start', record));
        engine.on('connection:end', (record) => wanted.has('connection:end') && queue('end', record));
        engine.on('limit:hit', (hit) => {
          if (!wanted.has('limit:hit')) return;
          hits.push(hit);
          timer ??= setTimeout(flush, FLUSH_MS);
        });
        engine.on('warning', (text) => send({ type: 'warning', message: text }));
        return engine.start();
      });
      break;
    case 'reload':
      reply(async () => engine!.reload(message.snapshot));
      break;
    case 'stats':
      reply(async () => engine!.stats());
      break;
    case 'metrics':
      reply(async () => engine!.metricsJson());
      break;
    case 'clients':
      reply(async () => engine!.authClients());
      break;
    case 'capture':
      reply(async () => {
        await engine!.setCapture(message.capture);
        return null;
      });
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
