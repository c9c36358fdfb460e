# SPDX-License-Identifier: MIT
"""A small QMP client for the patched QEMU's virtio-mem device (tests, bench, soak, tools/qemu).

QMP(path) connects to a QMP unix socket (waiting, bounded, for QEMU to create it), negotiates
capabilities and skips asynchronous events; cmd(name, **args) returns the command's result or
raises with QEMU's error.
"""
import json
import socket
import time


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

    def hmp(self, line):
        """A human monitor command (info mtree, ...), through QMP."""
        return self.cmd("human-monitor-command", **{"command-line": line})

