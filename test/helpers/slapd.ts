import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTlsFiles, type TlsFiles } from './tls-files.js';
import { freePort, waitForPort } from './ports.js';

/** A throwaway OpenLDAP server on loopback: plain (with StartTLS) and ldaps ports, a CA to trust. */
export interface Slapd {
  url: string;
  ldapsUrl: string;
  tls: TlsFiles;
  baseDn: string;
  serviceDn: string;
  servicePassword: string;
  stop(): Promise<void>;
}

const SLAPD = '/usr/sbin/slapd';
const SLAPADD = '/usr/sbin/slapadd';

/** Why slapd cannot run here, or null when it can. */
export function slapdUnavailable(): string | null {
  if (!existsSync(SLAPD) || !existsSync(SLAPADD)) return 'slapd is not installed (Debian packages slapd and ldap-utils; run scripts/setup-system.sh as root)';
  if (spawnSync('openssl', ['version']).status !== 0) return 'openssl is not installed';
  return null;
}

/**
 * Configures slapd in a temp dir (cn=config and the data loaded with slapadd) and starts it on two
 * loopback ports. People: carol (groups proxy-users, streaming) and dave (no group), passwords
 * `carol-pw` and `dave-pw`; a service account for the search bind.
 */
export async function startSlapd(): Promise<Slapd> {
  const dir = mkdtempSync(join(tmpdir(), 'sp-slapd-'));
  const tls = makeTlsFiles(dir);
  const baseDn = 'dc=example,dc=com';
  const configDir = join(dir, 'slapd.d');
  mkdirSync(configDir);
  mkdirSync(join(dir, 'db'));
  writeFileSync(
    join(dir, 'config.ldif'),
    `dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: ${dir}/slapd.pid
olcTLSCACertificateFile: ${tls.ca}
olcTLSCertificateFile: ${tls.cert}
olcTLSCertificateKeyFile: ${tls.key}

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: ${baseDn}
olcRootDN: cn=admin,${baseDn}
olcDbDirectory: ${dir}/db
olcDbMaxSize: 10485760
olcAccess: {0}to attrs=userPassword by anonymous auth by * none
olcAccess: {1}to * by users read by * none
`,
  );
  const person = (uid: string, password: string): string =>
    `dn: uid=${uid},ou=people,${baseDn}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: ${uid}\nsn: ${uid}\nuserPassword: ${password}\n`;
  const group = (cn: string, members: string[]): string =>
    `dn: cn=${cn},ou=groups,${baseDn}\nobjectClass: groupOfNames\ncn: ${cn}\n${members.map((m) => `member: uid=${m},ou=people,${baseDn}`).join('\n')}\n`;
  writeFileSync(
    join(dir, 'data.ldif'),
    [
      `dn: ${baseDn}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n`,
      `dn: ou=people,${baseDn}\nobjectClass: organizationalUnit\nou: people\n`,
      `dn: ou=groups,${baseDn}\nobjectClass: organizationalUnit\nou: groups\n`,
      `dn: cn=service,${baseDn}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: service\nuserPassword: service-pw\n`,
      person('carol', 'carol-pw'),
      person('dave', 'dave-pw'),
      group('proxy-users', ['carol']),
      group('streaming', ['carol']),
      // A group with a member nobody is, so dave is in no group at all.
      `dn: cn=nobody,ou=groups,${baseDn}\nobjectClass: groupOfNames\ncn: nobody\nmember: cn=service,${baseDn}\n`,
    ].join('\n'),
  );
  for (const [db, file] of [['0', 'config.ldif'], ['1', 'data.ldif']]) {
    const result = spawnSync(SLAPADD, ['-n', db, '-F', configDir, '-l', join(dir, file)], { encoding: 'utf8', timeout: 30_000 });
    if (result.status !== 0) throw new Error(`slapadd ${file} failed: ${result.stderr}`);
  }
  const [port, ldapsPort] = [await freePort(), await freePort()];
  let output = '';
  const child = spawn(SLAPD, ['-d', '0', '-F', configDir, '-h', `ldap://127.0.0.1:${port}/ ldaps://127.0.0.1:${ldapsPort}/`], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, 'slapd', () => output);
    await waitForPort(ldapsPort, child, 'slapd', () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `ldap://127.0.0.1:${port}`, ldapsUrl: `ldaps://127.0.0.1:${ldapsPort}`, tls, baseDn, serviceDn: `cn=service,${baseDn}`, servicePassword: 'service-pw', stop };
}
