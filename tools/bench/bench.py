#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make bench: rvmm's figures, printed as a table and written to build/bench/results.txt.

Each figure is measured twice where it makes sense: host wall time (seconds on this machine) and
guest time from a second run under QEMU's -icount shift=0,sleep=off (guest time counts
instructions, so it repeats exactly). Boot figures come from the kernel's own log lines.

  tools/bench/bench.py [--quick] [--only boot,hotplug,vmem] [--baseline FILE]
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


def record(name, value, unit, clock):
    RESULTS.append((name, value, unit, clock))
    print(f"  {name:<48} {value:>12.3f} {unit:<4} ({clock})", flush=True)


def log_ms(out, pattern):
    m = re.search(pattern + r"[^\n]*?([\d.]+) ms", out)
    return float(m.group(1)) if m else float("nan")


def boot_once(mem, icount):
    """Boot to the prompt; then wait for the idle harts to finish initialising descriptors."""
    t0 = time.monotonic()
    with Guest(mem=mem, icount=icount).start(timeout=600) as g:
        wall = time.monotonic() - t0
        g.expect(r"deferred init done", 900)
        out = g.out
    return wall, out


def bench_boot(sizes):
    print("boot time by RAM size (1 hart)")
    for mem in sizes:
        wall, out = boot_once(mem, False)
        record(f"boot.{mem}.qemu_start_to_prompt", wall, "s", "wall")
        record(f"boot.{mem}.kernel", log_ms(out, r"boot:") / 1000, "s", "wall")
        _, out = boot_once(mem, True)
        record(f"boot.{mem}.kernel", log_ms(out, r"boot:") / 1000, "s", "guest")
        m = re.search(r"mm_init took (\d+) us", out)
        record(f"boot.{mem}.mm_init", int(m.group(1)) / 1e6 if m else float("nan"), "s", "guest")
        record(f"boot.{mem}.descriptor_init_background", log_ms(out, r"deferred init done") / 1000,
               "s", "guest")


def bench_vmem(harts_list):
    """virtio-mem following 0 -> 1G -> 4G -> 512M -> 0: host wall until the device reports the
    new size (QMP polled every 10 ms), and the driver's own time for the step (guest time under
    -icount). The 4-hart wall run also writes the requested/plugged timeline for the chart."""
    from vmem_guest import GiB, MiB, VmemGuest, patched_qemu
    if not patched_qemu():
        print("virtio-mem: skipped, the patched QEMU is not built (make qemu)")
        return
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
                    clock = "guest" if icount else "wall"
                    if icount:
                        record(f"vmem.{name}.{harts}h", int(m.group(1)) / 1000, "s", "guest")
                    else:
                        record(f"vmem.{name}.{harts}h.device", wall, "s", "wall")
                        record(f"vmem.{name}.{harts}h", int(m.group(1)) / 1000, "s", clock)
            if not icount and harts == harts_list[-1]:
                path = os.path.join(ROOT, "build", "bench", "vmem-timeline.csv")
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as f:
                    f.write("# t_s,requested_bytes,plugged_bytes\n")
                    for t, req, cur in timeline:
                        f.write(f"{t:.4f},{req},{cur}\n")


def hotplug_once(size, harts, icount):
    """Boot -m 4G mem=1G; plug and unplug SIZE at 0xc0000000. Returns (plug, unplug) as
    (kernel ms, host wall s) and the descriptor bytes per GiB the kernel reports."""
    with Guest(mem="4G", smp=harts, args="mem=1G", icount=icount).start(timeout=600) as g:
        t0 = time.monotonic()
        out = g.cmd(f"plug 0xc0000000 {size}", timeout=600)
        plug_wall = time.monotonic() - t0
        m = re.search(r"plug: \d+ MiB at \S+ in ([\d.]+) ms .*?(\d+) KiB/GiB", out)
        if not m:
            raise RuntimeError(f"plug failed: {out}")
        plug_ms, kib_per_gib = float(m.group(1)), int(m.group(2))
        t0 = time.monotonic()
        out = g.cmd(f"unplug 0xc0000000 {size}", timeout=600)
        unplug_wall = time.monotonic() - t0
        m = re.search(r"unplug: \d+ MiB at \S+ in ([\d.]+) ms", out)
        if not m:
            raise RuntimeError(f"unplug failed: {out}")
        return (plug_ms, plug_wall), (float(m.group(1)), unplug_wall), kib_per_gib


def bench_hotplug(sizes, harts_list):
    print("memory hot-plug: -m 4G mem=1G, the range at 0xc0000000")
    for harts in harts_list:
        for size in sizes:
            name = f"hotplug.{size}.{harts}hart{'s' if harts > 1 else ''}"
            (p_ms, p_wall), (u_ms, u_wall), kib = hotplug_once(size, harts, False)
            record(f"{name}.hotadd+online", p_wall, "s", "wall")
            record(f"{name}.offline+hotremove", u_wall, "s", "wall")
            (p_ms, _), (u_ms, _), kib = hotplug_once(size, harts, True)
            record(f"{name}.hotadd+online", p_ms / 1000, "s", "guest")
            record(f"{name}.offline+hotremove", u_ms / 1000, "s", "guest")
            gib = int(size[:-1])
            record(f"{name}.hotadd+online.per_gib", p_ms / 1000 / gib, "s", "guest")
            record(f"{name}.offline+hotremove.per_gib", u_ms / 1000 / gib, "s", "guest")
            record(f"{name}.descriptors_written_per_GiB", kib * 1024, "B", "kernel")


def versions():
    q = subprocess.run(["qemu-system-riscv64", "--version"], capture_output=True, text=True)
    qv = q.stdout.split("\n")[0].split("version ")[-1].split(" ")[0] if q.returncode == 0 else "?"
    k = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                       text=True).stdout.strip() or "?"
    return qv, k


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small sizes only (tests use this)")
    ap.add_argument("--only", default="boot,hotplug,vmem")
    ap.add_argument("--baseline", default=None)
    a = ap.parse_args()
    only = a.only.split(",")
    if "boot" in only:
        bench_boot(["1G", "4G"] if a.quick else ["1G", "4G", "16G", "256G", "1T"])
    if "hotplug" in only:
        bench_hotplug(["1G"] if a.quick else ["1G", "3G"], [1, 4])
    if "vmem" in only:
        bench_vmem([4] if a.quick else [1, 4])
    qv, kv = versions()
    os.makedirs(os.path.join(ROOT, "build", "bench"), exist_ok=True)
    path = os.path.join(ROOT, "build", "bench", "results.txt")
    with open(path, "w") as f:
        for name, value, unit, clock in RESULTS:
            f.write(f"{name}\t{value:.6f}\t{unit}\t{clock}\tqemu={qv}\trvmm={kv}\n")
    print(f"results: {path}")
    # Debian's python3 has python3-matplotlib (make deps); a python first on PATH may not.
    charts = [CHART_PYTHON, os.path.join(ROOT, "tools", "bench", "charts.py"), path]
    if a.baseline:
        charts += ["--baseline", a.baseline]
    timeline = os.path.join(ROOT, "build", "bench", "vmem-timeline.csv")
    if os.path.exists(timeline):
        charts += ["--timeline", timeline]
    if a.baseline and os.path.exists(a.baseline.replace("results.txt", "vmem-timeline.csv")):
        charts += ["--baseline-timeline", a.baseline.replace("results.txt", "vmem-timeline.csv")]
    subprocess.run(charts, check=True)


if __name__ == "__main__":
    main()
