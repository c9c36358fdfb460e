#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make bench: rvmm's figures, printed as a table, written to build/bench/results.txt and drawn
as PNG charts beside it (tools/bench/charts.py, run with Debian's /usr/bin/python3 and its
python3-matplotlib: a pyenv python first on PATH may lack matplotlib).

Each figure is measured twice where it makes sense: host wall time (seconds on this machine) and
guest time from a second run under QEMU's -icount shift=0,sleep=off (guest time counts
instructions, so it repeats exactly). Boot figures come from the kernel's own log lines.

results.txt has one line per figure, tab-separated:
  name  value  unit  clock(guest|wall)  qemu=VERSION  rvmm=VERSION
unit is s (seconds), B (bytes), n (a count, e.g. interrupts seen) or harts. qemu= is the version
of the binary that measured it (the patched QEMU, marked +patched.KEY, for the virtio-mem and
virtio-pmem figures); rvmm= is the version the kernel printed when it booted. The virtio-mem
resize timeline (requested and plugged size over host time) goes to vmem-timeline.csv.

--baseline FILE (make bench BASELINE=FILE): a results.txt of an earlier run, drawn dashed beside
this one; the vmem-timeline.csv next to it too, if there is one. Both are copied to
OUT/baseline-* before anything is measured, so FILE may be the results.txt this run replaces.

  tools/bench/bench.py [--quick] [--only boot,harts,hotplug,vmem,pmem,irq,numa] [--baseline FILE]
      [--out DIR]
