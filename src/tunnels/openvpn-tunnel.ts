import { EventEmitter } from 'node:events';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Credentials } from '../config/model.js';
import { parseOpenvpnConfig, type OpenvpnConfig } from '../backends/openvpn-config.js';
import { TunnelProcess } from './tunnel-process.js';
import type { RunPlace, TunnelRun, TunnelRunEvents } from './tunnel-run.js';

/** How an OpenVPN backend authenticates (README "Tunnels"): an auth file, inline credentials, or certificates only. */
export interface OpenvpnAuth {
  authFile?: string;
  auth?: Credentials;
}

/**
 * Directives a profile may not carry: scripts and plugins would run as root with the daemon's
 * rights, and logging or daemonising elsewhere would hide the state the daemon reads.
 */
const REFUSED = new Map<string, string>([
  ...['up', 'down', 'route-up', 'route-pre-down', 'ipchange', 'tls-verify', 'learn-address', 'client-connect', 'client-disconnect', 'auth-user-pass-verify'].map(
    (d): [string, string] => [d, 'runs a script as root; the daemon sets the tunnel up itself'],
  ),
  ['plugin', 'loads a plugin into a root process'],
  ['daemon', 'daemonises; the daemon supervises openvpn itself'],
  ['log', 'sends the log elsewhere; the daemon reads openvpn output for its state'],
  ['log-append', 'sends the log elsewhere; the daemon reads openvpn output for its state'],
  ['syslog', 'sends the log elsewhere; the daemon reads openvpn output for its state'],
  ['management', 'opens a management interface the daemon does not control'],
  ['dev-type', 'only tun devices are supported'],
]);

/** What keeps an OpenVPN profile from running under the daemon (names the line), or null. */
export function openvpnProfileProblem(file: string, auth: OpenvpnAuth): string | null {
  let config: OpenvpnConfig;
  try {
    config = parseOpenvpnConfig(readFileSync(file, 'utf8'));
  } catch (error) {
    return `${file}: ${(error as Error).message}`;
  }
  for (const d of config.directives) {
    const why = REFUSED.get(d.name);
    if (why && !(d.name === 'dev-type' && d.args[0] === 'tun')) return `${file}: line ${d.line}: "${d.name}" is not allowed: it ${why}`;
  }
  const askLine = config.directives.find((d) => d.name === 'auth-user-pass');
  const hasFileInProfile = askLine !== undefined && askLine.args.length > 0;
  if (askLine && !hasFileInProfile && !auth.authFile && !auth.auth) {
    return `${file}: line ${askLine.line}: the profile asks for a username and password (auth-user-pass), but the backend has neither openvpn.auth_file nor openvpn.username/password`;
  }
  if (auth.authFile) {
    try {
      const lines = readFileSync(auth.authFile, 'utf8').split(/\r?\n/);
      if (!lines[0] || lines[1] === undefined) return `auth file ${auth.authFile}: line ${lines[0] ? 2 : 1}: expected the username on line 1 and the password on line 2`;
    } catch (error) {
      return `auth file ${auth.authFile} cannot be read (${(error as NodeJS.ErrnoException).code})`;
    }
  }
  return null;
}

/**
 * The --up hook: openvpn opens the tun in the host namespace (its encrypted UDP stays there,
 * on the host's normal routing); the hook moves the tun into the backend's namespace and applies
 * the pushed address, MTU and routes there, and saves what was pushed (DNS) for the daemon.
 */
const UP_HOOK = `#!/bin/sh
# simple-proxy: OpenVPN --up hook. Arguments: NETNS OUTFILE, then openvpn's own.
set -eu
ns=$1; out=$2
masklen() {
  n=0
  for o in $(echo "$1" | tr . ' '); do
    case $o in 255) n=$((n+8));; 254) n=$((n+7));; 252) n=$((n+6));; 248) n=$((n+5));;
      240) n=$((n+4));; 224) n=$((n+3));; 192) n=$((n+2));; 128) n=$((n+1));; esac
  done
  echo $n
}
ip link set dev "$dev" netns "$ns"
ip -n "$ns" link set dev "$dev" mtu "\${tun_mtu:-1500}" up
if [ -n "\${ifconfig_remote:-}" ]; then
  ip -n "$ns" addr add "$ifconfig_local" peer "$ifconfig_remote" dev "$dev"
else
  ip -n "$ns" addr add "$ifconfig_local/$(masklen "$ifconfig_netmask")" dev "$dev"
fi
i=1
while :; do
  eval "net=\\\${route_network_$i:-}"
  [ -n "$net" ] || break
  eval "mask=\\\${route_netmask_$i}; gw=\\\${route_gateway_$i:-}"
  if [ -n "$gw" ]; then
    ip -n "$ns" route replace "$net/$(masklen "$mask")" via "$gw" dev "$dev"
  else
    ip -n "$ns" route replace "$net/$(masklen "$mask")" dev "$dev"
  fi
  i=$((i + 1))
done
if [ -n "\${redirect_gateway:-}" ] && [ -n "\${route_vpn_gateway:-}" ]; then
  ip -n "$ns" route replace default via "$route_vpn_gateway" dev "$dev"
fi
env | grep -E '^(ifconfig_local|foreign_option_[0-9]+)=' >"$out.tmp" || true
mv "$out.tmp" "$out"
`;

