#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make soak [SECONDS=600]: random memory hot(un)plug for SECONDS while `stress` keeps
checksummed data in memory, then a summary line; exits non-zero on any lost byte, any FAILED, or
a hang.

The guest: 4 harts, -m 4G with mem=1G (the 3 GiB at 0xc0000000 stay hidden for hot-add by hand)
and a virtio-mem device of 4 GiB (the patched QEMU of tools/qemu; without it the soak runs the
mem= part only and says so). `stress start` runs the workers on harts 1-3 in the background;
the console (hart 0) meanwhile does one random operation per cycle:

  plug / unplug   a random section-aligned run of the hidden RAM (`plug ADDR SIZE movable`
                  where all of it is absent, `unplug` where all of it is plugged)
  resize          virtio-mem to a random size (QMP qom-set requested-size), waiting until the
                  device reports it and MemPlugged equals it

Every few cycles, and at the end, a checkpoint: `stress stop` (every buffer verified: it must
say `stress: ok`), `mmcheck` (must say ok), `stress start` again. At the end everything is
unplugged and meminfo must be back to where it started. Every wait is bounded (a guest that
stops answering is a failure, not a hang of the soak).

  soak: 42 cycles, 1234 migrations, 5678 bytes verified, 0 errors (60 s)

Migrations and bytes are the `stress stop` figures summed over the checkpoints (bytes from the
MiB it prints). run(seconds) is the function tests/system/test_soak.py calls.

  tools/soak/soak.py [--seconds N] [--seed N] [--checkpoint N]
  VMEM_BUS=mmio make soak      the virtio-mem device on virtio-mmio instead of PCI (run-qemu.sh)
