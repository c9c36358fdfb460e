# SPDX-License-Identifier: MIT
# Build glue for libfdt, the device tree library kernel/platform*.c reads the DTB with. The sources
# are upstream libfdt (from Debian's linux-source-6.1, scripts/dtc/libfdt/), fetched and cached
# outside the clone by tools/libfdt.sh; only lib/libfdt_env.h lives in the tree.
#
# Interface (include from the top of the tree; including twice is harmless):
#   LIBFDT_DIR         directory holding fdt.c, fdt_ro.c, libfdt.h, ...
#   LIBFDT_SRCS        the libfdt .c files rvmm needs, as full paths
#   LIBFDT_CFLAGS      include flags for libfdt itself and for code that includes <libfdt.h>
#   LIBFDT_WARN_CFLAGS warnings to relax for libfdt's own sources only (rvmm code keeps -Werror
#                      with every warning it enables)

ifndef RVMM_LIBFDT_MK
RVMM_LIBFDT_MK := 1

LIBFDT_DIR := $(shell tools/libfdt.sh)
ifeq ($(strip $(LIBFDT_DIR)),)
$(error libfdt: tools/libfdt.sh printed no directory (its message is above); \
	run 'make deps' or 'apt-get update', then retry)
endif
ifeq ($(wildcard $(LIBFDT_DIR)/libfdt.h),)
$(error libfdt: $(LIBFDT_DIR) has no libfdt.h; remove that directory and rerun tools/libfdt.sh)
endif

# Read-only use: parse, walk, reserve map, error strings. Add fdt_wip.c/fdt_rw.c/fdt_sw.c here if
# rvmm ever edits or builds a tree.
LIBFDT_SRCS := $(addprefix $(LIBFDT_DIR)/,fdt.c fdt_ro.c fdt_strerror.c)
LIBFDT_CFLAGS := -I lib -I $(LIBFDT_DIR)
# Upstream builds clean with -Wall -Wextra; these cover stricter sets a caller may add.
LIBFDT_WARN_CFLAGS := -Wno-sign-compare -Wno-unused-parameter -Wno-pedantic -Wno-conversion \
	-Wno-sign-conversion -Wno-cast-qual -Wno-missing-prototypes -Wno-shadow

endif
