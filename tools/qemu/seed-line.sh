#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The QEMU command line of the seed (Linux's RISC-V memory hot-plug series, its cover letter's
# "To test with virtio-mem"), with rvmm in place of U-Boot and no disk image: what a kernel
# engineer coming from the series types first. Run from the project root after `make` and
# `make qemu`; extra arguments are appended (e.g. -qmp unix:build/seed-qmp.sock,server=on,wait=off).
# stdio is muxed as the seed does it: QEMU gives the keyboard to the last front end, the PCI
# serial port, which rvmm drives as a console port.
set -eu
cd "$(dirname "$0")/../.."
q=$(tools/qemu/print-qemu.sh) || { echo "seed-line: no patched QEMU (make qemu)" >&2; exit 1; }
[ -f build/rvmm.bin ] || { echo "seed-line: no build/rvmm.bin (make)" >&2; exit 1; }
exec "$q" \
  -machine virt,aia=aplic-imsic \
  -cpu rv64,v=true,vlen=256,elen=64,h=true,zbkb=on,zbkc=on,zbkx=on,zkr=on,zkt=on,svinval=on,svnapot=on,svpbmt=on \
  -nodefaults \
  -nographic -smp 8 -kernel build/rvmm.bin \
  -device virtio-rng-pci \
  -m 16G,slots=3,maxmem=32G \
  -object memory-backend-ram,id=mem0,size=16G \
  -numa node,nodeid=0,memdev=mem0 \
  -serial chardev:char0 \
  -mon chardev=char0,mode=readline \
  -chardev stdio,mux=on,id=char0 \
  -device pci-serial,id=serial0,chardev=char0 \
  -object memory-backend-ram,id=vmem0,size=2G \
  -device virtio-mem-pci,id=vm0,memdev=vmem0,node=0 \
  "$@"
