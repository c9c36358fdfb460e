# SPDX-License-Identifier: MIT
"""Console input under bad and fast input: a pasted script runs every line however long (input
waits in the UART and QEMU while the ring is full), an over-long line is refused whole, escape
sequences never eat a character, and each bad argument gets a message that names what is wrong
and changes nothing.
"""
import re

from guest import PROMPT, Guest, Skip
from vmem_guest import VmemGuest, patched_qemu

VERSION = re.compile(r"^rvmm \S+ \(riscv64, ", re.M)


def figures(g):
    """The meminfo figures a refused command must leave alone (not the deferred-init count)."""
    info = g.meminfo()
    return {k: info[k] for k in ("MemTotal", "MemFreeMovable", "Memmap", "MemPlugged")}


def run_pasted(g, lines, timeout):
    """Send lines in one write; return the output up to the prompt after the last one."""
    start = len(g.out)
    g.send("".join(line + "\n" for line in lines) + "version marker-end\n")
    g.expect(r"usage: version", timeout)
    g.expect(re.escape(PROMPT), 30)
    return g.out[start:g.pos]


def test_pasted_script_loses_nothing():
    # 2000 bytes of commands typed while memtest keeps the shell busy: more than the 1 KiB ring.
    with Guest(mem="1G").start() as g:
        out = run_pasted(g, ["memtest 256M"] + ["version"] * 250, 600)
        assert "memtest: ok (256 MiB)" in out, out[-2000:]
        assert len(VERSION.findall(out)) == 250, f"{len(VERSION.findall(out))} of 250 ran:\n{out}"
        assert "unknown command" not in out and "lost" not in out, out[-2000:]
        # Lines with numbers: a lost byte would turn `dmesg 64` into another command.
        out = run_pasted(g, ["dmesg 64"] * 40, 300)
        assert "unknown command" not in out and "usage: dmesg" not in out, out[-3000:]


def test_long_line_refused_whole():
    with Guest(mem="2G", args="mem=1G").start() as g:
        before = figures(g)
        line = "hotadd 0xc8000000 128M" + " " * 233 + "memmap_on_memory"
        start = len(g.out)
        g.send(line + "\n")
        g.expect(r"line too long \(271 characters, at most 255\): ignored, nothing ran", 30)
        g.expect(re.escape(PROMPT), 30)
        assert "hotadd:" not in g.out[start:], g.out[start:]
        assert figures(g) == before, "a refused line changed memory"
        # Ctrl-U forgets the over-long line; backspace removes characters typed past the limit.
        g.send("x" * 300 + "\x15version\n")
        g.expect(r"rvmm \S+ \(riscv64", 30)
        g.send("version" + " " * 248 + "zz" + "\x7f\x7f" + "\n")
        g.expect(r"rvmm \S+ \(riscv64", 30)
        g.expect(re.escape(PROMPT), 30)


def test_escape_sequences():
    with Guest().start() as g:
        start = len(g.out)
        g.send("\x1bmeminfo\n")  # ESC not followed by [: dropped alone
        g.expect(r"MemTotal:", 30)
        g.expect(re.escape(PROMPT), 30)
        assert "unknown command" not in g.out[start:], g.out[start:]
        g.cmd("version")
        g.send("\x1b[A\n")  # Up: the last line again
        g.expect(r"rvmm \S+ \(riscv64", 30)
        g.expect(re.escape(PROMPT), 30)
        start = len(g.out)
        g.send("\x1b[3~\x1b[1;5Cversion\n")  # Delete and Ctrl-Right: ignored whole
        g.expect(r"rvmm \S+ \(riscv64", 30)
        g.expect(re.escape(PROMPT), 30)
        assert "unknown command" not in g.out[start:], g.out[start:]


def test_contradictory_and_repeated_words():
    with Guest(mem="2G", args="mem=1G").start() as g:
        before = figures(g)
        for line in ["plug 0xd0000000 128M normal movable", "plug 0xd0000000 128M movable movable",
                     "plug 0xd0000000 128M memmap_on_memory normal memmap_on_memory",
                     "online 0xd0000000 128M normal normal"]:
            out = g.cmd(line)
            assert out.startswith("usage: "), f"{line}: {out}"
        assert figures(g) == before, "a refused command changed memory"


def test_memtest_sizes():
    with Guest().start() as g:
        out = g.cmd("memtest 18446744073709551615")
        assert "is more than rvmm can address" in out and "FAILED" not in out, out
        out = g.cmd("memtest 1")
        assert "less than a page" in out and "ok" not in out, out
        out = g.cmd("memtest 0")
        assert "less than a page" in out, out
        assert "memtest: ok (8 KiB)" in g.cmd("memtest 4097")


def test_range_messages():
    with Guest(mem="2G", args="mem=1G").start() as g:
        before = figures(g)
        out = g.cmd("hotadd 18446744073709551615 128M")
        assert "goes past the end of the 64-bit address space" in out, out
        assert "-0x7ffffff)" not in out, out
        out = g.cmd("online 0xffffffffffe00000 4M")
        assert "goes past the end" in out and not re.search(r"section \d", out), out
        out = g.cmd("online 0xfffffffff0000000 4M")
        assert ("beyond the highest address rvmm maps" in out or "not RAM" in out) \
            and not re.search(r"section \d", out), out
        out = g.cmd("hotadd 0xfffffffff0000000 128M")
        assert "beyond the highest address rvmm maps" in out or "not RAM" in out, out
        out = g.cmd("online 0x30000000 16M")  # the PCI window
        assert "not RAM" in out and "hot-add it first" not in out, out
        out = g.cmd("online 0xc8000000 128M")  # RAM hidden by mem=
        assert "hot-add it first" in out, out
        assert figures(g) == before, "a refused command changed memory"


def test_vmem_unplug_says_auto_off():
    if not patched_qemu():
        raise Skip("the patched QEMU is not built (make qemu)")
    with VmemGuest() as v:
        v.resize(256 << 20)
        out = v.g.cmd("vmem unplug 128M", timeout=120)
        assert "vmem: auto off" in out, out
        assert "auto off" in v.g.cmd("vmem"), "auto still on"
        out = v.g.cmd("vmem unplug 128M", timeout=120)
        assert "auto off" not in out, f"said twice: {out}"