"""
import argparse
import os
import random
import re
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from guest import Guest, GuestError  # noqa: E402
from vmem_guest import QMP, patched_qemu  # noqa: E402

MiB = 1 << 20
GiB = 1 << 30
SECTION = 128 * MiB
HIDDEN = 0xC0000000           # what mem=1G hides of -m 4G
HIDDEN_SECTIONS = 24          # 3 GiB
VMEM_SIZE = 4 * GiB
VMEM_STEP = 64 * MiB          # resize granularity (a multiple of any block size QEMU picks)
CMD_WAIT = 240                # seconds any one console command may take under TCG
RESIZE_WAIT = 300             # seconds a virtio-mem resize may take
UNPLUG_TRIES = 10             # offline -EBUSY (a buffer pinned at that moment): tried again
BAD = re.compile(r"FAILED|PANIC|panic|BUG:|lockdep")


class SoakError(Exception):
    pass


class Soak:
    def __init__(self, seconds, seed, checkpoint, log):
        self.seconds = seconds
        self.seed = seed
        self.rnd = random.Random(seed)
        self.checkpoint_every = checkpoint
        self.log = log
        self.cycles = self.migrations = self.verified = self.errors = 0
        self.plugged = [False] * HIDDEN_SECTIONS  # mem= path, per section of the hidden RAM
        self.vmem_size = 0
        self.g = self.q = None
        self.sock = None

    # ---- the guest -----------------------------------------------------------------------

    def start(self):
        env = {}
        vmem = None
        qemu = patched_qemu()
        if qemu:
            tag = f"soak-{os.getpid()}"
            self.sock = os.path.join(ROOT, "build", f"qmp-{tag}.sock")
            env = {"QMP_SOCK": self.sock, "MON_SOCK": os.path.join(ROOT, "build", f"mon-{tag}.sock"),
                   "QEMU_PATCHED": qemu}
            vmem = "4G"
            if os.path.exists(self.sock):
                os.unlink(self.sock)
        else:
            self.say("soak: no patched QEMU (make qemu): mem= plug/unplug only, no virtio-mem")
        self.g = Guest(mem="4G", smp=4, args="mem=1G", vmem=vmem, env=env).start(timeout=180)
        if vmem:
            self.q = QMP(self.sock)

    def stop(self):
        if self.q:
            self.q.close()
        if self.g:
            self.g.stop()

    def say(self, line):
        if self.log:
            print(line, flush=True)

    def cmd(self, line, timeout=CMD_WAIT):
        out = self.g.cmd(line, timeout=timeout)
        if BAD.search(out):
            self.errors += 1
            raise SoakError(f"`{line}`:\n{out}")
        return out

    def meminfo(self):
        m = {}
        for k, v in re.findall(r"^([A-Za-z]+):\s+(\d+) kB", self.cmd("meminfo"), re.M):
            m[k] = int(v)
        return m

    # ---- the operations ------------------------------------------------------------------

    def stress(self, what):
        out = self.cmd(f"stress {what}")
        if what == "start" and "stress: started on 3 harts" not in out:
            self.errors += 1
            raise SoakError(f"stress start: {out}")
        if what == "stop":
            m = re.search(r"stress: ok: \d+ s on \d+ harts: (\d+) operations, (\d+) migrations, "
                          r"(\d+) MiB verified", out)
            if not m:
                self.errors += 1
                raise SoakError(f"stress stop: {out}")
            self.migrations += int(m.group(2))
            self.verified += int(m.group(3)) * MiB
        return out

    def checkpoint(self):
        self.stress("stop")
        out = self.cmd("mmcheck")
        if "mmcheck: ok" not in out:
            self.errors += 1
            raise SoakError(f"mmcheck: {out}")
        self.say(f"soak: checkpoint after {self.cycles} cycles: {out.strip()}")
        self.stress("start")

    def plug_unplug(self):
        a = self.rnd.randrange(HIDDEN_SECTIONS)
        n = self.rnd.randint(1, min(8, HIDDEN_SECTIONS - a))
        state = self.plugged[a]
        while n > 1 and any(self.plugged[i] != state for i in range(a, a + n)):
            n -= 1
        addr, size = HIDDEN + a * SECTION, n * SECTION
        if not state:
            out = self.cmd(f"plug {addr:#x} {size >> 20}M movable")
            if not re.search(r"^plug: \d+ MiB at", out, re.M):
                self.errors += 1
                raise SoakError(f"plug {addr:#x}: {out}")
        else:
            for _ in range(UNPLUG_TRIES):
                out = self.cmd(f"unplug {addr:#x} {size >> 20}M")
                if re.search(r"^unplug: \d+ MiB at", out, re.M):
                    break
                if "stopped at offline (-16)" not in out:  # -EBUSY: pinned right then
                    self.errors += 1
                    raise SoakError(f"unplug {addr:#x}: {out}")
            else:
                self.errors += 1
                raise SoakError(f"unplug {addr:#x} {size >> 20}M: still busy after "
                                f"{UNPLUG_TRIES} tries")
        for i in range(a, a + n):
            self.plugged[i] = not state
        return f"{'unplug' if state else 'plug'} {addr:#x} {size >> 20}M"

    def resize(self, size=None):
        if size is None:
            size = self.rnd.randrange(0, VMEM_SIZE // VMEM_STEP + 1) * VMEM_STEP
        t0 = time.monotonic()
        self.q.cmd("qom-set", path="vm0", property="requested-size", value=size)
        while True:
            dev = self.q.cmd("qom-get", path="vm0", property="size")
            if dev == size and self.meminfo()["MemPlugged"] == size >> 10:
                break
            if time.monotonic() - t0 > RESIZE_WAIT:
                self.errors += 1
                raise SoakError(f"virtio-mem resize to {size >> 20} MiB: device {dev >> 20} MiB "
                                f"after {RESIZE_WAIT} s:\n" + self.g.cmd("vmem"))
            time.sleep(0.2)
        self.vmem_size = size
        return f"vmem {size >> 20}M ({time.monotonic() - t0:.1f} s)"

    # ---- the run -------------------------------------------------------------------------

    def run(self):
        t0 = time.monotonic()
        self.say(f"soak: {self.seconds} s, seed {self.seed}")
        self.start()
        try:
            self.cmd("version")
            before = self.settled_meminfo()
            self.stress("start")
            while time.monotonic() - t0 < self.seconds:
                if self.q and self.rnd.random() < 0.35:
                    what = self.resize()
                else:
                    what = self.plug_unplug()
                self.cycles += 1
                self.say(f"soak: {time.monotonic() - t0:6.1f} s  cycle {self.cycles}: {what}")
                if self.cycles % self.checkpoint_every == 0:
                    self.checkpoint()
            # Everything back: unplug all, verify, check, compare.
            if self.q and self.vmem_size:
                self.say("soak: " + self.resize(0))
            for a in range(HIDDEN_SECTIONS):
                if self.plugged[a]:
                    n = 1
                    while a + n < HIDDEN_SECTIONS and self.plugged[a + n]:
                        n += 1
                    self.unplug_range(a, n)
            self.checkpoint()
            self.stress("stop")
            after = self.settled_meminfo()
            for k in ("MemTotal", "MemFree", "PageTables", "Memmap", "MemPlugged"):
                if before.get(k) != after.get(k):
                    self.errors += 1
                    raise SoakError(f"meminfo {k}: {before.get(k)} kB before, {after.get(k)} kB "
                                    "after everything was unplugged")
            if BAD.search(self.g.out):
                self.errors += 1
                raise SoakError("guest log:\n" + self.g.tail(3000))
        except GuestError as e:  # a bounded wait ran out: the guest hangs
            self.errors += 1
            raise SoakError(f"guest stopped answering: {e}")
        finally:
            self.elapsed = time.monotonic() - t0
            self.stop()

    def unplug_range(self, a, n):
        addr, size = HIDDEN + a * SECTION, n * SECTION
        for _ in range(UNPLUG_TRIES):
            out = self.cmd(f"unplug {addr:#x} {size >> 20}M")
            if re.search(r"^unplug: \d+ MiB at", out, re.M):
                for i in range(a, a + n):
                    self.plugged[i] = False
                return
        self.errors += 1
        raise SoakError(f"final unplug {addr:#x} {size >> 20}M: {out}")

    def settled_meminfo(self):
        for _ in range(100):
            if "Deferred init: 0 sections pending" in self.cmd("meminfo"):
                break
            time.sleep(0.1)
        return self.meminfo()

    def summary(self):
        return (f"soak: {self.cycles} cycles, {self.migrations} migrations, {self.verified} bytes "
                f"verified, {self.errors} errors ({self.elapsed:.0f} s)")


def run(seconds, seed=None, checkpoint=8, log=True):
    """Soak for `seconds`; returns (ok, summary line). Never hangs: every wait is bounded."""
    s = Soak(seconds, seed if seed is not None else int(time.time()), checkpoint, log)
    ok = True
    try:
        s.run()
    except SoakError as e:
        ok = False
        s.errors = max(s.errors, 1)
        print(f"soak: FAILED: {e}", flush=True)
    line = s.summary()
    print(line, flush=True)
    return ok and s.errors == 0, line


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("SOAK_SECONDS", 600)))
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--checkpoint", type=int, default=8, help="cycles between stress checks")
    a = ap.parse_args()
    ok, _ = run(a.seconds, a.seed, a.checkpoint)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
