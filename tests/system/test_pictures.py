# SPDX-License-Identifier: MIT
"""Pictures of memory and progress of long work (issue 9).

`sections --map` on a guest with absent, offline, online Normal, online Movable, partly online
and memmap_on_memory sections agrees character by character with `sections`, its legend
counts agree with the map and with the `sections` totals, and its online figure with meminfo's
MemTotal. A 1 TiB guest's map is a screenful. `vmem map` agrees with `vmem`. memtest and large
plugs print progress log lines without disturbing the lines tests match. `make bench --quick`
writes its results file and valid PNG charts, also against a baseline.
"""
import collections
import os
import re
import struct
import subprocess
import sys

from guest import ROOT, Guest
from vmem_guest import GiB, MiB, VmemGuest, patched_qemu, require_patched_qemu

SECTION_SHIFT = 27
LOG_LINE = re.compile(r"^\[\s*\d+\.\d{6}\] ", re.M)


def parse_map(out):
    """`sections --map` -> (lo, hi, {section: char}, legend {char: count}, lines, footer)."""
    h = re.search(r"section map: 0x([0-9a-f]+)-0x([0-9a-f]+), (\d+) sections of 128 MiB", out)
    assert h, out
    lo, hi = int(h.group(1), 16) >> SECTION_SHIFT, int(h.group(2), 16) >> SECTION_SHIFT
    assert int(h.group(3)) == hi - lo, out
    text = out[h.start():]
    chars, legend, prev = {}, {}, None
    lines = [l for l in text.splitlines() if l.strip() and not LOG_LINE.match(l)]
    for line in lines:
        m = re.match(r"0x([0-9a-f]{12})  (.*)$", line)
        if m:
            base = int(m.group(1), 16) >> SECTION_SHIFT
            prev = (base, m.group(2))
            for i, c in enumerate(m.group(2)):
                if c != " ":
                    chars[base + i] = c
            continue
        m = re.match(r"\s+\.\.\. (\d+) more lines like this one, up to 0x([0-9a-f]+)$", line)
        if m:
            base, row = prev
            n = int(m.group(1))
            assert (base + 64 * (n + 1)) << SECTION_SHIFT == int(m.group(2), 16), line
            for k in range(1, n + 1):
                for i, c in enumerate(row):
                    chars[base + 64 * k + i] = c
            continue
        for c, _what, n in re.findall(r"(?:^  |    )(\S)  ([A-Za-z][^\d\n]*?)\s+(\d+)(?=    |$)",
                                      line):
            legend[c] = int(n)
    footer = re.search(r"online (\d+) MiB \(Normal (\d+), Movable (\d+)\), added but offline "
                       r"(\d+) MiB; MemTotal (\d+) kB", text)
    assert footer, out
    return lo, hi, chars, legend, lines, [int(x) for x in footer.groups()]


def parse_sections(out, regions=()):
    """`sections` -> (totals {state: n}, {section: char expected}, online MiB). An absent
    section is '.' inside hidden RAM or a device region (regions: [(lo, hi)] in sections)."""
    t = re.search(r"sections of 128 MiB: (\d+) online, (\d+) present, (\d+) absent", out)
    assert t, out
    totals = {"online": int(t.group(1)), "present": int(t.group(2)), "absent": int(t.group(3))}
    hidden = [(int(a, 16) >> SECTION_SHIFT, int(b, 16) >> SECTION_SHIFT) for a, b in
              re.findall(r"^0x([0-9a-f]+)-0x([0-9a-f]+)  RAM above mem=", out, re.M)]
    hidden += list(regions)
    want, seen, online_mib = {}, collections.Counter(), 0
    for line in out.splitlines():
        m = re.match(r"\s*(\d+)(?:-(\d+))?  0x\w+-0x\w+  (absent|present|online)\s+(.*)$", line)
        if not m:
            continue
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        state, rest = m.group(3), m.group(4)
        seen[state] += last - first + 1
        for nr in range(first, last + 1):
            if state == "absent":
                want[nr] = "." if any(a <= nr < b for a, b in hidden) else "-"
                continue
            part = re.search(r"partly online \((\d+) of 64", rest)
            if state == "online":
                online_mib += int(part.group(1)) * 2 if part else 128
            if "memmap_on_memory" in rest:
                want[nr] = "v"
            elif state == "present":
                want[nr] = "o"
            else:
                c = "M" if rest.startswith("Movable") else "N"
                want[nr] = c.lower() if part else c
    assert dict(seen) == {k: v for k, v in totals.items() if v}, (seen, totals)
    return totals, want, online_mib


