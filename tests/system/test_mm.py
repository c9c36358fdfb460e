# SPDX-License-Identifier: MIT
"""Memory model under QEMU: large guests boot, the direct map uses the largest leaves, memtest
passes, sections lists what is present."""
import re

from guest import Guest


def test_16g_direct_map_uses_1g_leaves():
    with Guest(mem="16G").start(timeout=120) as g:
        out = g.cmd("ptdump")
        dm = out.split("---[ Direct map ]---")[1].split("---[")[0]
        lines = [l for l in dm.strip().splitlines() if l.strip()]
        # RAM is [0x80000000, 0x480000000): all of it 1 GiB aligned, so one folded 1G line.
        assert len(lines) == 1, dm
        m = re.match(r"0x(\w+)-0x(\w+)\s+(\S+)\s+1G\s+RW-", lines[0].strip())
        assert m, lines[0]
        start, end = int(m.group(1), 16), int(m.group(2), 16)
        assert end - start == 16 << 30, f"direct map covers {end - start:#x}"
        assert "X" not in lines[0].split()[3], "direct map must not be executable"


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
