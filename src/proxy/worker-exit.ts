import type { Worker } from 'node:cluster';

/** Resolves once `worker` has exited; one still serving is disconnected (it closes its server and exits), one already killed is only awaited. */
export function workerExited(worker: Worker, serving: boolean): Promise<void> {
  return new Promise<void>((resolve) => {
    if (worker.isDead()) return resolve();
    worker.once('exit', () => resolve());
    if (serving) worker.disconnect();
  });
}
