# SPDX-License-Identifier: MIT
"""rvmm's hart and driver commands for GDB (loaded by tools/gdb/rvmm.py): rvmm-harts (harts[],
GDB's threads, the locks each hart holds) and rvmm-vmem (the virtio-mem driver's state, as the
console's `vmem`).

Locks are found from the debug info, not from a list kept here: every global and static variable
is scanned once for spinlock_t/rwlock_t (alone, in structs, in arrays of structs).

Interface: the commands; global_vars, lock_sites, held_locks.
"""
import re

import gdb

import kmem
from kmem import U64, CommandError, Kmem, sym_addr
from rvmm_mm import RvmmCommand, array_len, enum_names

# ---- harts -----------------------------------------------------------------------------------

def thread_states():
    """{hartid: (pc, priv)} from GDB's threads (one per hart), read before Kmem switches modes."""
    out = {}
    cur = gdb.selected_thread()
    try:
        for th in gdb.selected_inferior().threads():
            th.switch()
            hartid = kmem.reg("mhartid")
            out[th.ptid[1] - 1 if hartid is None else hartid] = (kmem.reg("pc"), kmem.reg("priv"))
    finally:
        cur.switch()
    return out


def pc_name(pc, priv):
    if priv == kmem.PRV_M:
        return "OpenSBI"
    block = gdb.current_progspace().block_for_pc(pc) if pc is not None else None
    while block and not block.function:
        block = block.superblock
    return block.function.name if block else "?"


_globals_cache = {}


def global_vars():
    """[(name, address, gdb.Type)] of every global and static variable in the debug info, parsed
    once per program from `info variables` (static names qualified by their file)."""
    key = gdb.current_progspace().filename
    if key in _globals_cache:
        return _globals_cache[key]
    out, file, decl = [], None, ""
    for line in gdb.execute("info variables -q -n", to_string=True).splitlines():
        if line.startswith("File "):
            file = line[5:].rstrip(":")
            continue
        decl = line.split(":", 1)[1].strip() if re.match(r"^\d+:", line) else decl + line.strip()
        if not decl.endswith(";") or decl.count("{") != decl.count("}"):
            continue
        m = re.search(r"(\w+)\s*(\[\d*\])*;$", decl)
        decl = ""
        if not m or not file:
            continue
        try:
            addr, typ = sym_addr(m.group(1), file)
        except CommandError:
            continue
        out.append((m.group(1), addr, typ))
    _globals_cache[key] = out
    return out


def lock_sites():
    """[(name, address, kind)] of every spinlock_t/rwlock_t in a global or static variable
    (directly, in a struct, or in an array of structs)."""
    sites = []
    for name, addr, typ in global_vars():
        _find_locks(name, addr, typ, sites, 0)
    return sites