"""
import argparse
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from guest import Guest  # noqa: E402

RESULTS = []
CHART_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
OUT = os.path.join(ROOT, "build", "bench")
QEMU_VERSION = {}   # "system" / "patched" -> version string
KERNEL_VERSION = []  # what the booted kernel said, first seen


def qemu_version(binary, tag=""):
    try:
        q = subprocess.run([binary, "--version"], capture_output=True, text=True)
    except OSError:
        return "?"
    m = re.search(r"version (\S+)", q.stdout)
    return (m.group(1) if m else "?") + tag


def note_kernel(out):
    m = re.search(r"rvmm (\S+): hart", out)
    if m and not KERNEL_VERSION:
        KERNEL_VERSION.append(m.group(1))


def shown(value, unit):
    """A figure as a reader wants it: sub-second times in ms or us, byte counts in KiB/MiB."""
    for scale, big in ((1e-6, "us"), (1e-3, "ms")) if unit == "s" else ():
        if abs(value) < scale * 1000:
            return value / scale, big
    for scale, big in ((1 << 20, "MiB"), (1 << 10, "KiB")) if unit == "B" else ():
        if abs(value) >= scale:
            return value / scale, big
    return value, unit


def record(name, value, unit, clock, qemu="system"):
    RESULTS.append((name, value, unit, clock, qemu))
    v, u = shown(value, unit)
    print(f"  {name:<48} {v:>12.3f} {u:<4} ({clock})", flush=True)


def log_ms(out, pattern):
    m = re.search(pattern + r"[^\n]*?([\d.]+) ms", out)
    return float(m.group(1)) if m else float("nan")


def boot_once(mem, icount):
    """Boot to the prompt; then wait for the idle harts to finish initialising descriptors."""
    t0 = time.monotonic()
    with Guest(mem=mem, icount=icount).start(timeout=600) as g:
        wall = time.monotonic() - t0
        g.expect(r"deferred init done[^\n]*\n", 900)
        out = g.out
    note_kernel(out)
    return wall, out


def bench_boot(sizes):
    print("boot time by RAM size (1 hart)")
    for mem in sizes:
        wall, out = boot_once(mem, False)
        record(f"boot.{mem}.qemu_start_to_prompt", wall, "s", "wall")
        record(f"boot.{mem}.kernel", log_ms(out, r"boot:") / 1000, "s", "wall")
        _, out = boot_once(mem, True)
        record(f"boot.{mem}.kernel", log_ms(out, r"boot:") / 1000, "s", "guest")
        m = re.search(r"direct map built in (\d+) us", out)
        record(f"boot.{mem}.directmap", int(m.group(1)) / 1e6 if m else float("nan"), "s", "guest")
        m = re.search(r"mm_init took (\d+) us", out)
        record(f"boot.{mem}.mm_init", int(m.group(1)) / 1e6 if m else float("nan"), "s", "guest")
        record(f"boot.{mem}.descriptor_init_background", log_ms(out, r"deferred init done") / 1000,
               "s", "guest")


def bench_harts(counts):
    """Boot time by hart count (1 GiB): the kernel's own figure and QEMU start to prompt, both
    host wall time (under -icount all harts would run on one host thread), and how many harts
    came up: the firmware may keep some (docs/harts.md)."""
    print("boot time by hart count (1 GiB)")
    for n in counts:
        t0 = time.monotonic()
        with Guest(mem="1G", smp=n).start(timeout=900) as g:
            wall = time.monotonic() - t0
            out = g.out
        note_kernel(out)
        m = re.search(r"smp: (\d+) harts? online", out)
        record(f"harts.{n}.qemu_start_to_prompt", wall, "s", "wall")
        record(f"harts.{n}.boot_kernel", log_ms(out, r"boot:") / 1000, "s", "wall")
        record(f"harts.{n}.online", int(m.group(1)) if m else float("nan"), "harts", "wall")


def note_patched_qemu(qemu):
    # The cache key (the directory above bin/) names the patch and flags it was built with.
    QEMU_VERSION["patched"] = qemu_version(
        qemu, "+patched." + os.path.basename(os.path.dirname(os.path.dirname(qemu)))[:8])


def bench_vmem(harts_list):
    """virtio-mem following 0 -> 1G -> 4G -> 512M -> 0: host wall until the device reports the
    new size (QMP polled every 10 ms), and the driver's own time for the step (guest time under
    -icount). The 4-hart wall run also writes the requested/plugged timeline for the chart."""
    from vmem_guest import GiB, MiB, VmemGuest, patched_qemu
    qemu = patched_qemu()
    if not qemu:
        print("virtio-mem: skipped, the patched QEMU is not built (make qemu)")
        return
    note_patched_qemu(qemu)
    steps = [1 * GiB, 4 * GiB, 512 * MiB, 0]
    names = ["0-1G", "1G-4G", "4G-512M", "512M-0"]
    print("virtio-mem resize (2 MiB blocks)")
    for harts in harts_list:
        for icount in (False, True):
            timeline = []
            with VmemGuest(block="2M", smp=harts, icount=icount) as v:
                t0 = time.monotonic()
                for size, name in zip(steps, names):
                    before = v.size()
                    v.q.cmd("qom-set", path="vm0", property="requested-size", value=size)
                    ts = time.monotonic()
                    timeline.append((ts - t0, size, before))
                    while True:
                        now, cur = time.monotonic(), v.size()
                        timeline.append((now - t0, size, cur))
                        if cur == size or now - ts > 120:
                            break
                        time.sleep(0.01)
                    wall = time.monotonic() - ts
                    m = v.g.expect(r"plugged and \d+ MiB online \(target \d+ MiB\) in (\d+) ms", 120)
                    note_kernel(v.g.out)
                    if icount:
                        record(f"vmem.{name}.{harts}h", int(m.group(1)) / 1000, "s", "guest",
                               "patched")
                    else:
                        record(f"vmem.{name}.{harts}h.device", wall, "s", "wall", "patched")
                        record(f"vmem.{name}.{harts}h", int(m.group(1)) / 1000, "s", "wall",
                               "patched")
            if not icount and harts == harts_list[-1]:
                path = os.path.join(OUT, "vmem-timeline.csv")
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as f:
                    f.write("# t_s,requested_bytes,plugged_bytes\n")
                    for t, req, cur in timeline:
                        f.write(f"{t:.4f},{req},{cur}\n")


IRQ_MODES = [("plic", ""), ("aplic", "-machine aia=aplic"),
             ("aplic-imsic", "-machine aia=aplic-imsic")]
# virtio-mem's interrupt delivery: MSI-X through the IMSIC, INTx through the APLIC (MSI mode),
# INTx through the PLIC, and none at all (the driver's poll).
VMEM_DELIVERY = [("msix", "-machine aia=aplic-imsic", ""),
                 ("intx-aplic", "-machine aia=aplic-imsic", "pci_msi=off"),
                 ("intx-plic", "", ""),
                 ("polling", "-machine aia=aplic-imsic", "pci_msi=off pci_intx=off")]


def bench_irq(quick):
    """Boot time by interrupt controller (4 harts, guest time under -icount), and virtio-mem
    resize time by interrupt delivery: host wall from the QMP request until the device reports
    the new size (QMP polled every 10 ms; a step not followed in 60 s is recorded as nan)."""
    from vmem_guest import GiB, VmemGuest, patched_qemu
    print("boot time by interrupt mode (1G, 4 harts)")
    for mode, extra in IRQ_MODES:
        with Guest(mem="1G", smp=4, extra=extra, icount=True).start(timeout=600) as g:
            out = g.out
        note_kernel(out)
        record(f"irq.boot.{mode}", log_ms(out, r"boot:") / 1000, "s", "guest")
    qemu = patched_qemu()
    if not qemu:
        print("virtio-mem by delivery: skipped, the patched QEMU is not built (make qemu)")
        return
    note_patched_qemu(qemu)
    print("virtio-mem resize by interrupt delivery (2 MiB blocks, 2 harts)")
    steps = [(1 * GiB, "0-1G"), (0, "1G-0")] if quick else \
        [(1 * GiB, "0-1G"), (4 * GiB, "1G-4G"), (0, "4G-0")]
    for name, extra, args in VMEM_DELIVERY:
        with VmemGuest(block="2M", smp=2, extra=extra, args=args) as v:
            for size, step in steps:
                try:
                    wall = v.resize(size)
                except AssertionError:
                    wall = float("nan")
                record(f"irq.vmem.{step}.{name}", wall, "s", "wall", "patched")


HOT_MEM, HOT_KEEP, HOT_AT = "256G", "4G", 0x180000000  # boot RAM for the memmap of 200 GiB


def hotplug_once(size, harts, icount):
    """Boot -m 256G mem=4G; plug and unplug SIZE at 0x180000000. Returns (plug, unplug) as
    (kernel ms, host wall s) and the page descriptor bytes hot-add + online wrote up front."""
    with Guest(mem=HOT_MEM, smp=harts, args=f"mem={HOT_KEEP}", icount=icount).start(timeout=600) as g:
        t0 = time.monotonic()
        out = g.cmd(f"plug {HOT_AT:#x} {size}", timeout=900)
        plug_wall = time.monotonic() - t0
        m = re.search(r"plug: \d+ MiB at \S+ in ([\d.]+) ms .*?descriptors (\d+) KiB written", out)
        if not m:
            raise RuntimeError(f"plug failed: {out}")
        plug_ms, desc_kib = float(m.group(1)), int(m.group(2))
        t0 = time.monotonic()
        out = g.cmd(f"unplug {HOT_AT:#x} {size}", timeout=900)
        unplug_wall = time.monotonic() - t0
        m = re.search(r"unplug: \d+ MiB at \S+ in ([\d.]+) ms", out)
        if not m:
            raise RuntimeError(f"unplug failed: {out}")
        note_kernel(g.out)
        return (plug_ms, plug_wall), (float(m.group(1)), unplug_wall), desc_kib << 10


def bench_hotplug(sizes, harts_list):
    print(f"memory hot-plug: -m {HOT_MEM} mem={HOT_KEEP}, the range at {HOT_AT:#x}")
    for harts in harts_list:
        for size in sizes:
            name = f"hotplug.{size}.{harts}hart{'s' if harts > 1 else ''}"
            (p_ms, p_wall), (u_ms, u_wall), desc = hotplug_once(size, harts, False)
            record(f"{name}.hotadd+online", p_wall, "s", "wall")
            record(f"{name}.offline+hotremove", u_wall, "s", "wall")
            (p_ms, _), (u_ms, _), desc = hotplug_once(size, harts, True)
            record(f"{name}.hotadd+online", p_ms / 1000, "s", "guest")
            record(f"{name}.offline+hotremove", u_ms / 1000, "s", "guest")
            gib = int(size[:-1])
            record(f"{name}.hotadd+online.per_gib", p_ms / 1000 / gib, "s", "guest")
            record(f"{name}.offline+hotremove.per_gib", u_ms / 1000 / gib, "s", "guest")
            record(f"{name}.descriptors_written", desc, "B", "guest")
            record(f"{name}.descriptors_written_per_GiB", desc / gib, "B", "guest")


def numa_once(nodes):
    """A 4 GiB, 4-hart guest as one node or as four (1 GiB and one hart each), mem=3G, under
    -icount: boot figures, then plug and unplug the top 1 GiB (RAM hidden by mem=: node 3's when
    there are four). Returns the kernel's boot, mm_init, plug and unplug times (guest ms)."""
    extra = " ".join(f"-object memory-backend-ram,id=m{i},size=1G "
                     f"-numa node,nodeid={i},cpus={i},memdev=m{i}" for i in range(nodes))
    smp = "4,sockets=4" if nodes == 4 else "4"
    at = 0x140000000
    with Guest(mem="4G", smp=smp, args="mem=3G", icount=True,
               extra=extra if nodes > 1 else "").start(timeout=600) as g:
        if "deferred init done" not in g.out:  # 4 harts: often done before the prompt
            g.expect(r"deferred init done[^\n]*\n", 900)
        out = g.out
        assert f"available: {nodes} nodes" in g.cmd("nodes")
        plug = g.cmd(f"plug {at:#x} 1G movable", timeout=900)
        unplug = g.cmd(f"unplug {at:#x} 1G", timeout=900)
    note_kernel(out)
    p = re.search(r"plug: \d+ MiB at \S+ in ([\d.]+) ms", plug)
    u = re.search(r"unplug: \d+ MiB at \S+ in ([\d.]+) ms", unplug)
    if not p or not u:
        raise RuntimeError(f"plug/unplug failed: {plug} {unplug}")
    m = re.search(r"mm_init took (\d+) us", out)
    return (log_ms(out, r"boot:"), int(m.group(1)) / 1000 if m else float("nan"),
            float(p.group(1)), float(u.group(1)))


