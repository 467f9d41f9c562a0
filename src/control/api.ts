import { z } from 'zod';
import { backendTestAnswerSchema, backendViewSchema, healthAnswerSchema } from './answers/backends.js';
import { clientsAnswerSchema, configAnswerSchema, editAnswerSchema, reloadAnswerSchema, statsAnswerSchema, statusAnswerSchema, stopAnswerSchema } from './answers/daemon.js';
import { auditAnswerSchema, keyAddAnswerSchema, keyAddSchema, keyRevokeAnswerSchema, keysAnswerSchema } from './answers/audit.js';
import { clearAnswerSchema, debugStatusAnswerSchema, debugSwitchAnswerSchema, mitmSwitchAnswerSchema, replayAnswerSchema, trafficAnswerSchema, trafficStatsAnswerSchema } from './answers/debug.js';
import { connectionRecordSchema, liveEventSchema } from './answers/records.js';
import { routeAnswerSchema, ruleSetTestAnswerSchema, ruleSetsAnswerSchema, rulesAnswerSchema, usersAnswerSchema } from './answers/routing.js';
import {
  backendAddSchema,
  backendTestSchema,
  replaySchema,
  ruleAddSchema,
  ruleReorderSchema,
  ruleSetTestSchema,
  ruleTestSchema,
  ruleUpdateSchema,
  stopSchema,
  userAddSchema,
  userGroupsSchema,
  userPasswordSchema,
} from './schemas.js';

/** Who may call a route: a viewer reads, an operator also acts on the running daemon, an admin also edits. */
export type ApiRole = 'viewer' | 'operator' | 'admin';

/** The roles in order of what they may do. */
export const API_ROLES: readonly ApiRole[] = ['viewer', 'operator', 'admin'];

/** One control route: method, path (`:name` for a parameter), the least role that may call it, what it takes and what it answers. */
export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  role: ApiRole;
  /** The query string, validated before the handler runs. */
  query?: z.ZodType;
  /** The JSON body, validated before the handler runs (an absent body validates as `{}`). */
  body?: z.ZodType;
  /** A JSON answer; `text` for a text answer (metrics); `stream` for NDJSON lines, each matching `event`. */
  answer: z.ZodType | 'text' | 'stream';
  /** For a stream: what each line is. */
  event?: z.ZodType;
}

const route = <const R extends ApiRoute>(spec: R): R => spec;

const trafficQuery = z.object({ limit: z.string().optional(), filter: z.string().optional() });
const reloadQuery = z.object({ dry_run: z.string().optional() });
/** `types`: a comma-separated list of event types to receive (all when absent). */
const eventsQuery = z.object({ types: z.string().optional() });
const connectionsQuery = z.strictObject({ backend: z.string().min(1).optional(), client: z.string().min(1).optional() });
/** `POST /api/connections/close`: one connection by id, or all through a backend or from a client. */
const connectionsCloseBody = z
  .strictObject({ id: z.string().min(1).optional(), backend: z.string().min(1).optional(), client: z.string().min(1).optional() })
  .refine((f) => f.id !== undefined || f.backend !== undefined || f.client !== undefined, { error: 'name the connection to close: id, backend or client' });
const auditQuery = z.object({ lines: z.string().regex(/^\d+$/, 'expected a number of lines').optional() });

/**
 * Every route of the control API (spec 5.3, 5.4, 11.5, 4.3), on the Unix socket and the
 * management listener alike: the daemon binds a handler to each name, the CLI and the dashboard
 * call them by name and get the answer's type from here. Order matters where paths overlap
 * (`/api/debug/traffic/stream` before `/api/debug/traffic/:id`).
 */
