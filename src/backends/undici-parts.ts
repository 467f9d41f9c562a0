import { createRequire } from 'node:module';
import type { Agent as UndiciAgent, Dispatcher, Pool as UndiciPool } from 'undici';

/*
 * undici's dispatchers without its package index. The index loads fetch, WebSocket, EventSource,
 * the caches, the mock agents and the request API alongside, about 3 MB of heap and compiled
 * code in every process that imports it (daemon and each engine worker), of which the proxy
 * uses Agent, Pool and, for health checks and replays, `request`. The package has no exports map,
 * so its own files are the supported way in; the types still come from the package.
 */
const require = createRequire(import.meta.url);

/** undici's Agent (a pool per origin). */
export const Agent = require('undici/lib/dispatcher/agent.js') as typeof UndiciAgent;
/** An undici Agent. */
export type Agent = UndiciAgent;
/** undici's Pool (connections to one origin). */
export const Pool = require('undici/lib/dispatcher/pool.js') as typeof UndiciPool;
/** An undici Pool. */
export type Pool = UndiciPool;

type RequestApi = (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;

/** `dispatcher.request(options)`: undici's request API, loaded on first use (the index would add it to every dispatcher). */
export function dispatcherRequest(dispatcher: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData> {
  return (require('undici/lib/api/api-request.js') as RequestApi).call(dispatcher, options);
}
