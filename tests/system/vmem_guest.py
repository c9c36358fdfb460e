# SPDX-License-Identifier: MIT
"""A guest with a virtio-mem device and its QMP connection (system tests and make bench).

VmemGuest(block="2M", bus="mmio") boots a 4-hart guest with an 8 GiB virtio-mem device on the
patched QEMU (tools/qemu), over PCI (virtio-mem-pci, the default) or virtio-mmio (virtio-mem-mmio);
resize(size) asks the device for size over QMP and waits, bounded, until the device reports it
and the guest has all of it online.
"""
import os
import subprocess
import sys
import time

from guest import ROOT, Guest, Skip

sys.path.insert(0, os.path.join(ROOT, "tools", "qemu"))
from qmp import QMP  # noqa: E402

MiB = 1 << 20
GiB = 1 << 30
WAIT = 60  # seconds a resize may take before it counts as failed


def patched_qemu():
    p = subprocess.run([os.path.join(ROOT, "tools/qemu/print-qemu.sh")], capture_output=True,
                       text=True)
    return p.stdout.strip() if p.returncode == 0 else None


def require_patched_qemu():
    """Skip the calling test when the patched QEMU (virtio-mem on riscv virt) is not built."""
    if not patched_qemu():
        raise Skip("the patched QEMU is not built (make qemu)")


class VmemGuest:
    """A 4-hart guest with a virtio-mem device of 8 GiB and its QMP connection."""

    def __init__(self, block=None, mem="1G", vmem="8G", smp=4, icount=False, args="", bus="pci",
                 requested=None, extra=""):
        self.qemu = patched_qemu()
        tag = f"{os.getpid()}-{block or 'def'}-{bus}"
        self.sock = os.path.join(ROOT, "build", f"qmp-vmem-{tag}.sock")
        mon = os.path.join(ROOT, "build", f"mon-vmem-{tag}.sock")
        env = {"QMP_SOCK": self.sock, "MON_SOCK": mon, "QEMU_PATCHED": self.qemu or "",
               "VMEM_BUS": bus}
        if requested:
            env["VMEM_REQUESTED"] = str(requested)
        if block:
            env["VMEM_BLOCK"] = block
        self.g = Guest(mem=mem, smp=smp, vmem=vmem, env=env, icount=icount, args=args,
                       extra=extra)
        self.q = None

    def __enter__(self):
        for p in (self.sock,):
            if os.path.exists(p):
                os.unlink(p)
        self.g.start(timeout=120)
        self.q = QMP(self.sock)
        return self

    def __exit__(self, *exc):
        if self.q:
            self.q.close()
        self.g.stop()

    def size(self):
        return self.q.cmd("qom-get", path="vm0", property="size")

    def memory_device(self):
        """The device as QMP query-memory-devices lists it (its data dict)."""
        devs = [d["data"] for d in self.q.cmd("query-memory-devices") if d["type"] == "virtio-mem"]
        assert len(devs) == 1, devs
        return devs[0]

    def reset(self, timeout=180):
        """QMP system_reset; wait until the rebooted guest shows its prompt."""
        self.q.cmd("system_reset")
        self.g.expect(r"OpenSBI", timeout)
        self.g.expect(r"rvmm> ", timeout)

    def plugged_kb(self):
        return self.g.meminfo()["MemPlugged"]

    def resize(self, size):
        """Ask for size; wait until the device has it and the guest has all of it online.
        Returns the host wall seconds until the device reported the new size (QMP polled every
        10 ms)."""
        t0 = time.monotonic()
        self.q.cmd("qom-set", path="vm0", property="requested-size", value=size)
        while self.size() != size:
            if time.monotonic() - t0 > WAIT:
                raise AssertionError(f"device size {self.size()} != {size} after {WAIT}s:\n"
                                     + self.g.cmd("vmem") + self.g.tail())
            time.sleep(0.01)
        device_s = time.monotonic() - t0
        while self.plugged_kb() != self.size() >> 10:
            if time.monotonic() - t0 > WAIT:
                raise AssertionError(f"MemPlugged {self.plugged_kb()} kB != device size "
                                     f"{self.size()} after {WAIT}s:\n" + self.g.cmd("vmem"))
            time.sleep(0.05)
        return device_s
