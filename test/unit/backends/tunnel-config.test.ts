import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWireguardConfig } from '../../../src/backends/wireguard-config.js';
import { parseOpenvpnConfig } from '../../../src/backends/openvpn-config.js';

const PRIVATE = 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=';
const PUBLIC = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';

test('wg-quick .conf: the fields the spec names are parsed', () => {
  const config = parseWireguardConfig(
    `[Interface]\nPrivateKey = ${PRIVATE}\nAddress = 10.0.0.2/32, fd00::2/128\nDNS = 1.1.1.1\nMTU = 1380\n\n[Peer]\n# comment\nPublicKey = ${PUBLIC}\nEndpoint = vpn.example.com:51820\nAllowedIPs = 0.0.0.0/0, ::/0\nPersistentKeepalive = 25\n`,
  );
  assert.deepEqual(config.iface, { privateKey: PRIVATE, addresses: ['10.0.0.2/32', 'fd00::2/128'], dns: ['1.1.1.1'], mtu: 1380 });
  assert.deepEqual(config.peers, [{ publicKey: PUBLIC, endpoint: 'vpn.example.com:51820', allowedIps: ['0.0.0.0/0', '::/0'], persistentKeepalive: 25 }]);
});

test('wg-quick .conf: each broken line is named', () => {
  const cases: [string, string][] = [
    ['PrivateKey = x\n', 'line 1: "PrivateKey" outside a section (expected [Interface] first)'],
    [`[Interface]\nPrivateKey = ${PRIVATE}\nAdress = 10.0.0.2/32\n`, 'line 3: unknown [Interface] key "Adress"'],
    [`[Interface]\nPrivateKey = ${PRIVATE}\nAddress = ten\n`, 'line 3: Address "ten" is not an IP address or CIDR'],
    [`[Interface]\nPrivateKey = ${PRIVATE}\n[Peer]\nEndpoint = host\n`, 'line 4: Endpoint "host" is not host:port'],
    [`[Interface]\nPrivateKey = ${PRIVATE}\n[Peer]\nAllowedIPs = 0.0.0.0/0\n`, 'line 3: [Peer] has no PublicKey'],
    [`[Interface]\nPrivateKey = ${PRIVATE}\n`, 'line 3: no [Peer] section'],
    ['[Tunnel]\n', 'line 1: unknown section [Tunnel] (expected [Interface] or [Peer])'],
    [`[Interface]\nPrivateKey = ${PRIVATE}\nAddress 10.0.0.2\n`, 'line 3: expected "Key = Value", got "Address 10.0.0.2"'],
  ];
  for (const [text, message] of cases) assert.throws(() => parseWireguardConfig(text), { message });
});

test('.ovpn: remotes, auth-user-pass and inline blocks; broken lines named', () => {
  const config = parseOpenvpnConfig('client\ndev tun\nproto udp\nremote vpn.example.com 1194\nauth-user-pass\n<ca>\n-----BEGIN CERTIFICATE-----\n</ca>\nverb 3\n');
  assert.deepEqual(config.remotes, [{ host: 'vpn.example.com', port: 1194, proto: undefined }]);
  assert.equal(config.authUserPass, true);
  assert.deepEqual(config.inline, ['ca']);
  assert.throws(() => parseOpenvpnConfig('client\ndev tun\n'), { message: 'line 3: no "remote" directive (the server to connect to)' });
  assert.throws(() => parseOpenvpnConfig('remote h 99999\n'), { message: 'line 1: "99999" is not a port' });
  assert.throws(() => parseOpenvpnConfig('remote h\n<ca>\nxx\n'), { message: 'line 2: <ca> is never closed' });
  assert.throws(() => parseOpenvpnConfig('remote h\ndev tap0\n'), { message: 'line 2: "dev tap0" is not supported (only tun)' });
});
