import type { Identity } from './identity.js';

const MAX_USERS = 10_000;
const MAX_ADDRESSES = 8;

/** An authenticated client as `GET /api/clients` shows it. */
export interface AuthClientView {
  user: string;
  groups: string[];
  /** Client addresses the user came from (the latest few). */
  addresses: string[];
  /** Requests and tunnels authenticated. */
  requests: number;
  /** Connections of the user open now (0: seen before, not connected now). */
  connections: number;
  firstSeen: number;
  lastSeen: number;
}

/** The users who authenticated in this process, with where from and how often. */
export class ClientRegistry {
  private readonly users = new Map<string, AuthClientView>();

  /** Notes one authenticated request. */
  seen(identity: Identity, address: string, now = Date.now()): void {
    let view = this.users.get(identity.user);
    if (view === undefined) {
      if (this.users.size >= MAX_USERS) this.users.delete(this.users.keys().next().value!);
      view = { user: identity.user, groups: [...identity.groups], addresses: [], requests: 0, connections: 0, firstSeen: now, lastSeen: now };
      this.users.set(identity.user, view);
    }
    view.requests++;
    view.lastSeen = now;
    if (!view.addresses.includes(address)) {
      if (view.addresses.length >= MAX_ADDRESSES) view.addresses.shift();
      view.addresses.push(address);
    }
  }

  /** Every user seen, most recent first, with the connections each has open now (by user name). */
  list(open: ReadonlyMap<string, number> = new Map()): AuthClientView[] {
    return [...this.users.values()].map((v) => ({ ...v, groups: [...v.groups], addresses: [...v.addresses], connections: open.get(v.user) ?? 0 })).sort((a, b) => b.lastSeen - a.lastSeen);
  }
}

/** Views from several processes merged per user. */
export function mergeClientViews(lists: AuthClientView[][]): AuthClientView[] {
  const merged = new Map<string, AuthClientView>();
  for (const view of lists.flat()) {
    const known = merged.get(view.user);
    if (!known) {
      merged.set(view.user, { ...view, addresses: [...view.addresses] });
      continue;
    }
    known.requests += view.requests;
    known.connections += view.connections;
    known.firstSeen = Math.min(known.firstSeen, view.firstSeen);
    if (view.lastSeen > known.lastSeen) {
      known.lastSeen = view.lastSeen;
      known.groups = view.groups;
    }
    for (const address of view.addresses) if (!known.addresses.includes(address)) known.addresses.push(address);
  }
  return [...merged.values()].sort((a, b) => b.lastSeen - a.lastSeen);
}
