# SPDX-License-Identifier: MIT
"""AIA interrupt delivery under QEMU (the patched QEMU of tools/qemu, for virtio-mem-pci):

- aia=aplic: the S-level APLIC in direct delivery mode (OpenSBI delegates the sources from the
  M-level domain); the UART, and virtio-mem's INTx through the PCI interrupt-map, reach it.
- aia=aplic-imsic: the S-level APLIC in MSI delivery mode into the harts' IMSIC files, and
  virtio-pci on MSI-X (a configuration vector and one per queue).

In both, the host resizes virtio-mem over QMP while `stress` runs on the other harts, and each
resize must arrive as a configuration interrupt (the `virtio` command's counts), not by polling.
Also: the same with pci_msi=off (INTx on an IMSIC machine); MSI-X tables of 1 and 0 entries and
the layout by table size; virtio-pmem (no MSI-X) on INTx in both AIA modes; virtio-mmio and the
UART on every controller; two sockets (one APLIC/IMSIC group each); and the seed's command line
(tools/qemu/seed-line.sh, or the shared copy ../shared/tools/seed-qemu-line beside the clone when
it is there, with rvmm as the kernel).

Skipped (reported as SKIP with the reason) only when the patched QEMU is not built (make qemu).
"""
import os
import re
import subprocess
import time

from guest import ROOT, Guest
from vmem_guest import GiB, MiB, VmemGuest, patched_qemu, require_patched_qemu

# The seed's line as the shared tools run it when they sit beside the clone; else our own copy.
SHARED_SEED_LINE = os.path.join(os.path.dirname(ROOT), "shared", "tools", "seed-qemu-line")
SEED_LINE = (SHARED_SEED_LINE if os.path.exists(SHARED_SEED_LINE)
             else os.path.join(ROOT, "tools", "qemu", "seed-line.sh"))


def vmem_irqs(g):
    """(config, queue) interrupt counts of the virtio-mem device, from the `virtio` command."""
    out = g.cmd("virtio")
    m = re.search(r"id 24 memory .* irqs config (\d+) queues (\d+)", out)
    assert m, out
    return int(m.group(1)), int(m.group(2))


def no_polling_left(out):
    for bad in ("drivers must poll", "no device interrupts", "(polled receive)",
                "parent is not the PLIC"):
        assert bad not in out, f"{bad!r} in the boot log:\n{out}"


def resize_under_stress(extra, expect, args="", smp=4):
    with VmemGuest(block="2M", smp=smp, extra=extra, args=args) as v:
        g = v.g
        boot = g.out
        for pattern in expect:
            assert re.search(pattern, boot), f"{pattern!r} not in the boot log:\n{boot}"
        no_polling_left(boot)
        assert "interrupt-driven receive" in boot, boot
        config0, _ = vmem_irqs(g)
        assert f"stress: started on {smp - 1} harts" in g.cmd("stress start")
        steps = [1 * GiB, 2 * GiB, 512 * MiB, 0]
        for size in steps:
            v.resize(size)
            assert v.plugged_kb() == v.size() >> 10 == size >> 10
        out = g.cmd("stress stop", timeout=240)
        assert re.search(r"stress: ok: \d+ s on \d+ harts", out), out
        config1, queues = vmem_irqs(g)
        # One announcement per request at least (QEMU may send more while it plugs).
        assert config1 - config0 >= len(steps), (config0, config1)
        assert queues > 0, queues
        out = g.cmd("mmcheck", timeout=120)
        assert "mmcheck: ok" in out, out
        return g.cmd("lspci")


def test_aplic_direct_vmem_resize_under_stress():
    require_patched_qemu()
    lspci = resize_under_stress("-machine aia=aplic",
                                [r"aplic: \S+ at 0xd000000, 96 sources, direct delivery"])
    assert re.search(r"1af4:1058 .* irq \S+ \d+ \d+ \(INTA\)", lspci), lspci


def test_aplic_imsic_msix_vmem_resize_under_stress():
    require_patched_qemu()
    lspci = resize_under_stress("-machine aia=aplic-imsic",
                                [r"imsic: \S+: 4 S-level files",
                                 r"aplic: \S+ at 0xd000000, 96 sources, MSI delivery",
                                 r"virtio-pci \S+: MSI-X, 2 vectors \(configuration, one per "
                                 r"queue\)"])
    assert re.search(r"1af4:1058 .* msi-x 2 of 2 vectors", lspci), lspci