/**
 * One run of an OpenVPN tunnel: `openvpn` in the host namespace with --ifconfig-noexec and
 * --route-noexec, its tun moved into the backend's namespace by our --up hook. Up at
 * "Initialization Sequence Completed"; AUTH_FAILED is read from the output (openvpn exits 0 then).
 */
export class OpenvpnRun extends EventEmitter<TunnelRunEvents> implements TunnelRun {
  private process: TunnelProcess | null = null;
  private failure: string | null = null;
  private readonly hook: string;
  private readonly pushed: string;
  private readonly credentials: string;

  constructor(
    private readonly place: RunPlace,
    private readonly configFile: string,
    private readonly auth: OpenvpnAuth,
  ) {
    super();
    this.hook = join(place.dir, 'openvpn-up.sh');
    this.pushed = join(place.dir, `${place.iface}.pushed`);
    this.credentials = join(place.dir, `${place.iface}.auth`);
  }

  /** The openvpn process id. */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Starts openvpn; the tunnel is up when it says so (an 'up' event), which may take a while. */
  async start(): Promise<void> {
    const { netns, iface } = this.place;
    writeFileSync(this.hook, UP_HOOK, { mode: 0o700 });
    rmSync(this.pushed, { force: true });
    const args = [
      '--config', this.configFile,
      '--dev', iface, '--dev-type', 'tun', '--disable-dco',
      '--ifconfig-noexec', '--route-noexec',
      '--script-security', '2',
      '--up', `/bin/sh ${this.hook} ${netns} ${this.pushed}`,
      '--auth-retry', 'none',
      '--verb', '3',
    ];
    if (this.auth.auth) {
      writeFileSync(this.credentials, `${this.auth.auth.username}\n${this.auth.auth.password}\n`, { mode: 0o600 });
      args.push('--auth-user-pass', this.credentials);
    } else if (this.auth.authFile) {
      args.push('--auth-user-pass', this.auth.authFile);
    }
    const proc = await TunnelProcess.spawn('openvpn', args, { cwd: dirname(this.configFile), onLine: (line) => this.onLine(line) });
    this.process = proc;
    void proc.exited.then((how) => this.emit('exit', this.failure ?? `${how}${proc.lastLines() ? `: ${proc.lastLines()}` : ''}`));
  }

  /** Ends openvpn (its tun goes with it) and removes the credentials file it read. */
  async stop(): Promise<void> {
    await this.process?.stop();
    rmSync(this.credentials, { force: true });
    rmSync(this.pushed, { force: true });
  }

  private onLine(line: string): void {
    if (line.includes('Initialization Sequence Completed')) {
      this.failure = null;
      this.emit('up', this.readPushed());
    } else if (line.includes('AUTH_FAILED')) {
      this.failure = 'the OpenVPN server rejected the credentials (AUTH_FAILED)';
      this.emit('down', this.failure);
    } else if (FATAL.test(line)) {
      this.failure = fatalReason(this.failure, line);
    } else if (/SIGUSR1\[soft|Restart pause|Connection reset, restarting|TLS key negotiation failed/.test(line)) {
      this.emit('down', `openvpn is reconnecting: ${line.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /, '')}`);
    }
  }

  private readPushed(): { dns: string[]; addresses: string[] } {
    const dns: string[] = [];
    const addresses: string[] = [];
    try {
      for (const line of readFileSync(this.pushed, 'utf8').split('\n')) {
        const dnsMatch = /^foreign_option_\d+=dhcp-option DNS6? (\S+)/.exec(line);
        if (dnsMatch) dns.push(dnsMatch[1]);
        const local = /^ifconfig_local=(\S+)/.exec(line);
        if (local) addresses.push(local[1]);
      }
    } catch {
      // The hook did not run (persist-tun kept the device): keep what the supervisor knew.
    }
    return { dns, addresses };
  }
}

/** OpenVPN's lines that end the run. */
const FATAL = /Options error:|Exiting due to fatal error|Cannot load|Error opening configuration file/;

/** Its closing words, which follow the line that says what is wrong. */
const CLOSING = /Options error: Please correct these errors|Exiting due to fatal error/;

/**
 * The reason a failing OpenVPN run gives, from a line of its output and what was kept before:
 * the first fatal line that names the cause (`--ca fails with 'ca.crt': No such file`, an
 * unrecognised option) is kept; the closing words that follow it never replace it, and other
 * lines leave it as it is.
 */
export function fatalReason(kept: string | null, line: string): string | null {
  if (!FATAL.test(line) || (kept !== null && CLOSING.test(line))) return kept;
  return `openvpn: ${line.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /, '')}`;
}
