#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Behind `make print-qemu`: prints the path of the patched qemu-system-riscv64 built by
# tools/qemu/build.sh for the current patch and flags, and nothing else. Exits 1 with a message
# on stderr when it has not been built. The key logic lives in build.sh only.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/build.sh" --print
