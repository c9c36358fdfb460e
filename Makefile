# SPDX-License-Identifier: MIT
# rvmm's entry points. `make` builds build/rvmm.elf and build/rvmm.bin; `make run` and `make test`
# first run the install step (`make deps`) and then build in a second make, so everything the
# build needs (cross compiler, libfdt sources) is there before the build rules are read.
#
#   make deps       install what is missing (Debian packages only; idempotent, fast when done)
#   make run        boot under QEMU: MEM=1G SMP=1 ARGS="kernel cmdline" QEMU_EXTRA=... VMEM=SIZE
#                   (VMEM_BUS=pci|mmio: virtio-mem over PCI, the default, or virtio-mmio)
#   make debug      the same, halted, with the GDB stub (GDB_PORT=1234); then `make gdb`
#   make gdb        gdb-multiarch on build/rvmm.elf, attached to GDB_PORT, rvmm commands loaded
#   make test       every test: host unit tests (ASan/UBSan) and QEMU system tests
#   make bench      figures: boot time by RAM size, hot-plug, virtio-mem and virtio-pmem (QUICK=1,
#                   BASELINE=old/results.txt to chart against an earlier run)
#   make fuzz       libFuzzer targets, FUZZ_SECONDS each (default 5); FUZZ_TARGETS=..., FUZZ_MERGE=1
#   make soak       random plug/unplug under stress for SECONDS (default 600)
#   make qemu       build the patched QEMU (virtio-mem on riscv virt) into /var/cache/rvmm
#   make print-qemu print that QEMU binary's path
BUILD := $(MAKE) --no-print-directory -f mk/build.mk

.PHONY: all deps run debug gdb test host-tests system-tests bench qemu print-qemu fuzz fuzz-regress soak clean format
all:
	@$(BUILD) all

deps:
	@tools/deps.sh

run: deps
	@$(BUILD) all
	@./run-qemu.sh

debug: deps
	@$(BUILD) all
	@DEBUG=1 ./run-qemu.sh

gdb:
	@gdb-multiarch -q -x tools/gdb/gdbinit build/rvmm.elf

# The patched QEMU (virtio-mem tests) is built once and then reused from its cache; when Debian's
# source tarball cannot be had (build.sh exits 2, saying why) only the virtio-mem tests skip.
QEMU_PATCHED_OR_SKIP = tools/qemu/build.sh >/dev/null || [ $$? -eq 2 ]

test: deps
	@$(QEMU_PATCHED_OR_SKIP)
	@$(BUILD) all host-build
	@python3 tests/run.py

host-tests: deps
	@$(BUILD) host-build
	@python3 tests/run.py --host-only

system-tests: deps
	@$(BUILD) all
	@python3 tests/run.py --system-only

bench: deps
	@$(QEMU_PATCHED_OR_SKIP)
	@$(BUILD) all
	@python3 tools/bench/bench.py $(if $(QUICK),--quick) $(if $(BASELINE),--baseline $(BASELINE))

qemu: deps
	@tools/qemu/build.sh >/dev/null

print-qemu:
	@tools/qemu/print-qemu.sh

fuzz: deps
	@$(BUILD) fuzz

fuzz-regress: deps
	@$(BUILD) fuzz-regress

soak: deps
	@$(QEMU_PATCHED_OR_SKIP)
	@$(BUILD) all
	@python3 tools/soak/soak.py $(if $(SECONDS),--seconds $(SECONDS))

clean:
	rm -rf build

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
