import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';

/** Where Linux distributions and macOS keep the system's trusted CAs as one PEM bundle. */
const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

let trust: SecureContext | undefined;

/**
 * The TLS options this process uses towards origins (https:// requests, intercepted requests,
 * WebSockets over TLS): Node's defaults, or once interception set it, one context that trusts
 * Node's bundled CAs, the system's bundle and the configured extra CAs. Built once per setting,
 * never per connection.
 */
export function originTls(): { secureContext?: SecureContext } {
  return trust ? { secureContext: trust } : {};
}

/** Trusts the system store plus `extraPem` (PEM text of more CAs) for origins from now on; null returns to Node's defaults. */
export function setOriginTrust(extraPem: string | null): void {
  if (extraPem === null) {
    trust = undefined;
    return;
  }
  const ca = [...rootCertificates];
  for (const file of SYSTEM_BUNDLES) {
    try {
      ca.push(readFileSync(file, 'utf8'));
      break;
    } catch {
      // Not this system's layout: try the next one.
    }
  }
  if (extraPem !== '') ca.push(extraPem);
  trust = createSecureContext({ ca });
}
