import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { AuditEntry } from '../control/answers/audit.js';
import { KeyStore, keysFile } from '../control/api-keys.js';
import { AuditLog } from '../control/audit-log.js';
import type { Caller, ControlRouter, Dispatched } from '../control/control-router.js';
import type { EventHub } from '../control/event-hub.js';
import { managementProblem } from '../control/management-access.js';
import { ManagementListener } from '../control/management-listener.js';
import type { ConfigSnapshot, ManagementSpec } from '../config/model.js';
import { ProxyError } from '../errors.js';
import { readTlsMaterial } from '../proxy/tls-material.js';
import type { Logger } from '../telemetry/logger.js';
import type { Readiness } from '../telemetry/metrics-server.js';
import type { DaemonPaths } from './paths.js';
import { changeSummary } from './change-summary.js';

/**
 * The daemon's management side: the API keys, the audit trail of every change and refusal (on
 * the socket and the TCP listener alike), and the TCP listener on web_ui_port itself.
 */
export class DaemonManagement {
  readonly keys: KeyStore;
  readonly audit: AuditLog;
  private listener: ManagementListener | null = null;
  /** Where the listener is bound, for the status answer. */
  address: { host: string; port: number; tls: boolean } | null = null;

  constructor(
    private readonly paths: DaemonPaths,
    private readonly router: ControlRouter,
    hub: EventHub,
    private readonly logger: Logger,
    private readonly version: () => string,
  ) {
    this.keys = new KeyStore(keysFile(paths.stateDir));
    this.audit = new AuditLog(join(paths.stateDir, 'audit.log'), (entry) => hub.publish({ type: 'audit', time: Date.parse(entry.time), entry }), (message) => logger.warn(message));
    router.observer = (found, caller, status, body, before, raw, requestBody) => this.record(raw, found, caller, status, body, before, requestBody);
  }

  /** Throws when a snapshot's listener would be reachable from other hosts without TLS and a key (at start and at reload). */
  check(snapshot: ConfigSnapshot): void {
    const problem = managementProblem(snapshot.management, this.keys.load().usable());
    if (problem) throw new ProxyError('INSECURE_MANAGEMENT', problem);
  }

  /** Opens the audit log and binds the listener when web_ui_port is set. */
  async start(snapshot: ConfigSnapshot, readiness: () => Readiness): Promise<void> {
    this.audit.moveTo(this.auditPath(snapshot.management));
    await this.bind(snapshot.management, readiness);
  }

  /** Applies a reloaded snapshot: the audit file, then the listener (certificate reloaded in place, or rebound when its address changed). */
  async apply(snapshot: ConfigSnapshot, readiness: () => Readiness): Promise<void> {
    this.audit.moveTo(this.auditPath(snapshot.management));
    if (this.listener?.update(snapshot.management)) return;
    await this.listener?.close();
    this.listener = null;
    this.address = null;
    await this.bind(snapshot.management, readiness);
  }

  /** Reopens the audit log (SIGUSR1, after rotation). */
  reopen(): void {
    this.audit.reopen();
  }

  /** Closes the listener and the audit log. */
  async close(): Promise<void> {
    await this.listener?.close();
    this.listener = null;
    this.audit.close();
  }

  private async bind(spec: ManagementSpec, readiness: () => Readiness): Promise<void> {
    if (spec.port === null) return;
    const listener = new ManagementListener(spec, this.router, this.keys, {
      readiness,
      readTls: (tls) => readTlsMaterial(tls, 'management.tls'),
      refused: ({ req, address, status, code, message }) => this.record(req, { name: null, spec: null, params: {} }, { kind: 'key', role: 'viewer', keyId: '', address }, status, { error: { code, message } }, this.version(), undefined, true),
    });
    this.address = await listener.start();
    this.listener = listener;
    this.logger.info('control API listening', { address: `${this.address.host}:${this.address.port}`, tls: this.address.tls });
  }

  private auditPath(spec: ManagementSpec): string {
    return spec.auditLog ?? join(this.paths.stateDir, 'audit.log');
  }

  /** One audit line for a change (any call but a GET) or a refusal (any error answer). */
  private record(req: IncomingMessage, found: Dispatched, caller: Caller, status: number, body: unknown, before: string, requestBody: unknown, anonymous = false): void {
    const refused = status >= 400;
    if (!refused && (found.spec === null || found.spec.method === 'GET')) return;
    const key = caller.kind === 'key' && !anonymous ? caller.keyId : null;
    const entry: AuditEntry = {
      time: new Date().toISOString(),
      key,
      uid: caller.kind === 'local' ? caller.uid : null,
      role: anonymous ? null : caller.role,
      remote: caller.kind === 'local' ? 'local' : caller.address,
      method: req.method ?? '',
      path: (req.url ?? '/').split('?')[0],
      action: found.name,
      target: found.params.name ?? found.params.id ?? targetOf(requestBody),
      summary: changeSummary(found.name, body, requestBody),
      result: { status, ...(refused ? { code: (body as { error?: { code?: string } }).error?.code ?? 'ERROR' } : {}) },
      versionBefore: before,
      versionAfter: this.version(),
    };
    this.audit.write(entry);
  }
}

/** The name a request body acts on (a new rule, backend or user), never any other field of it. */
function targetOf(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const { name, username } = body as { name?: unknown; username?: unknown };
  return typeof name === 'string' ? name : typeof username === 'string' ? username : null;
}