def bench_numa():
    """The same machine as one NUMA node and as four: boot and hot-plug should match but for
    noise (guest time)."""
    print("NUMA: 4 GiB, 4 harts, mem=3G, plug/unplug the top 1 GiB; 1 node vs 4 nodes")
    for nodes in (1, 4):
        boot, mm_init, plug, unplug = numa_once(nodes)
        name = f"numa.{nodes}node{'s' if nodes > 1 else ''}"
        record(f"{name}.boot.kernel", boot / 1000, "s", "guest")
        record(f"{name}.boot.mm_init", mm_init / 1000, "s", "guest")
        record(f"{name}.hotadd+online.1G", plug / 1000, "s", "guest")
        record(f"{name}.offline+hotremove.1G", unplug / 1000, "s", "guest")


def copy_baseline(path):
    """Copy a baseline results file (and the vmem-timeline.csv beside it) into OUT before this
    run overwrites anything; returns the copies' paths (timeline None if there is none)."""
    if not os.path.isfile(path):
        sys.exit(f"bench: baseline {path}: no such file")
    with open(path) as f:
        text = f.read()
    if not any(len(l.split("\t")) >= 4 for l in text.splitlines()):
        sys.exit(f"bench: baseline {path}: not a results file (name<TAB>value<TAB>unit<TAB>clock...)")
    os.makedirs(OUT, exist_ok=True)
    res = os.path.join(OUT, "baseline-results.txt")
    if os.path.abspath(path) != os.path.abspath(res):
        with open(res, "w") as f:
            f.write(text)
    tl = os.path.join(os.path.dirname(os.path.abspath(path)), "vmem-timeline.csv")
    tl_copy = os.path.join(OUT, "baseline-vmem-timeline.csv")
    if os.path.isfile(tl) and os.path.abspath(tl) != os.path.abspath(tl_copy):
        with open(tl) as f, open(tl_copy, "w") as g:
            g.write(f.read())
    elif not os.path.isfile(tl_copy):
        tl_copy = None
    return res, tl_copy


