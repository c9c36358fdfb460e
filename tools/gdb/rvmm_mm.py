# SPDX-License-Identifier: MIT
"""rvmm's memory commands for GDB (loaded by tools/gdb/rvmm.py): rvmm-meminfo, rvmm-sections,
rvmm-ptdump, rvmm-pfn, rvmm-page, rvmm-buddy, rvmm-dmesg; and the plumbing every command shares
(RvmmCommand, parse_num, enum_names, zones).

Each prints what the console command of the same name prints (kernel/mm/meminfo.c, ptdump.c,
kernel/printk.c), from memory read through kmem.Kmem. Constants that are #defines in C (page and
section flags, PAGE_SHIFT) are not in DWARF: they are read from the headers of the tree this
script belongs to (flag_bits), so there is no second copy to keep in step.

Interface: the commands; RvmmCommand, parse_num, enum_names, array_len, zones, zone_names.
"""
import os
import re

import gdb

import kmem
from kmem import U64, CommandError, Kmem, sym_addr

INCLUDE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                       "include")


def header_text(header):
    with open(os.path.join(INCLUDE, header)) as f:
        return f.read()


def flag_bits(header, prefix):
    """The single-bit flags `#define PREFIXNAME (1u << N)` of include/<header>, as
    {lower-case NAME: 1 << N}."""
    found = {m.group(1).lower(): 1 << int(m.group(2)) for m in
             re.finditer(r"^#define %s(\w+) \(1u << (\d+)\)" % prefix, header_text(header), re.M)}
    if not found:
        raise gdb.GdbError(f"rvmm: no {prefix}* flags in {INCLUDE}/{header}")
    return found


def define_int(header, name):
    """The value of `#define NAME <decimal>` in include/<header>."""
    m = re.search(r"^#define %s (\d+)\b" % name, header_text(header), re.M)
    if not m:
        raise gdb.GdbError(f"rvmm: no #define {name} <number> in {INCLUDE}/{header}")
    return int(m.group(1))


PAGE_SHIFT = define_int("rvmm/types.h", "PAGE_SHIFT")
_pg = flag_bits("rvmm/mm.h", "PG_")
PG_FLAGS = sorted(_pg, key=_pg.get)  # bit 0 upwards
if any(_pg[n] != 1 << i for i, n in enumerate(PG_FLAGS)):
    raise gdb.GdbError(f"rvmm: PG_ flags in {INCLUDE}/rvmm/mm.h are not bits 0..{len(PG_FLAGS) - 1}")
SECTION_FLAGS = flag_bits("rvmm/section.h", "SECTION_")
SUBSECTION_PAGES = 1 << (define_int("rvmm/section.h", "SUBSECTION_SHIFT") - PAGE_SHIFT)  # online_map bit
LEAF_NAMES = ["4K", "2M", "1G", "512G"]
SZ_1G = 1 << 30


def parse_num(text):
    """A number as the console takes it (decimal, 0x hex, K/M/G/T suffix) or a GDB expression."""
    m = re.fullmatch(r"(0[xX][0-9a-fA-F]+|\d+)([KMGTkmgt]?)", text)
    if m:
        shift = {"": 0, "k": 10, "m": 20, "g": 30, "t": 40}[m.group(2).lower()]
        return int(m.group(1), 0) << shift
    try:
        return int(gdb.parse_and_eval(text)) & U64
    except gdb.error as e:
        raise CommandError(f"rvmm: bad number {text!r}: {e}")


def enum_names(type_name, prefix):
    """{value: lower-case name without prefix} of a C enum, from DWARF."""
    return {f.enumval: f.name[len(prefix):].lower() for f in gdb.lookup_type(type_name).fields()}


def array_len(v):
    lo, hi = v.type.strip_typedefs().range()
    return hi - lo + 1


