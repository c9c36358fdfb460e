/* SPDX-License-Identifier: MIT */
/*
 * Memory model shared by all of kernel/mm/: the virtual layout (direct map, vmemmap), page
 * descriptors, zones and sections. See docs/memory-map.md for the picture.
 *
 * The layout is chosen at boot from the paging mode (Sv48 normally, Sv39 if the hart lacks it) and
 * kept in mm_layout; on the host it points into the simulation's reservations.
 */
#ifndef RVMM_MM_H
#define RVMM_MM_H

#include <rvmm/list.h>
#include <rvmm/types.h>

struct mm_layout {
	uintptr_t page_offset;   /* direct map: VA = PA + page_offset */
	uint64_t directmap_size; /* = max_phys: every physical address that may hold RAM */
	uintptr_t vmemmap_base;  /* struct page array indexed by pfn */
	uint64_t vmemmap_size;
	uintptr_t io_base;       /* device MMIO mappings (ioremap) */
	uint64_t io_size;
	uintptr_t kimage_base;   /* kernel image, linked here */
	phys_addr_t kimage_pa;   /* where it was loaded */
	phys_addr_t max_phys;    /* sections and the direct map cover [0, max_phys) */
};
extern struct mm_layout mm_layout;

static inline void *__va(phys_addr_t pa) { return (void *)(uintptr_t)(pa + mm_layout.page_offset); }
static inline phys_addr_t __pa(const void *va) { return (uintptr_t)va - mm_layout.page_offset; }
static inline void *pfn_to_kaddr(pfn_t pfn) { return __va(PFN_PHYS(pfn)); }

/* ---- Page descriptors ---------------------------------------------------------------------- */

/*
 * The zones with a buddy allocator come first (NR_ZONES of them on each NUMA node: node_zones[][]
 * in page_alloc.h). ZONE_DEVICE is only a descriptor's zone: device memory (pmem,
 * kernel/mm/memremap.c) has descriptors in the vmemmap but its pages never enter an allocator.
 */
enum zone_type { ZONE_NORMAL, ZONE_MOVABLE, NR_ZONES, ZONE_DEVICE = NR_ZONES };

/*
 * Page flags. A page is in exactly one of: reserved (never managed by the allocator: firmware,
 * kernel image, boot allocations, memmap_on_memory descriptors), free (PG_buddy set on the head of
 * a free block), allocated (refcount > 0), or offline (section not online).
 */
#define PG_reserved (1u << 0)
#define PG_buddy (1u << 1)     /* head of a free block of order page->order */
#define PG_movable (1u << 2)   /* allocated, and its owner lets migration move it */
#define PG_isolated (1u << 3)  /* in a range being offlined: not to be handed out again */
#define PG_pgtable (1u << 4)   /* a kernel page-table page */
#define PG_offline (1u << 5)   /* in a present section that is not online */
#define PG_vmemmap (1u << 6)   /* holds descriptors (memmap_on_memory) */
#define PG_head (1u << 7)      /* first page of an allocated block of order > 0 */
#define PG_pcp (1u << 8)       /* in a per-hart cache: free, but not in a buddy list */
#define PG_handle (1u << 9)    /* allocated through a struct movable: owner is that handle */

/*
 * One per 4 KiB frame: 32 bytes (Linux's is 64). A free page is linked through lru (buddy list or
 * per-hart cache); an allocated one never is, so the same bytes hold its owner: for a movable
 * allocation the handle migration updates (see migrate.h); for a ZONE_DEVICE page its
 * struct dev_pagemap (memremap.h).
 */
struct page {
	uint32_t flags;
	uint8_t order;      /* block order, valid on the head page */
	uint8_t zone;       /* enum zone_type (the node is its section's: page_to_nid) */
	uint16_t _unused;
	int32_t refcount;   /* 0 when free */
	uint32_t private;   /* page-table page: entries in use */
	union {
		struct list_head lru; /* free */
		struct {              /* allocated */
			void *owner;
			uint64_t owner_data;
		};
	};
};
_Static_assert(sizeof(struct page) <= 32, "struct page must stay within 32 bytes");

/*
 * Flag updates are atomic: isolation sets PG_isolated on pages another hart may be moving in or
 * out of its per-hart cache at the same moment.
 */
static inline void page_flags_set(struct page *p, uint32_t f) { __atomic_fetch_or(&p->flags, f, __ATOMIC_RELAXED); }
static inline void page_flags_clear(struct page *p, uint32_t f) { __atomic_fetch_and(&p->flags, ~f, __ATOMIC_RELAXED); }
static inline uint32_t page_flags(const struct page *p) { return __atomic_load_n(&p->flags, __ATOMIC_RELAXED); }

