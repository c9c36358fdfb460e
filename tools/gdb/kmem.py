# SPDX-License-Identifier: MIT
"""Kernel memory as seen from a halted guest, wherever its hart stopped (tools/gdb/rvmm.py).

QEMU's gdbstub reads memory through the selected hart's current translation. That is right only
when the hart runs the kernel in S-mode with paging on; in OpenSBI (M-mode), before satp is
written, or on a hart parked by SBI HSM (satp 0), a kernel virtual address means nothing to it.
Then Kmem walks the Sv48/Sv39 tables itself and reads physical memory, with the stub switched to
physical accesses (QEMU's `Qqemu.PhyMemMode:1`; M-mode and bare mode are physical anyway).

The root table is satp's when satp has a mode, else swapper_pg_dir's: its PA is
VA - KIMAGE_VA + kimage PA, and the kimage PA (mm_layout.kimage_pa, itself in the image) is
bootstrapped at QEMU virt's load address 0x80200000 and accepted only if it names itself there;
failing that, another hart's satp is used.

Types, field offsets and symbol addresses come from DWARF (gdb.lookup_type, `&sym`, which read no
memory); values are built from bytes read here, so no read ever goes through GDB's own
translation outside S-mode.

Interface: Kmem() (one per command; use as a context manager), Kmem.read/u64/value/cstr/sym,
Kmem.read_phys, Kmem.translate, Kmem.levels, Kmem.root, Kmem.mode; sym_addr, CommandError.
"""
import struct

import gdb

KIMAGE_VA = 0xFFFFFFFF80000000
KIMAGE_PA_QEMU_VIRT = 0x80200000  # where OpenSBI puts the image on QEMU virt
PAGE_SIZE = 4096
SATP_MODE_BARE, SATP_MODE_SV39, SATP_MODE_SV48 = 0, 8, 9
PRV_S, PRV_M = 1, 3
PTE_V, PTE_R, PTE_W, PTE_X = 1, 2, 4, 8
PPN_MASK = (1 << 44) - 1
U64 = (1 << 64) - 1


class CommandError(gdb.GdbError):
    pass


def sym_addr(name, file=None):
    """(address, type) of a kernel variable from DWARF, without reading memory. A static is looked
    up in file first (its name may exist in several files), then anywhere."""
    exprs = ([f"&'{file}'::{name}"] if file else []) + [f"&{name}"]
    for expr in exprs:
        try:
            v = gdb.parse_and_eval(expr)
        except gdb.error:
            continue
        return int(v) & U64, v.type.target()
    raise CommandError(f"rvmm: no symbol {name!r} in the kernel's debug info (renamed or removed?)")


def reg(name):
    try:
        v = gdb.parse_and_eval("$" + name)
    except gdb.error:
        return None
    if v.type.code == gdb.TYPE_CODE_VOID:
        return None
    return int(v) & U64