class RvmmCommand(gdb.Command):
    """Base: argument splitting, one Kmem per invocation, errors as GDB errors."""

    def __init__(self, name):
        super().__init__(name, gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        args = gdb.string_to_argv(arg)
        with Kmem() as m:
            self.run(m, args)


# ---- meminfo, sections -----------------------------------------------------------------------

def online_nodes(m):
    """The NUMA nodes of the machine (kernel/mm/numa.c's numa.online_mask), ascending."""
    mask = int(m.sym("numa")["online_mask"])
    return [n for n in range(32) if mask >> n & 1]


def node_zones(m):
    """[(node, zone index, name, struct zone value, address)] of node_zones[][], online nodes."""
    addr, typ = sym_addr("node_zones")
    nz = m.sym("node_zones")
    per_node = array_len(nz[0])
    size = typ.strip_typedefs().target().target().sizeof
    out = []
    for n in online_nodes(m):
        for i in range(per_node):
            z = nz[n][i]
            out.append((n, i, m.cstr(int(z["name"]) & U64), z, addr + (n * per_node + i) * size))
    return out


def zones(m, node=None):
    """[(name, [struct zone value of each node])] per zone type; only node's if given."""
    by = {}
    for n, i, name, z, _ in node_zones(m):
        if node is None or n == node:
            by.setdefault(i, (name, []))[1].append(z)
    return [by[i] for i in sorted(by)]


def zone_names(m):
    """Names of the zone types, then "Device": ZONE_DEVICE (= NR_ZONES) has descriptors only."""
    return [name for name, _ in zones(m, 0)] + ["Device"]


class Meminfo(RvmmCommand):
    """Print the console's `meminfo` figures, read from memory.

Usage: rvmm-meminfo [NODE]
MemTotal/MemFree from node_zones[][].managed and .nr_free, PageTables from kpt's page count, Memmap
from the populated vmemmap bytes, DevMemmap from memremap's (ZONE_DEVICE descriptors), the
descriptor size from DWARF, deferred sections pending. With NODE, that NUMA node's figures as the
console's `meminfo NODE` ("Node 1 MemTotal: ..."; MemPlugged from its virtio-mem devices)."""

    def __init__(self):
        super().__init__("rvmm-meminfo")

    def run(self, m, args):
        if len(args) > 1:
            raise CommandError("usage: rvmm-meminfo [NODE]")
        kb = lambda pages: int(pages) << (PAGE_SHIFT - 10)
        if args:
            return self.run_node(m, parse_num(args[0]), kb)
        zs = zones(m)
        total = lambda field, zl: sum(int(z[field]) for z in zl)
        lines = [("MemTotal:", kb(sum(total("managed", zl) for _, zl in zs))),
                 ("MemFree:", kb(sum(total("nr_free", zl) for _, zl in zs)))]
        lines += [(f"MemFree{name}:", kb(total("nr_free", zl))) for name, zl in zs]
        lines += [("PageTables:", kb(m.sym("nr_pgtable_pages", "kernel/mm/pgtable.c"))),
                  ("Memmap:", int(m.sym("memmap_bytes", "kernel/mm/vmemmap.c")) >> 10),
                  ("DevMemmap:", int(m.sym("total_memmap_bytes", "kernel/mm/memremap.c")) >> 10)]
        try:
            sym_addr("meminfo_plugged_kb")  # the console prints MemPlugged: so do we
            lines.append(("MemPlugged:", plugged_kb(m)))
        except CommandError:
            pass
        for name, v in lines:
            gdb.write(f"{name:<16}{v:>8} kB\n")
        mode = int(m.sym("early_vm_satp_mode"))
        gdb.write(f"Page descriptor: {gdb.lookup_type('struct page').sizeof} bytes\n")
        gdb.write(f"Paging mode: {'sv48' if mode == kmem.SATP_MODE_SV48 else 'sv39'}\n")
        pending = int(m.sym("deferred_pending", "kernel/mm/deferred.c"))
        gdb.write(f"Deferred init: {pending} sections pending\n")

    def run_node(self, m, node, kb):
        nodes = online_nodes(m)
        if node not in nodes:
            gdb.write(f"meminfo: no node {node} (this machine has {len(nodes)}, ids below "
                      f"{max(nodes) + 1})\n")
            return
        zs = zones(m, node)
        free = {name: kb(zl[0]["nr_free"]) for name, zl in zs}
        total = sum(kb(zl[0]["managed"]) for _, zl in zs)
        lines = [("MemTotal:", total), ("MemFree:", sum(free.values())),
                 ("MemUsed:", total - min(total, sum(free.values())))]
        lines += [(f"MemFree{name}:", v) for name, v in free.items()]
        lines.append(("MemPlugged:", plugged_kb(m, node)))
        for name, v in lines:
            gdb.write(f"Node {node} {name:<16}{v:>8} kB\n")


def plugged_kb(m, node=None):
    """MemPlugged: virtio-mem blocks online or unmovable, over every device, or the devices of
    node (as virtio_mem_plugged_kb; 0 without the driver)."""
    try:
        devs = m.sym("virtio_mem_devices")
    except CommandError:
        return 0
    blk = {n: v for v, n in enum_names("enum vmem_block_state", "VMEM_BLOCK_").items()}
    kb = 0
    for i in range(array_len(devs)):
        p = int(devs[i]) & U64
        if p:
            vm = m.value(p, "struct virtio_mem")
            if node is not None and int(vm["node"]) != node:
                continue
            nr = int(vm["nr_in_state"][blk["online"]]) + int(vm["nr_in_state"][blk["unmovable"]])
            kb += nr * int(vm["block_size"]) >> 10
    return kb


def section_shift(m):
    nr = int(m.sym("nr_mem_sections"))
    return (m.layout("max_phys") // nr).bit_length() - 1 if nr else 27


def read_sections(m):
    """(section shift, [(nr, mem_section value)] of every non-absent section). Sections live in
    page-sized chunks, section_chunks[] (NULL for a chunk never needed: all absent)."""
    chunks = m.sym("section_chunks")
    nr_total = int(m.sym("nr_mem_sections"))
    typ = gdb.lookup_type("struct mem_section")
    per = (1 << PAGE_SHIFT) // typ.sizeof  # SECTIONS_PER_CHUNK
    states = enum_names("enum section_state", "SECTION_")
    absent = next(v for v, n in states.items() if n == "absent")
    out = []
    for c in range(array_len(chunks)):
        addr = int(chunks[c]) & U64
        if not addr or c * per >= nr_total:
            continue
        data = m.read(addr, per * typ.sizeof)
        for i in range(min(per, nr_total - c * per)):
            v = gdb.Value(data[i * typ.sizeof:(i + 1) * typ.sizeof], typ)
            if int(v["state"]) != absent:
                out.append((c * per + i, v))
    return section_shift(m), out


def section_entry(m, nr):
    """Section nr's struct mem_section value, or None (out of range, or its chunk absent)."""
    typ = gdb.lookup_type("struct mem_section")
    per = (1 << PAGE_SHIFT) // typ.sizeof
    if nr >= int(m.sym("nr_mem_sections")):
        return None
    chunk = int(m.sym("section_chunks")[nr // per]) & U64
    return m.value(chunk + (nr % per) * typ.sizeof, typ) if chunk else None


def memblock_free_pages(m, lo, hi):
    """Pages memblock_for_each_free(lo, hi) visits: RAM minus reservations (memblock.c)."""
    mem = m.sym("mb_memory", "kernel/mm/memblock.c")
    res = m.sym("mb_reserved", "kernel/mm/memblock.c")
    rs = [(int(r["base"]), int(r["base"]) + int(r["size"]))
          for r in (res["r"][i] for i in range(int(res["cnt"])))]
    n, j, page = 0, 0, 1 << PAGE_SHIFT
    for i in range(int(mem["cnt"])):
        base, size = int(mem["r"][i]["base"]), int(mem["r"][i]["size"])
        s = max((base + page - 1) & ~(page - 1), lo)
        e = min((base + size) & ~(page - 1), hi)
        while j > 0 and rs[j - 1][1] > s:
            j -= 1
        while s < e:
            while j < len(rs) and rs[j][1] <= s:
                j += 1
            if j < len(rs) and rs[j][0] <= s:
                s = rs[j][1]
                continue
            stop = min(e, rs[j][0]) if j < len(rs) else e
            n += (stop - s) >> PAGE_SHIFT
            s = stop
    return n


def free_per_section(m, secs, shift, lo, hi):
    """{section nr: free pages on the buddy lists} for [lo, hi), as meminfo.c's
    free_per_section (per-hart caches not included; deferred sections: their free count, as
    deferred_free_pages)."""
    page_t = gdb.lookup_type("struct page")
    lru_off = next(f.bitpos // 8 for f in page_t.fields() if f.name is None or f.name == "lru")
    vmemmap = m.layout("vmemmap_base")
    free = dict.fromkeys(range(lo, hi), 0)
    for _, _, _, z, zone_addr in node_zones(m):
        fa_type = z["free_area"].type.strip_typedefs()
        fa_off = next(f.bitpos // 8 for f in z.type.strip_typedefs().fields()
                      if f.name == "free_area")
        elem = fa_type.target()
        list_off = next(f.bitpos // 8 for f in elem.fields() if f.name == "list")
        for o in range(array_len(z["free_area"])):
            head = zone_addr + fa_off + o * elem.sizeof + list_off
            node, seen = m.u64(head), 0
            while node and node != head and seen < (1 << 24):
                pfn = (node - lru_off - vmemmap) // page_t.sizeof
                nr = pfn >> (shift - PAGE_SHIFT)
                if lo <= nr < hi:
                    free[nr] += 1 << o
                node, seen = m.u64(node), seen + 1
    for nr, v in secs.items():
        flags = int(v["flags"])
        if not (lo <= nr < hi and flags & SECTION_FLAGS["deferred"]):
            continue
        if flags & SECTION_FLAGS["boot"]:
            free[nr] = memblock_free_pages(m, nr << shift, (nr + 1) << shift)
        elif enum_names("enum section_state", "SECTION_").get(int(v["state"])) == "online":
            # hot-plugged, never used: every online page but its own memmap (deferred.c)
            online_map = int(v["online_map"]) & U64
            own = int(v["nr_vmemmap_pages"]) if online_map & 1 else 0
            free[nr] = bin(online_map).count("1") * SUBSECTION_PAGES - own
        else:
            free[nr] = 0
    return free


class Sections(RvmmCommand):
    """Print the console's `sections` table: every present section, its state, zone, free pages.

Usage: rvmm-sections [-a]
Hot-plugged sections get a line each, alike boot sections one line per run (every section with
-a), runs of absent sections one line; RAM hidden by mem= follows. Free pages are counted on the
buddy lists (walked from node_zones[][].free_area), as the console does; with more than one NUMA
node each line ends with the section's node."""

    def __init__(self):
        super().__init__("rvmm-sections")

    def run(self, m, args):
        if args not in ([], ["-a"]):
            raise CommandError("usage: rvmm-sections [-a]")
        every = bool(args)
        shift, found = read_sections(m)
        secs = dict(found)
        total = int(m.sym("nr_mem_sections"))
        counts = m.sym("state_count", "kernel/mm/section.c")
        state_names = m.sym("state_names", "kernel/mm/section.c")
        sname = [m.cstr(int(state_names[i]) & U64) for i in range(array_len(state_names))]
        by = {n: s for s, n in enumerate(sname)}
        znames = zone_names(m)
        w = gdb.write
        w(f"sections of {(1 << shift) >> 20} MiB: {int(counts[by['online']])} online, "
          f"{int(counts[by['present']])} present, {int(counts[by['absent']])} absent\n")
        lo = min(secs) if secs else total
        hi = max(secs) + 1 if secs else lo
        free = free_per_section(m, secs, shift, lo, hi) if hi > lo else {}
        w(f"{'section':>13}  {'physical range':<29}  {'state':<7}  {'zone':<7}  {'free':>9}\n")
        rng = lambda a, b: f"0x{a << shift:012x}-0x{(b + 1) << shift:012x}"
        has_map = any(f.name == "online_map" for f in
                      gdb.lookup_type("struct mem_section").fields())

        def print_run(first, last):
            v = secs[first]
            state, zone, flags = int(v["state"]), int(v["zone"]), int(v["flags"])
            idx = f"{first}" if first == last else f"{first}-{last}"
            zn = znames[zone] if state == by["online"] and zone < len(znames) else "-"
            if flags & SECTION_FLAGS["device"]:
                zn = "Device"
            n = sum(free.get(nr, 0) for nr in range(first, last + 1))
            extra = ((" memmap_on_memory" if flags & SECTION_FLAGS["memmap_on_memory"] else "") +
                     (" deferred" if flags & SECTION_FLAGS["deferred"] else ""))
            line = (f"{idx:>13}  {rng(first, last)}  {sname[state]:<7}  {zn:<7}  {n:>9}  "
                    f"{'boot' if flags & SECTION_FLAGS['boot'] else 'hotplug'}{extra}")
            omap = int(v["online_map"]) & U64 if has_map else U64
            if state == by["online"] and omap != U64:
                line += f" partly online ({bin(omap).count('1')} of 64 x 2 MiB)"
            w(line + node_end(int(v["node"])))

        def print_absent(first, last):
            w(f"{f'{first}-{last}':>13}  {rng(first, last)}  absent   "
              f"({last - first + 1} sections)\n")

        numa = len(online_nodes(m)) > 1
        node_end = lambda n: f"  node {n}\n" if numa else "\n"

        def same_run(a, b):
            return (not every and int(a["flags"]) & SECTION_FLAGS["boot"] and
                    all(int(a[f]) == int(b[f]) for f in ("state", "zone", "flags", "node")) and
                    (not has_map or int(a["online_map"]) == int(b["online_map"])))

        if 0 < lo < total:
            print_absent(0, lo - 1)
        run, gap = lo, total
        for nr in range(lo, hi):
            if nr not in secs:
                if run < nr:
                    print_run(run, nr - 1)
                run = nr + 1
                if gap == total:
                    gap = nr
                continue
            if gap != total:
                print_absent(gap, nr - 1)
                gap = total
            if run < nr and not same_run(secs[run], secs[nr]):
                print_run(run, nr - 1)
                run = nr
        if run < hi:
            print_run(run, hi - 1)
        if hi < total:
            print_absent(hi, total - 1)
        hidden = m.sym("mb_hidden", "kernel/mm/memblock.c")
        for i in range(int(hidden["cnt"])):
            r = hidden["r"][i]
            base, size = int(r["base"]), int(r["size"])
            w(f"0x{base:012x}-0x{base + size:012x}  RAM above mem= (hot-add can add it)"
              + node_end(int(r["nid"])))


# ---- ptdump ----------------------------------------------------------------------------------

def fmt_size(size):
    v, u = size >> 10, 0
    while u < 3 and v >= 1024 and not v & 1023:
        v, u = v >> 10, u + 1
    return f"{v}{'KMGT'[u]}"


def pte_describe(pte):
    """As arch_pte_describe (arch/riscv/mm.c): RWX, G A D, and devmap (RSW bit 9: ZONE_DEVICE)."""
    b = lambda bit, c: c if pte & bit else ""
    return (f"{'R' if pte & 2 else '-'}{'W' if pte & 4 else '-'}{'X' if pte & 8 else '-'} "
            f"{b(0x20, 'G')}{b(0x40, 'A')}{b(0x80, 'D')}{b(0x200, ' devmap')}")


class Ptdump(RvmmCommand):
    """Dump the live kernel page tables as the console's `ptdump` does.

Usage: rvmm-ptdump [START END]
Walks the Sv48/Sv39 tables from satp (swapper_pg_dir when satp is 0), prints a ---[ Region ]---
header per region of mm_layout and one line per run of leaves with the same size and attributes.
START and END take the console's numbers (0x..., K/M/G/T) or GDB expressions."""

    def __init__(self):
        super().__init__("rvmm-ptdump")

    def run(self, m, args):
        start = end = 0
        if len(args) == 2:
            start, end = parse_num(args[0]), parse_num(args[1])
            if start >= end:
                raise CommandError("usage: rvmm-ptdump [START END] (START < END)")
        elif args:
            raise CommandError("usage: rvmm-ptdump [START END]")
        if not start and not end:
            end = U64
        self.m, self.start, self.end = m, start, end
        L = m.layout
        regions = [("Direct map", L("page_offset"), L("directmap_size")),
                   ("vmemmap", L("vmemmap_base"), L("vmemmap_size")),
                   ("I/O", L("io_base"), L("io_size")),
                   ("Kernel image", L("kimage_base"), 2 * SZ_1G)]
        self.regions = sorted(regions, key=lambda r: r[1])
        self.next_header, self.run_ = 0, None
        self.walk(m.root, m.levels - 1, 0)
        self.flush()
        self.headers_upto(3)

    def region_of(self, va):
        for i, (_, base, size) in enumerate(self.regions):
            if (va - base) & U64 < size:
                return i
        return -1

    def headers_upto(self, r):
        while self.next_header <= r:
            name, base, size = self.regions[self.next_header]
            self.next_header += 1
            if (base + size - 1) & U64 >= self.start and base <= (self.end - 1) & U64:
                gdb.write(f"---[ {name} ]---\n")

    def flush(self):
        if not self.run_:
            return
        s, e, level, desc = self.run_
        self.run_ = None
        r = self.region_of(s)
        if r >= 0:
            self.headers_upto(r)
        gdb.write(f"0x{s:016x}-0x{e:016x}  {fmt_size((e - s) & U64):>6}  {LEAF_NAMES[level]}  "
                  f"{desc}\n")

    def leaf(self, va, level, pte):
        end = (va + (1 << (12 + 9 * level))) & U64
        s = max(va, self.start)
        e = self.end if end > self.end or end == 0 else end
        if s >= e:
            return
        desc = pte_describe(pte)
        r = self.run_
        if (r and r[1] == s and r[2] == level and r[3] == desc and
                self.region_of(s) == self.region_of(r[0])):
            r[1] = e
            return
        self.flush()
        self.run_ = [s, e, level, desc]

    def walk(self, table_pa, level, base):
        top = self.m.levels - 1
        bits = 12 + 9 * self.m.levels
        size = 1 << (12 + 9 * level)
        for i, pte in enumerate(self.m.table(table_pa)):
            va = base + i * size
            if level == top and va >> (bits - 1) & 1:
                va |= U64 ^ ((1 << bits) - 1)
            if (va + size - 1) & U64 < self.start or va >= self.end:
                continue
            if not pte & kmem.PTE_V:
                continue
            if pte & (kmem.PTE_R | kmem.PTE_W | kmem.PTE_X):
                self.leaf(va, level, pte)
            elif level > 0:
                self.walk(((pte >> 10) & kmem.PPN_MASK) << 12, level - 1, va)


# ---- page descriptors, buddy -----------------------------------------------------------------

def describe_page(m, pfn):
    page_t = gdb.lookup_type("struct page")
    desc = m.layout("vmemmap_base") + pfn * page_t.sizeof
    pa = pfn << PAGE_SHIFT
    shift = section_shift(m)
    nr = pa >> shift
    gdb.write(f"pfn 0x{pfn:x}  pa 0x{pa:x}  descriptor 0x{desc:x}  section {nr}")
    sec = section_entry(m, nr)
    if sec is None:
        gdb.write(" (absent)\n")
        return
    states = enum_names("enum section_state", "SECTION_")
    flags = int(sec["flags"])
    online = ""
    if any(f.name == "online_map" for f in sec.type.fields()):
        online = f", online_map 0x{int(sec['online_map']) & U64:x}"
    gdb.write(f" ({states.get(int(sec['state']), '?')}{online}"
              f"{', deferred' if flags & SECTION_FLAGS['deferred'] else ''})\n")
    if not flags & SECTION_FLAGS["memmap"]:
        gdb.write("no descriptor: the section's memmap is not populated\n")
        return
    if flags & SECTION_FLAGS["deferred"]:
        gdb.write("descriptor not initialised yet (deferred init pending)\n")
        return
    p = m.value(desc, page_t)
    f = int(p["flags"])
    names = [n for i, n in enumerate(PG_FLAGS) if f & (1 << i)]
    zn = zone_names(m)
    zone = int(p["zone"])
    gdb.write(f"flags 0x{f:x} {'|'.join(names) or '-'}  order {int(p['order'])}  "
              f"zone {zn[zone] if zone < len(zn) else zone}  refcount {int(p['refcount'])}  "
              f"private {int(p['private'])}\n")
    if zone == len(zn) - 1:
        gdb.write(f"device page: pgmap 0x{int(p['owner']) & U64:x}, refcount on its compound "
                  f"head (ZONE_DEVICE: never in an allocator)\n")
    elif f & ((1 << PG_FLAGS.index("buddy")) | (1 << PG_FLAGS.index("pcp"))):
        lru = p["lru"]
        nxt, prev = int(lru["next"]) & U64, int(lru["prev"]) & U64
        gdb.write(f"free: lru next 0x{nxt:x} prev 0x{prev:x}\n")
    elif int(p["refcount"]) > 0:
        owner = int(p["owner"]) & U64
        sym = gdb.current_progspace().block_for_pc(owner) if owner else None
        fn = f" <{sym.function}>" if sym and sym.function else ""
        gdb.write(f"allocated: owner 0x{owner:x}{fn} owner_data 0x{int(p['owner_data']) & U64:x}\n")



class Pfn(RvmmCommand):
    """Decode the page descriptor of one page frame.

Usage: rvmm-pfn PFN
Prints the descriptor's address, its section and state, flags by name, order, zone, refcount,
and the owner of an allocated page or the list links of a free one."""

    def __init__(self):
        super().__init__("rvmm-pfn")

    def run(self, m, args):
        if len(args) != 1:
            raise CommandError("usage: rvmm-pfn PFN")
        describe_page(m, parse_num(args[0]))


class Page(RvmmCommand):
    """Decode the page descriptor of an address.

Usage: rvmm-page ADDR
ADDR may be a descriptor (vmemmap), a direct-map or kernel-image address, or a physical address;
prints what rvmm-pfn prints for its frame."""

    def __init__(self):
        super().__init__("rvmm-page")

    def run(self, m, args):
        if len(args) != 1:
            raise CommandError("usage: rvmm-page ADDR")
        a = parse_num(args[0])
        L = m.layout
        size = gdb.lookup_type("struct page").sizeof
        if 0 <= a - L("vmemmap_base") < L("vmemmap_size"):
            pfn = (a - L("vmemmap_base")) // size
        elif 0 <= a - L("page_offset") < L("directmap_size"):
            pfn = (a - L("page_offset")) >> PAGE_SHIFT
        elif a >= L("kimage_base"):
            pfn = (a - L("kimage_base") + L("kimage_pa")) >> PAGE_SHIFT
        elif a < L("max_phys"):
            pfn = a >> PAGE_SHIFT
        else:
            raise CommandError(f"rvmm: 0x{a:x} is not a descriptor, kernel or physical address")
        describe_page(m, pfn)


class Buddy(RvmmCommand):
    """Print the buddy allocator's free blocks per order and zone.

Usage: rvmm-buddy
One line per zone (per node's zone, "1:Movable", with more than one NUMA node): blocks on the free
list of each order (zone->free_area[].nr), then pages in the per-hart caches (of the harts of its
node) and pages not on any list yet (deferred init), which with the lists make up
zone->nr_free."""

    def __init__(self):
        super().__init__("rvmm-buddy")

    def run(self, m, args):
        if args:
            raise CommandError("usage: rvmm-buddy")
        zs = node_zones(m)
        orders = array_len(zs[0][3]["free_area"])
        pcps = m.sym("pcps", "kernel/mm/page_alloc.c")
        nharts = max(int(m.sym("nr_harts_online")), 1)
        hart_node = m.sym("numa")["hart_node"]
        node_of = lambda h: int(hart_node[h]) if h < array_len(hart_node) else 0
        numa = len(online_nodes(m)) > 1
        gdb.write("zone     " + "".join(f"{o:>7}" for o in range(orders)) +
                  "      lists   per-hart   deferred    nr_free\n")
        for n, zi, name, z, _ in zs:
            nrs = [int(z["free_area"][o]["nr"]) for o in range(orders)]
            lists = sum(k << o for o, k in enumerate(nrs))
            cached = sum(int(pcps[h][zi]["count"]) for h in range(nharts) if node_of(h) == n)
            name = f"{n}:{name}" if numa else name
            free = int(z["nr_free"])
            gdb.write(f"{name:<9}" + "".join(f"{n:>7}" for n in nrs) +
                      f" {lists:>10} {cached:>10} {free - lists - cached:>10} {free:>10}\n")
        gdb.write("(blocks per order; pages in the last four columns)\n")


# ---- dmesg -----------------------------------------------------------------------------------

class Dmesg(RvmmCommand):
    """Print the kernel log ring buffer (log_buf, log_head), as the console's `dmesg`.

Usage: rvmm-dmesg [BYTES]
With BYTES, only the last BYTES of the log, starting at a whole line."""

    def __init__(self):
        super().__init__("rvmm-dmesg")

    def run(self, m, args):
        if len(args) > 1:
            raise CommandError("usage: rvmm-dmesg [BYTES]")
        want = parse_num(args[0]) if args else 0
        addr, typ = sym_addr("log_buf")
        size = typ.sizeof
        head = int(m.sym("log_head"))
        avail = min(head, size)
        if not want or want > avail:
            want = avail
        ring = m.read(addr, size)
        start = head - want
        while start < head and start > head - avail and ring[(start - 1) % size] != ord("\n"):
            start += 1  # start at a line boundary, as dmesg_print does
        text = bytes(ring[i % size] for i in range(start, head))
        gdb.write(text.decode("utf-8", "replace"))


for _cmd in (Meminfo, Sections, Ptdump, Pfn, Page, Buddy, Dmesg):
    _cmd()
