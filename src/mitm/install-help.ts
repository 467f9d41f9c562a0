/** One platform's or program's way to trust the interception CA. */
export interface InstallStep {
  /** Short key for `ca install-help --for`. */
  id: string;
  title: string;
  lines: string[];
}

/**
 * The exact steps to trust the CA at `cert` (PEM) on each platform and in each program that
 * keeps its own store. `bin` is the CLI's name, for the export commands the steps use.
 */
export function installSteps(cert: string, bin: string): InstallStep[] {
  const q = (path: string): string => (/^[\w./@%+=:,-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`);
  const c = q(cert);
  return [
    { id: 'debian', title: 'Debian, Ubuntu (system store: curl, wget, apt, Python ssl, Go)', lines: [`sudo cp ${c} /usr/local/share/ca-certificates/simple-proxy-ca.crt`, 'sudo update-ca-certificates'] },
    { id: 'fedora', title: 'Fedora, RHEL, CentOS (system store)', lines: [`sudo cp ${c} /etc/pki/ca-trust/source/anchors/simple-proxy-ca.pem`, 'sudo update-ca-trust'] },
    { id: 'macos', title: 'macOS (System keychain: Safari, Chrome, curl)', lines: [`sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${c}`] },
    {
      id: 'windows',
      title: 'Windows (machine Root store: Edge, Chrome, .NET), in an elevated prompt',
      lines: [`${bin} ca export --format der --output simple-proxy-ca.cer`, 'certutil -addstore -f ROOT simple-proxy-ca.cer', 'REM or in PowerShell: Import-Certificate -FilePath simple-proxy-ca.cer -CertStoreLocation Cert:\\LocalMachine\\Root'],
    },
    {
      id: 'firefox',
      title: 'Firefox (its own store)',
      lines: [
        'Settings > Privacy & Security > Certificates > View Certificates > Authorities > Import, tick "Trust this CA to identify websites"',
        `or from a shell, per profile: certutil -A -n simple-proxy -t C,, -i ${c} -d sql:$HOME/.mozilla/firefox/PROFILE`,
        'on Windows and macOS Firefox can use the system store instead: set security.enterprise_roots.enabled to true in about:config',
      ],
    },
    { id: 'chromium', title: 'Chromium, Chrome on Linux (NSS database)', lines: [`certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n simple-proxy -i ${c}`] },
    { id: 'node', title: 'Node.js (adds to its bundled store)', lines: [`export NODE_EXTRA_CA_CERTS=${c}`] },
    {
      id: 'python',
      title: 'Python requests (REQUESTS_CA_BUNDLE replaces the store: give it a bundle with the system CAs too)',
      lines: [`cat /etc/ssl/certs/ca-certificates.crt ${c} > ~/.simple-proxy-bundle.pem`, 'export REQUESTS_CA_BUNDLE=~/.simple-proxy-bundle.pem', `or per call: requests.get(url, verify=${JSON.stringify(cert)}) for hosts that are always intercepted`],
    },
    { id: 'curl', title: 'curl (one call)', lines: [`curl --cacert ${c} https://example.com/`] },
    { id: 'java', title: 'Java (JDK 9 and later; the default store password is changeit)', lines: [`keytool -importcert -noprompt -cacerts -storepass changeit -alias simple-proxy -file ${c}`] },
    {
      id: 'android',
      title: 'Android 7 and later',
      lines: [
        `${bin} ca export --format der --output simple-proxy-ca.crt, copy it to the device, then Settings > Security > Encryption & credentials > Install a certificate > CA certificate`,
        'caveat: apps targeting Android 7+ trust user-installed CAs only when their network_security_config says <certificates src="user"/> (debug builds of your own app); other apps keep refusing the certificate, and the proxy passes their hosts through after debug.mitm.passthrough_after_failures refusals',
      ],
    },
  ];
}

/** The steps as text, each titled, with the CA's path first. */
export function installText(cert: string, steps: InstallStep[]): string {
  const out = [`The interception CA: ${cert}`, 'Clients must trust it before they see intercepted hosts as secure. Install it only where you mean to inspect traffic.', ''];
  for (const step of steps) out.push(`${step.title}:`, ...step.lines.map((line) => `  ${line}`), '');
  return out.join('\n').trimEnd();
}