static inline struct page *pfn_to_page(pfn_t pfn) { return (struct page *)mm_layout.vmemmap_base + pfn; }
static inline pfn_t page_to_pfn(const struct page *p) { return p - (struct page *)mm_layout.vmemmap_base; }
static inline phys_addr_t page_to_phys(const struct page *p) { return PFN_PHYS(page_to_pfn(p)); }
static inline void *page_address(const struct page *p) { return __va(page_to_phys(p)); }
static inline struct page *virt_to_page(const void *va) { return pfn_to_page(PFN_DOWN(__pa(va))); }

/* ---- Sections ------------------------------------------------------------------------------- */

#define SECTION_SHIFT 27 /* 128 MiB, as Linux on RISC-V */
#define SECTION_SIZE (1UL << SECTION_SHIFT)
#define PAGES_PER_SECTION (SECTION_SIZE >> PAGE_SHIFT)
#define pfn_to_section_nr(pfn) ((pfn) >> (SECTION_SHIFT - PAGE_SHIFT))
#define section_nr_to_pfn(nr) ((pfn_t)(nr) << (SECTION_SHIFT - PAGE_SHIFT))

/* ---- Boot ------------------------------------------------------------------------------------ */

struct platform;

/* What the arch tells mm_init(). All physical ranges are [start, end) in bytes. */
struct mm_boot {
	const struct platform *plat; /* RAM and reserved ranges, NUMA nodes, from the device tree */
	int boot_node;               /* NUMA node of the boot hart (hart index 0) */
	uint64_t mem_limit;          /* mem=: bytes of RAM to use from the bottom; 0 = all */
	phys_addr_t kernel_start, kernel_end; /* loaded image incl. bss, stacks, early tables */
	phys_addr_t dtb_start, dtb_end;
	/* Part of RAM the arch already direct-mapped (VA = PA + page_offset, read/write). */
	phys_addr_t early_start, early_end;
};

/*
 * Set up memory management on the boot hart, before other harts run: memblock from the platform,
 * the sections, the kernel page tables of the direct map and vmemmap, the page allocator (with
 * deferred descriptor init). Needs mm_layout filled and arch_kpt_root() live with the image and
 * the early window mapped. Returns 0, or a negative errno after printing "mm: ..." (the kernel
 * cannot go on then).
 */
int mm_init(const struct mm_boot *boot);

/* ---- Figures (meminfo) ------------------------------------------------------------------------ */

struct meminfo {
	uint64_t total_kb;               /* managed pages of all zones, incl. deferred */
	uint64_t free_kb;
	uint64_t free_zone_kb[NR_ZONES];
	uint64_t pagetables_kb;
	uint64_t memmap_kb;              /* populated vmemmap (but the DAX layout's shared tails) */
	uint64_t dev_memmap_kb;          /* behind ZONE_DEVICE descriptors, either layout */
	unsigned desc_size;              /* sizeof(struct page) */
	const char *paging_mode;
	unsigned long deferred_pending;  /* sections */
	uint64_t plugged_kb;             /* MemPlugged: virtio-mem memory plugged and online */
};

/*
 * MemPlugged of node nid (NUMA_NO_NODE: all nodes): set by the virtio-mem driver at probe
 * (drivers/virtio/virtio_mem_cmd.c); NULL (0 kB) when there is none. Called with hotplug_lock
 * held for reading; must not take it.
 */
extern uint64_t (*meminfo_plugged_kb)(int nid);

/* Fill *mi. Takes hotplug_lock for reading. */
void mm_meminfo(struct meminfo *mi);
/* Print it, /proc/meminfo style, through kprintf. */
void mm_print_meminfo(void);
/*
 * Node nid's figures as Linux's /sys/devices/system/node/nodeN/meminfo ("Node 1 MemTotal: ...
 * kB"): total, free, used, free per zone, MemPlugged. Takes hotplug_lock for reading. Returns 0,
 * or -EINVAL (after a message) if there is no such node.
 */
int mm_print_node_meminfo(int nid);

/*
 * Print the sections table (the `sections` command): index, physical range, state, zone, free
 * pages on the buddy lists; hot-plugged sections one line each, alike boot sections folded into
 * one line per run unless all; absent runs one line. Takes hotplug_lock for reading.
 */
void mm_print_sections(bool all);

#endif
