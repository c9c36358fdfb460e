#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fetch the real libfdt sources from a Debian binary package into a cache outside the clone and
# print the directory that holds them (fdt.c, fdt_ro.c, libfdt.h, ...).
#
# Why linux-source-6.1: the device-tree-compiler *source* package's orig tarball is not reliably
# served by the mirror (404 seen), while the binary package linux-source-6.1 is, and it carries
# upstream libfdt in scripts/dtc/libfdt/. The .deb is checked against the SHA256 apt's index lists
# for it; the cache is keyed by the package version, so a rerun costs nothing.
set -euo pipefail

PKG=linux-source-6.1
CACHE=${RVMM_CACHE:-/var/cache/rvmm}/libfdt

die() { echo "libfdt: $*" >&2; exit 1; }

version=$(apt-cache policy "$PKG" 2>/dev/null | awk '/Candidate:/ { print $2 }')
[ -n "$version" ] && [ "$version" != "(none)" ] ||
  die "apt knows no $PKG package (run 'apt-get update'); libfdt cannot be fetched"

out=$CACHE/$version
if [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi

want=$(apt-cache show "$PKG=$version" | awk '/^SHA256:/ { print $2; exit }')
[ -n "$want" ] || die "apt lists no SHA256 for $PKG $version"

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi

tmp=$(mktemp -d "$CACHE/tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "libfdt: downloading $PKG $version (about 140 MB) for its scripts/dtc/libfdt/" >&2
(cd "$tmp" && apt-get download -q "$PKG=$version" >/dev/null 2>"$tmp/err") ||
  die "apt-get download $PKG=$version failed: $(tail -n1 "$tmp/err")"
deb=$(ls "$tmp"/*.deb)
got=$(sha256sum "$deb" | cut -d' ' -f1)
[ "$got" = "$want" ] || die "$deb: sha256 $got, apt's index says $want"

echo "libfdt: extracting scripts/dtc/libfdt" >&2
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './usr/src/linux-source-*.tar.xz'
tarball=$(ls "$tmp"/usr/src/linux-source-*.tar.xz) || die "$PKG has no source tarball inside"
tar -xJf "$tarball" -C "$tmp" --wildcards '*/scripts/dtc/libfdt/*'
src=$(ls -d "$tmp"/linux-source-*/scripts/dtc/libfdt) || die "no scripts/dtc/libfdt in $PKG"
[ -f "$src/fdt_ro.c" ] && [ -f "$src/libfdt.h" ] || die "$src lacks fdt_ro.c or libfdt.h"

rm -rf "$out"; mkdir -p "$out"
cp "$src"/*.c "$src"/*.h "$out"/
# The kernel tree's copy ships its own libfdt_env.h for Linux; rvmm provides its own in lib/.
rm -f "$out/libfdt_env.h"
(cd "$out" && sha256sum ./*.c ./*.h > SHA256SUMS)
echo "$PKG $version $got" > "$out/SOURCE"
touch "$out/.complete"
echo "$out"
