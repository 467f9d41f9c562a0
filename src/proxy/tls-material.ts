import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { ConfigSnapshot, ListenerSpec } from '../config/model.js';
import { ConfigError } from '../errors.js';

/** A TLS listener's certificate chain and private key, as read from their files. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

/**
 * Reads a listener's certificate and key and checks that they make a usable pair (PEM that
 * parses, a key that matches the certificate), so a bad renewal is refused before it is served.
 */
export function readTlsMaterial(tls: NonNullable<ListenerSpec['tls']>, section = 'server.tls'): TlsMaterial {
  const read = (file: string, key: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new ConfigError(`${section}.${key}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  };
  const material = { cert: read(tls.certFile, 'cert_file'), key: read(tls.keyFile, 'key_file') };
  try {
    createSecureContext(material);
  } catch (error) {
    throw new ConfigError(`${section}: ${tls.certFile} and ${tls.keyFile} are not a usable certificate and key (${(error as Error).message})`);
  }
  return material;
}

/** Checks the TLS files of every listener of a snapshot; throws the first problem as a ConfigError. */
export function checkTlsFiles(snapshot: ConfigSnapshot): void {
  for (const listener of snapshot.listeners) if (listener.tls) readTlsMaterial(listener.tls);
  if (snapshot.management.tls && snapshot.management.port !== null) readTlsMaterial(snapshot.management.tls, 'management.tls');
}
