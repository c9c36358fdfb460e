# SPDX-License-Identifier: MIT
"""virtio-pmem under the patched QEMU (tools/qemu): devdax, flush, persistence, kmem.

Each guest gets its pmem devices from run-qemu.sh's PMEM (memory-backend-file, share=on, in a
temporary folder; or ram:SIZE). Checked:
- data written through the devdax mapping and flushed is there after a power-off and a new QEMU
  on the same file; another pattern does not verify (the check can fail)
- a RAM backend fails every flush, reported and counted
- kmem: refused while a devdax user holds a page; online (Movable) grows MemTotal, memtest over
  it, mmcheck; offline migrates and removes it and the region is devdax again with its figures
  back; online in Normal too
- kmem offline while `stress` keeps verified movable buffers in the region (migrated, intact)
- two devices side by side, each with its own data; pmem beside virtio-mem
- memmap bytes per GiB with and without shared tails (<= 0.1 % of the region with them), ptdump
  showing devmap leaves and the read-only shared tail pages
- a region that is not section-aligned (the aligned part, said) and one without a whole section
- GDB rvmm-pfn on a ZONE_DEVICE page shows zone Device
- the same write/flush/verify/kmem round on Sv39 and on AIA machines (aplic-imsic, aplic)
Skipped (SKIP with the reason) only when the patched QEMU is not built (make qemu).
"""
import re
import tempfile
import time

from guest import Guest
from vmem_guest import require_patched_qemu, patched_qemu

MiB = 1 << 20


def pmem_env(devs, **extra):
    env = {"PMEM": ",".join(devs), "QEMU_PATCHED": patched_qemu() or ""}
    env.update(extra)
    return env


def boot(devs, mem="1G", smp=2, vmem=None, env=None):
    g = Guest(mem=mem, smp=smp, vmem=vmem, env=pmem_env(devs, **(env or {})))
    return g.start(timeout=120)


def ok(g, line, want, timeout=120):
    out = g.cmd(line, timeout=timeout)
    assert re.search(want, out), f"{line!r}: no {want!r} in:\n{out}"
    return out


def meminfo_kb(g, field):
    m = re.search(rf"^{field}:\s+(\d+) kB", g.cmd("meminfo"), re.M)
    assert m, field
    return int(m.group(1))


def region(g, n=0):
    out = g.cmd(f"pmem {n}")
    m = re.search(r"region \[0x([0-9a-f]+)-0x([0-9a-f]+)\)", out)
    assert m, out
    return int(m.group(1), 16), int(m.group(2), 16)


def test_persist_across_restart():
    require_patched_qemu()
    with tempfile.TemporaryDirectory(prefix="rvmm-pmem-") as d:
        dev = [f"{d}/pm.img:1G"]
        with boot(dev) as g:
            ok(g, "pmem", r"mode devdax, direct map at 0x\w+, 1 x 1 GiB \+ 0 x 2 MiB")
            ok(g, "pmem write 0x1000 1M 7", r"wrote 1048576 bytes")
            ok(g, "pmem write 0x3ff00000 64K 9", r"wrote 65536 bytes")
            ok(g, "pmem flush", r"pmem0: flush ok in \d+ us")
            sums = [re.search(r"checksum (0x\w+)", ok(g, c, "verify ok")).group(1)
                    for c in ("pmem verify 0x1000 1M 7", "pmem verify 0x3ff00000 64K 9")]
            ok(g, "pmem", r"flushes 1, failed 0, last ok")
        with boot(dev) as g:  # a new QEMU on the same file
            for c, s in zip(("pmem verify 0x1000 1M 7", "pmem verify 0x3ff00000 64K 9"), sums):
                assert s in ok(g, c, "verify ok"), c
            ok(g, "pmem verify 0x1000 1M 8", r"verify FAILED: \d+ of 131072 words differ, first "
               r"at offset 0x1000")
            ok(g, "pmem verify 0x2000 1M 7", r"verify FAILED")  # misplaced data is caught too
            ok(g, "pmem write 0x3ffffff8 16 1", r"refused: it must be inside the region")
            ok(g, "pmem verify 0x1001 8 1", r"refused")
            ok(g, "mmcheck", r"mmcheck: ok")


