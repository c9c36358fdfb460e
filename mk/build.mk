# SPDX-License-Identifier: MIT
# Build rules, read only after `make deps` (see the top Makefile): the kernel for RISC-V, and the
# host builds of the same sources for unit tests (fragments under tests/host/).
BUILD_DIR := build
CROSS := riscv64-unknown-elf-
CC := $(CROSS)gcc
OBJCOPY := $(CROSS)objcopy

include lib/libfdt.mk

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

ARCH_CFLAGS := -march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany
CFLAGS := $(ARCH_CFLAGS) --specs=picolibc.specs -std=gnu11 -O2 -g -ffreestanding -fno-common \
	-fno-omit-frame-pointer -fno-stack-protector -fno-pic -fno-builtin-printf \
	-Wall -Wextra -Werror -Iinclude -Iarch/riscv/include $(LIBFDT_CFLAGS) -MMD -MP
ifeq ($(LOCKDEP),1)
CFLAGS += -DLOCKDEP
endif
# The multilib (rv64imac/lp64 picolibc and libgcc) is chosen from -march, which must not name
# zicsr/zifencei for gcc 12 to find it.
LDFLAGS := -march=rv64imac -mabi=lp64 -mcmodel=medany --specs=picolibc.specs -nostartfiles -static -T linker.ld \
	-Wl,--no-warn-rwx-segments -Wl,-z,max-page-size=4096

KERNEL_SRCS := $(wildcard arch/riscv/*.c arch/riscv/*.S kernel/*.c kernel/mm/*.c kernel/mm/diag/*.c \
	drivers/*.c drivers/*/*.c lib/*.c)
KERNEL_OBJS := $(patsubst %,$(BUILD_DIR)/target/%.o,$(KERNEL_SRCS)) $(BUILD_DIR)/target/version.o

# The version string lives in one generated file, rewritten only when `git describe` changes: a
# -D flag would leave objects built before a commit naming the old version.
VERSION_C := $(BUILD_DIR)/target/version.c
VERSION_LINE := const char rvmm_version[] = "$(VERSION)";
$(shell mkdir -p $(BUILD_DIR)/target && (echo '$(VERSION_LINE)' | cmp -s - $(VERSION_C) || \
	echo '$(VERSION_LINE)' > $(VERSION_C)))
LIBFDT_OBJS := $(patsubst $(LIBFDT_DIR)/%.c,$(BUILD_DIR)/target/libfdt/%.o,$(LIBFDT_SRCS))

.PHONY: all host-build
all: $(BUILD_DIR)/rvmm.elf $(BUILD_DIR)/rvmm.bin

# V=1 shows the commands.
Q := $(if $(filter 1,$(V)),,@)

$(BUILD_DIR)/rvmm.elf: $(KERNEL_OBJS) $(LIBFDT_OBJS) linker.ld
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(KERNEL_OBJS) $(LIBFDT_OBJS) -lc -lgcc

$(BUILD_DIR)/rvmm.bin: $(BUILD_DIR)/rvmm.elf
	@echo "  OBJCOPY $@"
	$(Q)$(OBJCOPY) -O binary $< $@

$(BUILD_DIR)/target/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD_DIR)/target/version.o: $(VERSION_C)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD_DIR)/target/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD_DIR)/target/libfdt/%.o: $(LIBFDT_DIR)/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      libfdt/$(notdir $<)"
	$(Q)$(CC) $(filter-out -Werror,$(CFLAGS)) $(LIBFDT_WARN_CFLAGS) -c $< -o $@

-include $(KERNEL_OBJS:.o=.d)

# Host builds: each fragment adds its test binaries to HOST_TEST_BINS.
HOST_TEST_BINS :=
-include tests/host/host.mk
-include tests/host/platform/platform.mk
-include tests/host/virtio/virtio.mk
-include tests/host/vmem/vmem.mk
-include tests/host/irqchip/irqchip.mk
-include tests/host/pmem/pmem.mk
host-build: $(HOST_TEST_BINS)

# libFuzzer targets over the same sources (make fuzz, make fuzz-regress): tests/fuzz/README.md
include mk/fuzz.mk
