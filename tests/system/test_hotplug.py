# SPDX-License-Identifier: MIT
"""Memory hot(un)plug under QEMU with 4 harts, -m 4G and mem=1G: the 3 GiB at 0xc0000000 is plugged,
refused for hot-remove while online, stressed (every hart verifying movable buffers while one
plugs and unplugs it), unplugged under background stress with mmcheck before and after; every
meminfo figure comes back. Also a memmap_on_memory round
trip, 2 MiB sub-section online/offline, and bad ranges answered with nothing changed."""
import re

from guest import Guest

HOT = "0xc0000000"
FIGURES = ("MemTotal", "MemFree", "PageTables", "Memmap")
STRESS_SECONDS = 20


def hot_guest():
    return Guest(mem="4G", smp=4, args="mem=1G").start(timeout=120)


def figures(g):
    m = g.meminfo()
    return {k: m[k] for k in FIGURES}


def settled(g):
    """meminfo once the idle harts have initialised every boot descriptor (MemFree moves until then)."""
    for _ in range(50):
        if g.meminfo().get("Deferred init", 1) == 0:
            break
        g.cmd("version")
    return figures(g)


def test_plug_stress_unplug_figures_return():
    with hot_guest() as g:
        before = settled(g)
        out = g.cmd(f"plug {HOT} 3G", timeout=120)
        assert re.search(r"plug: 3072 MiB at 0xc0000000 in [\d.]+ ms", out), out
        plugged = figures(g)
        assert plugged["MemTotal"] - before["MemTotal"] == 3 << 20, (before, plugged)
        memmap = plugged["Memmap"] - before["Memmap"]
        assert memmap == 24 << 10, (before, plugged)  # 32 bytes per 4 KiB, from boot memory
        assert plugged["MemFree"] - before["MemFree"] == (3 << 20) - memmap, (before, plugged)
        # Memory that holds data is never removed.
        out = g.cmd(f"hotremove {HOT} 3G")
        assert "is online (offline it first)" in out, out
        assert figures(g) == plugged
        out = g.cmd(f"stress {STRESS_SECONDS}", timeout=STRESS_SECONDS * 10 + 60)
        m = re.search(r"stress: ok: \d+ s on (\d+) harts: (\d+) operations, (\d+) migrations, "
                      r"(\d+) MiB verified, (\d+) plug/unplug cycles", out)
        assert m, out
        harts, ops, migrations, verified, cycles = map(int, m.groups())
        assert harts == 4 and ops > 0 and verified > 0, out
        assert cycles > 0 and migrations > 0, out
        assert figures(g)["MemTotal"] == plugged["MemTotal"]  # stress leaves it plugged
        # In the background instead: mmcheck parks the workers for its walk.
        assert "stress: started on 3 harts" in g.cmd("stress start")
        out = g.cmd("mmcheck", timeout=120)
        assert re.search(r"mmcheck: ok \(32 sections, \d+ pages checked", out), out
        out = g.cmd(f"unplug {HOT} 3G", timeout=120)
        assert re.search(r"unplug: 3072 MiB at 0xc0000000 in [\d.]+ ms", out), out
        out = g.cmd("stress stop", timeout=120)
        assert re.search(r"stress: ok: \d+ s on 3 harts: [1-9]\d* operations", out), out
        assert figures(g) == before
        assert "sections of 128 MiB: 8 online, 0 present" in g.cmd("sections")
        assert "mmcheck: ok (8 sections" in g.cmd("mmcheck", timeout=120)


def test_memmap_on_memory_round_trip():
    with hot_guest() as g:
        before = settled(g)
        out = g.cmd(f"hotadd {HOT} 3G memmap_on_memory", timeout=120)
        assert "memmap on memory" in out, out
        added = figures(g)
        # The descriptors came from the range itself: no memmap taken from boot memory.
        assert added["Memmap"] - before["Memmap"] == 24 << 10, (before, added)
        assert before["MemFree"] - added["MemFree"] <= 64, (before, added)
        assert "memmap_on_memory" in g.cmd("sections")
        out = g.cmd(f"online {HOT} 3G", timeout=120)
        assert "to Movable" in out, out
        online = figures(g)
        assert online["MemTotal"] - before["MemTotal"] == 3 << 20
        assert online["MemFree"] - added["MemFree"] == (3 << 20) - 24 * 1024  # 1 MiB per section in use
        out = g.cmd(f"unplug {HOT} 3G", timeout=120)
        assert "unplug: 3072 MiB" in out, out
        assert figures(g) == before


