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


def versions():
    q = subprocess.run(["qemu-system-riscv64", "--version"], capture_output=True, text=True)
    qv = q.stdout.split("\n")[0].split("version ")[-1].split(" ")[0] if q.returncode == 0 else "?"
    k = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                       text=True).stdout.strip() or "?"
    return qv, k


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small sizes only (tests use this)")
    ap.add_argument("--only", default="boot")
    ap.add_argument("--baseline", default=None)
    a = ap.parse_args()
    only = a.only.split(",")
    if "boot" in only:
        bench_boot(["1G", "4G"] if a.quick else ["1G", "4G", "16G", "256G", "1T"])
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
