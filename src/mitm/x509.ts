import { webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

/** The @peculiar/x509 module: its classes are values of this namespace, loaded on first use. */
export type X509Module = typeof X509;

let loading: Promise<X509Module> | null = null;

/**
 * @peculiar/x509, loaded after its Reflect metadata polyfill and set to Node's WebCrypto. Loaded
 * on first use (a CA to make, a leaf to sign): it and its ASN.1 stack are some megabytes of
 * heap that a process that never intercepts, the usual engine process, should not carry.
 */
export function loadX509(): Promise<X509Module> {
  loading ??= (async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    return x509;
  })();
  return loading;
}
