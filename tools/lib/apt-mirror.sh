# SPDX-License-Identifier: MIT
# Sourced by tools/deps.sh and tools/qemu/build.sh: apt_mirror prints the Debian mirror the host
# already uses (deb822 .sources first, then one-line sources.list), so nothing in the repository
# names a host.
apt_mirror() {
  local m=""
  m=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /debian\/?$/) { print $i; exit } }' \
        /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1) || true
  [ -n "$m" ] || m=$(awk '$1 == "deb" && $0 ~ / bookworm / { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file|mirror)/) { print $i; exit } }' \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1) || true
  echo "$m"
}
