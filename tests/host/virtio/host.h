/* SPDX-License-Identifier: MIT */
/*
 * Host harness for the virtio and PCI tests: stand-ins for what drivers/virtio and drivers/pci
 * take from the kernel (printk, ioremap and MMIO, pages, time, locks, interrupts), and the hooks
 * of the shared case runner (tests/host/common/runner.h). Each case runs in a forked child, so
 * driver state (static tables) starts fresh and a crash fails that case only. Output:
 * "PASS: virtio/<case>" or "FAIL: virtio/<case>: reason".
 * RVMM_TEST_VERBOSE=1 echoes kernel messages to stderr; RVMM_TEST_NOFORK=1 runs in-process.
 *
 * Interface: host_mmio_add, host_irq_raise, host_log_*, host_pages_in_use, struct host_case,
 * host_test_main, CHECK/CHECK_EQ/CHECK_RC.
 */
#ifndef RVMM_TESTS_HOST_VIRTIO_HOST_H
#define RVMM_TESTS_HOST_VIRTIO_HOST_H

#include <rvmm/types.h>

#include "../common/runner.h"

/* A simulated device register file: accesses at offset off (size 1/2/4/8 bytes). */
struct host_mmio_ops {
	uint64_t (*read)(void *ctx, uint64_t off, unsigned size);
	void (*write)(void *ctx, uint64_t off, uint64_t val, unsigned size);
};

/*
 * Make [pa, pa + size) a device: ioremap() of it returns an address whose accesses go to ops
 * with ctx. Returns that address too (for tests poking registers directly).
 */
void *host_mmio_add(phys_addr_t pa, uint64_t size, const struct host_mmio_ops *ops, void *ctx);

/*
 * The one interrupt controller of the host tests: irq_request() takes specifiers <line> of it.
 * host_irq_raise runs the handler installed for line irq; false if there is none.
 */
#define HOST_IRQ_PARENT 1
bool host_irq_raise(uint32_t irq);

/* Kernel messages since the last clear. */
void host_log_clear(void);
bool host_log_contains(const char *s);
const char *host_log(void);

/* Pages handed out by get_free_pages and not yet freed (leak checks). */
long host_pages_in_use(void);

/* The case table entry of the shared runner (tests/host/common/runner.h). */
#define host_case runner_case

__printf(3, 4) void host_fail(const char *file, int line, const char *fmt, ...);

#define CHECK(cond)                                                      \
	do {                                                             \
		if (!(cond)) {                                           \
			host_fail(__FILE__, __LINE__, "%s", #cond);      \
			return 1;                                        \
		}                                                        \
	} while (0)

#define CHECK_EQ(a, b)                                                                    \
	do {                                                                              \
		long long __a = (long long)(a), __b = (long long)(b);                     \
		if (__a != __b) {                                                         \
			host_fail(__FILE__, __LINE__, "%s == %s (%lld != %lld)", #a, #b, __a, \
				  __b);                                                   \
			return 1;                                                         \
		}                                                                         \
	} while (0)

#define CHECK_RC(expr) CHECK_EQ((expr), 0)

/* Run the cases (all, or the one named in argv[1]); exit status non-zero if any failed. */
int host_test_main(const char *suite, const struct host_case *cases, size_t n, int argc,
		   char **argv);

#endif
