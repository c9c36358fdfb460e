#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install step behind `make deps`: installs what rvmm needs from Debian, and nothing from anywhere
# else. Idempotent; when everything is present it only checks and returns (well under a second).
#
# bookworm-backports (QEMU 10, OpenSBI 1.5, meson for the patched QEMU) is added with the mirror
# read from the host's own apt sources; no host name is written into the repository and no other
# release is ever added.
set -euo pipefail

# package[=suite]: the suite, when given, is where apt must take it from.
PKGS=(
  gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf picolibc-riscv64-unknown-elf
  gdb-multiarch device-tree-compiler python3 clang llvm libclang-rt-14-dev
  python3-matplotlib
  qemu-system-riscv=bookworm-backports opensbi=bookworm-backports
)
# Only needed to build the patched QEMU (tools/qemu/build.sh): listed here so one step installs all.
QEMU_BUILD_PKGS=(
  meson=bookworm-backports python3-pycotap=bookworm-backports ninja-build pkg-config
  libglib2.0-dev libfdt-dev libslirp-dev libpixman-1-dev xz-utils bzip2 gcc make patch python3-venv
)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

want_version_ok() {  # pkg suite -> 0 if installed from a suite that satisfies us
  local pkg=$1 suite=$2 v
  v=$(dpkg-query -W -f='${Status} ${Version}\n' "$pkg" 2>/dev/null) || return 1
  case "$v" in "install ok installed"*) ;; *) return 1 ;; esac
  [ -z "$suite" ] && return 0
  # A backports version carries "~bpo12" in its version string.
  case "$v" in *bpo12*) return 0 ;; *) return 1 ;; esac
}

missing=()
for spec in "${PKGS[@]}" "${QEMU_BUILD_PKGS[@]}"; do
  pkg=${spec%%=*}; suite=""; [ "$spec" != "$pkg" ] && suite=${spec#*=}
  want_version_ok "$pkg" "$suite" || missing+=("$spec")
done
[ ${#missing[@]} -eq 0 ] && exit 0

# shellcheck source=tools/lib/apt-mirror.sh
. "$(dirname "$0")/lib/apt-mirror.sh"

bp_file=/etc/apt/sources.list.d/rvmm-bookworm-backports.sources
if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  m=$(apt_mirror)
  if [ -z "$m" ]; then
    echo "deps: cannot find a Debian mirror in /etc/apt/sources.list{,.d}; add bookworm-backports by hand" >&2
    exit 1
  fi
  echo "deps: adding bookworm-backports from $m"
  printf 'Types: deb deb-src\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$m" | $SUDO tee "$bp_file" >/dev/null
fi

echo "deps: installing ${missing[*]}"
$SUDO apt-get update -qq
plain=(); bp=()
for spec in "${missing[@]}"; do
  case "$spec" in *=bookworm-backports) bp+=("${spec%%=*}") ;; *) plain+=("$spec") ;; esac
done
export DEBIAN_FRONTEND=noninteractive
[ ${#plain[@]} -eq 0 ] || $SUDO apt-get install -y -qq --no-install-recommends "${plain[@]}" >/dev/null
[ ${#bp[@]} -eq 0 ] || $SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports "${bp[@]}" >/dev/null
echo "deps: done"
