# SPDX-License-Identifier: MIT
"""Device trees that QEMU and OpenSBI accept but whose content is wrong: rvmm names the problem
and either goes on without the bad node or halts cleanly (no silence, no trap loop)."""
import os
import subprocess

from guest import ROOT, Guest

OUT = os.path.join(ROOT, "build", "system", "dtb")


def bad_dtbs():
    os.makedirs(OUT, exist_ok=True)
    dumped = os.path.join(OUT, "qemu-2g.dtb")
    subprocess.run(["qemu-system-riscv64", "-machine", f"virt,dumpdtb={dumped}", "-m", "2G",
                    "-nographic"], check=True, capture_output=True, timeout=60)
    subprocess.run([os.path.join(ROOT, "tests", "fixtures", "make-bad-dtbs.sh"), dumped, OUT],
                   check=True, capture_output=True, timeout=60)
    return OUT


def boot_bad(name):
    g = Guest(mem="2G", dtb=os.path.join(bad_dtbs(), name)).start(wait_prompt=False)
    return g


def expect_halt(name, message):
    g = boot_bad(name)
    try:
        g.expect(message, 30)
        g.expect(r"panic: [^\n]*cannot go on", 30)
        g.expect(r"panic: hart 0 halted", 30)
        assert "rvmm> " not in g.out, "reached the prompt with a fatal device tree"
        # A clean halt: nothing more is printed (no trap loop).
        n = len(g.out)
        g.wait_exit(2)
        assert len(g.out) - n < 200, "output goes on after the halt: " + g.out[n:n + 400]
    finally:
        g.stop()


def test_memory_reg_length_12_halts():
    expect_halt("memreg12.dtb", r"device tree: /memory@80000000: reg length 12 is not a multiple of 16")


def test_no_memory_node_halts():
    expect_halt("nomem.dtb", r"device tree: /: no memory node")


def test_overlapping_memory_trimmed_and_boots():
    g = boot_bad("overlap.dtb")
    try:
        g.expect(r"device tree: /memory@c0000000: [^\n]*overlaps[^\n]*trimmed", 30)
        g.expect("rvmm> ", 60)
        total = g.meminfo()["MemTotal"]
        assert 0.85 * 2 * 1024 * 1024 <= total <= 2 * 1024 * 1024, f"MemTotal {total} kB"
    finally:
        g.stop()


def test_reserved_over_kernel_halts():
    expect_halt("resv-kernel.dtb",
                r"device tree: /reserved-memory/rvmm-test@80200000: reserved [^\n]*overlaps the kernel image")
