# SPDX-License-Identifier: MIT
"""The GDB extension (tools/gdb/rvmm.py) against the console: guests run with the GDB stub (not
halted), `gdb-multiarch -batch` attaches (which halts them) at different moments, in S-mode, in
OpenSBI (M-mode) and on a hart parked by SBI HSM (satp 0), and every answer is checked against the
console's own. A kernel structure changing under the extension fails here.
"""
import atexit
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

from guest import ROOT, Guest
from vmem_guest import require_patched_qemu

GDB = "gdb-multiarch"
OBJCOPY = "riscv64-unknown-elf-objcopy"
_kernel = {}


def kernel():
    """A private copy of build/rvmm.elf and an image made from it: someone rebuilding build/ while
    the tests run must not pair one kernel's symbols with another kernel's image."""
    if not _kernel:
        d = tempfile.mkdtemp(prefix="rvmm-gdb-")
        atexit.register(shutil.rmtree, d, True)
        _kernel["elf"] = os.path.join(d, "rvmm.elf")
        _kernel["bin"] = os.path.join(d, "rvmm.bin")
        shutil.copy(os.path.join(ROOT, "build", "rvmm.elf"), _kernel["elf"])
        subprocess.run([OBJCOPY, "-O", "binary", _kernel["elf"], _kernel["bin"]], check=True,
                       timeout=60)
    return _kernel


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(smp=1, args="", cpu=None, vmem=None, env=None):
    port = free_port()
    env = dict(env or {}, GDB_STUB="1", GDB_PORT=str(port), KERNEL=kernel()["bin"])
    if cpu:
        env["CPU"] = cpu
    g = Guest(smp=smp, args=args, env=env, vmem=vmem).start()
    g.port = port
    return g