class Kmem:
    """A consistent view of kernel memory for one command."""

    def __init__(self):
        self.inf = gdb.selected_inferior()
        self.priv = reg("priv")
        satp = reg("satp") or 0
        satp_mode = satp >> 60
        # GDB's own reads are right only in S-mode with the kernel's paging on.
        self.paging = satp_mode in (SATP_MODE_SV39, SATP_MODE_SV48) and self.priv in (None, PRV_S)
        self.phys_mode = False
        self._tables = {}  # table PA -> 512 entries (translation cache, this command only)
        self._layout = None
        if not self.paging:
            self._set_phys_mode(True)
        if satp_mode in (SATP_MODE_SV39, SATP_MODE_SV48):
            self.root = (satp & PPN_MASK) << 12
            self.satp_mode = satp_mode
            self.source = "satp"
        else:
            try:
                self.root, self.satp_mode = self._bootstrap_root()
            except BaseException:
                self.close()  # the stub must not stay in physical mode
                raise
            self.source = "swapper_pg_dir"
        self.levels = 4 if self.satp_mode == SATP_MODE_SV48 else 3
        where = {PRV_M: "M-mode (OpenSBI)", PRV_S: "S-mode", 0: "U-mode", None: "?"}
        self.mode = (f"{where.get(self.priv, '?')}, "
                     f"{'paging on' if self.paging else 'tables walked from ' + self.source}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.phys_mode:
            self._set_phys_mode(False)

    def _set_phys_mode(self, on):
        try:
            out = gdb.execute(f"maintenance packet Qqemu.PhyMemMode:{int(on)}", to_string=True)
        except gdb.error:
            return
        if '"OK"' in out:
            self.phys_mode = on
            gdb.execute("maintenance flush dcache", to_string=True)

    # ---- root table -------------------------------------------------------------------------

    def _image_u64(self, name, kimage_pa, file=None):
        addr, _ = sym_addr(name, file)
        return self.u64_phys(addr - KIMAGE_VA + kimage_pa)

    def _bootstrap_root(self):
        """Root PA and satp mode when this hart's satp has none (M-mode before boot, parked)."""
        pg_dir, _ = sym_addr("swapper_pg_dir")
        layout, ltype = sym_addr("mm_layout")
        off = _field_offset(ltype, "kimage_pa")
        pa = KIMAGE_PA_QEMU_VIRT
        try:
            ok = self.u64_phys(layout + off - KIMAGE_VA + pa) == pa
        except gdb.MemoryError:
            ok = False
        if ok:
            mode = self._image_u64("early_vm_satp_mode", pa)
            return pg_dir - KIMAGE_VA + pa, mode
        # Another hart may run the kernel: its satp names the root.
        for satp in _other_harts_satp():
            if satp >> 60 in (SATP_MODE_SV39, SATP_MODE_SV48):
                return (satp & PPN_MASK) << 12, satp >> 60
        raise CommandError("rvmm: satp is 0 here, the image does not name itself at 0x80200000 "
                           "and no hart has paging on: the kernel has not set up paging yet")

    # ---- physical and virtual reads ---------------------------------------------------------

    def read_phys(self, pa, size):
        if self.paging:  # through the direct map, which covers every RAM address
            return bytes(self.inf.read_memory(self.layout("page_offset") + pa, size))
        return bytes(self.inf.read_memory(pa, size))

    def u64_phys(self, pa):
        return struct.unpack("<Q", self.read_phys(pa, 8))[0]

    def table(self, pa):
        t = self._tables.get(pa)
        if t is None:
            t = struct.unpack("<512Q", self.read_phys(pa, PAGE_SIZE))
            self._tables[pa] = t
        return t

    def translate(self, va):
        """PA of kernel VA va by walking the tables (None if unmapped), and the leaf's level."""
        va &= U64
        bits = 12 + 9 * self.levels
        top = va >> (bits - 1)
        if top not in (0, (1 << (65 - bits)) - 1):  # not sign-extended: never mapped
            return None, None
        pa = self.root
        for level in range(self.levels - 1, -1, -1):
            pte = self.table(pa)[(va >> (12 + 9 * level)) & 511]
            if not pte & PTE_V:
                return None, None
            pa = ((pte >> 10) & PPN_MASK) << 12
            if pte & (PTE_R | PTE_W | PTE_X):
                return pa + (va & ((1 << (12 + 9 * level)) - 1)), level
        return None, None

    def read(self, va, size):
        """size bytes at kernel VA va (gdb.MemoryError if part of it is unmapped)."""
        va &= U64
        if self.paging:
            return bytes(self.inf.read_memory(va, size))
        out = bytearray()
        while size:
            n = min(size, PAGE_SIZE - (va & (PAGE_SIZE - 1)))
            pa, _ = self.translate(va)
            if pa is None:
                raise gdb.MemoryError(f"rvmm: kernel address 0x{va:x} is not mapped")
            out += self.read_phys(pa, n)
            va, size = va + n, size - n
        return bytes(out)

    def u64(self, va):
        return struct.unpack("<Q", self.read(va, 8))[0]

    def value(self, va, typ):
        """A gdb.Value of type typ (a gdb.Type or a type name) built from the bytes at va."""
        if isinstance(typ, str):
            typ = gdb.lookup_type(typ)
        return gdb.Value(self.read(va, typ.sizeof), typ)

    def sym(self, name, file=None):
        """The value of a kernel variable."""
        addr, typ = sym_addr(name, file)
        return self.value(addr, typ)

    def cstr(self, va, limit=128):
        if not va:
            return "(null)"
        try:
            s = self.read(va, limit)
        except gdb.MemoryError:
            return f"<0x{va:x}?>"
        return s.split(b"\0", 1)[0].decode("utf-8", "replace")

    def layout(self, field):
        """A field of mm_layout (read once per command)."""
        if self._layout is None:
            addr, typ = sym_addr("mm_layout")
            if self.paging:
                self._layout = gdb.Value(bytes(self.inf.read_memory(addr, typ.sizeof)), typ)
            else:
                self._layout = self.value(addr, typ)
        return int(self._layout[field]) & U64


def _field_offset(typ, name):
    for f in typ.strip_typedefs().fields():
        if f.name == name:
            return f.bitpos // 8
    raise CommandError(f"rvmm: {typ} has no field {name!r}")


def _other_harts_satp():
    cur = gdb.selected_thread()
    try:
        for th in gdb.selected_inferior().threads():
            th.switch()
            yield reg("satp") or 0
    finally:
        cur.switch()
