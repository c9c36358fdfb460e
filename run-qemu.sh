#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The one place QEMU command lines are composed (make run/debug, tests and benchmarks use it).
#
#   MEM=1G SMP=1 ARGS="mem=512M" QEMU_EXTRA="..." VMEM=8G PMEM=pmem.img:4G DEBUG=1 GDB_PORT=1234 \
#     ./run-qemu.sh
#
# MEM      guest RAM (-m). Above 8G the RAM backend reserves nothing on the host, so guests far
#          larger than the host boot as long as they do not touch all their memory.
# SMP      harts.          ARGS  kernel command line.     QEMU_EXTRA  appended verbatim.
# VMEM     add a virtio-mem device of that maximum size (needs the patched QEMU, make qemu),
#          with QMP on $QMP_SOCK (default build/qmp.sock) and the monitor on $MON_SOCK.
#          VMEM_BUS=pci (default: virtio-mem-pci) or mmio (virtio-mem-mmio in a virtio-mmio slot);
#          VMEM_REQUESTED its size at boot, VMEM_BLOCK its block size, VMEM_NODE its NUMA node.
# PMEM     virtio-pmem devices (patched QEMU): FILE:SIZE[,FILE:SIZE...], each a memory-backend-file
#          (share=on; the file is created at SIZE if missing), or ram:SIZE for a RAM backend (whose
#          flushes fail: no file to sync). maxmem grows by their sizes.
# DEBUG=1  start halted with the GDB stub on GDB_PORT (1234).   GDB_STUB=1  the stub, not halted.
# ICOUNT=1 deterministic guest time.
# KERNEL   the image (default build/rvmm.bin).          DTB   use this device tree instead.
set -euo pipefail
cd "$(dirname "$0")"

MEM=${MEM:-1G}
SMP=${SMP:-1}
ARGS=${ARGS:-}
KERNEL=${KERNEL:-build/rvmm.bin}
QEMU=${QEMU:-qemu-system-riscv64}

to_mib() {  # 512M, 4G, 1T, 1024 (MiB) -> MiB
	local v=${1^^}
	case "$v" in
	*T) echo $(( ${v%T} * 1024 * 1024 )) ;;
	*G) echo $(( ${v%G} * 1024 )) ;;
	*M) echo "${v%M}" ;;
	*) echo "$v" ;;
	esac
}

mem_mib=$(to_mib "$MEM")
machine="virt"
cmd=()
mem_opt="${mem_mib}M"

if [ -n "${VMEM:-}" ]; then
	[ -n "${QEMU_PATCHED:-}" ] || QEMU_PATCHED=$(tools/qemu/print-qemu.sh) || {
		echo "run-qemu: VMEM needs the patched QEMU: run 'make qemu' first" >&2; exit 1; }
	QEMU=$QEMU_PATCHED
	vmem_mib=$(to_mib "$VMEM")
	mem_opt="${mem_mib}M,maxmem=$(( mem_mib + vmem_mib ))M"
	QMP_SOCK=${QMP_SOCK:-build/qmp.sock}
	MON_SOCK=${MON_SOCK:-build/monitor.sock}
	case "${VMEM_BUS:-pci}" in
	pci) vmem_dev=virtio-mem-pci ;;
	mmio) vmem_dev=virtio-mem-mmio ;;  # modern virtio-mmio: force-legacy=false below
	*) echo "run-qemu: VMEM_BUS must be pci or mmio, not '$VMEM_BUS'" >&2; exit 1 ;;
	esac
	cmd+=(-object "memory-backend-ram,id=vmem0,size=${vmem_mib}M,reserve=off"
	      -device "$vmem_dev,id=vm0,memdev=vmem0,requested-size=${VMEM_REQUESTED:-0}${VMEM_BLOCK:+,block-size=$VMEM_BLOCK}${VMEM_NODE:+,node=$VMEM_NODE}"
	      -qmp "unix:$QMP_SOCK,server=on,wait=off"
	      -monitor "unix:$MON_SOCK,server=on,wait=off")
fi

if [ -n "${PMEM:-}" ]; then
	[ -n "${QEMU_PATCHED:-}" ] || QEMU_PATCHED=$(tools/qemu/print-qemu.sh) || {
		echo "run-qemu: PMEM needs the patched QEMU: run 'make qemu' first" >&2; exit 1; }
	QEMU=$QEMU_PATCHED
	pmem_total=0
	i=0
	IFS=, read -ra pmems <<< "$PMEM"
	for p in "${pmems[@]}"; do
		file=${p%:*}
		pm_mib=$(to_mib "${p##*:}")
		if [ "$file" = ram ]; then
			cmd+=(-object "memory-backend-ram,id=pmem$i,size=${pm_mib}M")
		else
			cmd+=(-object "memory-backend-file,id=pmem$i,share=on,mem-path=$file,size=${pm_mib}M")
		fi
		cmd+=(-device "virtio-pmem-pci,memdev=pmem$i,id=nv$i")
		pmem_total=$(( pmem_total + pm_mib ))
		i=$(( i + 1 ))
	done
	base=${mem_opt%%,*}
	cur=$mem_mib
	[ "$base" != "$mem_opt" ] && cur=$(( mem_mib + vmem_mib ))
	mem_opt="${base},maxmem=$(( cur + pmem_total ))M"
fi

# Past 8 GiB, a RAM backend that reserves nothing: a plain -m 64G fails on a 24 GiB host.
if [ "$mem_mib" -gt 8192 ]; then
	machine="virt,memory-backend=ram0"
	cmd+=(-object "memory-backend-ram,id=ram0,size=${mem_mib}M,reserve=off")
fi

cmd=("$QEMU" -machine "$machine" -cpu "${CPU:-rv64}" -m "$mem_opt" -smp "$SMP" -nographic
     -bios default -kernel "$KERNEL" -append "$ARGS"
     -global virtio-mmio.force-legacy=false "${cmd[@]}")
[ -n "${DTB:-}" ] && cmd+=(-dtb "$DTB")
if [ "${ICOUNT:-0}" = 1 ]; then
	cmd+=(-icount shift=0,sleep=off -seed 1 -rtc base=2020-01-01T00:00:00,clock=vm)
fi
if [ "${DEBUG:-0}" = 1 ] || [ "${GDB_STUB:-0}" = 1 ]; then
	port=${GDB_PORT:-1234}
	cmd+=(-gdb "tcp::$port")
	if [ "${DEBUG:-0}" = 1 ]; then
		echo "run-qemu: halted, GDB stub on tcp::$port; attach with 'make gdb GDB_PORT=$port'" >&2
		cmd+=(-S)
	fi
fi
# shellcheck disable=SC2206
[ -n "${QEMU_EXTRA:-}" ] && cmd+=($QEMU_EXTRA)
[ "${VERBOSE:-0}" = 1 ] && echo "${cmd[*]}" >&2
if [ -t 0 ] || [ "${DEBUG:-0}" = 1 ]; then
	exec "${cmd[@]}"
fi
# Input piped in before boot: OpenSBI switches the UART's FIFOs on, and that drops the byte
# waiting in the receive register. Lead with a newline to be that byte (an empty line is harmless).
exec "${cmd[@]}" < <(printf '\n'; exec cat)