def test_subsection_online_offline():
    """virtio-mem's granularity: 2 MiB pieces online and offline inside one 128 MiB section."""
    with hot_guest() as g:
        before = settled(g)
        assert "hotadd: 128 MiB" in g.cmd(f"hotadd {HOT} 128M")
        assert "online: 2 MiB at 0xc0200000" in g.cmd("online 0xc0200000 2M")
        assert "online: 4 MiB at 0xc0600000" in g.cmd("online 0xc0600000 4M")
        assert figures(g)["MemTotal"] - before["MemTotal"] == 6 << 10
        out = g.cmd("sections")
        assert re.search(r"24\s+0x0000c0000000-0x0000c8000000\s+online\s+Movable.*"
                         r"partly online \(3 of 64", out), out
        # 2 MiB out of the middle of a free 4 MiB block, then the rest.
        for line in ("offline 0xc0800000 2M", "offline 0xc0200000 2M", "offline 0xc0600000 2M"):
            assert "offline: 2 MiB" in g.cmd(line), line
        assert "hotremove: 128 MiB" in g.cmd(f"hotremove {HOT} 128M")
        assert figures(g) == before


BAD = [
    (f"hotadd 0xc0001000 128M", "not aligned to sections"),
    (f"hotadd {HOT} 100M", "not aligned to sections"),
    ("hotadd 0x200000000 128M", "not RAM the device tree describes"),
    ("hotadd 0x80000000 128M", "section 16 at 0x80000000 is already added"),
    (f"hotadd {HOT} 256M", "is already added"),
    ("hotremove 0xd0000000 128M", "is not added"),
    (f"hotremove {HOT} 128M", "is online (offline it first)"),
    ("hotremove 0x80000000 128M", "is online (offline it first)"),
    ("online 0xd0000000 2M", "is not added"),
    ("online 0xc0000000 2M", "online already"),
    ("online 0xc0100000 2M", "not aligned to 2 MiB"),
    ("offline 0xd0000000 2M", "not all of it is online"),
    ("offline 0x80000000 128M", "unmovable page at pfn 0x"),
    ("unplug 0xd0000000 128M", "unplug: stopped at offline"),
]


def test_bad_ranges_change_nothing():
    with hot_guest() as g:
        g.cmd(f"plug {HOT} 128M")
        settled(g)
        for line, msg in BAD:
            before, sections = figures(g), g.cmd("sections")
            out = g.cmd(line)
            assert msg in out, f"{line}: {out}"
            assert figures(g) == before, line
            # Free counts move, and idle harts write deferred descriptors meanwhile.
            strip = r"\s+\d+\s+(boot|hotplug)( deferred)?"
            assert re.sub(strip, "", g.cmd("sections")) == re.sub(strip, "", sections), line


def test_failalloc_rolls_back():
    """failalloc=2: the second allocation of the first hot-plug step fails (the memmap of a lone
    section, after the direct map's table): everything rolls back, and the next try works."""
    with Guest(mem="4G", smp=4, args="mem=1G failalloc=2").start(timeout=120) as g:
        before = settled(g)
        out = g.cmd(f"hotadd {HOT} 128M")
        assert "failed on purpose" in out and "failed: vmemmap (-12)" in out, out
        assert figures(g) == before
        assert "0 present" in g.cmd("sections")
        assert "hotadd: 128 MiB" in g.cmd(f"hotadd {HOT} 128M")
        assert "hotremove: 128 MiB" in g.cmd(f"hotremove {HOT} 128M")
        assert figures(g) == before


