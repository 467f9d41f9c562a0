import { fork, type ChildProcess } from 'node:child_process';
import type { Socket as DgramSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { findProgram } from './host-support.js';

const HELPER = fileURLToPath(new URL(`./ns-dialer-helper${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
const HELPER_START_MS = 10_000;

/** A socket opened inside a tunnel namespace, with how its target was reached. */
export interface NsConnection {
  socket: Socket;
  /** The address connected to. */
  address: string;
  /** Who resolved the name (`tunnel DNS 10.0.0.1`, `literal address`, …). */
  resolvedBy: string;
  /** The socket's own address inside the namespace (a tunnel address). */
  localAddress: string;
}

/** A failure inside the namespace, with the errno code the helper saw. */
export class NsDialFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What the helper answers to one request: a connected socket, or only the resolved address. */
interface Answer {
  message: { address: string; resolvedBy: string; localAddress: string };
  handle?: Socket | DgramSocket;
}

interface Pending {
  resolve: (answer: Answer) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Opens TCP connections inside a network namespace without relaying their bytes: a helper
 * started with `ip netns exec NS node …` connects there and passes each connected socket back
 * over the IPC channel. One helper per namespace and process, started on first use and again
 * after it dies.
 */
export class NsDialer {
  private helper: ChildProcess | null = null;
  private ready: Promise<ChildProcess> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly netns: string,
    private readonly statusFile: string,
  ) {}

  /** Resolves (with the tunnel's DNS) and connects inside the namespace; rejects with an NsDialFailure. */
  async dial(host: string, port: number, timeoutMs: number): Promise<NsConnection> {
    const { message, handle } = await this.ask({ host, port, timeoutMs }, `connect timed out after ${timeoutMs} ms`);
    if (!handle || !('setNoDelay' in handle)) throw new NsDialFailure('EFAILED', 'the dialer helper answered without a socket');
    return { socket: handle, address: message.address, resolvedBy: message.resolvedBy, localAddress: message.localAddress };
  }

  /** Resolves (with the tunnel's DNS) and opens a UDP socket bound inside the namespace (the caller connects it to `address`). */
  async openUdp(host: string, port: number, timeoutMs: number): Promise<{ socket: DgramSocket; address: string }> {
    const { message, handle } = await this.ask({ host, port, udp: true, timeoutMs }, `opening UDP to ${host}:${port} timed out after ${timeoutMs} ms`);
    if (!handle || 'setNoDelay' in handle) throw new NsDialFailure('EFAILED', 'the dialer helper answered without a UDP socket');
    return { socket: handle, address: message.address };
  }

  /** Resolves a name inside the namespace as `dial` would (with the tunnel's DNS), connecting nowhere. */
  async resolve(host: string, timeoutMs: number): Promise<{ address: string; resolvedBy: string }> {
    const { message } = await this.ask({ host, timeoutMs }, `resolving ${host} timed out after ${timeoutMs} ms`);
    return { address: message.address, resolvedBy: message.resolvedBy };
  }

  /** Ends the helper; sockets already handed over stay open. */
  close(): void {
    this.closed = true;
    this.helper?.kill();
    this.helper = null;
    this.ready = null;
  }

  private async ask(request: { host: string; port?: number; udp?: boolean; timeoutMs: number }, timeoutMessage: string): Promise<Answer> {
    if (this.closed) throw new NsDialFailure('ECLOSED', 'the tunnel dialer is closed');
    const helper = await this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.unrefIfIdle();
        reject(new NsDialFailure('ETIMEDOUT', timeoutMessage));
      }, request.timeoutMs + 1_000);
      this.pending.set(id, { resolve, reject, timer });
      helper.channel?.ref();
      helper.send({ id, ...request });
    });
  }

  private start(): Promise<ChildProcess> {
    this.ready ??= new Promise((resolve, reject) => {
      const loader = import.meta.url.endsWith('.ts') ? ['--import', 'tsx'] : [];
      const child = fork(HELPER, [this.statusFile], {
        execPath: findProgram('ip') ?? 'ip',
        execArgv: ['netns', 'exec', this.netns, process.execPath, ...loader],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-500)));
      (child.stderr as (typeof child.stderr & { unref?: () => void }) | null)?.unref?.();
      const timer = setTimeout(() => {
        child.kill();
        reject(new NsDialFailure('EHELPER', `the dialer helper in namespace ${this.netns} did not start within ${HELPER_START_MS / 1000} s`));
      }, HELPER_START_MS);
      child.on('message', (message: { ready?: boolean; id?: number; ok?: boolean; code?: string; message?: string } & Omit<NsConnection, 'socket'>, handle?: Socket | DgramSocket) => {
        if (message.ready) {
          clearTimeout(timer);
          this.helper = child;
          this.unrefIfIdle();
          resolve(child);
          return;
        }
        const pending = this.pending.get(message.id!);
        if (!pending) {
          // Asked for and timed out meanwhile: nobody will use it.
          if (handle) 'destroy' in handle ? handle.destroy() : handle.close();
          return;
        }
        this.pending.delete(message.id!);
        clearTimeout(pending.timer);
        this.unrefIfIdle();
        if (message.ok) pending.resolve({ message, handle });
        else pending.reject(new NsDialFailure(message.code ?? 'EFAILED', message.message ?? 'failed'));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        const why = stderr.trim() || `the dialer helper exited (code ${code})`;
        if (this.helper === child || this.helper === null) {
          this.helper = null;
          this.ready = null;
        }
        reject(new NsDialFailure('EHELPER', why));
        for (const [id, pending] of this.pending) {
          clearTimeout(pending.timer);
          this.pending.delete(id);
          pending.reject(new NsDialFailure('EHELPER', why));
        }
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        this.ready = null;
        reject(new NsDialFailure('EHELPER', `the dialer helper could not start: ${error.message}`));
      });
    });
    return this.ready;
  }

  private unrefIfIdle(): void {
    // An idle helper must not keep its process alive.
    if (this.pending.size === 0 && this.helper) {
      this.helper.channel?.unref();
      this.helper.unref();
    }
  }
}