def check_map_against_sections(g):
    out_map, out_sec = g.cmd("sections --map"), g.cmd("sections")
    lo, hi, chars, legend, lines, footer = parse_map(out_map)
    regions = [(int(a, 16) >> SECTION_SHIFT, int(b, 16) >> SECTION_SHIFT) for a, b in
               re.findall(r"^device region .*: 0x([0-9a-f]+)-0x([0-9a-f]+) ", out_map, re.M)]
    totals, want, online_mib = parse_sections(out_sec, regions)
    for nr in range(lo, hi):
        assert chars.get(nr) == want.get(nr), (nr, chars.get(nr), want.get(nr), out_map, out_sec)
    counts = collections.Counter(chars[nr] for nr in range(lo, hi))
    for c, n in legend.items():
        assert counts.get(c, 0) == n, (c, n, counts, out_map)
    assert set(counts) <= set(legend), (counts, legend)
    # The map's states add up to the table's totals (sections outside the span are absent).
    v_online = sum(1 for nr in range(lo, hi) if want[nr] == "v" and
                   re.search(rf"^\s*{nr}  \S+  online", out_sec, re.M))
    assert sum(legend[c] for c in "NMnm") + v_online == totals["online"], (legend, totals)
    assert legend["o"] + legend["v"] - v_online == totals["present"], (legend, totals)
    assert footer[0] == online_mib == footer[1] + footer[2], (footer, online_mib)
    return footer, legend, lines


def test_section_map_agrees_with_sections_and_meminfo():
    with Guest(mem="4G", smp=2, args="mem=1G").start(timeout=120) as g:
        footer0, legend0, _ = check_map_against_sections(g)
        assert legend0["N"] == 8 and legend0["."] == 24, legend0  # 1 GiB booted, 3 GiB hidden
        reserved = footer0[0] * 1024 - footer0[4]  # online RAM the allocator never had
        assert footer0[4] == g.meminfo()["MemTotal"]
        for line in ("plug 0xc0000000 128M memmap_on_memory",   # v (online, Movable)
                     "plug 0xc8000000 256M normal",             # N N
                     "plug 0xd8000000 128M movable",            # M
                     "hotadd 0xe0000000 128M",                  # o
                     "hotadd 0xe8000000 128M", "online 0xe8000000 4M",           # m
                     "hotadd 0xf0000000 128M", "online 0xf0000000 2M normal",    # n
                     "hotadd 0xf8000000 128M memmap_on_memory"):                 # v (present)
            out = g.cmd(line, timeout=60)
            assert re.search(r"^(plug|hotadd|online): ", out, re.M), (line, out)
        footer, legend, lines = check_map_against_sections(g)
        assert legend == {".": 16, "-": 0, "o": 1, "v": 2, "N": 10, "M": 1, "n": 1, "m": 1,
                          "!": 0}, legend
        assert re.match(r"0x000000000000 {18}NNNNNNNNvNNMomnv\.{16}$", lines[2]), lines
        # Hot-plugged memory counts in MemTotal whole (memmap_on_memory pages included).
        mem_total = g.meminfo()["MemTotal"]
        assert footer[4] == mem_total, (footer, mem_total)
        assert footer[0] * 1024 - mem_total == reserved, (footer, mem_total, reserved)
        assert footer[0] == 1024 + 128 + 256 + 128 + 4 + 2 and footer[2] == 128 + 128 + 4, footer
        assert footer[3] == 128 + 124 + 126 + 128, footer


def test_section_map_1t_is_a_screenful():
    """1 TiB of RAM, half of it hidden (mem=512G), 1 GiB plugged in the middle of the hidden
    half: every kind of line folds, and the whole map stays under 40 lines."""
    with Guest(mem="1T", args="mem=512G").start(timeout=300) as g:
        out = g.cmd("plug 0xa080000000 1G", timeout=120)
        assert "plug: 1024 MiB at 0xa080000000" in out, out
        footer, legend, lines = check_map_against_sections(g)
        assert len(lines) <= 40, "\n".join(lines)
        assert legend["N"] == 4096 and legend["M"] == 8 and legend["."] == 4096 - 8, legend
        assert sum(1 for l in lines if "more lines like this one" in l) >= 3, "\n".join(lines)


def test_vmem_map_agrees_with_vmem():
    require_patched_qemu()
    with VmemGuest(block="2M", smp=2) as v:
        v.resize(1 * GiB + 64 * MiB)
        out = v.g.cmd("vmem map")
        head = re.search(r": 0x([0-9a-f]+)-0x([0-9a-f]+), (\d+) blocks of 2048 KiB, 1 a character",
                         out)
        assert head, out
        legend = dict((c, int(n)) for c, n in
                      re.findall(r"(?:^  |    )(\S)  [A-Za-z][^\d\n]*?\s+(\d+)(?=    |$)", out, re.M))
        body, row = "", ""
        for line in out.splitlines():
            if re.match(r"0x[0-9a-f]{12}  ", line):
                row = line[16:]
                body += row
            m = re.match(r"\s+\.\.\. (\d+) more lines like this one", line)
            if m:
                body += row * int(m.group(1))
        assert len(body) == int(head.group(3)), (len(body), out)
        assert body.startswith("M" * 544) and body[544] in ".-", out
        blocks = re.search(r"blocks: (\d+) online, (\d+) unmovable, (\d+) plugged offline, "
                           r"(\d+) unplugged", v.g.cmd("vmem"))
        online, unmovable, offline, unplugged = map(int, blocks.groups())
        assert (legend["M"], legend["!"], legend["o"]) == (online, unmovable, offline), out
        assert legend["."] + legend["-"] == unplugged and online == 544, (legend, blocks.groups())
        # The section map spans the device region: 8 whole sections and one half plugged.
        footer, smap, lines = check_map_against_sections(v.g)
        assert smap["M"] == 8 and smap["m"] == 1, smap
        assert re.search(r"^device region .*: 0x0000c0000000-", v.g.cmd("sections --map"), re.M)