def hidden_round_trip(mem):
    """-m 4G, mem=MEM: every byte of hidden RAM goes online (the part of a section mem= cut in two
    into that section, the rest hot-added), is memtested, comes back out; every figure returns and
    the section map's online total is the RAM mem= kept (rounded down to 2 MiB)."""
    with Guest(mem="4G", smp=2, args=f"mem={mem}").start(timeout=120) as g:
        before = settled(g)
        out = g.cmd("sections")
        tail = [(int(a, 16), int(b, 16)) for a, b in
                re.findall(r"0x([0-9a-f]+)-0x([0-9a-f]+)  RAM above mem= in section", out)]
        hot = [(int(a, 16), int(b, 16)) for a, b in
               re.findall(r"0x([0-9a-f]+)-0x([0-9a-f]+)  RAM above mem= \(hot-add", out)]
        assert hot and hot[-1][1] == 0x180000000, out
        cut = (tail or hot)[0][0]
        kept = (cut - 0x80000000) >> 20
        m = re.search(r"online (\d+) MiB \(Normal (\d+), Movable 0\)", g.cmd("sections --map"))
        assert m and int(m.group(1)) == kept, (kept, m and m.group(0))
        for s, e in tail:
            out = g.cmd(f"online {s:#x} {e - s:#x}")
            assert re.search(r"online: \d+ MiB at .* to Normal", out), out
        for s, e in hot:
            out = g.cmd(f"plug {s:#x} {e - s:#x}", timeout=120)
            assert re.search(r"plug: \d+ MiB at", out), out
        plugged = figures(g)
        assert plugged["MemTotal"] - before["MemTotal"] == (0x180000000 - cut) >> 10, (before, plugged)
        assert "added but offline 0 MiB" in g.cmd("sections --map")
        out = g.cmd("memtest", timeout=300)
        assert re.search(r"memtest: ok \((\d+) MiB\)", out), out
        assert "mmcheck: ok" in g.cmd("mmcheck", timeout=120)
        for s, e in hot:
            out = g.cmd(f"unplug {s:#x} {e - s:#x}", timeout=120)
            assert re.search(r"unplug: \d+ MiB at", out), out
        for s, e in tail:
            out = g.cmd(f"offline {s:#x} {e - s:#x}")
            assert re.search(r"offline: \d+ MiB at", out), out
        assert figures(g) == before
        assert "mmcheck: ok" in g.cmd("mmcheck", timeout=120)


def test_hidden_ram_mem_512m():
    hidden_round_trip("512M")  # the early 1 GiB window reaches hidden RAM


def test_hidden_ram_mem_700m():
    hidden_round_trip("700M")  # section 21 cut in two


def test_hidden_ram_mem_1536m():
    hidden_round_trip("1536M")


def test_hidden_ram_mem_3073m():
    hidden_round_trip("3073M")  # 3G + 1M: cut at 2 MiB


def test_tlb_rule_svvptc_or_fence():
    """The TLB rule (docs/locking.md): QEMU's default hart has Svvptc, so new mappings fence only the
    hart that made them; without it every hart is fenced through SBI RFENCE after hot-add. Both
    ways, the other harts then use the new memory (stress runs on all of them) and mmcheck is clean."""
    for cpu, svvptc in (("rv64", True), ("rv64,svvptc=false", False)):
        with Guest(mem="4G", smp=4, args="mem=1G", env={"CPU": cpu}).start(timeout=120) as g:
            assert ("mm: every hart has svvptc" in g.cmd("dmesg")) == svvptc, cpu
            out = g.cmd(f"plug {HOT} 1G", timeout=120)
            assert re.search(r"plug: 1024 MiB at 0xc0000000", out), out
            out = g.cmd("stress 3", timeout=120)
            assert re.search(r"stress: ok: \d+ s on 4 harts: [1-9]\d* operations", out), (cpu, out)
            out = g.cmd(f"unplug {HOT} 1G", timeout=120)
            assert re.search(r"unplug: 1024 MiB at 0xc0000000", out), out
            assert "mmcheck: ok (8 sections" in g.cmd("mmcheck", timeout=120)


def test_console_refuses_driver_ranges():
    """The range registry under QEMU: with virtio-mem plugged to 1 GiB, the console refuses to
    offline, hot-remove, online or hot-add any of the device's region, naming its owner, and
    nothing changes (the issue's reproduction: `offline 0x13fe00000 2M` used to succeed and block
    the whole GiB for good); the host then gets its memory back."""
    from vmem_guest import GiB, VmemGuest, patched_qemu
    if not patched_qemu():
        print("SKIP: console_refuses_driver_ranges: the patched QEMU is not built (make qemu)")
        return
    with VmemGuest(mem="2G", smp=2) as v:
        g = v.g
        v.resize(1 * GiB)
        m = re.search(r"device region (.+?): 0x([0-9a-f]+)-", g.cmd("sections --map"))
        assert m, g.cmd("sections --map")
        owner, base = m.group(1), int(m.group(2), 16)
        before = g.meminfo()
        top = base + GiB - (2 << 20)
        for line in (f"offline {top:#x} 2M", f"hotremove {base:#x} 128M", f"online {base:#x} 2M",
                     f"hotadd {base + GiB:#x} 128M", f"unplug {base:#x} 128M"):
            out = g.cmd(line)
            assert f"belongs to {owner} (its driver plugs and unplugs it)" in out, (line, out)
        assert g.meminfo()["MemTotal"] == before["MemTotal"]
        v.resize(0)
        assert v.size() == 0 and v.plugged_kb() == 0
        assert "mmcheck: ok" in g.cmd("mmcheck", timeout=120)
