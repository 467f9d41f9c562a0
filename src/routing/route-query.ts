import type { FrontProtocol } from '../protocol/connection-record.js';

/**
 * What routing is asked about one request: where it goes and who asks. Rules match the host
 * today; the other fields are there for match keys on address, port, source and user.
 */
export interface RouteQuery {
  /** Target host name or IP literal. */
  readonly host: string;
  readonly port: number;
  /** The client's address (balancing by client hashes it). */
  readonly client: string;
  /** The authenticated user and their groups, when auth is on. */
  readonly user: string | undefined;
  readonly groups: readonly string[] | undefined;
  readonly protocol: FrontProtocol;
}
