import type { FrontProtocol } from '../proxy/connection-record.js';

/** What a rule can be matched against: where to, from whom, how. */
export interface RouteQuery {
  /** Target host as the client gave it: a name or an IP literal. */
  host: string;
  /** Target port (0 when not known). */
  port: number;
  /** Client address as the socket reports it ('' when not known). */
  client: string;
  /** Authenticated user, if any. */
  user?: string;
  /** The user's groups, if known. */
  groups?: readonly string[];
  /** How the client came in (a WebSocket upgrade matches as `http`). */
  protocol?: FrontProtocol | 'udp';
  /** The addresses `host` resolves to, once looked up for a rule with `resolve: true`. */
  addresses?: readonly string[];
}

/** A named rule set as rules see it: the loaded list, or nothing yet. */
export type LoadedRuleSet = { kind: 'domains'; lookup(host: string): number; describe(index: number): string; size: number } | { kind: 'cidr'; lookup(address: string): number; describe(index: number): string; size: number };

/** Where rules find their rule sets: asked at match time, so a set refreshed in place serves at once. */
export interface RuleSetSource {
  /** The set serving now, or undefined while none is loaded. */
  get(name: string): LoadedRuleSet | undefined;
}

/** No rule sets at all. */
export const NO_RULE_SETS: RuleSetSource = { get: () => undefined };