def test_aplic_imsic_intx_when_msi_off():
    """pci_msi=off on an IMSIC machine: virtio-pci on INTx, through the APLIC in MSI mode."""
    require_patched_qemu()
    lspci = resize_under_stress("-machine aia=aplic-imsic", [r"MSI delivery"],
                                args="pci_msi=off", smp=2)
    assert re.search(r"1af4:1058 .* irq \S+ \d+ \d+ \(INTA\)", lspci), lspci
    assert "msi-x" not in lspci, lspci


def test_msix_table_too_small_or_absent():
    """A device with one MSI-X entry shares it between configuration and queue (the ISR says
    which); a device with none (vectors=0: no MSI-X capability) uses INTx through the APLIC."""
    require_patched_qemu()
    for vectors, want in ((1, r"MSI-X, 1 vector \(shared by everything\)"), (0, None)):
        extra = f"-machine aia=aplic-imsic -global virtio-mem-pci.vectors={vectors}"
        with VmemGuest(block="2M", smp=2, extra=extra) as v:
            boot = v.g.out
            no_polling_left(boot)
            if want:
                assert re.search(want, boot), boot
            else:
                assert "MSI-X" not in boot, boot
            for size in (1 * GiB, 0):
                v.resize(size)
            config, queues = vmem_irqs(v.g)
            assert config >= 2 and queues > 0, (vectors, config, queues)
            lspci = v.g.cmd("lspci")
            assert re.search(r"1af4:1058 .* (msi-x 1 of 1 vectors|irq \S+ \d+ \d+ \(INTA\))",
                             lspci), lspci


def test_msix_layout_follows_table_size():
    """virtio-net-pci (3 queues, no driver here: the transport still sets up its vectors): with
    the default table, configuration + one vector per queue; with vectors=2, configuration + one
    for all queues."""
    net = "-device virtio-net-pci,netdev=n{0},disable-legacy=on,romfile={1} -netdev user,id=n{0}"
    extra = " ".join(["-machine aia=aplic-imsic", net.format(0, ",vectors=2"), net.format(1, "")])
    with Guest(smp=2, extra=extra).start(timeout=120) as g:
        out = g.cmd("lspci")
    assert re.search(r"virtio-pci 00:01.0: MSI-X, 2 vectors \(configuration, all queues\)",
                     g.out), g.out
    assert re.search(r"virtio-pci 00:02.0: MSI-X, 4 vectors \(configuration, one per queue\)",
                     g.out), g.out
    assert re.search(r"00:01.0 1af4:1041 .* msi-x 2 of 2 vectors", out), out
    assert re.search(r"00:02.0 1af4:1041 .* msi-x 4 of 4 vectors", out), out


def test_pmem_without_msix_each_aia_mode():
    """virtio-pmem-pci has no MSI-X: on an IMSIC machine too it takes INTx through the APLIC,
    and a flush completes through its queue interrupt."""
    require_patched_qemu()
    img = os.path.join(ROOT, "build", f"aia-pmem-{os.getpid()}.img")
    try:
        for machine in ("aia=aplic", "aia=aplic-imsic"):
            env = {"PMEM": f"{img}:256M", "QEMU_PATCHED": patched_qemu()}
            with Guest(smp=2, extra=f"-machine {machine}", env=env).start(timeout=120) as g:
                no_polling_left(g.out)
                lspci = g.cmd("lspci")
                assert re.search(r"1af4:105b .* irq \S+ \d+ \d+ \(INTA\)", lspci), lspci
                out = g.cmd("pmem flush")
                assert re.search(r"pmem0: flush ok", out), out
                out = g.cmd("virtio")
                m = re.search(r"id 27 pmem .* irqs config \d+ queues (\d+)", out)
                assert m and int(m.group(1)) > 0, (machine, out)
    finally:
        if os.path.exists(img):
            os.unlink(img)


