# SPDX-License-Identifier: MIT
"""NUMA machines under QEMU: riscv virt makes each node a socket (its own PLIC) and gives memory
and cpu nodes a numa-node-id, and a distance-map when -numa dist is given.

Two nodes: `nodes` prints what numactl -H prints; `meminfo N` per node adds up to meminfo; every
section names its node; `stress` on harts of both nodes. Four nodes, one with harts only (QEMU
describes it by a memory node of size 0). RAM of node 1 hidden by mem= is hot-added into node 1
and removed again. A virtio-mem device with node=1 resized 0 -> 1G -> 0: node 1's size follows.
A memory-only node, which riscv virt cannot make: its DTB dumped and edited with fdtput. The
seed's own command line: one node, virtio-mem in node 0.
"""
import os
import re
import subprocess
import time

from guest import ROOT, Guest
from test_aia import SEED_LINE
from vmem_guest import GiB, VmemGuest, require_patched_qemu
OUT = os.path.join(ROOT, "build", "system", "numa")


def numa_args(sizes, cpus, dists=()):
    """QEMU options for nodes with memory of sizes[i] (None: none) and harts cpus[i]."""
    a = []
    for i, (size, c) in enumerate(zip(sizes, cpus)):
        if size:
            a += [f"-object memory-backend-ram,id=m{i},size={size}"]
        a += [f"-numa node,nodeid={i},cpus={c}" + (f",memdev=m{i}" if size else "")]
    a += [f"-numa dist,src={s},dst={d},val={v}" for s, d, v in dists]
    return " ".join(a)


TWO = numa_args(["1G", "1G"], ["0-1", "2-3"], [(0, 1, 20)])


def node_meminfo(g, n):
    out = g.cmd(f"meminfo {n}")
    return {k: int(v) for k, v in re.findall(rf"^Node {n} (\w+):\s+(\d+) kB$", out, re.M)}


def test_two_nodes():
    with Guest(mem="2G", smp="4,sockets=2", extra=TWO).start(timeout=120) as g:
        assert "device tree:" not in g.out, g.out
        out = g.cmd("nodes")
        assert re.search(r"^available: 2 nodes \(0-1\)\nnode 0 cpus: 0 1\nnode 0 size: \d+ MB\n"
                         r"node 0 free: \d+ MB\nnode 1 cpus: 2 3\nnode 1 size: \d+ MB\n"
                         r"node 1 free: \d+ MB\nnode distances:\nnode   0   1\n"
                         r"  0:  10  20\n  1:  20  10$", out, re.M), out
        total = g.meminfo()["MemTotal"]
        n0, n1 = node_meminfo(g, 0), node_meminfo(g, 1)
        assert n0["MemTotal"] + n1["MemTotal"] == total, (n0, n1, total)
        # Node 1 holds the boot memmap (allocated top-down): a little under 1 GiB each.
        for n in (n0, n1):
            assert 1000 * 1024 < n["MemTotal"] <= 1024 * 1024, n
            assert n["MemUsed"] == n["MemTotal"] - n["MemFree"], n
        size1 = int(re.search(r"node 1 size: (\d+) MB", out).group(1))
        assert size1 == n1["MemTotal"] >> 10, (out, n1)
        out = g.cmd("sections")
        assert re.search(r"^\s+16-23\s.*online\s+Normal.*boot  node 0$", out, re.M), out
        assert re.search(r"^\s+24-31\s.*online\s+Normal.*boot  node 1$", out, re.M), out
        out = g.cmd("sections --map")
        assert ("nodes begin: node 0 at 0x000080000000 (section 16) node 1 at "
                "0x0000c0000000 (section 24)") in out, out
        assert "Node" not in g.cmd("meminfo")
        assert "meminfo: no node 2 (this machine has 2, ids below 2)" in g.cmd("meminfo 2")
        # Every hart: harts of node 0 and of node 1 allocate, verify and free.
        out = g.cmd("stress 5", timeout=240)
        assert re.search(r"stress: ok: \d+ s on 4 harts", out), out
        assert "mmcheck: ok" in g.cmd("mmcheck", timeout=120)


def test_four_nodes_one_hart_only():
    extra = numa_args(["512M", "512M", "512M", None], ["0-1", "2-3", "4-5", "6-7"],
                      [(0, 1, 20), (0, 2, 30), (0, 3, 40), (1, 2, 20), (1, 3, 30), (2, 3, 20)])
    with Guest(mem="1536M", smp="8,sockets=4", extra=extra).start(timeout=180) as g:
        assert "device tree: /memory@e0000000: node 3 has no memory here (size 0)" in g.out, g.out
        assert g.out.count("device tree:") == 1, g.out
        out = g.cmd("nodes")
        assert "available: 4 nodes (0-3)" in out, out
        assert "node 3 cpus: 6 7\nnode 3 size: 0 MB\nnode 3 free: 0 MB" in out, out
        assert ("node   0   1   2   3\n  0:  10  20  30  40\n  1:  20  10  20  30\n"
                "  2:  30  20  10  20\n  3:  40  30  20  10") in out, out
        assert node_meminfo(g, 3)["MemTotal"] == 0
        out = g.cmd("stress 5", timeout=240)
        assert re.search(r"stress: ok: \d+ s on 8 harts", out), out


