import type { SocksClient as SocksClientType } from 'socks';

let socks: Promise<{ SocksClient: typeof SocksClientType }> | null = null;

/** The SOCKS client library, loaded by the first SOCKS5 upstream dial: most proxies never use one. */
export function loadSocks(): Promise<{ SocksClient: typeof SocksClientType }> {
  socks ??= import('socks');
  return socks;
}
