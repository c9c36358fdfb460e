# SPDX-License-Identifier: MIT
"""GDB commands reading rvmm's data structures from a halted guest; never calling into it.

Loaded by tools/gdb/gdbinit (`make gdb`), or by hand: `source tools/gdb/rvmm.py`. Every command
works wherever the guest stopped, OpenSBI in M-mode included (see kmem.py for how addresses are
translated there), and prints what the console command of the same name prints, so the two can
be compared line by line (tests/system/test_gdb.py does).

  rvmm-meminfo            the console's `meminfo`
  rvmm-sections           the console's `sections`
  rvmm-ptdump [START END] the console's `ptdump`, from the live tables
  rvmm-pfn PFN            one page descriptor, by frame number
  rvmm-page ADDR          the same, by descriptor, direct-map, image or physical address
  rvmm-buddy              free blocks per order and zone, per-hart caches
  rvmm-dmesg [BYTES]      the kernel log ring
  rvmm-harts              each hart: state, what it does, pc and mode, locks it holds
  rvmm-vmem               the virtio-mem driver's state, when it is built in

Interface: the commands above; `help rvmm` lists them.

The work is in kmem.py (reading memory, translating addresses), rvmm_mm.py (memory commands) and
rvmm_harts.py (harts, locks, virtio-mem).
"""
import os
import sys

import gdb

sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rvmm_harts  # noqa: E402,F401  (each module registers its commands)
import rvmm_mm  # noqa: E402,F401


class Rvmm(gdb.Command):
    """rvmm: commands that read the kernel's data structures from a halted guest.

rvmm-meminfo, rvmm-sections, rvmm-ptdump [START END], rvmm-pfn PFN, rvmm-page ADDR, rvmm-buddy,
rvmm-dmesg [BYTES], rvmm-harts, rvmm-vmem. They never call into the kernel, and work wherever the
guest stopped, OpenSBI (M-mode) included. `help rvmm-NAME` says more."""

    def __init__(self):
        super().__init__("rvmm", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        gdb.execute("help rvmm")


Rvmm()