def test_ram_backend_flush_fails():
    require_patched_qemu()
    with boot(["ram:512M"]) as g:
        for i in (1, 2):
            ok(g, "pmem flush", rf"flush FAILED: the device answered 1 .*{i} of {i} flushes failed")
        ok(g, "pmem", r"flushes 2, failed 2, last FAILED by the device")
        ok(g, "pmem write 0 4096 3", "wrote")
        ok(g, "pmem verify 0 4096 3", "verify ok")  # the data is still usable, only not durable


def test_kmem_round_trip():
    require_patched_qemu()
    with tempfile.TemporaryDirectory(prefix="rvmm-pmem-") as d:
        with boot([f"{d}/pm.img:1G"], smp=2) as g:
            total0 = meminfo_kb(g, "MemTotal")
            dev0 = meminfo_kb(g, "DevMemmap")
            show0 = g.cmd("pmem")
            ok(g, "pmem hold 0x200000", r"holding the compound page")
            out = g.cmd("pmem kmem online")
            assert "page references still held" in out and "the region is devdax" in out, out
            ok(g, "pmem", r"mode devdax.*1 held")
            ok(g, "pmem release 0x200000", r"released")
            ok(g, "pmem kmem online", r"is System RAM \(zone Movable\): 1024 MiB in \d+ us\. Its "
               r"data is treated as lost")
            assert meminfo_kb(g, "MemTotal") == total0 + 1024 * 1024
            assert meminfo_kb(g, "MemFreeMovable") >= 1000 * 1024
            assert meminfo_kb(g, "DevMemmap") == 0
            ok(g, "pmem write 0 8 1", r"reads and writes need devdax")
            ok(g, "sections", r"online\s+Movable")
            ok(g, "memtest 768M", r"memtest: ok \(768 MiB\)", timeout=300)
            ok(g, "mmcheck", r"mmcheck: ok", timeout=120)
            ok(g, "pmem kmem offline", r"offlined and removed in \d+ us; the region is devdax again",
               timeout=300)
            assert meminfo_kb(g, "MemTotal") == total0
            assert meminfo_kb(g, "DevMemmap") == dev0
            strip = lambda s: re.sub(r"\n  (flushes|kmem).*", "", s)
            assert strip(g.cmd("pmem")) == strip(show0)
            ok(g, "mmcheck", r"mmcheck: ok")
            ok(g, "pmem kmem online normal", r"zone Normal")
            ok(g, "pmem", r"mode kmem \(System RAM\) in zone Normal")
            ok(g, "pmem kmem offline", r"devdax again", timeout=300)
            ok(g, "pmem kmem offline", r"not System RAM")
            ok(g, "pmem write 0 4096 5", "wrote")
            ok(g, "pmem verify 0 4096 5", "verify ok")
            ok(g, "mmcheck", r"mmcheck: ok")


def test_kmem_offline_under_stress():
    """Movable buffers of `stress` on 3 harts land in the kmem region (ZONE_MOVABLE comes first);
    kmem offline migrates them while they are verified, and every byte survives."""
    require_patched_qemu()
    with tempfile.TemporaryDirectory(prefix="rvmm-pmem-") as d:
        with boot([f"{d}/pm.img:1G"], smp=4) as g:
            ok(g, "pmem kmem online", "System RAM")
            ok(g, "stress start", r"stress: started on 3 harts")
            deadline = time.monotonic() + 60  # until buffers live in the region
            while not re.search(r"0x0000c0000000-\S+\s+online\s+Movable\s+(?!32768)\d+",
                                g.cmd("sections")):
                assert time.monotonic() < deadline, g.cmd("sections")
                time.sleep(0.5)
            ok(g, "pmem kmem offline", "devdax again", timeout=300)
            out = ok(g, "stress stop", r"stress: ok: .* (\d+) migrations", timeout=240)
            assert int(re.search(r"(\d+) migrations", out).group(1)) > 0, out
            ok(g, "mmcheck", r"mmcheck: ok")


