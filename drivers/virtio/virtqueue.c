// SPDX-License-Identifier: MIT
/*
 * Split virtqueues (virtio 1.2, 2.7): the driver side of the descriptor table, available ring and
 * used ring. Buffers go out as descriptor chains; the device hands them back through the used
 * ring, and everything it writes there is checked before it is believed: a device returning an
 * id that is not in flight, a length larger than the chain, or a used index that runs ahead gets
 * the queue marked broken and an error, never a wild pointer.
 *
 * The free list lives in a private copy of the next links (vq->next), not in the shared
 * descriptor table, so a device scribbling over descriptors cannot corrupt it.
 *
 * One block of 2^order pages holds: descriptors | avail | used | slots | next links | the struct.
 *
 * Interface: vq_create, vq_destroy, virtqueue_add, virtqueue_kick, virtqueue_get_used,
 * virtqueue_wait_used, virtqueue_num_free, virtqueue_detach_unused.
 */
#include <rvmm/arch_cpu.h>
#include <rvmm/errno.h>
#include <rvmm/mm.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>
#include <rvmm/virtio.h>
#include <string.h>

#define VQ_NO_NEXT 0xffff

/* Byte offsets of the parts of a queue's block, for num descriptors. */
struct vq_layout {
	size_t avail, used, slot, next, vq, total;
};

static void vq_layout(unsigned num, struct vq_layout *l)
{
	l->avail = vring_desc_size(num);
	l->used = ALIGN_UP(l->avail + vring_avail_size(num), 4);
	l->slot = ALIGN_UP(l->used + vring_used_size(num), 8);
	l->next = l->slot + num * sizeof(struct vq_slot);
	l->vq = ALIGN_UP(l->next + num * sizeof(uint16_t), 16);
	l->total = l->vq + sizeof(struct virtqueue);
}

static uint16_t *vq_next(struct virtqueue *vq)
{
	struct vq_layout l;

	vq_layout(vq->num, &l);
	return (uint16_t *)((char *)vq->desc + l.next);
}

/* The device's view of a driver buffer; false if it is not direct-map memory. */
static bool vq_dma_addr(const void *va, uint32_t len, uint64_t *dma)
{
	uintptr_t v = (uintptr_t)va;

	if (v < mm_layout.page_offset || v - mm_layout.page_offset > mm_layout.directmap_size ||
	    len > mm_layout.directmap_size - (v - mm_layout.page_offset))
		return false;
	*dma = __pa(va);
	return true;
}

int vq_create(struct virtio_device *vdev, unsigned index, uint16_t num, const char *name,
	      void (*callback)(struct virtqueue *vq), struct virtqueue **out)
{
	struct vq_layout l;
	unsigned order = 0;

	if (num == 0 || num > VRING_MAX_NUM || (num & (num - 1)))
		return -EINVAL;
	vq_layout(num, &l);
	while ((PAGE_SIZE << order) < l.total)
		order++;
	if (order > MAX_ORDER)
		return -ENOMEM;
	char *block = get_free_pages(order, GFP_KERNEL | GFP_ZERO);
	if (!block)
		return -ENOMEM;

	struct virtqueue *vq = (struct virtqueue *)(block + l.vq);
	*vq = (struct virtqueue){
		.vdev = vdev,
		.index = index,
		.name = name,
		.callback = callback,
		.num = num,
		.desc = (struct vring_desc *)block,
		.avail = (struct vring_avail *)(block + l.avail),
		.used = (struct vring_used *)(block + l.used),
		.order = order,
		.lock = SPINLOCK_INIT("virtqueue", LOCK_CLASS_VIRTQUEUE),
		.num_free = num,
		.slot = (struct vq_slot *)(block + l.slot),
	};
	vq->desc_pa = __pa(vq->desc);
	vq->avail_pa = __pa(vq->avail);
	vq->used_pa = __pa(vq->used);
	uint16_t *next = vq_next(vq);
	for (unsigned i = 0; i < num; i++)
		next[i] = i + 1 < num ? i + 1 : VQ_NO_NEXT;
	*out = vq;
	return 0;
}

void vq_destroy(struct virtqueue *vq)
{
	free_pages_va(vq->desc, vq->order);
}

