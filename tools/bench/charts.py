#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Draw make bench's PNG charts from its results file (and a baseline results file, if given).

  tools/bench/charts.py RESULTS [--baseline OLD_RESULTS] [--timeline CSV] [--out DIR]

Results lines are `name<TAB>value<TAB>unit<TAB>clock<TAB>qemu=...<TAB>rvmm=...`; the names the
charts read: boot.<RAM>.kernel (guest/wall), hotplug.<op>.<size>.<harts>h (guest), and the
virtio-mem timeline CSV (t_s,requested_bytes,plugged_bytes). A baseline is drawn dashed beside
the current run, so a change that makes things slower shows.
"""
import argparse
import csv
import os
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

UNITS = {"M": 1 / 1024, "G": 1, "T": 1024}


def load(path):
    figs = {}
    if not path:
        return figs
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 4:
                figs[(parts[0], parts[3])] = float(parts[1])
    return figs


def ram_gib(tag):
    m = re.fullmatch(r"(\d+)([MGT])", tag)
    return int(m.group(1)) * UNITS[m.group(2)] if m else None


def finish(fig, ax, title, out):
    """Title, legend, layout and the PNG: the same last steps for every chart."""
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def boot_chart(cur, base, out):
    if not any(re.fullmatch(r"boot\.\w+\.kernel", n) for (n, c) in cur):
        return False
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    for figs, style, label in ((cur, "-", "this run"), (base, "--", "baseline")):
        for clock, marker in (("guest", "o"), ("wall", "s")):
            pts = sorted((ram_gib(n.split(".")[1]), v) for (n, c), v in figs.items()
                         if c == clock and re.fullmatch(r"boot\.\w+\.kernel", n)
                         and ram_gib(n.split(".")[1]) and v == v)
            if pts:
                ax.plot([p[0] for p in pts], [p[1] * 1000 for p in pts], style, marker=marker,
                        label=f"{label}, {clock} time")
    ax.set_xscale("log", base=2)
    sizes = sorted({ram_gib(n.split(".")[1]) for figs in (cur, base) for (n, c) in figs
                    if re.fullmatch(r"boot\.\w+\.kernel", n) and ram_gib(n.split(".")[1])})
    if sizes:
        ax.set_xticks(sizes)
        ax.set_xticklabels([f"{int(g)}G" if g < 1024 else f"{int(g // 1024)}T" for g in sizes])
        ax.minorticks_off()
    ax.set_xlabel("guest RAM (log scale)")
    ax.set_ylabel("first instruction → prompt (ms)")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    finish(fig, ax, "rvmm boot time against RAM size", out)
    return True


def hotplug_chart(cur, base, out):
    rows = sorted({n for (n, c) in cur if n.startswith("hotplug.") and n.endswith("per_gib")})
    if not rows:
        return False
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    x = range(len(rows))
    shift = 0.2 if base else 0
    ax.bar([i - shift for i in x], [cur.get((r, "guest"), 0) * 1000 for r in rows], 0.4,
           label="this run")
    if base:
        ax.bar([i + 0.2 for i in x], [base.get((r, "guest"), 0) * 1000 for r in rows], 0.4,
               label="baseline", hatch="//", alpha=0.6)
    ax.set_xticks(list(x))
    ax.set_xticklabels([r[len("hotplug."):-len(".per_gib")] for r in rows], rotation=20,
                       ha="right", fontsize=7)
    ax.set_ylabel("guest ms per GiB")
    finish(fig, ax, "hot-add+online and offline+remove, per GiB", out)
    return True


def timeline_chart(path, base_path, out):
    if not path or not os.path.exists(path):
        return False
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    for p, style, label in ((path, "-", "this run"), (base_path, "--", "baseline")):
        if not p or not os.path.exists(p):
            continue
        with open(p) as f:
            rows = [(float(r[0]), int(r[1]) / 2**30, int(r[2]) / 2**30) for r in csv.reader(f)
                    if r and not r[0].startswith("#")]
        if not rows:
            continue
        t = [r[0] for r in rows]
        ax.step(t, [r[1] for r in rows], style, where="post", label=f"requested ({label})")
        ax.step(t, [r[2] for r in rows], style, where="post", label=f"plugged ({label})")
    ax.set_xlabel("host wall time (s)")
    ax.set_ylabel("GiB")
    ax.grid(True, alpha=0.3)
    finish(fig, ax, "virtio-mem: requested vs plugged size", out)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--baseline")
    ap.add_argument("--timeline")
    ap.add_argument("--baseline-timeline")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    out = a.out or os.path.dirname(os.path.abspath(a.results))
    os.makedirs(out, exist_ok=True)
    cur, base = load(a.results), load(a.baseline)
    made = []
    if boot_chart(cur, base, os.path.join(out, "boot-vs-ram.png")):
        made.append(os.path.join(out, "boot-vs-ram.png"))
    if hotplug_chart(cur, base, os.path.join(out, "hotplug-per-gib.png")):
        made.append(os.path.join(out, "hotplug-per-gib.png"))
    if timeline_chart(a.timeline, a.baseline_timeline, os.path.join(out, "vmem-timeline.png")):
        made.append(os.path.join(out, "vmem-timeline.png"))
    for m in made:
        print(f"chart: {m}")


if __name__ == "__main__":
    main()