def test_two_devices():
    require_patched_qemu()
    with tempfile.TemporaryDirectory(prefix="rvmm-pmem-") as d:
        with boot([f"{d}/a.img:512M", f"{d}/b.img:1G"]) as g:
            out = g.cmd("pmem")
            assert "pmem0:" in out and "pmem1:" in out, out
            a, b = region(g, 0), region(g, 1)
            assert a[1] <= b[0] or b[1] <= a[0], (a, b)
            ok(g, "pmem 0 write 0 64K 11", "pmem0: wrote")
            ok(g, "pmem 1 write 0 64K 22", "pmem1: wrote")
            ok(g, "pmem 0 verify 0 64K 11", "pmem0: verify ok")
            ok(g, "pmem 1 verify 0 64K 22", "pmem1: verify ok")
            ok(g, "pmem 1 verify 0 64K 11", "pmem1: verify FAILED")
            ok(g, "pmem 1 flush", "pmem1: flush ok")
            ok(g, "pmem 2", r"no device pmem2")
            ok(g, "pmem 1 kmem online", "System RAM")
            ok(g, "pmem 0 verify 0 64K 11", "pmem0: verify ok")  # the other is untouched
            ok(g, "pmem 1 kmem offline", "devdax again", timeout=300)
            ok(g, "mmcheck", r"mmcheck: ok")


def test_with_virtio_mem():
    require_patched_qemu()
    with tempfile.TemporaryDirectory(prefix="rvmm-pmem-") as d:
        env = {"VMEM_REQUESTED": str(256 * MiB), "QMP_SOCK": f"{d}/qmp.sock",
               "MON_SOCK": f"{d}/mon.sock"}
        with boot([f"{d}/pm.img:512M"], vmem="1G", env=env) as g:
            ok(g, "pmem", r"mode devdax")
            out = g.cmd("sections")
            assert "Device" in out, out
            ok(g, "pmem write 0 1M 4", "wrote")
            ok(g, "pmem flush", "flush ok")
            ok(g, "pmem verify 0 1M 4", "verify ok")
            ok(g, "sections --map", r"pmem0")
            ok(g, "mmcheck", r"mmcheck: ok")
            # The console cannot touch the pmem region: it is the driver's.
            lo, hi = region(g)
            ok(g, f"hotremove 0x{lo:x} 128M", r"belongs to pmem0|device memory")


def test_memmap_figures_and_ptdump():
    require_patched_qemu()
    with tempfile.TemporaryDirectory(prefix="rvmm-pmem-") as d:
        with boot([f"{d}/pm.img:2G"]) as g:
            shared = ok(g, "pmem", r"memmap \d+ KiB \(shared tails\)")
            per_gib = int(re.search(r"(\d+) KiB per GiB", shared).group(1))
            pct = float(re.search(r"([\d.]+) % of the region", shared).group(1))
            assert pct <= 0.1 and per_gib <= 8, shared
            out = g.cmd("ptdump")
            assert re.search(r"1G\s+RW- \S+ devmap", out), out
            assert re.search(r"4K\s+R-- ", out), out  # the shared tail pages, read-only
            full = ok(g, "pmem memmap full", r"memmap \d+ KiB \(full tails\)")
            assert "8192 KiB per GiB" in full, full
            ok(g, "mmcheck", r"mmcheck: ok")
            ok(g, "pmem write 0 64K 3", "wrote")
            ok(g, "pmem memmap shared", r"shared tails")
            ok(g, "pmem verify 0 64K 3", "verify ok")  # re-layout keeps the data
            ok(g, "mmcheck", r"mmcheck: ok")
            print(f"note: memmap per GiB of pmem: {per_gib} KiB shared ({pct} %), 8192 KiB full")


