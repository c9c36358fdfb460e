#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the patched QEMU (qemu-system-riscv64 only) that rvmm's virtio-mem tests need: Debian's
# bookworm-backports QEMU 10.0.2 source plus tools/qemu/riscv-virt-virtio-mem.patch. Behind
# `make qemu`. `build.sh --print` prints the built binary's path and nothing else (print-qemu.sh).
#
# Usage: build.sh [--print]
#   stdout: the binary's path (only that); progress and errors go to stderr.
#   exit 0: built (or already cached); 2: the QEMU source tarball cannot be had or its sha256 is
#   wrong (callers may skip only the virtio-mem tests); 1: anything else (patch, configure, build);
#   --print: 1 when no build for the current patch/flags exists.
#
# Cache ($RVMM_QEMU_CACHE, default /var/cache/rvmm/qemu), outside the clone so it survives it:
#   dl/qemu_10.0.2+ds.orig.tar.xz   the tarball, and .sha256 beside it once verified against the
#                                   Checksums-Sha256 that `apt-cache showsrc qemu` prints
#   tree-<srckey>/{src,build}       unpacked+patched source and ninja build dir; srckey hashes the
#                                   tarball sha256 and the configure flags only, so a patch change
#                                   reverts the old patch (applied.patch), applies the new one and
#                                   rebuilds incrementally in the same build dir
#   <key>/bin/qemu-system-riscv64   the result; key hashes tarball sha256 + configure flags + the
#   <key>/stamp                     patch's sha256; stamp is written last, so its presence means done
# The fast path (stamp present) touches neither apt nor the lock: well under a second.
# Two invocations serialise on an flock of $CACHE/.lock. Remove $CACHE to start over.
set -Eeuo pipefail  # -E: the ERR trap below also reports failures inside functions

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PATCH=$HERE/riscv-virt-virtio-mem.patch
CACHE=${RVMM_QEMU_CACHE:-/var/cache/rvmm/qemu}
# The patch is written against this upstream release; any Debian revision that ships this orig
# tarball will do, so a new ~bpo revision does not break us.
ORIG=qemu_10.0.2+ds.orig.tar.xz
SUITE=bookworm-backports
TARGET=qemu-system-riscv64
CONFIG_FLAGS=(
  --python=/usr/bin/python3 --target-list=riscv64-softmmu --without-default-features
  --disable-docs --disable-tools --disable-user --enable-fdt=system --enable-slirp
  # Not relocatable: firmware (-bios default) is then always looked up in /usr/share/qemu,
  # not relative to where the binary sits in the cache.
  --disable-relocatable
  --prefix=/usr --firmwarepath=/usr/share/qemu
)