def gdb(g, *cmds, timeout=60, trigger=None):
    """Attach to g's stub through tools/gdb/gdbinit, run cmds (GDB commands), detach; return the
    output. trigger(g) runs once GDB prints "rvmm-test: armed" (echo it from cmds)."""
    argv = [GDB, "-q", "-batch", "-nx", "-x", "tools/gdb/gdbinit"]
    for c in cmds:
        argv += ["-ex", c]
    env = dict(os.environ, GDB_PORT=str(g.port))
    p = subprocess.Popen(argv + [kernel()["elf"]], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + timeout
    out = ""
    try:
        if trigger:
            while "rvmm-test: armed" not in out:
                line = p.stdout.readline()
                if not line or time.monotonic() > deadline:
                    raise AssertionError("gdb never armed:\n" + out)
                out += line
            trigger(g)
        out += p.communicate(timeout=max(1, deadline - time.monotonic()))[0]
    except subprocess.TimeoutExpired:
        p.kill()
        out += p.communicate()[0]
        raise AssertionError(f"gdb timed out after {timeout}s:\n{out[-3000:]}")
    assert "Python Exception" not in out and "Error occurred in Python" not in out, out[-3000:]
    return out


def section(out, begin, end):
    """The lines of out between a line starting with begin and the next starting with end."""
    m = re.search(rf"^{re.escape(begin)}.*?\n(.*?)^{re.escape(end)}", out, re.S | re.M)
    assert m, f"no {begin!r}..{end!r} in:\n{out[-3000:]}"
    return m.group(1)


def marked(*cmds):
    """GDB commands, each output framed by ==name== / ==end== lines."""
    res = []
    for c in cmds:
        res += [f"echo =={c}==\\n", c, "echo ==end==\\n"]
    return res


def body(out, cmd):
    return section(out, f"=={cmd}==", "==end==")


def console(g, line):
    return g.cmd(line).replace("\r", "")


def sections_shape(text):
    """The sections table with its free column (pages on the buddy lists: they move as per-hart
    caches fill and drain) blanked."""
    return re.sub(r"^(\s*[\d-]+\s+0x\w+-0x\w+\s+\w+\s+\S+\s+)\d+", r"\1#", text, flags=re.M)


def check_meminfo(gdb_text, console_text):
    want = dict(re.findall(r"^([A-Z][\w ]*):\s+(.+?)\s*$", console_text, re.M))
    got = dict(re.findall(r"^([A-Z][\w ]*):\s+(.+?)\s*$", gdb_text, re.M))
    assert got.get("MemTotal") == want.get("MemTotal"), f"MemTotal: gdb {got} console {want}"
    for k, v in got.items():
        assert want.get(k) == v, f"meminfo {k}: gdb {v!r}, console {want.get(k)!r}"


KIMAGE = "0xffffffff80000000 0xffffffffffffffff"


def check_all(g, out, cons):
    """Compare every command of one gdb session (marked) with the console's answers cons."""
    check_meminfo(body(out, "rvmm-meminfo"), cons["meminfo"])
    assert sections_shape(body(out, "rvmm-sections")) == sections_shape(cons["sections"]), (
        body(out, "rvmm-sections"), cons["sections"])
    assert body(out, "rvmm-ptdump") == cons["ptdump"], (body(out, "rvmm-ptdump"), cons["ptdump"])
    pt_k = body(out, f"rvmm-ptdump {KIMAGE}")
    assert pt_k == cons["ptdump_k"], (pt_k, cons["ptdump_k"])
    boot_line = re.search(r"^\[.*\] boot: .* to the prompt$", g.out, re.M).group(0)
    assert boot_line in body(out, "rvmm-dmesg"), body(out, "rvmm-dmesg")[-1000:]
    assert "no virtio-mem driver state" in body(out, "rvmm-vmem") or "{" in body(out, "rvmm-vmem")


COMMANDS = ["rvmm-meminfo", "rvmm-sections", "rvmm-ptdump", f"rvmm-ptdump {KIMAGE}", "rvmm-dmesg",
            "rvmm-harts", "rvmm-buddy", "rvmm-pfn 0x80200", "rvmm-vmem"]


def console_answers(g):
    deadline = time.monotonic() + 30  # deferred init runs in idle time: let it finish first
    while "Deferred init: 0 sections" not in console(g, "meminfo"):
        assert time.monotonic() < deadline, "deferred init did not finish in 30 s"
        time.sleep(0.2)
    return {"meminfo": console(g, "meminfo"), "sections": console(g, "sections"),
            "ptdump": console(g, "ptdump"), "ptdump_k": console(g, f"ptdump {KIMAGE}")}


def test_at_prompt_matches_console():
    with start(smp=2) as g:
        cons = console_answers(g)
        out = gdb(g, 'python print("priv", int(gdb.parse_and_eval("$priv")))', *marked(*COMMANDS))
        check_all(g, out, cons)
        harts = body(out, "rvmm-harts")
        assert "2 harts online (stopped in S-mode, paging on)" in harts, harts
        assert re.search(r"^1\s+\d+\s+(idle|busy)\s", harts, re.M), harts
        pfn = body(out, "rvmm-pfn 0x80200")  # the image's first page: reserved
        assert re.search(r"flags 0x\w+ \S*reserved", pfn), pfn
        buddy = body(out, "rvmm-buddy")
        normal = re.search(r"^Normal\s.*\s(\d+)$", buddy, re.M)
        free_kb = int(re.search(r"MemFreeNormal:\s+(\d+)", cons["meminfo"]).group(1))
        assert normal and int(normal.group(1)) * 4 == free_kb, (buddy, free_kb)
        assert "rvmm" in console(g, "version"), "guest did not resume after detach"


def test_attach_repeatedly_after_commands():
    # Attach right after each command is typed (it may still be running), and find the output of
    # the one before in the log.
    logged = {"sections": "sections of 128 MiB", "meminfo": "MemTotal:"}
    with start() as g:
        prev = None
        for line in ["sections", "meminfo", "dmesg 200"]:
            g.send(line + "\n")
            g.expect(re.escape(line) + r"\n")
            out = gdb(g, *marked("rvmm-dmesg 2000", "rvmm-meminfo"))
            g.expect(r"rvmm> ")
            total = re.search(r"MemTotal:\s+(\d+)", console(g, "meminfo")).group(1)
            assert re.search(rf"MemTotal:\s+{total} kB", body(out, "rvmm-meminfo")), out
            if prev:
                assert logged[prev] in body(out, "rvmm-dmesg 2000"), out[-2000:]
            prev = line


def test_in_opensbi_m_mode():
    # Without Sstc the kernel's timer goes through OpenSBI, which then takes a machine timer
    # interrupt every tick: a hardware breakpoint on mtvec stops a hart inside OpenSBI.
    with start(cpu="rv64,sstc=off") as g:
        cons = console_answers(g)
        out = gdb(g, 'python gdb.execute("hbreak *%d" % (int(gdb.parse_and_eval("$mtvec")) & ~3))',
                  "continue", "delete", "stepi 8",
                  'python print("priv", int(gdb.parse_and_eval("$priv")), '
                  '"satp", hex(int(gdb.parse_and_eval("$satp")) & (2**64 - 1)))',
                  *marked(*COMMANDS))
        assert re.search(r"^priv 3 satp 0x9", out, re.M), out[-2000:]
        check_all(g, out, cons)
        assert "stopped in M-mode (OpenSBI), tables walked from satp" in body(out, "rvmm-harts")
        assert re.search(r"\bM\s+OpenSBI\b", body(out, "rvmm-harts")), body(out, "rvmm-harts")
        assert "rvmm" in console(g, "version"), "guest did not resume after detach"


def test_parked_hart_satp_zero():
    # nosmp leaves the other hart in OpenSBI's HSM wait: M-mode, satp 0, so the root table must
    # come from swapper_pg_dir and the image's load address.
    with start(smp=2, args="nosmp") as g:
        cons = console_answers(g)
        out = gdb(g, 'python next(t for t in gdb.selected_inferior().threads() '
                     'if t.switch() or int(gdb.parse_and_eval("$satp")) == 0)',
                  'python print("priv", int(gdb.parse_and_eval("$priv")), "satp", '
                  'int(gdb.parse_and_eval("$satp")))', *marked(*COMMANDS))
        assert re.search(r"^priv 3 satp 0$", out, re.M), out[-2000:]
        check_all(g, out, cons)
        assert "tables walked from swapper_pg_dir" in body(out, "rvmm-harts"), out[-2000:]


def test_backtrace_through_trap():
    with start() as g:
        out = gdb(g, "break timer_interrupt", "continue", "bt", "delete")
        bt = out[out.index("#0"):]
        assert "<signal handler called>" in bt, bt
        after = bt.split("<signal handler called>", 1)[1]
        frame = re.search(r"^#\d+\s+(?:0x\w+ in )?(\w+) \(", after, re.M)
        assert frame and frame.group(1) != "??", f"no interrupted frame after the trap:\n{bt}"
        assert re.search(r"\b(start_kernel|secondary_start)\b", after), bt


def test_lock_holder_shown():
    # Stop in spin_unlock (out of line: a0 is the lock, held by this hart) during a console
    # command; rvmm-harts must name that lock on the line of the hart that stopped.
    with start() as g:
        out = gdb(g, "break *spin_unlock", "break *spin_unlock_irqrestore",
                  "echo rvmm-test: armed\\n", "continue",
                  'python import rvmm_harts; print("BP-LOCK", [n for n, a, k in '
                  'rvmm_harts.lock_sites() '
                  'if a == int(gdb.parse_and_eval("$a0")) & (2**64 - 1)])',
                  'python print("BP-PC 0x%016x" % int(gdb.parse_and_eval("$pc")))',
                  "delete", *marked("rvmm-harts"), trigger=lambda g: g.send("meminfo\n"))
        lock = re.search(r"BP-LOCK \['([^']+)'\]", out)
        pc = re.search(r"BP-PC (0x\w+)", out)
        assert lock and pc, out[-2000:]
        line = re.search(rf"^.*{pc.group(1)}.*$", body(out, "rvmm-harts"), re.M)
        assert line and lock.group(1) in line.group(0), (lock.group(1), body(out, "rvmm-harts"))
        g.expect(r"rvmm> ")


def test_help_and_usage():
    with start() as g:
        names = ["meminfo", "sections", "ptdump", "pfn", "page", "buddy", "dmesg", "harts", "vmem"]
        out = gdb(g, "help rvmm", *[f"help rvmm-{n}" for n in names], "rvmm-pfn",
                  "rvmm-ptdump 9 3", "rvmm-page 0x1234567890abcdef0")
        for n in names:
            assert f"rvmm-{n}" in out, f"help rvmm does not name rvmm-{n}"
        assert out.count("Usage: rvmm-") >= len(names), out
        assert "usage: rvmm-pfn PFN" in out and "START < END" in out, out


def test_vmem_matches_console():
    require_patched_qemu()
    with tempfile.TemporaryDirectory(prefix="rvmm-gdb-") as d:
        env = {"VMEM_REQUESTED": "512M", "QMP_SOCK": f"{d}/qmp.sock", "MON_SOCK": f"{d}/mon.sock"}
        with start(vmem="1G", env=env) as g:
            deadline = time.monotonic() + 30  # the driver plugs the requested 512 MiB at probe
            while "MemPlugged 524288 kB" not in console(g, "vmem"):
                assert time.monotonic() < deadline, console(g, "vmem")
                time.sleep(0.2)
            cons = console(g, "vmem")
            meminfo = console(g, "meminfo")
            out = gdb(g, *marked("rvmm-vmem", "rvmm-meminfo"))
            assert body(out, "rvmm-vmem") == cons, (body(out, "rvmm-vmem"), cons)
            assert "MemPlugged:       524288 kB" in body(out, "rvmm-meminfo"), out
            check_meminfo(body(out, "rvmm-meminfo"), meminfo)


def test_numa_matches_console():
    """Two NUMA nodes: rvmm-meminfo NODE, the per-node zones of rvmm-meminfo and rvmm-sections
    (each line ends with its node), and rvmm-buddy's per-node lines, against the console."""
    extra = ("-object memory-backend-ram,id=m0,size=1G -object memory-backend-ram,id=m1,size=1G "
             "-numa node,nodeid=0,cpus=0-1,memdev=m0 -numa node,nodeid=1,cpus=2-3,memdev=m1")
    with start(smp="4,sockets=2", env={"MEM": "2G", "QEMU_EXTRA": extra}) as g:
        cons = console_answers(g)
        node1 = console(g, "meminfo 1")
        out = gdb(g, *marked("rvmm-meminfo", "rvmm-meminfo 1", "rvmm-meminfo 5", "rvmm-sections",
                             "rvmm-buddy"))
        check_meminfo(body(out, "rvmm-meminfo"), cons["meminfo"])
        assert body(out, "rvmm-meminfo 1") == node1, (body(out, "rvmm-meminfo 1"), node1)
        assert "meminfo: no node 5 (this machine has 2, ids below 2)" in body(out, "rvmm-meminfo 5")
        assert sections_shape(body(out, "rvmm-sections")) == sections_shape(cons["sections"]), (
            body(out, "rvmm-sections"), cons["sections"])
        assert "  node 1\n" in cons["sections"], cons["sections"]
        buddy = body(out, "rvmm-buddy")
        assert re.search(r"^0:Normal\s", buddy, re.M) and re.search(r"^1:Normal\s", buddy, re.M), buddy
