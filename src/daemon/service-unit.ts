import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { roleDefaults, type Role } from '../role.js';
import type { DaemonPaths } from './paths.js';

/** What a service definition needs to know. */
export interface ServiceOptions {
  role: Role;
  /** Absolute path of the node binary and of the bin script. */
  node: string;
  bin: string;
  /** Config file the service starts with (absolute), or null for discovery. */
  config: string | null;
  /** A per-user service (systemd --user, a LaunchAgent) instead of a system one. */
  user: boolean;
}

/** The service's name (`simple-proxy-server`). */
export function serviceName(role: Role): string {
  return roleDefaults(role).bin;
}

/** Where the unit or plist goes for this platform and scope. */
export function servicePath(options: Pick<ServiceOptions, 'role' | 'user'>, platform: NodeJS.Platform = process.platform): string {
  const name = serviceName(options.role);
  if (platform === 'darwin') {
    return options.user ? join(homedir(), 'Library', 'LaunchAgents', `com.${name}.plist`) : join('/Library/LaunchDaemons', `com.${name}.plist`);
  }
  return options.user ? join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'systemd', 'user', `${name}.service`) : join('/etc/systemd/system', `${name}.service`);
}

const quote = (arg: string): string => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `"${arg.replace(/(["\\$`])/g, '\\$1')}"`);

/**
 * What the sandbox (ProtectSystem=strict) must leave writable. The state and runtime directories
 * are created by systemd (StateDirectory=, RuntimeDirectory=: writable even under strict); the
 * config file's directory is listed with ReadWritePaths= because edits are written as a temp file
 * beside it and renamed. `-` skips a directory that does not exist instead of failing the start.
 */
function writablePaths(options: ServiceOptions): string[] {
  const stateDir = `simple-proxy/${options.role}`;
  // %E is /etc for the system manager and $XDG_CONFIG_HOME for a user manager: where discovery looks.
  const configDir = options.config ? dirname(options.config) : '%E/simple-proxy';
  return [
    'RuntimeDirectory=simple-proxy',
    'RuntimeDirectoryMode=0700',
    // Both roles share the runtime directory: stopping one must not remove the other's socket.
    'RuntimeDirectoryPreserve=yes',
    `StateDirectory=${stateDir}`,
    'StateDirectoryMode=0700',
    ...(options.user
      ? [
          // For user managers %S (where StateDirectory= goes) is $XDG_CONFIG_HOME before systemd 254
          // and $XDG_STATE_HOME from 254 on: pointing the daemon at it keeps its state where the room is.
          'Environment=SIMPLE_PROXY_STATE_DIR=%S/simple-proxy',
          'Environment=SIMPLE_PROXY_RUNTIME_DIR=%t/simple-proxy',
        ]
      : []),
    `ReadWritePaths=${quote(`-${configDir}`)}`,
  ];
}

/**
 * A systemd unit: foreground start, reload by HUP, restart on failure, and hardening that still
 * lets the daemon create tunnel interfaces and namespaces (CAP_NET_ADMIN, CAP_SYS_ADMIN) and
 * bind low ports, write its state and runtime directories and edit its config file.
 */
export function systemdUnit(options: ServiceOptions): string {
  const exec = [options.node, options.bin, 'start', '--foreground', ...(options.config ? ['--config', options.config] : [])].map(quote).join(' ');
  const system = !options.user;
  return [
    '[Unit]',
    `Description=simple-proxy ${options.role} (HTTP, CONNECT and SOCKS5 proxy)`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec}`,
    'ExecReload=/bin/kill -HUP $MAINPID',
    'KillSignal=SIGTERM',
    'TimeoutStopSec=90',
    'Restart=on-failure',
    'RestartSec=2',
    'LimitNOFILE=65536',
    'NoNewPrivileges=true',
    'PrivateTmp=true',
    'ProtectSystem=strict',
    ...writablePaths(options),
    ...(system
      ? [
          'ProtectHome=read-only',
          'ProtectKernelModules=true',
          'ProtectControlGroups=true',
          'RestrictSUIDSGID=true',
          'LockPersonality=true',
          'AmbientCapabilities=CAP_NET_ADMIN CAP_SYS_ADMIN CAP_NET_BIND_SERVICE',
          'CapabilityBoundingSet=CAP_NET_ADMIN CAP_SYS_ADMIN CAP_NET_BIND_SERVICE CAP_SETUID CAP_SETGID CAP_DAC_OVERRIDE',
        ]
      : []),
    '',
    '[Install]',
    `WantedBy=${system ? 'multi-user.target' : 'default.target'}`,
    '',
  ].join('\n');
}

const xml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A launchd plist (macOS): started at load, kept alive, logging to the state directory. launchd
 * passes no XDG variables and its own TMPDIR, so the daemon is given the runtime and state
 * directories the installing shell uses: the CLI then finds its socket.
 */
export function launchdPlist(options: ServiceOptions, paths: Pick<DaemonPaths, 'runtimeDir' | 'stateDir' | 'logFile'>): string {
  const args = [options.node, options.bin, 'start', '--foreground', ...(options.config ? ['--config', options.config] : [])];
  const env: [string, string][] = [
    ['SIMPLE_PROXY_RUNTIME_DIR', paths.runtimeDir],
    // The daemon appends its role to the state root.
    ['SIMPLE_PROXY_STATE_DIR', dirname(paths.stateDir)],
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    '  <key>Label</key>',
    `  <string>com.${xml(serviceName(options.role))}</string>`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...args.map((a) => `    <string>${xml(a)}</string>`),
    '  </array>',
    '  <key>EnvironmentVariables</key>',
    '  <dict>',
    ...env.flatMap(([key, value]) => [`    <key>${key}</key>`, `    <string>${xml(value)}</string>`]),
    '  </dict>',
    '  <key>RunAtLoad</key>',
    '  <true/>',
    '  <key>KeepAlive</key>',
    '  <dict>',
    '    <key>SuccessfulExit</key>',
    '    <false/>',
    '  </dict>',
    '  <key>StandardOutPath</key>',
    `  <string>${xml(paths.logFile)}</string>`,
    '  <key>StandardErrorPath</key>',
    `  <string>${xml(paths.logFile)}</string>`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}
