import type { UdpChannel } from '../../backends/backend.js';

/** Datagrams held for a destination while its route and socket are being set up. */
export const MAX_PENDING = 16;

/**
 * One NAT entry: an association's destination (by its SOCKS5 address bytes) with its route and
 * backend socket. `refused` entries remember a refusal, so the destination's later datagrams are
 * dropped without asking the policy again until the entry idles out.
 */
export interface UdpFlow {
  readonly key: string;
  readonly owner: FlowOwner;
  state: 'pending' | 'open' | 'refused' | 'closed';
  channel: UdpChannel | null;
  /** Gives back the backend slot the flow holds (max_connections_per_backend), once open. */
  release: (() => void) | null;
  /** Payloads waiting for the channel (pending only). */
  queue: Buffer[];
  /** Last datagram either way (ms). */
  lastUsed: number;
  /** When the entry last moved to the recent end of the LRU orders (ms). */
  orderedAt: number;
  /** The reply header for the last source seen, and that source. */
  header: Buffer | null;
  headerFrom: string;
}

/** What holds flows: the association, which drops one the global cap evicts. */
export interface FlowOwner {
  evict(flow: UdpFlow): void;
}