export const API = {
  metrics: route({ method: 'GET', path: '/metrics', role: 'viewer', answer: 'text' }),
  events: route({ method: 'GET', path: '/api/events', role: 'viewer', query: eventsQuery, answer: 'stream', event: liveEventSchema }),
  status: route({ method: 'GET', path: '/api/status', role: 'viewer', answer: statusAnswerSchema }),
  stats: route({ method: 'GET', path: '/api/stats', role: 'viewer', answer: statsAnswerSchema }),
  clients: route({ method: 'GET', path: '/api/clients', role: 'operator', answer: clientsAnswerSchema }),
  config: route({ method: 'GET', path: '/api/config', role: 'viewer', answer: configAnswerSchema }),
  reload: route({ method: 'POST', path: '/api/config/reload', role: 'operator', query: reloadQuery, answer: reloadAnswerSchema }),
  stop: route({ method: 'POST', path: '/api/stop', role: 'admin', body: stopSchema, answer: stopAnswerSchema }),
  debugStatus: route({ method: 'GET', path: '/api/debug/status', role: 'viewer', answer: debugStatusAnswerSchema }),
  debugEnable: route({ method: 'POST', path: '/api/debug/enable', role: 'operator', answer: debugSwitchAnswerSchema }),
  debugDisable: route({ method: 'POST', path: '/api/debug/disable', role: 'operator', answer: debugSwitchAnswerSchema }),
  debugMitmEnable: route({ method: 'POST', path: '/api/debug/mitm/enable', role: 'operator', answer: mitmSwitchAnswerSchema }),
  debugMitmDisable: route({ method: 'POST', path: '/api/debug/mitm/disable', role: 'operator', answer: mitmSwitchAnswerSchema }),
  debugTraffic: route({ method: 'GET', path: '/api/debug/traffic', role: 'operator', query: trafficQuery, answer: trafficAnswerSchema }),
  debugTrafficStream: route({ method: 'GET', path: '/api/debug/traffic/stream', role: 'operator', answer: 'stream', event: liveEventSchema }),
  debugRecord: route({ method: 'GET', path: '/api/debug/traffic/:id', role: 'operator', answer: connectionRecordSchema }),
  debugReplay: route({ method: 'POST', path: '/api/debug/replay', role: 'operator', body: replaySchema, answer: replayAnswerSchema }),
  debugClear: route({ method: 'POST', path: '/api/debug/clear', role: 'operator', answer: clearAnswerSchema }),
  debugStats: route({ method: 'GET', path: '/api/debug/stats', role: 'viewer', answer: trafficStatsAnswerSchema }),
  backends: route({ method: 'GET', path: '/api/backends', role: 'viewer', answer: z.strictObject({ backends: z.array(backendViewSchema) }) }),
  backendAdd: route({ method: 'POST', path: '/api/backends', role: 'admin', body: backendAddSchema, answer: editAnswerSchema }),
  backendRemove: route({ method: 'DELETE', path: '/api/backends/:name', role: 'admin', answer: editAnswerSchema }),
  backendTest: route({ method: 'POST', path: '/api/backends/:name/test', role: 'operator', body: backendTestSchema, answer: backendTestAnswerSchema }),
  backendHealth: route({ method: 'GET', path: '/api/backends/:name/health', role: 'viewer', answer: healthAnswerSchema }),
  rules: route({ method: 'GET', path: '/api/rules', role: 'viewer', answer: rulesAnswerSchema }),
  ruleTest: route({ method: 'GET', path: '/api/rules/test', role: 'viewer', query: ruleTestSchema, answer: routeAnswerSchema }),
  ruleSets: route({ method: 'GET', path: '/api/rule-sets', role: 'viewer', answer: ruleSetsAnswerSchema }),
  ruleSetTest: route({ method: 'GET', path: '/api/rule-sets/test', role: 'viewer', query: ruleSetTestSchema, answer: ruleSetTestAnswerSchema }),
  ruleAdd: route({ method: 'POST', path: '/api/rules', role: 'admin', body: ruleAddSchema, answer: editAnswerSchema }),
  ruleReorder: route({ method: 'POST', path: '/api/rules/reorder', role: 'admin', body: ruleReorderSchema, answer: editAnswerSchema }),
  ruleUpdate: route({ method: 'PUT', path: '/api/rules/:name', role: 'admin', body: ruleUpdateSchema, answer: editAnswerSchema }),
  ruleRemove: route({ method: 'DELETE', path: '/api/rules/:name', role: 'admin', answer: editAnswerSchema }),
  users: route({ method: 'GET', path: '/api/users', role: 'admin', answer: usersAnswerSchema }),
  userAdd: route({ method: 'POST', path: '/api/users', role: 'admin', body: userAddSchema, answer: editAnswerSchema }),
  userRemove: route({ method: 'DELETE', path: '/api/users/:name', role: 'admin', answer: editAnswerSchema }),
  userPassword: route({ method: 'PUT', path: '/api/users/:name/password', role: 'admin', body: userPasswordSchema, answer: editAnswerSchema }),
  userGroups: route({ method: 'PUT', path: '/api/users/:name/groups', role: 'admin', body: userGroupsSchema, answer: editAnswerSchema }),
  connections: route({ method: 'GET', path: '/api/connections', role: 'viewer', query: connectionsQuery, answer: z.strictObject({ connections: z.array(connectionRecordSchema) }) }),
  connectionsClose: route({ method: 'POST', path: '/api/connections/close', role: 'operator', body: connectionsCloseBody, answer: z.strictObject({ closed: z.number() }) }),
  keys: route({ method: 'GET', path: '/api/keys', role: 'admin', answer: keysAnswerSchema }),
  keyAdd: route({ method: 'POST', path: '/api/keys', role: 'admin', body: keyAddSchema, answer: keyAddAnswerSchema }),
  keyRevoke: route({ method: 'DELETE', path: '/api/keys/:id', role: 'admin', answer: keyRevokeAnswerSchema }),
  audit: route({ method: 'GET', path: '/api/audit', role: 'admin', query: auditQuery, answer: auditAnswerSchema }),
} as const;

