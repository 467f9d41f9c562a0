#!/usr/bin/env bash
# Installs the Debian packages the test suite uses (real peers, real servers). Needs root for apt;
# without root it only lists what is missing, and the tests that need it skip with a reason.
set -euo pipefail
PACKAGES=(curl tmux openssl iproute2 iputils-ping procps squid tinyproxy dante-server microsocks systemd nginx-light wrk gcc libc6-dev time redis-server goaccess slapd ldap-utils pamtester wireguard-go wireguard-tools openvpn easy-rsa socat python3 bind9-dnsutils util-linux dbus-daemon gnome-keyring buildah debootstrap mkdocs mkdocs-material haproxy mitmproxy libnss3-tools chromium docker-compose python3-socks dante-client)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-system: all Debian packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "setup-system: not root or no apt-get; missing: ${missing[*]} (tests that need them will skip)"
  exit 0
fi
# Debian's postinst must not start the distro services on this machine.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && added_policy=1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
[ "$added_policy" = 1 ] && rm -f "$policy"
echo "setup-system: installed ${missing[*]}"
