import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ProxyError } from '../errors.js';
import { loadX509 } from './x509.js';

/** The formats `ca export` writes. */
export type CaFormat = 'pem' | 'der' | 'p12';

/**
 * The CA certificate (never its key) in a format: PEM as it is, DER decoded from it, PKCS#12
 * (certificate only, empty password) written by the openssl command, as Node has no PKCS#12 writer.
 */
export async function caAs(certPem: string, format: CaFormat): Promise<Buffer> {
  if (format === 'pem') return Buffer.from(certPem);
  if (format === 'der') return Buffer.from((await loadX509()).PemConverter.decodeFirst(certPem));
  const dir = mkdtempSync(join(tmpdir(), 'simple-proxy-p12-'));
  try {
    writeFileSync(join(dir, 'ca.pem'), certPem);
    const result = await execa('openssl', ['pkcs12', '-export', '-nokeys', '-in', 'ca.pem', '-out', 'ca.p12', '-passout', 'pass:'], { cwd: dir, reject: false, timeout: 30_000 });
    if (result.failed) throw new ProxyError('EXPORT_FAILED', `openssl could not write PKCS#12 (${result.stderr.trim() || result.shortMessage}); export --format pem or der instead`);
    return readFileSync(join(dir, 'ca.p12'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