def test_hidden_ram_into_node1():
    with Guest(mem="2G", smp="4,sockets=2", extra=TWO, args="mem=1536M").start(timeout=120) as g:
        out = g.cmd("sections")
        assert "0x0000e0000000-0x000100000000  RAM above mem= (hot-add can add it)  node 1" in out, out
        n0, n1 = node_meminfo(g, 0), node_meminfo(g, 1)
        out = g.cmd("plug 0xe0000000 512M movable", timeout=120)
        assert "error" not in out.lower(), out
        a0, a1 = node_meminfo(g, 0), node_meminfo(g, 1)
        assert a1["MemTotal"] == n1["MemTotal"] + 512 * 1024, (n1, a1)
        assert a1["MemFreeMovable"] == 512 * 1024, a1
        assert a0["MemTotal"] == n0["MemTotal"], (n0, a0)
        out = g.cmd("sections")
        assert re.search(r"^\s+28\s.*online\s+Movable.*hotplug.*  node 1$", out, re.M), out
        out = g.cmd("unplug 0xe0000000 512M", timeout=120)
        assert "error" not in out.lower(), out
        assert node_meminfo(g, 1)["MemTotal"] == n1["MemTotal"]
        assert "mmcheck: ok" in g.cmd("mmcheck", timeout=120)


def test_vmem_node1_resize():
    require_patched_qemu()
    v = VmemGuest(block="2M", mem="2G", smp="4,sockets=2", vmem="2G", extra=TWO)
    v.g.env["VMEM_NODE"] = "1"
    with v:
        g = v.g
        assert re.search(r"node 1\n", g.cmd("vmem")), g.cmd("vmem")
        n0, n1 = node_meminfo(g, 0), node_meminfo(g, 1)
        assert n1["MemPlugged"] == 0
        v.resize(1 * GiB)
        a0, a1 = node_meminfo(g, 0), node_meminfo(g, 1)
        assert a1["MemTotal"] == n1["MemTotal"] + 1024 * 1024, (n1, a1)
        assert a1["MemPlugged"] == 1024 * 1024 and a0["MemPlugged"] == 0, (a0, a1)
        assert a0["MemTotal"] == n0["MemTotal"], (n0, a0)
        out = g.cmd("sections")
        assert re.search(r"hotplug.*  node 1$", out, re.M), out
        v.resize(0)
        assert node_meminfo(g, 1)["MemTotal"] == n1["MemTotal"]
        assert "mmcheck: ok" in g.cmd("mmcheck", timeout=120)


def test_memory_only_node_from_edited_dtb():
    os.makedirs(OUT, exist_ok=True)
    dtb = os.path.join(OUT, f"memory-only-{os.getpid()}.dtb")
    qemu = ["qemu-system-riscv64", "-machine", f"virt,dumpdtb={dtb}", "-m", "2G",
            "-smp", "4,sockets=2", "-nographic", "-display", "none"] + TWO.split()
    subprocess.run(qemu, check=True, capture_output=True, timeout=60)
    # Harts 2 and 3 move to node 0: node 1 keeps its memory and has no hart.
    for cpu in ("cpu@2", "cpu@3"):
        subprocess.run(["fdtput", "-t", "u", dtb, f"/cpus/{cpu}", "numa-node-id", "0"],
                       check=True, timeout=30)
    try:
        with Guest(mem="2G", smp="4,sockets=2", extra=TWO, dtb=dtb).start(timeout=120) as g:
            out = g.cmd("nodes")
            assert "node 0 cpus: 0 1 2 3\n" in out and "node 1 cpus:\n" in out, out
            assert node_meminfo(g, 1)["MemTotal"] > 1000 * 1024, out
            # Node 1's harts are node 0's: their allocations still find memory (node 0 first).
            out = g.cmd("stress 5", timeout=240)
            assert re.search(r"stress: ok: \d+ s on 4 harts", out), out
    finally:
        os.unlink(dtb)


def test_seed_line_single_node():
    require_patched_qemu()
    proc = subprocess.Popen([SEED_LINE], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, bufsize=0)
    g = Guest()
    g.proc = proc
    g.started = time.monotonic()
    try:
        g.expect("rvmm> ", 300)
        assert "device tree:" not in g.out, g.out
        out = g.cmd("nodes")
        assert out.startswith("available: 1 nodes (0)\nnode 0 cpus: 0 1 2 3 4 5 6 7\n"), out
        assert "  0:  10" in out, out
        assert re.search(r"node 0\n", g.cmd("vmem")), g.cmd("vmem")
        n0 = node_meminfo(g, 0)
        assert n0["MemTotal"] == g.meminfo()["MemTotal"], n0
    finally:
        proc.kill()
        proc.wait(timeout=30)
