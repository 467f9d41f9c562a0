import type { ConnectionRecord } from './connection-record.js';

/** Which open connections `connections list|close` means; every field given must match. */
export interface ConnectionFilter {
  id?: string;
  backend?: string;
  /** The client's address (an IPv4 address also matches its IPv4-mapped IPv6 form). */
  client?: string;
}

/** Whether a record matches a connection filter. */
export function matchesFilter(record: ConnectionRecord, filter: ConnectionFilter): boolean {
  return (
    (filter.id === undefined || record.id === filter.id) &&
    (filter.backend === undefined || record.backend === filter.backend) &&
    (filter.client === undefined || record.clientAddress === filter.client || record.clientAddress === `::ffff:${filter.client}`)
  );
}
