# SPDX-License-Identifier: MIT
"""Memory model under QEMU: large guests boot, the direct map uses the largest leaves, memtest
passes, sections lists what is present."""
import re

from guest import Guest


def test_16g_direct_map_uses_1g_leaves():
    with Guest(mem="16G").start(timeout=120) as g:
        out = g.cmd("ptdump")
        dm = out.split("---[ Direct map ]---")[1].split("---[")[0]
        lines = [l.strip() for l in dm.strip().splitlines() if l.strip()]
        ranges = [re.match(r"0x(\w+)-0x(\w+)\s+\S+\s+(\S+)\s+(\S+)", l) for l in lines]
        assert all(ranges), dm
        # RAM is [0x80000000, 0x480000000): the first GiB is the arch's early window cut back
        # around OpenSBI's no-map range at its start (4K leaves up to 2 MiB, then 2M), the other
        # 15 GiB one folded 1G line.
        po = int(ranges[0].group(1), 16) - 0x80000000 & ~0xfffffff
        first, last = int(ranges[0].group(1), 16) - po, int(ranges[-1].group(2), 16) - po
        assert 0x80000000 < first < 0x80200000 and last == 0x480000000, dm
        assert ranges[-1].group(3) == "1G" and int(ranges[-1].group(1), 16) - po == 0xc0000000, dm
        assert [r.group(3) for r in ranges[:-1]] == ["4K", "2M"], dm
        for a, b in zip(ranges, ranges[1:]):
            assert a.group(2) == b.group(1), dm  # contiguous after the firmware
        assert all(r.group(4) == "RW-" for r in ranges), "direct map must not be executable"


def test_256g_boots():
    with Guest(mem="256G").start(timeout=180) as g:
        total = g.meminfo()["MemTotal"]
        assert total >= 0.85 * 256 * 1024 * 1024, total


def test_memtest_2g():
    with Guest(mem="3G").start() as g:
        out = g.cmd("memtest 2G", timeout=600)
        assert "memtest: ok (2048 MiB)" in out, out


def test_sections_lists_every_section():
    with Guest(mem="1G").start() as g:
        out = g.cmd("sections")
        assert re.search(r"8 online", out), out


def test_kernel_image_w_xor_x():
    with Guest().start() as g:
        out = g.cmd("ptdump")
        img = out.split("---[ Kernel image ]---")[1]
        for line in img.strip().splitlines():
            perm = line.split()[3]
            assert not ("W" in perm and "X" in perm), f"W+X mapping: {line}"


def test_sv39_fallback():
    """A hart without Sv48: the kernel says so and runs with Sv39 (its own direct-map base)."""
    with Guest(env={"CPU": "rv64,sv57=off,sv48=off"}).start() as g:
        assert "this hart has no Sv48: running with Sv39" in g.out, g.tail()
        assert "Paging mode: sv39" in g.cmd("meminfo")
        dm = g.cmd("ptdump").split("---[ Direct map ]---")[1]
        assert dm.split()[0].startswith("0xffffffc0"), dm
        assert "memtest: ok" in g.cmd("memtest 64M")
