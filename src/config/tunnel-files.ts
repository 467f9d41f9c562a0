import { accessSync, constants, readFileSync } from 'node:fs';
import { parseOpenvpnConfig } from '../backends/openvpn-config.js';
import { parseWireguardConfig } from '../backends/wireguard-config.js';

/** Why a tunnel's config file cannot be used (missing, unreadable, or not a valid profile), or null. */
export function tunnelFileProblem(type: 'wireguard' | 'openvpn', file: string): string | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return `${type} config file ${file} cannot be read (${code === 'ENOENT' ? 'no such file' : code})`;
  }
  try {
    if (type === 'wireguard') parseWireguardConfig(text);
    else parseOpenvpnConfig(text);
    return null;
  } catch (error) {
    return `${file}: ${(error as Error).message}`;
  }
}

/** Why an OpenVPN auth file cannot be read, or null. */
export function authFileProblem(file: string): string | null {
  try {
    accessSync(file, constants.R_OK);
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return `openvpn auth file ${file} cannot be read (${code === 'ENOENT' ? 'no such file' : code})`;
  }
}
