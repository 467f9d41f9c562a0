import type { EventHub } from '../../control/event-hub.js';
import type { EditAnswer, ReloadAnswer, StatusAnswer } from '../../control/answers/daemon.js';
import type { BackendView } from '../../control/answers/backends.js';
import type { ConfigSnapshot } from '../../config/model.js';
import type { Edit, EditOptions } from '../../config/editor.js';
import type { TrafficDebugger } from '../../debug/traffic-debugger.js';
import type { Engine, EngineStats } from '../../engine/engine-api.js';
import type { Role } from '../../role.js';
import type { TunnelManager } from '../../tunnels/tunnel-manager.js';
import type { DaemonManagement } from '../management.js';
import type { PolicyHooks } from '../policy-hooks.js';

/** What the route handlers reach of the running daemon. */
export interface DaemonContext {
  readonly role: Role;
  /** The config in force now (replaced by each reload). */
  readonly snapshot: ConfigSnapshot;
  readonly engine: Engine;
  readonly traffic: TrafficDebugger;
  readonly hub: EventHub;
  readonly tunnels: TunnelManager;
  readonly policy: PolicyHooks;
  /** API keys, the audit trail and the management listener. */
  readonly management: DaemonManagement;
  /** Reloads accepted and rejected since start. */
  readonly reloadCounts: { total: number; errors: number };
  /** Reloads the config file (a dry run only reports). */
  reload(dryRun: boolean): Promise<ReloadAnswer>;
  /** Stops the daemon (draining unless forced). */
  stop(force: boolean): Promise<void>;
  /** Edits the config file and applies it like a reload; `placed` names a rule whose place the answer reports. */
  edit(edit: Edit, options?: EditOptions & { placed?: string }): Promise<EditAnswer>;
  /** The daemon's status answer. */
  status(): Promise<StatusAnswer>;
  /** The backend list with tunnels that are not up shown as unavailable. */
  backendViews(stats: Pick<EngineStats, 'backends'>): BackendView[];
  /** Why a tunnel backend cannot carry traffic now (null: it can, or it is no tunnel). */
  tunnelProblem(name: string): string | null;
  /** Every metric of the daemon and its engine processes, as Prometheus text. */
  exposition(): Promise<{ contentType: string; text: string }>;
}