def test_virtio_mmio_and_uart_each_mode():
    """Wired devices on every controller: virtio-rng over virtio-mmio and the UART's input, on
    the PLIC, the APLIC in direct mode and the APLIC in MSI mode."""
    for extra in ("", "-machine aia=aplic", "-machine aia=aplic-imsic"):
        with Guest(smp=2, extra=extra + " -device virtio-rng-device").start(timeout=120) as g:
            no_polling_left(g.out)
            assert "interrupt-driven receive" in g.out, g.out
            out = g.cmd("rng 8")
            assert re.search(r"^[0-9a-f]{16}$", out, re.M), out
            out = g.cmd("virtio")
            m = re.search(r"virtio-mmio\S* +id  4 entropy .* irqs config \d+ queues (\d+)", out)
            assert m and int(m.group(1)) > 0, (extra, out)


def two_socket_args(machine):
    return (f"-machine {machine} -object memory-backend-ram,id=m0,size=512M "
            "-object memory-backend-ram,id=m1,size=512M "
            "-numa node,memdev=m0,cpus=0-1,nodeid=0 -numa node,memdev=m1,cpus=2-3,nodeid=1")


def test_two_sockets_each_aia_mode():
    """-numa with harts split: one APLIC domain (and IMSIC group) per socket, devices routed to
    the one the DT names, every hart set up, virtio-mem interrupts arriving."""
    require_patched_qemu()
    for machine, want in (("aia=aplic", "direct"), ("aia=aplic-imsic", "MSI")):
        extra = two_socket_args(machine)
        with VmemGuest(block="2M", smp=4, mem="1G", extra=extra) as v:
            g = v.g
            boot = g.out
            domains = re.findall(rf"aplic: \S+ at (0x[0-9a-f]+), 96 sources, {want}", boot)
            assert sorted(domains) == ["0xd000000", "0xd008000"], boot
            if want == "MSI":
                assert re.search(r"imsic: \S+: 4 S-level files \(1 bits hart index, 1 bits "
                                 r"group at 24\)", boot), boot
            no_polling_left(boot)
            assert "smp: 4 harts online" in boot, boot
            config0, _ = vmem_irqs(g)
            v.resize(1 * GiB)
            v.resize(0)
            config1, _ = vmem_irqs(g)
            assert config1 - config0 >= 2, (config0, config1)


def test_seed_command_line():
    """The seed's line as written (aplic-imsic, 8 harts, pci-serial holding the console's
    focus, transitional virtio-rng-pci, 16G with a -numa node, 2 GiB virtio-mem): every device
    gets an interrupt (virtio-pci MSI-X, the serial ports through the APLIC), a command typed on
    the focused port is answered, and virtio-mem follows a QMP resize."""
    require_patched_qemu()
    sock = os.path.join(ROOT, "build", f"qmp-seed-{os.getpid()}.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    proc = subprocess.Popen([SEED_LINE, "-qmp", f"unix:{sock},server=on,wait=off"], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, bufsize=0)
    g = Guest()
    g.proc = proc
    g.started = time.monotonic()
    q = None
    try:
        g.expect(r"boot: [\d.]+ ms", 300)
        g.expect("rvmm> ", 30)
        boot = g.out
        assert re.search(r"aplic: \S+ at 0xd000000, 96 sources, MSI delivery", boot), boot
        assert re.search(r"imsic: \S+: 8 S-level files", boot), boot
        assert len(re.findall(r"virtio-pci \S+: MSI-X, 2 vectors", boot)) == 2, boot
        assert re.search(r"pci-serial \S+: console port .*\(interrupt-driven receive\)", boot), boot
        no_polling_left(boot)
        # Typed into the focused front end (the PCI serial port): rng answers through MSI-X.
        out = g.cmd("rng 8")
        assert re.search(r"^[0-9a-f]{16}$", out, re.M), out
        out = g.cmd("virtio")
        m = re.search(r"id  4 entropy .* irqs config \d+ queues (\d+)", out)
        assert m and int(m.group(1)) > 0, out
        import sys
        sys.path.insert(0, os.path.join(ROOT, "tools", "qemu"))
        from qmp import QMP
        q = QMP(sock)
        q.cmd("qom-set", path="vm0", property="requested-size", value=1 * GiB)
        t0 = time.monotonic()
        while q.cmd("qom-get", path="vm0", property="size") != 1 * GiB:
            assert time.monotonic() - t0 < 120, g.tail()
            time.sleep(0.05)
        g.expect(r"plugged and 1024 MiB online", 120)
        config, _ = vmem_irqs(g)
        assert config >= 1, config
    finally:
        if q:
            q.close()
        proc.kill()
        proc.wait(timeout=30)