T0=$SECONDS
say() { printf 'qemu-build: %s\n' "$*" >&2; }
# Progress on stderr: the phase with its number out of six, what it does, seconds since the start:
#   qemu-build: [6/6 build] 1234/2468 steps (50%, ~300s left) (412s)
PHASES=(download verify unpack patch configure build)
step() {
  local s=$1 i tag; shift
  tag=$s
  for i in "${!PHASES[@]}"; do [ "${PHASES[$i]}" = "$s" ] && tag="$((i + 1))/${#PHASES[@]} $s"; done
  printf 'qemu-build: [%s] %s (%ds)\n' "$tag" "$*" $((SECONDS - T0)) >&2
}
die() { say "error: $*"; exit 1; }
unavailable() {  # the one failure callers may treat as "skip the virtio-mem tests"
  say "QEMU source unavailable: $*"
  say "the virtio-mem tests cannot run without the patched QEMU; exiting with status 2"
  exit 2
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
trap 'say "error: \"$BASH_COMMAND\" failed (line $LINENO)"' ERR

# key <tarball-sha256> [patch-sha256]: 16 hex digits over the inputs (flags one per line).
key() { { printf '%s\n' "$@"; printf '%s\n' "${CONFIG_FLAGS[@]}"; } | sha256sum | cut -c1-16; }

result_path() {  # prints the finished binary for the current inputs, if there is one
  local tsha
  [ -s "$CACHE/dl/$ORIG.sha256" ] || return 1
  tsha=$(cat "$CACHE/dl/$ORIG.sha256")
  local dir
  dir=$CACHE/$(key "$tsha" "$(sha "$PATCH")")
  [ -f "$dir/stamp" ] && [ -x "$dir/bin/$TARGET" ] || return 1
  printf '%s\n' "$dir/bin/$TARGET"
}

if [ "${1:-}" = "--print" ]; then
  result_path && exit 0
  echo "print-qemu: no patched QEMU built for the current patch and flags; run 'make qemu'" >&2
  exit 1
fi
[ $# -eq 0 ] || die "usage: $0 [--print]"

if result_path; then exit 0; fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
mkdir -p "$CACHE" 2>/dev/null || $SUDO install -d -o "$(id -u)" -g "$(id -g)" "$CACHE"

exec 9>"$CACHE/.lock"
if ! flock -n 9; then
  say "another build holds $CACHE/.lock; waiting"
  flock 9
fi
# The other invocation may just have built what we want.
if result_path; then exit 0; fi

for t in meson ninja pkg-config patch xz tar python3 cc; do
  command -v "$t" >/dev/null || die "'$t' is missing; run 'make deps' (tools/deps.sh)"
done

# ---------------------------------------------------------------------------------- apt source
# shellcheck source=tools/lib/apt-mirror.sh
. "$(dirname "$0")/../lib/apt-mirror.sh"

# Prints the file holding an enabled deb-src entry for $SUITE, if any.
debsrc_file() {
  local f
  f=$(awk -v suite="$SUITE" '
      function flush() { if (t && s && !off) { print sf; found = 1; exit } t = s = off = 0 }
      FNR == 1 { flush(); sf = FILENAME }
      /^[ \t]*$/ { flush(); next }
      /^Types:/ && / deb-src( |$)/ { t = 1 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) s = 1 }
      /^Enabled:[ \t]*no/ { off = 1 }
      END { if (!found) flush() }' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1) || true
  [ -n "$f" ] || f=$(grep -Els "^[[:space:]]*deb-src[[:space:]].*[[:space:]]$SUITE([[:space:]]|$)" \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1) || true
  echo "$f"
}

# Adds a deb-src entry for $SUITE (and only it) when none exists; prints the file to update.
ensure_debsrc() {
  local f ours=/etc/apt/sources.list.d/rvmm-bookworm-backports.sources m
  f=$(debsrc_file)
  if [ -n "$f" ]; then echo "$f"; return; fi
  if [ -f "$ours" ] && grep -q '^Types:' "$ours"; then
    # deps.sh's own file: add deb-src to its Types.
    step download "adding deb-src to $ours"
    $SUDO sed -i 's/^Types:.*/Types: deb deb-src/' "$ours"
    echo "$ours"; return
  fi
  m=$(apt_mirror)
  [ -n "$m" ] || unavailable "no Debian mirror found in /etc/apt/sources.list{,.d} to add a $SUITE deb-src entry"
  f=/etc/apt/sources.list.d/rvmm-bookworm-backports-src.sources
  step download "adding a $SUITE deb-src entry from $m to $f"
  printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$m" "$SUITE" | $SUDO tee "$f" >/dev/null
  echo "$f"
}

# Prints "<debian-version> <sha256>" of the first source stanza that ships $ORIG.
find_source() {
  { apt-cache showsrc qemu 2>/dev/null || true; } | awk -v orig="$ORIG" '
    /^Package:/ { v = ""; sec = 0 }
    /^Version:/ { v = $2 }
    /^[^ ]/ && !/^Checksums-Sha256:/ { sec = 0 }
    /^Checksums-Sha256:/ { sec = 1; next }
    sec && $3 == orig { print v, $1; exit }'
}

DL=$CACHE/dl
mkdir -p "$DL"
if [ -s "$DL/$ORIG.sha256" ] && [ -f "$DL/$ORIG" ]; then
  TSHA=$(cat "$DL/$ORIG.sha256")
else
  step download "looking up $ORIG in $SUITE source index"
  listfile=$(ensure_debsrc)
  src=$(find_source)
  if [ -z "$src" ]; then
    # Lists may predate the deb-src entry: refresh just that file, leave other lists alone.
    step download "apt-get update for $listfile only"
    $SUDO apt-get update -qq -o Dir::Etc::SourceList="$listfile" -o Dir::Etc::SourceParts=- \
      -o APT::Get::List-Cleanup=0 >&2 || say "apt-get update reported errors; trying anyway"
    src=$(find_source)
  fi
  [ -n "$src" ] || unavailable "'apt-cache showsrc qemu' lists no version shipping $ORIG"
  read -r DEBVER TSHA <<<"$src"
  if [ ! -f "$DL/$ORIG" ] || [ "$(sha "$DL/$ORIG")" != "$TSHA" ]; then
    step download "apt-get source --download-only qemu=$DEBVER"
    tmp=$DL/tmp.$$; rm -rf "$tmp"; mkdir -p "$tmp"
    # The .dsc and .debian.tar.xz may answer 404 (gone from the pool while the index still
    # lists them): apt then fails, yet the orig tarball may have arrived. Judge by the tarball.
    (cd "$tmp" && apt-get source --download-only "qemu=$DEBVER") >"$DL/download.log" 2>&1 || true
    [ -f "$tmp/$ORIG" ] || { tail -n 5 "$DL/download.log" >&2; rm -rf "$tmp"; unavailable "download of $ORIG failed (log: $DL/download.log)"; }
    mv -f "$tmp/$ORIG" "$DL/$ORIG"; rm -rf "$tmp"
  fi
  step verify "sha256 of $ORIG against apt-cache showsrc ($DEBVER)"
  got=$(sha "$DL/$ORIG")
  if [ "$got" != "$TSHA" ]; then
    rm -f "$DL/$ORIG"
    unavailable "$ORIG sha256 is $got, apt says $TSHA"
  fi
  echo "$TSHA" >"$DL/$ORIG.sha256"
fi

PSHA=$(sha "$PATCH")
KEY=$(key "$TSHA" "$PSHA")
TREE=$CACHE/tree-$(key "$TSHA")
SRC=$TREE/src BLD=$TREE/build
mkdir -p "$TREE"

# -------------------------------------------------------------------------------------- unpack
unpack() {
  rm -rf "$SRC" "$BLD" "$TREE/applied.patch" "$TREE/unpacked" "$TREE/configured"
  step unpack "$ORIG -> $SRC"
  mkdir -p "$SRC"
  tar -xJf "$DL/$ORIG" -C "$SRC" --strip-components=1
  # With bzip2 present pc-bios/meson.build names edk2 *.fd.bz2 images and other firmware the
  # +ds tarball dropped; meson only needs them to exist. Nothing we build or run reads them
  # (firmware comes from /usr/share/qemu).
  awk '/^  fds = \[/ { f = 1; next } /^blobs = \[/ { b = 1; next } /^ *\]/ { f = b = 0 }
       (f || b) && match($0, /'"'"'[^'"'"']+'"'"'/) {
         n = substr($0, RSTART + 1, RLENGTH - 2); print (f ? n ".bz2" : n) }' \
    "$SRC/pc-bios/meson.build" | while IFS= read -r n; do
      [ -e "$SRC/pc-bios/$n" ] || : >"$SRC/pc-bios/$n"
    done
  touch "$TREE/unpacked"
}
[ -f "$TREE/unpacked" ] || unpack

# --------------------------------------------------------------------------------------- patch
if [ -f "$TREE/applied.patch" ] && ! cmp -s "$TREE/applied.patch" "$PATCH"; then
  step patch "reverting the previously applied patch"
  if patch -d "$SRC" -p1 -R --batch -s <"$TREE/applied.patch" >&2; then
    rm -f "$TREE/applied.patch"
  else
    say "could not revert the old patch; starting from a fresh tree (full rebuild)"
    unpack
  fi
fi
if [ ! -f "$TREE/applied.patch" ]; then
  step patch "applying $(basename "$PATCH")"
  patch -d "$SRC" -p1 --dry-run --batch -s <"$PATCH" >&2 || die "patch does not apply to $ORIG"
  patch -d "$SRC" -p1 --batch -s <"$PATCH" >&2
  cp "$PATCH" "$TREE/applied.patch"
fi

# ----------------------------------------------------------------------------------- configure
if [ ! -f "$TREE/configured" ]; then
  step configure "${CONFIG_FLAGS[*]}"
  rm -rf "$BLD"; mkdir -p "$BLD"
  if ! (cd "$BLD" && nice -n 10 "$SRC/configure" "${CONFIG_FLAGS[@]}") >"$TREE/configure.log" 2>&1; then
    tail -n 20 "$TREE/configure.log" >&2
    die "configure failed (log: $TREE/configure.log)"
  fi
  touch "$TREE/configured"
fi

# --------------------------------------------------------------------------------------- build
# Reads ninja's output, keeps it in a log and prints "[N/M]" progress about every 10 s (also
# while a long step such as the final link prints nothing).
progress() {
  local log=$1 line="" nm="" n m last=$SECONDS t0=$SECONDS rc=1 st eta
  : >"$log"
  while :; do
    st=0; IFS= read -r -t 10 line || st=$?
    if [ -n "$line" ]; then
      case $line in
        __ninja_rc=*) rc=${line#__ninja_rc=} ;;
        '['[0-9]*/[0-9]*']'*) nm=${line%%]*}; nm=${nm#[}; printf '%s\n' "$line" >>"$log" ;;
        *) printf '%s\n' "$line" >>"$log" ;;
      esac
      line=""
    fi
    [ "$st" -eq 0 ] || [ "$st" -gt 128 ] || break   # EOF
    if [ $((SECONDS - last)) -ge 10 ] && [ -n "$nm" ]; then
      last=$SECONDS; n=${nm%/*}; m=${nm#*/}; eta=""
      # Early steps are quick code generation: only guess the rest once half is done.
      [ $((2 * n)) -ge "$m" ] && eta=", ~$(( (SECONDS - t0) * (m - n) / n ))s left"
      step build "$n/$m steps ($((100 * n / m))%$eta)"
    fi
  done
  return "$rc"
}
step build "ninja $TARGET in $BLD (log: $TREE/build.log)"
if ! { nice -n 10 ninja -C "$BLD" "$TARGET" 2>&1; echo "__ninja_rc=$?"; } | progress "$TREE/build.log"; then
  grep -E -B2 -A8 'error|FAILED' "$TREE/build.log" | tail -n 40 >&2 || tail -n 30 "$TREE/build.log" >&2
  die "build failed (log: $TREE/build.log)"
fi

# ------------------------------------------------------------------------------------- install
OUT=$CACHE/$KEY
rm -rf "$OUT.tmp" "$OUT"
mkdir -p "$OUT.tmp/bin"
cp "$BLD/$TARGET" "$OUT.tmp/bin/$TARGET"
{
  echo "orig: $ORIG sha256 $TSHA"
  echo "patch: $(basename "$PATCH") sha256 $PSHA"
  echo "configure: ${CONFIG_FLAGS[*]}"
  echo "built: $(date -u +%FT%TZ) in $((SECONDS - T0))s"
} >"$OUT.tmp/stamp"
mv "$OUT.tmp" "$OUT"
step "done" "$OUT/bin/$TARGET"
printf '%s\n' "$OUT/bin/$TARGET"
