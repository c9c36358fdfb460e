# SPDX-License-Identifier: MIT
"""The machines users run besides the tests' own: the seed's console (a PCI serial port holding
QEMU's keyboard focus), transitional virtio-pci devices, and one PLIC per socket with every
device interrupt taken by its own controller."""
import re

from guest import Guest

# The seed's console: stdio muxed between the ns16550, the monitor and a pci-serial; QEMU gives
# the keyboard to the last front end attached, the pci-serial.
SEED_MUX = ("-serial chardev:char0 -mon chardev=char0,mode=readline "
            "-chardev stdio,mux=on,id=char0 -device pci-serial,id=serial0,chardev=char0")

# Two sockets need two NUMA nodes on QEMU virt (a socket there is a node's harts).
TWO_SOCKETS = ("-object memory-backend-ram,id=m0,size=512M -object memory-backend-ram,id=m1,size=512M "
               "-numa node,nodeid=0,memdev=m0,cpus=0-1 -numa node,nodeid=1,memdev=m1,cpus=2-3")


def irq_counts(out):
    """`irqs` output as {controller: {line: count}}."""
    res, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"^(\S+)", line)
        if m and not line.startswith(" "):
            cur = res.setdefault(m.group(1), {})
            continue
        m = re.match(r"^\s+line (\d+)\s+(\d+) interrupts", line)
        if m and cur is not None:
            cur[int(m.group(1))] = int(m.group(2))
    return res


def lspci_line(out, ids):
    m = re.search(rf"^(\S+) {ids} .*$", out, re.M)
    assert m, f"no {ids} in lspci:\n{out}"
    return m.group(0)


def test_pci_serial_console_with_focus():
    with Guest(smp=2, extra=SEED_MUX).start(timeout=120) as g:
        m = re.search(r"pci-serial (\S+): console port at I/O 0x[0-9a-f]+ \(interrupt-driven receive\)",
                      g.out)
        assert m, "pci-serial not probed as an interrupt-driven console port:\n" + g.tail()
        # Typed input reaches the shell only through the pci-serial (it holds the focus).
        out = g.cmd("version")
        assert "rvmm" in out, out
        line = lspci_line(g.cmd("lspci"), "1b36:0002")
        assert "driver serial-pci" in line, line
        irq = re.search(r"irq (\S+) (\d+) \(INTA\)", line)
        assert irq, line
        counts = irq_counts(g.cmd("irqs"))
        assert counts.get(irq.group(1), {}).get(int(irq.group(2)), 0) > 0, \
            f"no interrupt from the pci-serial's line: {counts}"
        assert counts.get(irq.group(1), {}).get(10, 0) == 0, \
            f"the ns16550 received input it never had focus for: {counts}"
        # Output follows the port that spoke: each answer appears once, not once per port.
        out = g.cmd("help")
        assert len(re.findall(r"^\s+version\b", out, re.M)) == 1, out


def test_virtio_rng_pci_transitional():
    with Guest(extra="-device virtio-rng-pci").start(timeout=120) as g:
        assert "legacy" not in g.out, g.tail()
        line = lspci_line(g.cmd("lspci"), "1af4:1005")
        assert "driver virtio-pci" in line, line
        out = g.cmd("rng 16")
        assert re.search(r"^[0-9a-f]{32}$", out, re.M), out
        out = g.cmd("virtio")
        assert re.search(r"entropy|rng", out), out


def test_sockets_two_plics():
    with Guest(mem="1G", smp="4,sockets=2",
               extra=f"{TWO_SOCKETS} {SEED_MUX} -device virtio-rng-pci").start(timeout=120) as g:
        plics = re.findall(r"plic: (\S+) at 0x[0-9a-f]+, \d+ sources, (\d+) harts", g.out)
        assert len(plics) == 2 and all(n == "2" for _, n in plics), \
            f"want two PLICs of 2 harts each: {plics}\n" + g.tail()
        assert "smp: 4 harts online" in g.out, g.tail()
        # QEMU wires PCIe (and virtio-mmio) to the second socket's PLIC, the UART to the first:
        # the pci-serial's input interrupts a hart of socket 1, which wakes the shell's hart.
        out = g.cmd("lspci")
        for ids in ("1af4:1005", "1b36:0002"):
            line = lspci_line(out, ids)
            assert f"irq {plics[1][0]} " in line, line
        for _ in range(3):
            assert re.search(r"^[0-9a-f]{16}$", g.cmd("rng 8"), re.M)
        counts = irq_counts(g.cmd("irqs"))
        second = counts.get(plics[1][0], {})
        assert len(second) == 2 and all(c > 0 for c in second.values()), \
            f"a device on the second PLIC never interrupted: {counts}"
