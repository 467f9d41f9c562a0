import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { join } from 'node:path';
import { loadX509 } from './x509.js';
import { ProxyError } from '../errors.js';

/** The algorithm of the CA and of every leaf key: ECDSA P-256 signs fast and every current client accepts it. */
export const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
/** How leaves and the CA are signed. */
export const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

const CA_YEARS = 10;
/** A day in ms: the CA and every leaf start a day back, against clients with clocks behind. */
export const DAY_MS = 86_400_000;

/** The interception CA as files: where they are, and their text. The key text stays in the memory of the daemon's own processes. */
export interface CaMaterial {
  /** The certificate (PEM) clients must trust. */
  certPem: string;
  /** The private key (PKCS#8 PEM); kept 0600 in the state dir. */
  keyPem: string;
  certFile: string;
  keyFile: string;
}

/** Where a role's CA lives: `<state dir>/ca/`. */
export function caFiles(stateDir: string): { dir: string; certFile: string; keyFile: string } {
  const dir = join(stateDir, 'ca');
  return { dir, certFile: join(dir, 'simple-proxy-ca.pem'), keyFile: join(dir, 'simple-proxy-ca-key.pem') };
}

/** True when the CA files exist. */
export function caExists(stateDir: string): boolean {
  const files = caFiles(stateDir);
  return existsSync(files.certFile) && existsSync(files.keyFile);
}

/** Reads the CA made earlier; a missing or unreadable one is a CA_MISSING error naming the files. */
export function readCa(stateDir: string): CaMaterial {
  const files = caFiles(stateDir);
  try {
    return { certPem: readFileSync(files.certFile, 'utf8'), keyPem: readFileSync(files.keyFile, 'utf8'), certFile: files.certFile, keyFile: files.keyFile };
  } catch (error) {
    throw new ProxyError('CA_MISSING', `no interception CA in ${files.dir} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}): run "ca init"`, { cause: error });
  }
}

/** The CA of the state dir, made now (ECDSA P-256, ten years) when there is none yet: the first use makes it. */
export async function ensureCa(stateDir: string): Promise<{ ca: CaMaterial; created: boolean }> {
  if (caExists(stateDir)) return { ca: readCa(stateDir), created: false };
  return { ca: await createCa(stateDir), created: true };
}

/**
 * Makes a new CA in the state dir, replacing any earlier one (clients that trusted the old one
 * must be given the new one). The key is written 0600 before the certificate, each through a
 * temporary file and a rename, so a crash never leaves a certificate without its key.
 */
export async function createCa(stateDir: string, now = new Date()): Promise<CaMaterial> {
  const files = caFiles(stateDir);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  chmodSync(files.dir, 0o700);
  const x509 = await loadX509();
  const keys = (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_YEARS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=simple-proxy interception CA (${new Date(now).toISOString().slice(0, 10)}), O=simple-proxy`,
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter,
    signingAlgorithm: SIGNING,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  const certPem = cert.toString('pem');
  writeAtomically(files.keyFile, keyPem, 0o600);
  writeAtomically(files.certFile, certPem, 0o644);
  return { certPem, keyPem, certFile: files.certFile, keyFile: files.keyFile };
}

/** A positive random 16-byte serial (RFC 5280 section 4.1.2.2 allows up to 20 octets). */
export function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f;
  bytes[0] |= 0x01;
  return Buffer.from(bytes).toString('hex');
}

function writeAtomically(file: string, text: string, mode: number): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode });
  chmodSync(temp, mode);
  renameSync(temp, file);
}
