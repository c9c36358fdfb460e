# SPDX-License-Identifier: MIT
"""virtio-mem under QEMU (the patched QEMU of tools/qemu), over both transports: virtio-mem-pci and
virtio-mem-mmio (a virtio-mmio slot, modern register layout). The host resizes the device over QMP
(qom-set vm0 requested-size), the driver follows from its idle-hart worker, and after each step
the device's plugged `size` (QMP) equals the guest's MemPlugged.

Resizes: blocks of 2 MiB (sub-blocks of a 128 MiB section) and of 256 MiB (a block spans two
sections); `memtest` after each step checks that plugged memory works. `stress start` keeps
checksummed movable buffers in memory on harts 1-3 through all the resizes (migrated out of every
block that is unplugged): each step stops it (`stress: ok`, every byte verified), runs memtest and
mmcheck, and starts it again; the final unplug to 0 completes (plugged memory is movable).

Boot, reset, selftest: memory requested before boot is plugged at probe; QMP query-memory-devices
lists the device; `vmem selftest` passes every rule it can run under stress beside the driver's
memory (UNPLUG_ALL skipped: the driver uses plugged memory), and every rule with the driver at 0;
the device's size and MemPlugged are as before it; a system_reset unplugs everything and the
rebooted guest plugs the request again.

Without interrupts (virtio-mmio whose S-level APLIC the device tree names with a compatible rvmm
has no driver for; virtio-pci with pci_msi=off pci_intx=off) the driver polls the device's
interrupt status and follows every resize.

Skipped (reported as SKIP with the reason) only when the patched QEMU is not built (make qemu).
"""
import os
import re
import subprocess

from guest import ROOT
from vmem_guest import GiB, MiB, VmemGuest, require_patched_qemu


def stress_stop(g):
    out = g.cmd("stress stop", timeout=240)
    m = re.search(r"stress: ok: \d+ s on 3 harts: (\d+) operations, (\d+) migrations, "
                  r"(\d+) MiB verified", out)
    assert m, out
    return int(m.group(2))


def resize_sequence(block, sizes, bus):
    require_patched_qemu()
    with VmemGuest(block=block, bus=bus) as v:
        g = v.g
        out = g.cmd("vmem")
        want_kib = {"2M": 2048, "256M": 262144}[block]
        assert f"block {want_kib} KiB" in out, out
        assert ("virtio-mmio@" if bus == "mmio" else "virtio-pci") in out, out
        migrations = 0
        for size in sizes:
            assert "stress: started on 3 harts" in g.cmd("stress start")
            v.resize(size)
            assert v.plugged_kb() == v.size() >> 10
            migrations += stress_stop(g)
            assert v.plugged_kb() == v.size() >> 10 == size >> 10
            if size:
                out = g.cmd(f"memtest {min(size, 256 * MiB) >> 20}M", timeout=120)
                assert "memtest: ok" in out, out
            out = g.cmd("mmcheck", timeout=120)
            assert "mmcheck: ok" in out, out
        assert sizes[-1] == 0 and v.size() == 0 and v.plugged_kb() == 0
        out = g.cmd("vmem")
        assert "broken" not in out, out
        print(f"note: {bus}, {block} blocks: {migrations} blocks migrated under stress")


def selftest(g, summary):
    out = g.cmd("vmem selftest", timeout=300)
    assert "FAIL" not in out and summary in out, out
    return out


