import type { Role } from '../role.js';

/** A commented starting config for a role: what the embedded default does, written out. */
export function configTemplate(role: Role): string {
  if (role === 'client') {
    return `# simple-proxy client configuration
client:
  http_port: 3128           # local HTTP/HTTPS proxy port
  socks5_port: 1081         # local SOCKS5 proxy port
  bind_address: "127.0.0.1" # only local connections
  log_level: "info"         # debug, info, warn, error

# Clients outside trusted_clients may CONNECT only to connect_ports (443), send plain requests
# only to safe_ports, and reach no loopback or link-local (cloud metadata) address.
# access_control:
#   trusted_clients: ["127.0.0.0/8", "::1"]  # default: this machine (its user reaches local ports anyway)

# The simple-proxy server to send chosen traffic to:
# server:
#   address: "proxy-server.example.com:8080"
#   protocol: "http"        # http, https, socks5

# Routing rules: first match wins. "action: server" needs the server section above.
rules:
  - name: "Default direct"
    match:
      domains:
        - "*"
    action: "direct"
`;
  }
  return `# simple-proxy server configuration
server:
  http_port: 8080           # HTTP/HTTPS proxy port
  socks5_port: 1080         # SOCKS5 proxy port
  bind_address: "127.0.0.1" # listen on loopback only; use 0.0.0.0 for other hosts
  log_level: "info"         # debug, info, warn, error

# Every client may CONNECT only to connect_ports (443), send plain requests only to safe_ports,
# and reach no loopback or link-local (cloud metadata) address, unless trusted_clients lists it.
# access_control:
#   trusted_clients: []     # default: none, not even loopback (a TLS terminator or SSH forward
#                           # on this host would otherwise make every user behind it trusted)

backends:
  - name: "direct"
    type: "direct"

# Routing rules: first match wins.
rules:
  - name: "Default"
    match:
      domains:
        - "*"
    backend: "direct"
`;
}