/** The name of a control route. */
export type RouteName = keyof typeof API;

type ParamNames<P extends string> = P extends `${string}:${infer K}/${infer Rest}` ? K | ParamNames<`/${Rest}`> : P extends `${string}:${infer K}` ? K : never;

/** A route's path parameters by name. */
export type RouteParams<N extends RouteName> = Record<ParamNames<(typeof API)[N]['path']>, string>;

/** What a route answers once parsed (void for text and streams). */
export type AnswerOf<N extends RouteName> = (typeof API)[N]['answer'] extends z.ZodType ? z.output<(typeof API)[N]['answer']> : void;

/** What a handler may return for a route (the schema's input side). */
export type AnswerIn<N extends RouteName> = (typeof API)[N]['answer'] extends z.ZodType ? z.input<(typeof API)[N]['answer']> : void;

/** A route's body as the caller sends it. */
export type BodyIn<N extends RouteName> = (typeof API)[N] extends { body: z.ZodType } ? z.input<(typeof API)[N]['body']> : never;

/** A route's body once validated. */
export type BodyOf<N extends RouteName> = (typeof API)[N] extends { body: z.ZodType } ? z.output<(typeof API)[N]['body']> : undefined;

/** A route's query once validated. */
export type QueryOf<N extends RouteName> = (typeof API)[N] extends { query: z.ZodType } ? z.output<(typeof API)[N]['query']> : Record<string, never>;

/** A route's query as the caller sends it. */
export type QueryIn<N extends RouteName> = (typeof API)[N] extends { query: z.ZodType } ? z.input<(typeof API)[N]['query']> : never;

/** What a call of a route carries: its path parameters, query and body, where it has them. */
export type CallArgs<N extends RouteName> = ([ParamNames<(typeof API)[N]['path']>] extends [never] ? { params?: never } : { params: RouteParams<N> }) & {
  query?: QueryIn<N>;
  body?: BodyIn<N>;
};

/** The concrete path of a route with its parameters filled in (encoded). */
export function routePath(spec: ApiRoute, params: Record<string, string> = {}): string {
  return spec.path.replace(/:(\w+)/g, (_m, key: string) => encodeURIComponent(params[key] ?? ''));
}
