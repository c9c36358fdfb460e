#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""rvmm's test runner: host unit tests, then QEMU system tests; ends with `N passed, N failed`.

Host tests are C programs (built by mk/build.mk) printing `PASS: suite/case` or
`FAIL: suite/case: reason`. System tests are functions named test_* in tests/system/test_*.py,
each taking no arguments and raising on failure.

  tests/run.py [--host-only|--system-only] [-k SUBSTRING]
"""
import argparse
import importlib.util
import os
import subprocess
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST_TARGETS = ["host-tests", "platform-tests", "virtio-tests", "vmem-tests", "irqchip-tests", "fuzz-regress", "fuzz"]


def run_host(results, keyword):
    make = ["make", "--no-print-directory", "-f", "mk/build.mk", "-k"]
    for target in HOST_TARGETS:
        p = subprocess.run(make + [target], cwd=ROOT, capture_output=True, text=True)
        seen = 0
        for line in p.stdout.splitlines():
            if line.startswith("PASS: ") or line.startswith("FAIL: "):
                name = line[6:].split(":")[0]
                if keyword and keyword not in name:
                    continue
                seen += 1
                ok = line.startswith("PASS")
                results.append((name, ok))
                print(line, flush=True)
        if p.returncode != 0 and seen == 0:
            results.append((target, False))
            print(f"FAIL: {target}: make exited {p.returncode}\n{p.stdout[-3000:]}{p.stderr[-3000:]}")
        elif p.returncode != 0 and all(ok for _, ok in results[-seen:]):
            results.append((target, False))
            print(f"FAIL: {target}: exited {p.returncode} after its cases passed\n{p.stderr[-2000:]}")


def run_system(results, keyword):
    sysdir = os.path.join(ROOT, "tests", "system")
    sys.path.insert(0, sysdir)
    for fname in sorted(os.listdir(sysdir)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(fname[:-3], os.path.join(sysdir, fname))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for name in sorted(n for n in dir(mod) if n.startswith("test_")):
            full = f"system/{fname[5:-3]}/{name[5:]}"
            if keyword and keyword not in full:
                continue
            t0 = time.monotonic()
            try:
                getattr(mod, name)()
                results.append((full, True))
                print(f"PASS: {full} ({time.monotonic() - t0:.1f} s)", flush=True)
            except Exception as e:  # a failing test must not stop the others
                results.append((full, False))
                detail = "".join(traceback.format_exception_only(type(e), e)).strip()
                print(f"FAIL: {full}: {detail}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host-only", action="store_true")
    ap.add_argument("--system-only", action="store_true")
    ap.add_argument("-k", dest="keyword", default=None)
    a = ap.parse_args()
    results = []
    if not a.system_only:
        run_host(results, a.keyword)
    if not a.host_only:
        run_system(results, a.keyword)
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or not results else 0)


if __name__ == "__main__":
    main()
