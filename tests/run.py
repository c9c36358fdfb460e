#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""rvmm's test runner: host unit tests and fuzz-corpus replays, then QEMU system tests; ends with
`N passed, N failed, N skipped`.

Host tests are C programs (built by mk/build.mk) printing `PASS: suite/case`,
`FAIL: suite/case: reason` or `SKIP: suite/case: reason`. System tests are functions named test_*
in tests/system/test_*.py, each taking no arguments; one that raises guest.Skip("why") is
skipped, any other exception fails it. A skip is reported with its reason and never counted as a
pass. The exit status is 1 if any test failed or none passed.

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
SYSDIR = os.path.join(ROOT, "tests", "system")
# Timed fuzz campaigns vary from run to run: they are `make fuzz`'s, not the test suite's.
HOST_TARGETS = ["host-tests", "platform-tests", "virtio-tests", "vmem-tests", "pmem-tests",
                "irqchip-tests", "fuzz-regress"]
STATUS = {"PASS: ": "pass", "FAIL: ": "fail", "SKIP: ": "skip"}


def report(results, name, status, detail=""):
    results.append((name, status))
    print(f"{status.upper()}: {name}{detail}", flush=True)


def run_host(results, keyword):
    make = ["make", "--no-print-directory", "-f", "mk/build.mk", "-k"]
    for target in HOST_TARGETS:
        p = subprocess.run(make + [target], cwd=ROOT, capture_output=True, text=True)
        mine = []
        for line in p.stdout.splitlines():
            status = STATUS.get(line[:6])
            if not status:
                continue
            name = line[6:].split(":")[0].split(" (")[0]
            if keyword and keyword not in name:
                continue
            mine.append(status)
            results.append((name, status))
            print(line, flush=True)
        if p.returncode != 0 and not mine:
            report(results, target, "fail",
                   f": make exited {p.returncode}\n{p.stdout[-3000:]}{p.stderr[-3000:]}")
        elif p.returncode != 0 and "fail" not in mine:
            report(results, target, "fail",
                   f": exited {p.returncode} after its cases passed\n{p.stderr[-2000:]}")


def run_system(results, keyword):
    sys.path.insert(0, SYSDIR)
    from guest import Skip
    for fname in sorted(os.listdir(SYSDIR)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(fname[:-3], os.path.join(SYSDIR, fname))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for name in sorted(n for n in dir(mod) if n.startswith("test_")):
            full = f"system/{fname[5:-3]}/{name[5:]}"
            if keyword and keyword not in full:
                continue
            t0 = time.monotonic()
            try:
                getattr(mod, name)()
                report(results, full, "pass", f" ({time.monotonic() - t0:.1f} s)")
            except Skip as e:
                report(results, full, "skip", f": {e}")
            except Exception as e:  # a failing test must not stop the others
                detail = "".join(traceback.format_exception_only(type(e), e)).strip()
                report(results, full, "fail", f": {detail}")


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
    count = {s: sum(1 for _, st in results if st == s) for s in ("pass", "fail", "skip")}
    print(f"{count['pass']} passed, {count['fail']} failed, {count['skip']} skipped")
    if not count["pass"]:
        print("run.py: no test passed (none ran, or all were skipped)", file=sys.stderr)
    sys.exit(1 if count["fail"] or not count["pass"] else 0)


if __name__ == "__main__":
    main()
