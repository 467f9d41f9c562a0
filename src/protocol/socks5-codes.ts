/** SOCKS5 reply codes (RFC 1928 section 6). */
export const SocksReply = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;

/** SOCKS5 authentication methods (RFC 1928 section 3). */
export const SocksMethod = {
  none: 0x00,
  userPass: 0x02,
  noAcceptable: 0xff,
} as const;

/** SOCKS5 commands (RFC 1928 section 4). */
export const SocksCommand = {
  connect: 0x01,
  bind: 0x02,
  udpAssociate: 0x03,
} as const;
