/* SPDX-License-Identifier: MIT */
/*
 * Character pictures of physical memory (`sections --map`, `vmem map`): one character per unit
 * (a section, a virtio-mem block), CHARMAP_WIDTH to a line, each line starting with the physical
 * address of its first unit, under a ruler of offsets. A run of identical lines prints once,
 * followed by one line saying how many more there are, so a 1 TiB picture stays a screenful:
 *
 *                   0       1G      2G      3G      4G      5G      6G      7G
 *   0x000000000000                  NNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNN
 *   0x000200000000  NNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNN
 *                   ... 126 more lines like this one, up to 0x010000000000
 *   0x010000000000  NNNNNNNNNNNNNNNN
 *
 * Interface: struct charmap, charmap_start, charmap_put, charmap_finish, charmap_size.
 */
#ifndef RVMM_CHARMAP_H
#define RVMM_CHARMAP_H

#include <rvmm/printk.h>
#include <rvmm/types.h>
#include <stdio.h>
#include <string.h>

#define CHARMAP_WIDTH 64

struct charmap {
	uint64_t unit;                    /* bytes one character stands for */
	phys_addr_t addr;                 /* address of the line being filled */
	unsigned len;                     /* characters in it so far */
	char line[CHARMAP_WIDTH + 1];
	char prev[CHARMAP_WIDTH + 1];     /* the last line printed */
	phys_addr_t prev_addr;
	unsigned repeats;                 /* lines equal to prev since it was printed */
	unsigned lines;                   /* lines printed (ruler and fold lines included) */
};

/* "128M", "1G", "512K": the largest binary suffix that divides b (b == 0: "0"). */
static inline void charmap_size(char *buf, unsigned len, uint64_t b)
{
	static const char sfx[] = "KMGTP";
	int i = -1;
	while (b && !(b & 1023) && i < 4) {
		b >>= 10;
		i++;
	}
	if (i < 0 || !b)
		snprintf(buf, len, "%llu", (unsigned long long)b);
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)b, sfx[i]);
}

/*
 * Start a picture whose first line begins at `start` (units of `unit` bytes), and print the
 * ruler: the offset within a line every 8 characters.
 */
static inline void charmap_start(struct charmap *m, phys_addr_t start, uint64_t unit)
{
	char ruler[CHARMAP_WIDTH + 8] = "";
	unsigned n = 0;
	*m = (struct charmap){ .unit = unit, .addr = start };
	for (unsigned i = 0; i < CHARMAP_WIDTH && n < sizeof(ruler); i += 8) {
		char s[24];
		charmap_size(s, sizeof(s), i * unit);
		n += (unsigned)snprintf(ruler + n, sizeof(ruler) - n,
					i + 8 < CHARMAP_WIDTH ? "%-8s" : "%s", s);
	}
	kprintf("%16s%s\n", "", ruler);
	m->lines = 1;
}

static inline void charmap_fold(struct charmap *m)
{
	uint64_t line_bytes = m->unit * CHARMAP_WIDTH;
	if (m->repeats == 1) {
		kprintf("0x%012llx  %s\n", (unsigned long long)(m->prev_addr + line_bytes),
			m->prev);
		m->lines++;
	} else if (m->repeats > 1) {
		kprintf("%16s... %u more lines like this one, up to 0x%012llx\n", "", m->repeats,
			(unsigned long long)(m->prev_addr + (m->repeats + 1ULL) * line_bytes));
		m->lines++;
	}
	m->repeats = 0;
}

static inline void charmap_flush(struct charmap *m)
{
	m->line[m->len] = 0;
	if (m->lines > 1 && !strcmp(m->line, m->prev) &&
	    m->addr == m->prev_addr + (m->repeats + 1ULL) * m->unit * CHARMAP_WIDTH) {
		m->repeats++;
	} else {
		charmap_fold(m);
		kprintf("0x%012llx  %s\n", (unsigned long long)m->addr, m->line);
		m->lines++;
		memcpy(m->prev, m->line, sizeof(m->prev));
		m->prev_addr = m->addr;
	}
	m->addr += m->unit * CHARMAP_WIDTH;
	m->len = 0;
}

/* Add the next unit's character. */
static inline void charmap_put(struct charmap *m, char c)
{
	m->line[m->len++] = c;
	if (m->len == CHARMAP_WIDTH)
		charmap_flush(m);
}

/* Print what is left (a last, shorter line, a pending fold). Returns the lines printed. */
static inline unsigned charmap_finish(struct charmap *m)
{
	if (m->len)
		charmap_flush(m);
	charmap_fold(m);
	return m->lines;
}

#endif
