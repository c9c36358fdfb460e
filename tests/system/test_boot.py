# SPDX-License-Identifier: MIT
"""Boot and console: the kernel reaches the prompt, sees its RAM, and answers bad input clearly."""
import os
import re
import subprocess

from guest import ROOT, Guest

KB_PER_GIB = 1024 * 1024


def check_memtotal(mem_gib, args=""):
    with Guest(mem=f"{mem_gib}G", args=args).start() as g:
        total = g.meminfo()["MemTotal"]
        want = mem_gib * KB_PER_GIB
        assert 0.85 * want <= total <= want, f"MemTotal {total} kB for -m {mem_gib}G"
        return g.out


def test_boot_1g():
    out = check_memtotal(1)
    assert "sv48 paging" in out, "paging mode not reported"


def test_boot_3g():
    check_memtotal(3)


def test_mem_cap_512m():
    with Guest(mem="1G", args="mem=512M").start() as g:
        total = g.meminfo()["MemTotal"]
        assert 0.85 * 512 * 1024 <= total <= 512 * 1024, f"mem=512M gave MemTotal {total} kB"


def test_unknown_command_and_option():
    with Guest(args="mem=1G frobnicate=3").start() as g:
        assert "unknown option 'frobnicate'" in g.out, "unknown boot option not reported"
        out = g.cmd("frobnicate now")
        assert "unknown command: frobnicate (try 'help')" in out, out


def test_bad_numbers_change_nothing():
    with Guest().start() as g:
        before = g.meminfo()
        for bad in ["memtest 12x", "memtest 0x", "memtest 99999999999999999999999", "memtest 1Q"]:
            out = g.cmd(bad)
            assert "usage: memtest" in out or "memtest:" in out and "ok" not in out, f"{bad}: {out}"
        after = g.meminfo()
        assert before["MemFree"] == after["MemFree"], "a rejected command changed memory"


def test_help_lists_every_command():
    with Guest().start() as g:
        out = g.cmd("help")
        for name in ["help", "meminfo", "dt", "bootargs", "version", "poweroff", "dmesg"]:
            assert re.search(rf"^\s+{name}\b", out, re.M), f"help does not list {name}"


def test_line_endings():
    with Guest().start() as g:
        for end in ["\r", "\n", "\r\n"]:
            g.send("version" + end)
            g.expect(r"rvmm [^\n]*riscv64", 20)
            g.expect(r"rvmm> ", 20)


def test_poweroff():
    g = Guest().start()
    g.send("poweroff\n")
    rc = g.wait_exit(20)
    g.stop()
    assert rc is not None, "QEMU still running after poweroff"


def test_loglevel_and_deferred_init_off():
    with Guest(args="loglevel=4 deferred_init=off").start() as g:
        assert "timer:" not in g.out, "info lines shown despite loglevel=4"
        info = g.meminfo()
        assert info["Deferred init"] == 0, "deferred_init=off left sections pending"
        assert "timer:" in g.cmd("dmesg"), "suppressed lines must still be in the log"


def test_elf_boots_like_the_flat_image():
    # The ELF's program headers carry physical load addresses: QEMU places it where rvmm.bin goes.
    with Guest(mem="1G", smp=2, env={"KERNEL": "build/rvmm.elf"}).start(timeout=120) as g:
        assert "smp: 2 harts online" in g.out, g.out[-3000:]
        total = g.meminfo()["MemTotal"]
        assert 0.85 * KB_PER_GIB <= total <= KB_PER_GIB, f"MemTotal {total} kB"
        assert "memtest: ok (64 MiB)" in g.cmd("memtest 64M", timeout=120)


def dumped_dtb(name, smp, mem, edits):
    """QEMU virt's device tree for -smp smp -m mem, edited with fdtput (device-tree-compiler)."""
    path = os.path.join(ROOT, "build", f"{name}-{os.getpid()}.dtb")
    subprocess.run(["qemu-system-riscv64", "-machine", f"virt,dumpdtb={path}", "-cpu", "rv64",
                    "-smp", str(smp), "-m", mem, "-nographic", "-bios", "default"], check=True,
                   capture_output=True, timeout=60)
    for node, prop, value in edits:
        subprocess.run(["fdtput", "-t", "s", path, node, prop, value], check=True, timeout=30)
    return path


def test_cpu0_disabled_hart_masks():
    # Issue 12: with hart 0 absent for the firmware, an IPI mask based at 0 names a hart OpenSBI
    # does not have. Masks based at the lowest hart id they hold work.
    dtb = dumped_dtb("cpu0-off", 3, "4G", [("/cpus/cpu@0", "status", "disabled")])
    try:
        with Guest(mem="4G", smp=3, args="mem=1G", dtb=dtb).start(timeout=120) as g:
            assert "smp: 2 harts online" in g.out, g.out[-3000:]
            out = g.cmd("plug 0xc0000000 128M", timeout=120)
            assert "plug: 128 MiB at 0xc0000000" in out, out
            out = g.cmd("unplug 0xc0000000 128M", timeout=120)
            assert "unplug: 128 MiB at 0xc0000000" in out, out
            assert "panic" not in g.out, g.out[-3000:]
    finally:
        os.unlink(dtb)


def smp_result(out, smp):
    """The harts the boot brought up, checked against those it named as not started."""
    m = re.search(r"smp: (\d+) harts? online", out)
    assert m, out[-3000:]
    online = int(m.group(1))
    late = re.findall(r"smp: hart (\d+) did not start", out)
    assert online + len(late) == smp, f"{online} online + {len(late)} named late != {smp}"
    assert "harts supported" not in out, "a hart OpenSBI started was dropped by rvmm's limit"
    return online


def test_smp_72_plug_unplug():
    # 72 harts (more than the old limit of 64) and hot-unplug's cross-hart drain reaching all.
    with Guest(mem="4G", smp=72, args="mem=1G").start(timeout=600) as g:
        smp_result(g.out, 72)
        late = {int(h) for h in re.findall(r"smp: hart (\d+) did not start", g.out)}
        assert set(range(64, 72)) - late, "no hart id of 64 or more came up"
        out = g.cmd("plug 0xc0000000 3G", timeout=300)
        assert "plug: 3072 MiB at 0xc0000000" in out, out
        out = g.cmd("unplug 0xc0000000 1G", timeout=300)
        assert "unplug: 1024 MiB at 0xc0000000" in out, out
        assert "panic" not in g.out, g.out[-3000:]


def test_smp_100():
    # The largest count tests run (make bench times more): every hart OpenSBI lets go comes up,
    # and every piece of work that spans harts sees exactly those.
    with Guest(mem="2G", smp=100).start(timeout=900) as g:
        online = smp_result(g.out, 100)
        out = g.cmd("stress 2", timeout=600)
        assert f"on {online} harts" in out, f"{online} online: {out}"
        assert "memtest: ok (256 MiB)" in g.cmd("memtest 256M", timeout=300)
