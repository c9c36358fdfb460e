# SPDX-License-Identifier: MIT
"""Drive an rvmm guest under QEMU through its serial console (system tests, bench, soak).

Guest(mem="1G", smp=1, args="mem=512M").start() boots through run-qemu.sh; cmd("meminfo") sends
a line and returns what the kernel printed before the next prompt. Every wait has a timeout.
"""
import os
import re
import select
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROMPT = "rvmm> "


class GuestError(Exception):
    pass


class Skip(Exception):
    """Raised by a system test that cannot run here; the message says why. tests/run.py reports
    it as `SKIP: name: why` and counts it apart from passes and failures."""


class Guest:
    def __init__(self, mem="1G", smp=1, args="", extra="", env=None, vmem=None, dtb=None,
                 icount=False, qemu=None):
        self.env = dict(os.environ)
        self.env.update({"MEM": str(mem), "SMP": str(smp), "ARGS": args, "QEMU_EXTRA": extra})
        if vmem:
            self.env["VMEM"] = vmem
        if dtb:
            self.env["DTB"] = dtb
        if icount:
            self.env["ICOUNT"] = "1"
        if qemu:
            self.env["QEMU"] = qemu
        if env:
            self.env.update(env)
        self.proc = None
        self.out = ""      # everything the guest printed
        self.pos = 0       # how far expect() has consumed self.out
        self.started = None

    def start(self, timeout=60, wait_prompt=True):
        self.started = time.monotonic()
        self.proc = subprocess.Popen([os.path.join(ROOT, "run-qemu.sh")], cwd=ROOT, env=self.env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, bufsize=0)
        if wait_prompt:
            self.expect(PROMPT, timeout)
        return self

    def _read(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return False
        data = os.read(self.proc.stdout.fileno(), 65536)
        if not data:
            raise GuestError("QEMU exited; output:\n" + self.tail())
        self.out += data.decode("utf-8", "replace").replace("\r", "")
        return True

    def tail(self, n=2000):
        return self.out[-n:]

    def expect(self, pattern, timeout=30):
        """Wait for pattern (a regex) after what was consumed; return its match."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.out, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise GuestError(f"timed out after {timeout}s waiting for {pattern!r}; last output:\n"
                                 + self.tail())
            try:
                self._read(min(left, 1.0))
            except GuestError:
                m = rx.search(self.out, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                raise

    def wait_exit(self, timeout=30):
        """Wait for QEMU to end (a halted or powered-off guest), collecting its output."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            try:
                self._read(0.5)
            except GuestError:  # output closed: QEMU is exiting
                break
        try:
            return self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return None

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    # A kernel log line other harts may print at any moment, even between two echoed characters.
    LOG_LINE = re.compile(r"\[\s*\d+\.\d{6}\] [^\n]*\n")

    def _skip_echo(self, text, line):
        """Index in text just past the echo of line and its newline, stepping over log lines
        printed in between; None if the echo is not complete yet."""
        i, want = 0, line + "\n"
        for ch in want:
            while True:
                m = self.LOG_LINE.match(text, i)
                if not m:
                    break
                i = m.end()
            if i >= len(text):
                return None
            if text[i] != ch:
                j = text.find(want[0], i + 1)  # stray output before the echo: resync
                if j < 0:
                    return None
                rest = self._skip_echo(text[j:], line)
                return None if rest is None else j + rest
            i += 1
        return i

    def cmd(self, line, timeout=60):
        """Run one console command; return its output (without the echo and the next prompt)."""
        start = len(self.out)
        self.send(line + "\n")
        deadline = time.monotonic() + timeout
        while True:
            end = self._skip_echo(self.out[start:], line)
            if end is not None:
                self.pos = start + end
                break
            if time.monotonic() > deadline:
                raise GuestError(f"timed out after {timeout}s waiting for the echo of {line!r}; "
                                 "last output:\n" + self.tail())
            self._read(0.5)
        out_start = self.pos
        self.expect(re.escape(PROMPT), max(1, deadline - time.monotonic()))
        return self.out[out_start:self.pos - len(PROMPT)]

    def meminfo(self):
        """meminfo as a dict: name -> number (kB figures in kB)."""
        res = {}
        for m in re.finditer(r"^([A-Za-z][\w ()]*):\s+(\d+)", self.cmd("meminfo"), re.M):
            res[m.group(1)] = int(m.group(2))
        return res

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                self.send("poweroff\n")
                self.proc.wait(timeout=5)
            except Exception:
                pass
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