def boot_reset_selftest(bus):
    require_patched_qemu()
    with VmemGuest(block="2M", bus=bus, requested=512 * MiB) as v:
        g = v.g
        # Plugged at boot: the request made before boot is followed at probe.
        v.resize(512 * MiB)
        dev = v.memory_device()
        assert dev["id"] == "vm0" and dev["size"] == 512 * MiB, dev
        assert dev["requested-size"] == 512 * MiB and dev["block-size"] == 2 * MiB, dev
        # Beside data: the driver keeps 504 MiB with stress buffers in it, the device is asked
        # for more (a resize the driver sees announced but does not follow: auto off).
        assert "stress: started on 3 harts" in g.cmd("stress start")
        g.cmd("vmem auto off")
        assert "target 504 MiB" in g.cmd("vmem unplug 8M", timeout=120)
        v.q.cmd("qom-set", path="vm0", property="requested-size", value=1 * GiB)
        selftest(g, "vmem selftest: 15 passed, 0 failed, 1 skipped")
        stress_stop(g)
        assert v.size() == 504 * MiB and v.plugged_kb() == 504 * 1024
        assert "target 1024 MiB" in g.cmd("vmem auto on", timeout=120)
        assert v.size() == 1 * GiB and v.plugged_kb() == 1024 * 1024
        # Reset: QEMU unplugs everything; the rebooted guest plugs the request again.
        v.reset()
        v.resize(1 * GiB)
        # Every rule: the driver at 0 while the host asks for 64 MiB.
        v.resize(0)
        g.cmd("vmem auto off")
        v.q.cmd("qom-set", path="vm0", property="requested-size", value=64 * MiB)
        out = selftest(g, "vmem selftest: 16 passed, 0 failed, 0 skipped")
        assert v.size() == 0 and v.plugged_kb() == 0
        print(f"note: {bus}: vmem selftest\n{out.strip()}")


def test_resize_2m_blocks_pci():
    resize_sequence("2M", [0, 1 * GiB, 4 * GiB, 512 * MiB, 0], "pci")


def test_resize_2m_blocks_mmio():
    resize_sequence("2M", [0, 1 * GiB, 4 * GiB, 512 * MiB, 0], "mmio")


def test_resize_big_blocks_pci():
    resize_sequence("256M", [0, 1 * GiB, 4 * GiB, 512 * MiB, 0], "pci")


def test_resize_big_blocks_mmio():
    resize_sequence("256M", [0, 1 * GiB, 4 * GiB, 512 * MiB, 0], "mmio")


def test_boot_reset_selftest_pci():
    boot_reset_selftest("pci")


def test_boot_reset_selftest_mmio():
    boot_reset_selftest("mmio")


def no_driver_for_s_aplic(v, extra, path):
    """The device tree of v's machine with the S-level APLIC renamed to a controller rvmm has no
    driver for (OpenSBI keeps its M-level one): every wired device is left without interrupt."""
    env = dict(v.g.env, QEMU_EXTRA=f"{extra} -machine dumpdtb={path}.orig")
    subprocess.run([os.path.join(ROOT, "run-qemu.sh")], env=env, cwd=ROOT, check=True,
                   stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    dts = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", f"{path}.orig"], check=True,
                         capture_output=True, text=True).stdout
    dts, n = re.subn(r'(interrupt-controller@d000000 \{[^}]*?compatible = )"[^;]*;',
                     r'\1"rvmm-test,no-driver";', dts)
    assert n == 1, dts
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", path], input=dts, check=True,
                   capture_output=True, text=True)
    v.g.env["DTB"] = path


def polled(bus, aia, args=""):
    require_patched_qemu()
    extra = f"-machine aia={aia}"
    v = VmemGuest(block="2M", bus=bus, smp=2, mem="2G", extra=extra, args=args)
    if not args:
        no_driver_for_s_aplic(v, extra, os.path.join(ROOT, "build", f"no-aplic-{os.getpid()}.dtb"))
    with v:
        assert "drivers must poll" in v.g.out, v.g.tail()
        for size in (1 * GiB, 2 * GiB, 0, 512 * MiB):
            v.resize(size)
        assert "broken" not in v.g.cmd("vmem")


def test_polled_without_interrupt_mmio():
    """virtio-mmio whose interrupt controller has no driver."""
    polled("mmio", "aplic")


def test_polled_without_interrupt_pci():
    """virtio-pci with neither MSI-X nor INTx (pci_msi=off pci_intx=off)."""
    polled("pci", "aplic-imsic", "pci_msi=off pci_intx=off")