int virtqueue_add(struct virtqueue *vq, const struct virtio_sg *sg, unsigned nr_out,
		  unsigned nr_in, void *token)
{
	unsigned nr = nr_out + nr_in;
	uint64_t dma[VIRTQUEUE_MAX_SG];
	uint64_t in_len = 0;

	if (!token || nr == 0 || nr > vq->num || nr > VIRTQUEUE_MAX_SG)
		return -EINVAL;
	for (unsigned i = 0; i < nr; i++) {
		if (sg[i].len == 0)
			return -EINVAL;
		if (!vq_dma_addr(sg[i].addr, sg[i].len, &dma[i]))
			return -EFAULT;
		if (i >= nr_out)
			in_len += sg[i].len;
	}

	unsigned long flags = spin_lock_irqsave(&vq->lock);
	if (vq->broken || vq->vdev->broken) {
		spin_unlock_irqrestore(&vq->lock, flags);
		return -EIO;
	}
	if (nr > vq->num_free) {
		spin_unlock_irqrestore(&vq->lock, flags);
		return -ENOSPC;
	}
	uint16_t *next = vq_next(vq);
	uint16_t head = vq->free_head, d = head, last = head;
	for (unsigned i = 0; i < nr; i++) {
		last = d;
		vq->desc[d].addr = dma[i];
		vq->desc[d].len = sg[i].len;
		vq->desc[d].flags = (i >= nr_out ? VRING_DESC_F_WRITE : 0) |
				    (i + 1 < nr ? VRING_DESC_F_NEXT : 0);
		vq->desc[d].next = i + 1 < nr ? next[d] : 0;
		d = next[d];
	}
	next[last] = VQ_NO_NEXT;
	vq->free_head = d;
	vq->num_free -= nr;
	vq->inflight++;
	vq->slot[head] = (struct vq_slot){
		.token = token,
		.ndescs = nr,
		.in_len = in_len > UINT32_MAX ? UINT32_MAX : (uint32_t)in_len,
	};

	vq->avail->ring[vq->avail_idx & (vq->num - 1)] = head;
	/* The entry before the index that makes it visible (2.7.13). */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	vq->avail_idx++;
	WRITE_ONCE(vq->avail->idx, vq->avail_idx);
	vq->added++;
	spin_unlock_irqrestore(&vq->lock, flags);
	return 0;
}

void virtqueue_kick(struct virtqueue *vq)
{
	unsigned long flags = spin_lock_irqsave(&vq->lock);
	bool notify = vq->added && !vq->broken;

	vq->added = 0;
	/* avail->idx must be visible before we read the device's flag (2.7.13.4). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (READ_ONCE(vq->used->flags) & VRING_USED_F_NO_NOTIFY)
		notify = false;
	spin_unlock_irqrestore(&vq->lock, flags);
	if (notify)
		vq->vdev->ops->notify(vq);
}

/* Mark vq broken with one message; caller holds vq->lock. */
static int vq_break(struct virtqueue *vq, const char *what, unsigned long a, unsigned long b)
{
	if (!vq->broken)
		pr_err("%s: queue %u (%s): device returned %s (%lu, limit %lu): queue broken",
		       vq->vdev->name, vq->index, vq->name, what, a, b);
	vq->broken = true;
	return -EIO;
}

/* Put the chain at head back on the free list; caller holds vq->lock. */
static void vq_free_chain(struct virtqueue *vq, uint16_t head)
{
	uint16_t *next = vq_next(vq);
	uint16_t d = head;

	/* The links are ours (vq->next): the chain has exactly ndescs entries ending in NO_NEXT. */
	for (unsigned i = 1; i < vq->slot[head].ndescs; i++)
		d = next[d];
	next[d] = vq->free_head;
	vq->free_head = head;
	vq->num_free += vq->slot[head].ndescs;
	vq->inflight--;
	vq->slot[head] = (struct vq_slot){ 0 };
}

int virtqueue_get_used(struct virtqueue *vq, void **token, uint32_t *len)
{
	unsigned long flags = spin_lock_irqsave(&vq->lock);
	int rc = -EAGAIN;

	if (vq->broken) {
		rc = -EIO;
		goto out;
	}
	uint16_t used_idx = READ_ONCE(vq->used->idx);
	if (used_idx == vq->last_used)
		goto out;
	uint16_t pending = used_idx - vq->last_used;
	if (pending > vq->inflight) {
		/* Fewer chains are out than the device claims to have returned. */
		rc = vq_break(vq, "a used index running ahead", pending, vq->inflight);
		goto out;
	}
	/* Read the entry only after the index that published it. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	struct vring_used_elem e = {
		.id = READ_ONCE(vq->used->ring[vq->last_used & (vq->num - 1)].id),
		.len = READ_ONCE(vq->used->ring[vq->last_used & (vq->num - 1)].len),
	};
	if (e.id >= vq->num || !vq->slot[e.id].token) {
		rc = vq_break(vq, "an id that is not in flight", e.id, vq->num);
		goto out;
	}
	if (e.len > vq->slot[e.id].in_len) {
		rc = vq_break(vq, "a length beyond the buffers", e.len, vq->slot[e.id].in_len);
		goto out;
	}
	*token = vq->slot[e.id].token;
	*len = e.len;
	vq_free_chain(vq, e.id);
	vq->last_used++;
	rc = 0;
out:
	spin_unlock_irqrestore(&vq->lock, flags);
	return rc;
}

int virtqueue_wait_used(struct virtqueue *vq, uint64_t timeout_ms, void **token, uint32_t *len)
{
	uint64_t deadline = arch_time_ns() + timeout_ms * 1000000;

	for (;;) {
		int rc = virtqueue_get_used(vq, token, len);
		if (rc != -EAGAIN)
			return rc;
		if (arch_time_ns() > deadline)
			return -ETIMEDOUT;
		arch_cpu_relax();
	}
}

unsigned virtqueue_num_free(struct virtqueue *vq)
{
	return READ_ONCE(vq->num_free);
}

void *virtqueue_detach_unused(struct virtqueue *vq)
{
	unsigned long flags = spin_lock_irqsave(&vq->lock);
	void *token = NULL;

	for (unsigned i = 0; i < vq->num && !token; i++) {
		if (vq->slot[i].token) {
			token = vq->slot[i].token;
			vq_free_chain(vq, i);
		}
	}
	spin_unlock_irqrestore(&vq->lock, flags);
	return token;
}
