#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Smoke test of the patched QEMU (tools/qemu/build.sh): the riscv virt machine accepts a
virtio-mem-pci device, places it in the device-memory window above RAM, moves the high PCIe
window above that window, and lets the host resize it over QMP. virtio-mem-mmio (in a virtio-mmio
slot) is a memory device in the same window, resizable, cold plug only; virtio-pmem-pci exists.

Usage: check-virtio-mem.py QEMU      (QEMU = output of tools/qemu/print-qemu.sh)
Runs the guest stopped (-S, no firmware runs), so it needs no kernel. Exit 0 when all checks pass.
Stdlib only; fdtget (device-tree-compiler) reads the dumped DT.
"""
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp import QMP  # noqa: E402

GiB = 1 << 30


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def machine_args(ram, maxmem, vmem, big):
    """-m/-machine arguments; big=True uses an explicit reserve=off RAM backend (256G guest)."""
    if big:
        return ["-machine", "virt,memory-backend=ram0",
                "-object", f"memory-backend-ram,id=ram0,size={ram},reserve=off",
                "-m", f"{ram},maxmem={maxmem}"]
    return ["-machine", "virt", "-m", f"{ram},maxmem={maxmem}"]


def dt_high_pcie(qemu, margs, tmp):
    """Dumps the DT and returns the CPU address of the 64-bit (high) PCIe MMIO range."""
    dtb = os.path.join(tmp, "virt.dtb")
    m = list(margs)
    m[m.index("-machine") + 1] += f",dumpdtb={dtb}"
    subprocess.run([qemu, *m, "-nographic", "-bios", "default"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pci = subprocess.run(["fdtget", "-l", dtb, "/soc"], check=True, capture_output=True,
                         text=True).stdout.split()
    node = "/soc/" + next(n for n in pci if n.startswith("pci@"))
    cells = [int(c, 16) for c in subprocess.run(["fdtget", "-t", "x", dtb, node, "ranges"],
                                                check=True, capture_output=True,
                                                text=True).stdout.split()]
    # Each entry: 3 PCI address cells, 2 CPU address cells, 2 size cells; space code 3 = mmio64.
    for i in range(0, len(cells), 7):
        if (cells[i] >> 24) & 3 == 3:
            return (cells[i + 3] << 32 | cells[i + 4]), (cells[i + 5] << 32 | cells[i + 6])
    fail("no 64-bit PCIe range in the DT")


@contextlib.contextmanager
def stopped_qemu(qemu, args):
    """QEMU with args, stopped before any firmware runs (-S), and a QMP connection to it; quits
    and reports QEMU's stderr on the way out."""
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "qmp.sock")
        p = subprocess.Popen([qemu, *args, "-nographic", "-bios", "default",
                              "-qmp", f"unix:{sock},server,wait=off",
                              "-monitor", "none", "-serial", "none", "-S"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            q = QMP(sock)
            yield q
            q.cmd("quit")
        finally:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
            err = p.stderr.read().strip()
            if err:
                print("qemu stderr:", err)


def check(qemu, ram, maxmem, vmem, big=False):
    print(f"== -m {ram},maxmem={maxmem}, virtio-mem memdev {vmem}")
    margs = machine_args(ram, maxmem, vmem, big)
    with stopped_qemu(qemu, [*margs,
                             "-object", f"memory-backend-ram,id=vmem0,size={vmem},reserve=off",
                             "-device", "virtio-mem-pci,id=vm0,memdev=vmem0,requested-size=0"]) as q:
        md = q.cmd("query-memory-devices")
        print("query-memory-devices:", json.dumps(md))
        d = md[0]["data"]
        if md[0]["type"] != "virtio-mem" or d["id"] != "vm0":
            fail("no virtio-mem device listed")

        mtree = q.hmp("info mtree")
        dm = [l.strip() for l in mtree.splitlines()
              if re.match(r"\s*[0-9a-f]{16}-[0-9a-f]{16} .*: device-memory$", l)]
        print("info mtree:", dm[0] if dm else "(no device-memory)")
        if not dm:
            fail("no device-memory region")
        dm_base = int(dm[0].split("-")[0], 16)
        ram_end = 0x80000000 + ram_bytes(ram)
        want = (ram_end + GiB - 1) // GiB * GiB
        if dm_base != want or d["memaddr"] != want:
            fail(f"device memory at {dm_base:#x}, device at {d['memaddr']:#x}, want {want:#x}")

        pci = [dev for bus in q.cmd("query-pci") for dev in bus["devices"]
               if dev["id"]["vendor"] == 0x1af4 and dev["id"]["device"] == 0x1058]
        print("query-pci virtio-mem:", f"{pci[0]['bus']:02x}:{pci[0]['slot']:02x}.{pci[0]['function']}"
              f" 1af4:1058" if pci else "missing")
        if not pci:
            fail("no 1af4:1058 PCI function")

        path = next(v["path"] for v in q.cmd("x-query-virtio") if v["name"] == "virtio-mem")
        feats = q.cmd("x-query-virtio-status", path=path)["host-features"]["dev-features"]
        print("device features:", ", ".join(f.split(":")[0] for f in feats))
        if not any("UNPLUGGED_INACCESSIBLE" in f for f in feats):
            fail("VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE not offered")

        print("qom-get vm0 size:", q.cmd("qom-get", path="vm0", property="size"),
              "block-size:", q.cmd("qom-get", path="vm0", property="block-size"))
        q.cmd("qom-set", path="vm0", property="requested-size", value=GiB)
        rs = q.cmd("qom-get", path="vm0", property="requested-size")
        print("after qom-set requested-size 1G: requested-size =", rs,
              "size =", q.cmd("qom-get", path="vm0", property="size"))
        if rs != GiB:
            fail("requested-size did not change")
    with tempfile.TemporaryDirectory() as tmp:
        base, size = dt_high_pcie(qemu, margs, tmp)
        dm_end = dm_base + ram_bytes(maxmem) - ram_bytes(ram)
        print(f"DT high PCIe window: {base:#x} size {size:#x}")
        if base < dm_end:
            fail(f"high PCIe window {base:#x} overlaps device memory ending {dm_end:#x}")
    print("ok")


def check_mmio(qemu):
    """virtio-mem-mmio: listed as a memory device at the window's base, in a virtio-mmio slot,
    resizable; device_add and device_del refused."""
    print("== virtio-mem-mmio, -m 1G,maxmem=9G")
    with stopped_qemu(qemu, ["-M", "virt", "-m", "1G,maxmem=9G",
                             "-global", "virtio-mmio.force-legacy=false",
                             "-object", "memory-backend-ram,id=vmem0,size=8G,reserve=off",
                             "-device", "virtio-mem-mmio,id=vm0,memdev=vmem0,requested-size=0",
                             "-object", "memory-backend-ram,id=vmem1,size=1G,reserve=off"]) as q:
        md = q.cmd("query-memory-devices")
        print("query-memory-devices:", json.dumps(md))
        if len(md) != 1 or md[0]["type"] != "virtio-mem" or md[0]["data"]["id"] != "vm0":
            fail("virtio-mem-mmio not listed once as a memory device")
        if md[0]["data"]["memaddr"] != 0xc0000000:
            fail(f"virtio-mem-mmio at {md[0]['data']['memaddr']:#x}, want 0xc0000000")
        bus = q.cmd("qom-get", path="vm0", property="parent_bus")
        print("parent bus:", bus)
        if "virtio-mmio" not in bus:
            fail("virtio-mem-mmio is not on a virtio-mmio bus")
        q.cmd("qom-set", path="vm0", property="requested-size", value=GiB)
        if q.cmd("qom-get", path="vm0", property="requested-size") != GiB:
            fail("requested-size did not change")
        for what, args in (("device_del", {"id": "vm0"}),
                           ("device_add", {"driver": "virtio-mem-mmio", "id": "vm1",
                                           "memdev": "vmem1"})):
            try:
                q.cmd(what, **args)
                fail(f"{what} of virtio-mem-mmio accepted")
            except RuntimeError as e:
                print(f"{what} refused:", e)
    print("ok")


def check_pmem(qemu):
    """virtio-pmem-pci instantiates (VIRTIO_PMEM_SUPPORTED) and is a memory device."""
    print("== virtio-pmem-pci")
    with stopped_qemu(qemu, ["-M", "virt", "-m", "1G,maxmem=2G",
                             "-object", "memory-backend-ram,id=pm0,size=512M,reserve=off",
                             "-device", "virtio-pmem-pci,id=pmem0,memdev=pm0"]) as q:
        md = q.cmd("query-memory-devices")
        print("query-memory-devices:", json.dumps(md))
        if not md or md[0]["type"] != "virtio-pmem":
            fail("virtio-pmem-pci not listed as a memory device")
    print("ok")


def ram_bytes(s):
    return int(s[:-1]) << {"M": 20, "G": 30, "T": 40}[s[-1]]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    qemu = sys.argv[1]
    check(qemu, "1G", "9G", "8G")
    check(qemu, "1G", "20G", "19G")   # big enough to push the PCIe window up a 16 GiB step
    check(qemu, "256G", "264G", "8G", big=True)
    check_mmio(qemu)
    check_pmem(qemu)
    # Without maxmem there is no device memory, and QEMU must say so rather than misplace it.
    r = subprocess.run([qemu, "-M", "virt", "-m", "1G", "-nographic", "-bios", "default",
                        "-object", "memory-backend-ram,id=vmem0,size=1G,reserve=off",
                        "-device", "virtio-mem-pci,id=vm0,memdev=vmem0", "-S",
                        "-monitor", "none", "-serial", "none"],
                       capture_output=True, text=True, timeout=30)
    print("== without maxmem:", r.returncode, r.stderr.strip())
    if r.returncode == 0:
        fail("virtio-mem-pci accepted without maxmem")
    print("all checks passed")


if __name__ == "__main__":
    main()
