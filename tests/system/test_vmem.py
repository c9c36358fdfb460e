# SPDX-License-Identifier: MIT
"""virtio-mem under QEMU (the patched QEMU of tools/qemu): the host resizes the device over QMP
(qom-set vm0 requested-size), the driver follows from its idle-hart worker, and after each step
the device's plugged `size` (QMP) equals the guest's MemPlugged. Blocks of 2 MiB (sub-blocks of a
128 MiB section) and of 256 MiB (a block spans two sections); `memtest` after each step checks
that plugged memory works. `stress start` keeps checksummed movable buffers in memory on harts
1-3 through all the resizes (migrated out of every block that is unplugged): each step stops it
(`stress: ok`, every byte verified), runs memtest and mmcheck, and starts it again; the final
unplug to 0 completes (plugged memory is movable).

Skipped (reported as SKIP with the reason) only when the patched QEMU is not built (make qemu).
"""
import re

from vmem_guest import GiB, MiB, VmemGuest, require_patched_qemu


def stress_stop(g):
    out = g.cmd("stress stop", timeout=240)
    m = re.search(r"stress: ok: \d+ s on 3 harts: (\d+) operations, (\d+) migrations, "
                  r"(\d+) MiB verified", out)
    assert m, out
    return int(m.group(2))


def resize_sequence(block, sizes):
    with VmemGuest(block=block) as v:
        g = v.g
        out = g.cmd("vmem")
        want_kib = {"2M": 2048, "256M": 262144}[block]
        assert f"block {want_kib} KiB" in out, out
        migrations = 0
        for size in sizes:
            assert "stress: started on 3 harts" in g.cmd("stress start")
            v.resize(size)
            assert v.plugged_kb() == v.size() >> 10
            migrations += stress_stop(g)
            assert v.plugged_kb() == v.size() >> 10 == size >> 10
            if size:
                out = g.cmd(f"memtest {min(size, 256 * MiB) >> 20}M", timeout=120)
                assert "memtest: ok" in out, out
            out = g.cmd("mmcheck", timeout=120)
            assert "mmcheck: ok" in out, out
        assert sizes[-1] == 0 and v.size() == 0 and v.plugged_kb() == 0
        out = g.cmd("vmem")
        assert "broken" not in out, out
        print(f"note: {block} blocks: {migrations} blocks migrated under stress")


def test_resize_2m_blocks():
    require_patched_qemu()
    resize_sequence("2M", [0, 1 * GiB, 4 * GiB, 512 * MiB, 0])


def test_resize_big_blocks():
    require_patched_qemu()
    resize_sequence("256M", [0, 1 * GiB, 4 * GiB, 512 * MiB, 0])