def bench_pmem(size):
    """virtio-pmem (a file backend of SIZE in a temporary folder): memmap bytes per GiB of pmem
    with and without shared tails, kmem online/offline time per GiB (offline after memtest has
    used part of it), FLUSH latency (the mean of 10; the host fsyncs the file)."""
    import tempfile
    from vmem_guest import patched_qemu
    qemu = patched_qemu()
    if not qemu:
        print("virtio-pmem: skipped, the patched QEMU is not built (make qemu)")
        return
    note_patched_qemu(qemu)
    gib = int(size[:-1])
    print(f"virtio-pmem ({size}, file backend)")
    for icount in (False, True):
        clock = "guest" if icount else "wall"
        with tempfile.TemporaryDirectory(prefix="rvmm-bench-pmem-") as d:
            env = {"PMEM": f"{d}/pm.img:{size}", "QEMU_PATCHED": qemu}
            with Guest(mem="1G", smp=2, env=env, icount=icount).start(timeout=600) as g:
                note_kernel(g.out)
                if not icount:
                    for mode in ("shared", "full"):
                        out = g.cmd(f"pmem memmap {mode}", timeout=600)
                        m = re.search(r"(\d+) KiB per GiB", out)
                        record(f"pmem.memmap_per_gib.{mode}_tails", int(m.group(1)) * 1024 if m
                               else float("nan"), "B", "guest", "patched")
                    g.cmd("pmem memmap shared", timeout=600)
                us = []
                for _ in range(10):
                    m = re.search(r"flush ok in (\d+) us", g.cmd("pmem flush", timeout=60))
                    us.append(int(m.group(1)) if m else float("nan"))
                record("pmem.flush_latency", sum(us) / len(us) / 1e6, "s", clock, "patched")
                out = g.cmd("pmem kmem online", timeout=600)
                m = re.search(r"System RAM .*?in (\d+) us", out)
                record("pmem.kmem_online.per_gib", int(m.group(1)) / 1e6 / gib if m else
                       float("nan"), "s", clock, "patched")
                g.cmd("memtest 256M", timeout=600)
                out = g.cmd("pmem kmem offline", timeout=900)
                m = re.search(r"offlined and removed in (\d+) us", out)
                record("pmem.kmem_offline.per_gib", int(m.group(1)) / 1e6 / gib if m else
                       float("nan"), "s", clock, "patched")


