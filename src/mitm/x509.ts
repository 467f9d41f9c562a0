// @peculiar/x509 needs the Reflect metadata polyfill loaded before it: this module is its only door.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** @peculiar/x509, loaded after its polyfill and set to Node's WebCrypto. */
export { x509 };
