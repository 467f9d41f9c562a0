import { availableParallelism } from 'node:os';
import { letYoungGenerationGrow } from '../cli/young-generation.js';
import type { ConfigSnapshot } from '../config/model.js';
import { ClusteredEngine } from './clustered-engine.js';
import { collectWhenQuiet, fullCollection, runtimeGc } from './idle-collector.js';
import type { Engine, EngineOptions } from '../engine/engine-api.js';
import { ProxyEngine } from './engine.js';

/** How many engine processes serve for a `workers` setting (0: one per core). */
export function engineProcesses(workers: number): number {
  return workers === 0 ? availableParallelism() : workers;
}

/**
 * The engine for a snapshot: in-process for one worker, a ClusteredEngine for more. `workers` 0
 * means one per core. Either way this process collects its garbage once its traffic goes quiet,
 * as engine workers do: an in-process engine's connections, or the workers' messages (records,
 * passed connections, load reports) that the daemon of a clustered engine takes in.
 */
export function createEngine(snapshot: ConfigSnapshot, workers: number, options: EngineOptions = {}): Engine {
  const count = engineProcesses(workers);
  // An engine serving in this process: its per-connection garbage wants V8's usual young generation.
  if (count <= 1) letYoungGenerationGrow();
  const engine = count <= 1 ? new ProxyEngine(snapshot, options) : new ClusteredEngine(snapshot, count);
  // Compacting only where the workers serve the traffic: this process's longer pause then delays
  // only passed connections and control calls.
  collectWhenQuiet({ activity: () => engine.activity, compact: count > 1, collect: fullCollection(runtimeGc()) });
  return engine;
}
