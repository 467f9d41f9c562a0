/** The two roles of the one engine. */
export type Role = 'server' | 'client';

/** What a role changes: default ports, config file name and names of its state. */
export interface RoleDefaults {
  role: Role;
  bin: string;
  httpPort: number;
  socks5Port: number;
  bindAddress: string;
  configFileName: string;
}

const DEFAULTS: Record<Role, RoleDefaults> = {
  server: {
    role: 'server',
    bin: 'simple-proxy-server',
    httpPort: 8080,
    socks5Port: 1080,
    bindAddress: '127.0.0.1',
    configFileName: 'server-config.yaml',
  },
  client: {
    role: 'client',
    bin: 'simple-proxy-client',
    httpPort: 3128,
    socks5Port: 1081,
    bindAddress: '127.0.0.1',
    configFileName: 'client-config.yaml',
  },
};

let current: Role = process.env.SIMPLE_PROXY_ROLE === 'client' ? 'client' : 'server';

/** Sets the role of this process (the bin does it once, before any command runs). */
export function setRole(role: Role): void {
  current = role;
  // Children (the background daemon) inherit the role of the bin that started them.
  process.env.SIMPLE_PROXY_ROLE = role;
}

/** The role of this process. */
export function getRole(): Role {
  return current;
}

/** Defaults of a role (the current one unless named). */
export function roleDefaults(role: Role = current): RoleDefaults {
  return DEFAULTS[role];
}