def _find_locks(name, addr, typ, sites, depth):
    if typ.name in ("spinlock_t", "rwlock_t"):
        sites.append((name, addr, typ.name))
        return
    t = typ.strip_typedefs()
    if depth > 3 or t.code not in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_ARRAY):
        return
    if t.code == gdb.TYPE_CODE_ARRAY:
        elem = t.target()
        if elem.strip_typedefs().code != gdb.TYPE_CODE_STRUCT and elem.name not in (
                "spinlock_t", "rwlock_t"):
            return
        lo, hi = t.range()
        for i in range(min(hi - lo + 1, 64)):
            _find_locks(f"{name}[{i}]", addr + i * elem.sizeof, elem, sites, depth + 1)
        return
    for f in t.fields():
        if f.name and not f.artificial and hasattr(f, "bitpos"):
            _find_locks(f"{name}.{f.name}", addr + f.bitpos // 8, f.type, sites, depth + 1)


def held_locks(m):
    """{hart index: [lock description]}; key None for read-held rwlocks (no owner recorded)."""
    held = {}
    for name, addr, kind in lock_sites():
        try:
            v = m.value(addr, gdb.lookup_type(kind))
        except gdb.MemoryError:
            continue
        if kind == "spinlock_t":
            if int(v["next"]) != int(v["owner"]):
                held.setdefault(int(v["holder"]), []).append(name)
        elif int(v["readers"]) == -1:
            held.setdefault(int(v["writer"]), []).append(f"{name} (write)")
        elif int(v["readers"]) > 0:
            held.setdefault(None, []).append(f"{name} (read x{int(v['readers'])})")
    return held


class Harts(RvmmCommand):
    """Print what each hart is doing.

Usage: rvmm-harts
From harts[] and nr_harts_online (entries; those marked off did not start): index, hartid, state, `doing`, timer ticks; from GDB's threads
(each hart is one): pc, function and privilege mode; and the locks it holds (spinlock holder,
rwlock writer), found in every global of the kernel's debug info."""

    def __init__(self):
        super().__init__("rvmm-harts")

    def invoke(self, arg, from_tty):
        if gdb.string_to_argv(arg):
            raise CommandError("usage: rvmm-harts")
        threads = thread_states()
        with Kmem() as m:
            self.show(m, threads)

    def show(self, m, threads):
        n = int(m.sym("nr_harts_online"))
        harts = m.sym("harts")
        states = enum_names("enum hart_state", "HART_")
        held = held_locks(m)
        modes = {0: "U", 1: "S", 3: "M"}
        online = sum(1 for i in range(n) if states.get(int(harts[i]["state"])) != "off")
        gdb.write(f"{online} hart{'s' if online != 1 else ''} online (stopped in {m.mode})\n")
        gdb.write("hart hartid state     doing            pc                  mode function"
                  "              locks held\n")
        for i in range(n):
            h = harts[i]
            hartid = int(h["hartid"])
            pc, priv = threads.get(hartid, (None, None))
            pcs = f"0x{pc:016x}" if pc is not None else "-"
            locks = ", ".join(held.get(i, [])) or "-"
            gdb.write(f"{i:<4} {hartid:<6} {states.get(int(h['state']), '?'):<9} "
                      f"{m.cstr(int(h['doing']) & U64):<16} {pcs:<19} {modes.get(priv, '?'):<4} "
                      f"{pc_name(pc, priv):<21} {locks}\n")
        for hid, (pc, priv) in sorted(threads.items()):
            if not any(int(harts[i]["hartid"]) == hid for i in range(n)):
                pcs = f"0x{pc:016x}" if pc is not None else "-"
                gdb.write(f"-    {hid:<6} {'not started by rvmm':<26} {pcs:<19} "
                          f"{modes.get(priv, '?'):<4} {pc_name(pc, priv)}\n")
        if None in held:
            gdb.write(f"read-held: {', '.join(held[None])}\n")


# ---- virtio-mem ------------------------------------------------------------------------------

ERRNO_NAMES = {0: "OK", 1: "EPERM", 2: "ENOENT", 5: "EIO", 7: "E2BIG", 11: "EAGAIN", 12: "ENOMEM",
               14: "EFAULT", 16: "EBUSY", 17: "EEXIST", 19: "ENODEV", 22: "EINVAL", 28: "ENOSPC",
               34: "ERANGE", 38: "ENOSYS", 95: "ENOTSUP", 110: "ETIMEDOUT"}  # lib/errname.c


def errname(err):
    return ERRNO_NAMES.get(abs(err), "E?")


class Vmem(RvmmCommand):
    """Print the virtio-mem driver's state, as the console's `vmem` (drivers/virtio/virtio_mem*.c).

Usage: rvmm-vmem
For each device in virtio_mem_devices[]: region, block size, the device's sizes and the driver's
target, blocks per state (nr_in_state[]), MemPlugged, the worker's state, and the region's
sections folded into runs. Says "no virtio-mem driver state" when the kernel has no such driver
or no device was probed."""

    def __init__(self):
        super().__init__("rvmm-vmem")

    def run(self, m, args):
        if args:
            raise CommandError("usage: rvmm-vmem")
        try:
            devs = m.sym("virtio_mem_devices")
        except CommandError:
            gdb.write("no virtio-mem driver state (this kernel has no virtio-mem driver)\n")
            return
        vm_t = gdb.lookup_type("struct virtio_mem")
        ptrs = [int(devs[i]) & U64 for i in range(array_len(devs))]
        if not any(ptrs):
            gdb.write("no virtio-mem driver state (no device probed)\n")
        for p in filter(None, ptrs):
            self.show(m, m.value(p, vm_t))

    def show(self, m, vm):
        w, mb = gdb.write, lambda x: int(x) >> 20
        blk = enum_names("enum vmem_block_state", "VMEM_BLOCK_")
        n = {name: int(vm["nr_in_state"][v]) for v, name in blk.items() if name != "nr_states"}
        vdev_t = gdb.lookup_type("struct virtio_device")
        name_off = next(f.bitpos // 8 for f in vdev_t.fields() if f.name == "name")
        name = m.cstr((int(vm["vdev"]) & U64) + name_off)
        addr, size, bsize = int(vm["addr"]), int(vm["region_size"]), int(vm["block_size"])
        w(f"{name}: region 0x{addr:x}-0x{addr + size:x} ({size >> 20} MiB), block "
          f"{bsize >> 10} KiB, node {int(vm['node_id'])}\n")
        w(f"  usable {mb(vm['usable_region_size'])} MiB, requested {mb(vm['requested_size'])} MiB,"
          f" plugged {mb(vm['plugged_size'])} MiB (device), target {mb(vm['target'])} MiB, "
          f"auto {'on' if int(vm['auto_follow']) else 'off'}\n")
        online_kb = (n.get("online", 0) + n.get("unmovable", 0)) * bsize >> 10
        w(f"  blocks: {n.get('online', 0)} online, {n.get('unmovable', 0)} unmovable, "
          f"{n.get('plugged', 0)} plugged offline, {n.get('unplugged', 0)} unplugged; "
          f"MemPlugged {online_kb} kB\n")
        why = m.cstr(int(vm["why"]) & U64) if int(vm["why"]) else ""
        lock = vm["lock"]  # a ticket lock: held while next != owner
        held = int(lock["next"]) != int(lock["owner"])
        state = ("broken" if int(vm["broken"]) else "running" if held else
                 "done" if int(vm["last_rc"]) == 0 else
                 "retrying" if int(vm["retry_at_ns"]) else "stopped")
        w(f"  worker: {state}{': ' + why if why else ''} ({errname(int(vm['last_rc']))}); "
          f"{int(vm['nr_requests'])} requests, {int(vm['nr_offline_calls'])} offline calls, "
          f"{int(vm['nr_remove_calls'])} remove calls, last resize "
          f"{int(vm['last_run_ns']) // 1000000} ms\n")
        pieces = int(vm["pieces_per_section"])
        nsec = int(vm["nr_sections"])
        shift = 27
        w(f"  sections of {(1 << shift) >> 20} MiB ({pieces} block{'s' if pieces > 1 else ''} "
          f"each):\n")
        sec_t = gdb.lookup_type("struct vmem_section")
        raw = m.read(int(vm["sections"]) & U64, nsec * sec_t.sizeof) if nsec else b""
        secs = [gdb.Value(raw[i * sec_t.sizeof:(i + 1) * sec_t.sizeof], sec_t) for i in range(nsec)]
        names_v = m.sym("section_state_names", "drivers/virtio/virtio_mem.c")
        snames = [m.cstr(int(names_v[i]) & U64) for i in range(array_len(names_v))]
        st_enum = {v: k for k, v in enum_names("enum vmem_section_state", "VMEM_SECTION_").items()}

        def state_of(sec):
            if not int(sec["added"]):
                return st_enum["unadded"] if int(sec["plugged"]) else st_enum["absent"]
            if not int(sec["plugged"]):
                return st_enum["empty"]
            if not int(sec["online"]):
                return st_enum["offline"]
            return st_enum["online"] if int(sec["online"]) == pieces else st_enum["partial"]

        base, first, run = int(vm["base"]), int(vm["first_section"]), 0
        for s in range(1, nsec + 1):
            st = state_of(secs[run])
            if (s < nsec and state_of(secs[s]) == st and
                    int(secs[s]["online"]) == int(secs[run]["online"]) and
                    int(secs[s]["plugged"]) == int(secs[run]["plugged"])):
                continue
            line = (f"    0x{base + (run << shift):012x}-0x{base + (s << shift):012x}  sections "
                    f"{first + run}-{first + s - 1}  {snames[st]:<8}")
            if st != st_enum["absent"]:
                line += (f"  {int(secs[run]['online'])}/{pieces} online, "
                         f"{int(secs[run]['plugged'])}/{pieces} plugged")
            w(line + "\n")
            run = s


Harts()
Vmem()