def test_progress_lines_of_long_work():
    """memtest of 1 GiB runs for seconds under TCG: progress log lines, and the command's own
    line unchanged. A plug whose step takes over a second says how far it got, too."""
    with Guest(mem="256G", smp=2, args="mem=2G").start(timeout=120) as g:
        g.pos = 0  # printed before or after the prompt
        g.expect(r"mm: deferred init done: \d+ sections \(\d+ MiB of descriptors\) in [\d.]+ ms",
                 60)
        out = g.cmd("memtest 1G", timeout=300)
        assert "memtest: ok (1024 MiB)" in out, out
        prog = re.findall(r"\] memtest: pass ([12])/2 (write|verify) (\d+)/1024 MiB \(([\d.]+) s\)",
                          out)
        assert prog, out
        secs = [float(p[3]) for p in prog]
        assert secs == sorted(secs) and secs[0] >= 1.0, prog
        # 200 GiB: seconds per step under TCG (descriptors on the memory itself: 1 MiB per
        # section, nothing from the 2 GiB booted).
        out = g.cmd("plug 0x100000000 200G memmap_on_memory", timeout=300)
        m = re.search(r"^plug: 204800 MiB at 0x100000000 in [\d.]+ ms \(hotadd ([\d.]+) ms, "
                      r"online ([\d.]+) ms", out, re.M)
        assert m, out
        steps = (("hotadd", float(m.group(1))), ("online", float(m.group(2))))
        for step, ms in steps:
            if ms >= 1500:
                assert re.search(rf"\] {step}: \d+/204800 MiB \([\d.]+ s\)", out), (step, out)
        print(f"note: plug 200G: hotadd {steps[0][1]:.0f} ms, online {steps[1][1]:.0f} ms")
        out = g.cmd("unplug 0x100000000 200G", timeout=300)
        assert re.search(r"^unplug: 204800 MiB", out, re.M), out


def png_size(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", path
    w, h = struct.unpack(">II", data[16:24])
    return w, h, len(data)


def test_bench_quick_results_and_charts():
    out_dir = os.path.join(ROOT, "build", "test-bench")
    bench = [sys.executable, os.path.join(ROOT, "tools", "bench", "bench.py"), "--quick",
             "--out", out_dir]
    for extra in ([], ["--baseline", os.path.join(out_dir, "results.txt")]):
        p = subprocess.run(bench + extra, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    results = os.path.join(out_dir, "results.txt")
    names = set()
    with open(results) as f:
        for line in f:
            name, value, unit, clock, qemu, rvmm = line.rstrip("\n").split("\t")
            float(value)
            assert unit in ("s", "B", "n", "harts") and clock in ("guest", "wall"), line
            assert re.fullmatch(r"qemu=\d+\.\d+\.\d+\S*", qemu) and re.fullmatch(r"rvmm=\S+", rvmm), line
            if name.startswith(("vmem.", "pmem.")):
                assert "+patched." in qemu, line
            names.add((name, clock))
    for want in (("boot.1G.kernel", "guest"), ("boot.4G.kernel", "wall"),
                 ("harts.32.boot_kernel", "wall"), ("harts.32.online", "wall"),
                 ("hotplug.1G.4harts.hotadd+online.per_gib", "guest"),
                 ("hotplug.1G.4harts.offline+hotremove.per_gib", "guest")):
        assert want in names, (want, sorted(names))
    pngs = ["boot-vs-ram.png", "hotplug-per-gib.png"]
    if patched_qemu():
        assert ("vmem.1G-4G.4h", "guest") in names, sorted(names)
        for want in (("pmem.memmap_per_gib.shared_tails", "guest"),
                     ("pmem.kmem_online.per_gib", "guest"), ("pmem.flush_latency", "wall")):
            assert want in names, (want, sorted(names))
        pngs.append("vmem-timeline.png")
    assert os.path.exists(os.path.join(out_dir, "baseline-results.txt"))
    for png in pngs:
        w, h, size = png_size(os.path.join(out_dir, png))
        assert w > 100 and h > 100 and size > 5000, (png, w, h, size)
