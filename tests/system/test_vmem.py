# SPDX-License-Identifier: MIT
"""virtio-mem under QEMU (the patched QEMU of tools/qemu): the host resizes the device over QMP
(qom-set vm0 requested-size), the driver follows from its idle-hart worker, and after each step
the device's plugged `size` (QMP) equals the guest's MemPlugged. Blocks of 2 MiB (sub-blocks of a
128 MiB section) and of 256 MiB (a block spans two sections); `memtest` after each step checks
that plugged memory works. (A `stress` load during the resizes is still to be wired in.)

Skipped (printed as SKIP, counted as passed) only when the patched QEMU is not built (make qemu).
"""
import re

from vmem_guest import GiB, MiB, VmemGuest, patched_qemu


def has_command(g, name):
    return re.search(rf"^\s*{name}\b", g.cmd("help"), re.M) is not None


def skip_without_qemu():
    if patched_qemu():
        return False
    print("SKIP: vmem system tests: the patched QEMU is not built (make qemu)")
    return True


def resize_sequence(block, sizes):
    with VmemGuest(block=block) as v:
        g = v.g
        out = g.cmd("vmem")
        want_kib = {"2M": 2048, "256M": 262144}[block]
        assert f"block {want_kib} KiB" in out, out
        if has_command(g, "stress"):
            # TODO(lead): run `stress` in the background here once its interface is settled.
            print("note: `stress` exists but is not wired into this test yet")
        else:
            print("note: no `stress` command in this kernel: resizing an idle guest")
        for size in sizes:
            v.resize(size)
            assert v.plugged_kb() == v.size() >> 10
            if size:
                out = g.cmd(f"memtest {min(size, 256 * MiB) >> 20}M", timeout=120)
                assert "memtest: ok" in out, out
        out = g.cmd("vmem")
        assert "broken" not in out, out


def test_resize_2m_blocks():
    if skip_without_qemu():
        return
    resize_sequence("2M", [0, 1 * GiB, 4 * GiB, 512 * MiB, 0])


def test_resize_big_blocks():
    if skip_without_qemu():
        return
    resize_sequence("256M", [0, 1 * GiB, 4 * GiB, 512 * MiB, 0])