def test_unaligned_regions():
    require_patched_qemu()
    with tempfile.TemporaryDirectory(prefix="rvmm-pmem-") as d:
        with boot([f"{d}/a.img:200M", f"{d}/b.img:100M"]) as g:
            boot_log = g.out
            assert "is not section-aligned: using" in boot_log, boot_log[-3000:]
            assert "holds no whole 128 MiB section: nothing to map" in boot_log, boot_log[-3000:]
            out = ok(g, "pmem", r"mapped part \[0x\w+-0x\w+\) 128 MiB")
            assert out.count("pmem0:") == 1 and "pmem1" not in out, out
            ok(g, "pmem write 0 8 1", "wrote")
            ok(g, "pmem write 0x8000000 8 1", "refused")
            ok(g, "pmem kmem online", r"only the section-aligned part was hot-added")
            ok(g, "pmem kmem offline", "devdax again", timeout=300)
            ok(g, "mmcheck", r"mmcheck: ok")


def test_gdb_pfn_device_zone():
    require_patched_qemu()
    import test_gdb
    with tempfile.TemporaryDirectory(prefix="rvmm-pmem-") as d:
        with test_gdb.start(env=pmem_env([f"{d}/pm.img:512M"])) as g:
            lo, _ = region(g)
            pfn = (lo >> 12) + 513  # a tail of the second 2 MiB compound page
            answers = test_gdb.console_answers(g)  # after deferred init: figures stay put
            cons, meminfo = answers["ptdump"], answers["meminfo"]
            out = test_gdb.gdb(g, f"rvmm-pfn 0x{lo >> 12:x}", f"rvmm-pfn 0x{pfn:x}",
                               "rvmm-sections", *test_gdb.marked("rvmm-ptdump", "rvmm-meminfo"))
            test_gdb.check_meminfo(test_gdb.body(out, "rvmm-meminfo"), meminfo)
            assert "DevMemmap:" in test_gdb.body(out, "rvmm-meminfo"), out
            assert out.count("zone Device") == 2, out
            assert "head" in out and "device page: pgmap" in out, out
            assert re.search(r"present\s+Device", out), out
            # The devmap leaves as the console shows them.
            devmap = [l for l in cons.splitlines() if "devmap" in l]
            assert devmap and all(l in test_gdb.body(out, "rvmm-ptdump") for l in devmap), out


def test_other_machines():
    """Sv39 (no Sv48 on the hart), and AIA machines (APLIC with IMSIC: MSI-capable, and APLIC
    alone, where rvmm has no PCI interrupt and the flush is polled)."""
    require_patched_qemu()
    configs = [("sv39", {"CPU": "rv64,sv48=false"}, "", "sv39"),
               ("aplic-imsic", {}, "-machine aia=aplic-imsic", "sv48"),
               ("aplic", {}, "-machine aia=aplic", "sv48")]
    with tempfile.TemporaryDirectory(prefix="rvmm-pmem-") as d:
        for name, env, extra, mode in configs:
            g = Guest(mem="1G", smp=2, extra=extra,
                      env=dict(pmem_env([f"{d}/{name}.img:1G"]), **env)).start(timeout=120)
            with g:
                ok(g, "meminfo", rf"Paging mode: {mode}")
                ok(g, "pmem write 0 64K 5", "wrote")
                ok(g, "pmem flush", "flush ok")
                ok(g, "pmem verify 0 64K 5", "verify ok")
                ok(g, "pmem kmem online", "System RAM")
                ok(g, "pmem kmem offline", "devdax again", timeout=300)
                ok(g, "mmcheck", r"mmcheck: ok")
