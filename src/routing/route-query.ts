import type { FrontProtocol } from '../protocol/connection-record.js';

/**
 * What routing is asked about one request: where it goes, who asks and how. The admission
 * pipeline's request is one (it allocates nothing more); `rule test` builds one from its flags.
 */
export interface RouteQuery {
  /** Target host name or IP literal. */
  readonly host: string;
  /** Target port (0 when not known). */
  readonly port: number;
  /** The client's address ('' when not known): source_cidr matches it, balancing by client hashes it. */
  readonly client: string;
  /** The authenticated user and their groups, when auth is on. */
  readonly user?: string | undefined;
  readonly groups?: readonly string[] | undefined;
  /** How the client came in (a WebSocket upgrade matches as `http`); absent when not asked. */
  readonly protocol?: FrontProtocol | 'udp';
  /** The addresses `host` resolves to, once looked up for a rule with `resolve: true`. */
  readonly addresses?: readonly string[];
  /** The IP address the client asked for, when `host` is the name sniffed from its first bytes: IP keys match it. */
  readonly sniffedFrom?: string | undefined;
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
