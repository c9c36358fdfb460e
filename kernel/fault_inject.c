// SPDX-License-Identifier: MIT
//
// Fault injection: the armed failure point number, and the countdown of the operation in hand
// (include/rvmm/fault_inject.h).
//
// Interface: fault_inject_set, fault_inject_get, fault_inject_begin, fault_inject_end,
// should_fail.

#include <rvmm/arch_cpu.h>
#include <rvmm/fault_inject.h>
#include <rvmm/printk.h>

// armed: set by fault_inject_set, cleared when it fires. countdown/hart: the operation in hand
// (written by the hart running it, between begin and end; other harts only read them, racily,
// and find a hart that is not theirs).
static unsigned long armed, countdown;
static unsigned hart;

void fault_inject_set(unsigned long nth) { WRITE_ONCE(armed, nth); }
unsigned long fault_inject_get(void) { return READ_ONCE(armed); }

void fault_inject_begin(void)
{
	hart = arch_hart_index();
	WRITE_ONCE(countdown, READ_ONCE(armed));
}

void fault_inject_end(void) { WRITE_ONCE(countdown, 0); }

bool should_fail(const char *what)
{
	if (!READ_ONCE(countdown) || arch_hart_index() != hart || --countdown)
		return false;
	WRITE_ONCE(armed, 0);
	pr_warn("%s: failed on purpose (fault injection)", what);
	return true;
}
