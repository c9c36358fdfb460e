# SPDX-License-Identifier: MIT
"""A guest with a virtio-mem device and its QMP connection (system tests and make bench).

VmemGuest(block="2M") boots a 4-hart guest with an 8 GiB virtio-mem device on the patched QEMU
(tools/qemu); resize(size) asks the device for size over QMP and waits, bounded, until the device
reports it and the guest has all of it online.
"""
import json
import os
import re
import socket
import subprocess
import time

from guest import ROOT, Guest

MiB = 1 << 20
GiB = 1 << 30
WAIT = 60  # seconds a resize may take before it counts as failed


def patched_qemu():
    p = subprocess.run([os.path.join(ROOT, "tools/qemu/print-qemu.sh")], capture_output=True,
                       text=True)
    return p.stdout.strip() if p.returncode == 0 else None


class QMP:
    def __init__(self, path, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.s.settimeout(timeout)
        self.f = self.s.makefile("rwb")
        self._read()  # greeting
        self.cmd("qmp_capabilities")

    def _read(self):
        while True:
            line = self.f.readline()
            if not line:
                raise RuntimeError("QMP connection closed")
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
        self.f.flush()
        r = self._read()
        if "error" in r:
            raise RuntimeError(f"{name}: {r['error']}")
        return r["return"]

    def close(self):
        self.s.close()


class VmemGuest:
    """A 4-hart guest with a virtio-mem device of 8 GiB and its QMP connection."""

    def __init__(self, block=None, mem="1G", vmem="8G", smp=4, icount=False, args=""):
        self.qemu = patched_qemu()
        tag = f"{os.getpid()}-{block or 'def'}"
        self.sock = os.path.join(ROOT, "build", f"qmp-vmem-{tag}.sock")
        mon = os.path.join(ROOT, "build", f"mon-vmem-{tag}.sock")
        env = {"QMP_SOCK": self.sock, "MON_SOCK": mon, "QEMU_PATCHED": self.qemu or ""}
        if block:
            env["VMEM_BLOCK"] = block
        self.g = Guest(mem=mem, smp=smp, vmem=vmem, env=env, icount=icount, args=args)
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