def main():
    global OUT
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small sizes only (tests use this)")
    ap.add_argument("--only", default="boot,harts,hotplug,vmem,pmem,irq,numa")
    ap.add_argument("--baseline", default=None)
    ap.add_argument("--out", default=OUT, help="directory for results.txt and the charts")
    a = ap.parse_args()
    OUT = os.path.abspath(a.out)
    only = a.only.split(",")
    baseline = copy_baseline(a.baseline) if a.baseline else (None, None)
    timeline = os.path.join(OUT, "vmem-timeline.csv")
    if os.path.exists(timeline):
        os.unlink(timeline)  # a stale one would be drawn as this run's
    QEMU_VERSION["system"] = qemu_version(os.environ.get("QEMU", "qemu-system-riscv64"))
    if "boot" in only:
        bench_boot(["1G", "4G"] if a.quick else ["1G", "4G", "16G", "256G", "1T"])
    if "harts" in only:
        bench_harts([8, 32] if a.quick else [8, 32, 64, 100])
    if "hotplug" in only:
        bench_hotplug(["1G"] if a.quick else ["1G", "16G", "200G"], [4] if a.quick else [1, 4])
    if "vmem" in only:
        bench_vmem([4] if a.quick else [1, 4])
    if "pmem" in only:
        bench_pmem("1G" if a.quick else "4G")
    if "irq" in only:
        bench_irq(a.quick)
    if "numa" in only:
        bench_numa()
    kv = KERNEL_VERSION[0] if KERNEL_VERSION else "?"
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "results.txt")
    with open(path, "w") as f:
        for name, value, unit, clock, qemu in RESULTS:
            f.write(f"{name}\t{value:.6f}\t{unit}\t{clock}\tqemu={QEMU_VERSION.get(qemu, '?')}"
                    f"\trvmm={kv}\n")
    print(f"results: {path} ({len(RESULTS)} figures)")
    charts = [CHART_PYTHON, os.path.join(ROOT, "tools", "bench", "charts.py"), path, "--out", OUT]
    if baseline[0]:
        charts += ["--baseline", baseline[0]]
    if os.path.exists(timeline):
        charts += ["--timeline", timeline]
    if baseline[1]:
        charts += ["--baseline-timeline", baseline[1]]
    subprocess.run(charts, check=True)


if __name__ == "__main__":
    main()
