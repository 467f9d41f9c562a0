import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import { LRUCache } from 'lru-cache';
import { loadX509, type X509Module } from './x509.js';
import { DAY_MS, EC_P256, randomSerial, SIGNING, type CaMaterial } from './ca-store.js';

/** Leaves live a week: short enough that a leaked one soon expires, long enough for any session. */
const LEAF_DAYS = 7;

/** What the minter has done, for `debug stats` and the bench. */
export interface MinterCounts {
  /** Leaves signed since the process started. */
  minted: number;
  /** Handshakes served from the cache. */
  cached: number;
  /** Leaves held now (never above `capacity`). */
  size: number;
  capacity: number;
  /** Mean signing time of a leaf (ms). */
  averageMintMs: number;
}

/**
 * Signs per-host leaf certificates with the interception CA. One ECDSA P-256 key pair serves
 * every leaf of the process (generating a key per host is what makes other tools slow); each
 * host's certificate names it in subjectAltName only, starts a day back (clock skew) and lives a
 * week. Signing runs in WebCrypto's thread pool, so a flood of new names queues there instead of
 * stalling the event loop. The ready TLS contexts are kept in a bounded LRU cache; concurrent
 * handshakes for the same new host share one signing.
 */
export class LeafMinter {
  private readonly cache: LRUCache<string, Promise<SecureContext>>;
  /** The x509 module, the CA's certificate and its signing key, once loaded (see loadX509). */
  private readonly signer: Promise<{ x509: X509Module; caCert: InstanceType<X509Module['X509Certificate']>; caKey: webcrypto.CryptoKey }>;
  private leafKeys: Promise<{ keys: webcrypto.CryptoKeyPair; pem: string }> | null = null;
  private minted = 0;
  private cached = 0;
  private mintMs = 0;

  constructor(
    private readonly ca: CaMaterial,
    readonly capacity: number,
  ) {
    this.cache = new LRUCache({ max: capacity });
    this.signer = loadX509().then(async (x509) => ({
      x509,
      caCert: new x509.X509Certificate(ca.certPem),
      caKey: await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.keyPem), EC_P256, false, ['sign']),
    }));
    // A CA that does not parse fails each signing (and is reported there), not this constructor's caller.
    this.signer.catch(() => undefined);
  }

  /** True when this minter signs with that CA (a reload that kept the CA keeps the cache). */
  signsWith(ca: CaMaterial): boolean {
    return ca.certPem === this.ca.certPem;
  }

  /** The TLS context presenting a leaf for `host` (a DNS name or an IP literal). */
  context(host: string): Promise<SecureContext> {
    const key = host.toLowerCase();
    const hit = this.cache.get(key);
    if (hit) {
      this.cached++;
      return hit;
    }
    const made = this.mint(key).then((cert) => this.leafKeysOnce().then(({ pem }) => createSecureContext({ key: pem, cert: cert })));
    // A failed signing is not kept: the next handshake tries again.
    made.catch(() => this.cache.delete(key));
    this.cache.set(key, made);
    return made;
  }

  /** Counters so far. */
  counts(): MinterCounts {
    return { minted: this.minted, cached: this.cached, size: this.cache.size, capacity: this.capacity, averageMintMs: this.minted === 0 ? 0 : Math.round((this.mintMs / this.minted) * 100) / 100 };
  }

  /** Signs a leaf for one host and returns it as PEM. */
  async mint(host: string, now = new Date()): Promise<string> {
    const started = performance.now();
    const [{ keys }, { x509, caCert, caKey }] = await Promise.all([this.leafKeysOnce(), this.signer]);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: 'O=simple-proxy interception',
      issuer: caCert.subject,
      notBefore: new Date(now.getTime() - DAY_MS),
      notAfter: new Date(now.getTime() + LEAF_DAYS * DAY_MS),
      signingAlgorithm: SIGNING,
      publicKey: keys.publicKey,
      signingKey: caKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension([{ type: isIP(host) ? 'ip' : 'dns', value: host }], false),
        await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey, false),
      ],
    });
    this.minted++;
    this.mintMs += performance.now() - started;
    return cert.toString('pem');
  }

  private leafKeysOnce(): Promise<{ keys: webcrypto.CryptoKeyPair; pem: string }> {
    this.leafKeys ??= (async () => {
      const x509 = await loadX509();
      const keys = (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
      const pem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
      return { keys, pem };
    })();
    return this.leafKeys;
  }
}
