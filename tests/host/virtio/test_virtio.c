// SPDX-License-Identifier: MIT
//
// Host tests of the virtio core, split virtqueues, the virtio-mmio transport and virtio-rng,
// against the simulated device of vsim.c: negotiation (success, no VERSION_1, FEATURES_OK
// refused), queue round trips with index wrap-around, a device returning nonsense (bad ids,
// lengths, indexes) or nothing at all (timeouts), config generation, interrupts, clean-up.
// Every failing operation also checks that nothing changed (no pages leaked, queue state intact).

#include <string.h>

#include <rvmm/errno.h>
#include <rvmm/page_alloc.h>
#include <rvmm/virtio.h>

#include "host.h"
#include "vsim.h"

#define TEST_ID 30 /* a device id no real driver claims: the test driver's */
#define PA 0x10001000UL
#define IRQ 8

/* ---- a test driver: one queue, knobs set by the cases ---- */

static uint64_t test_features;
static int test_probe_rc;
static unsigned test_config_changes, test_vq_callbacks, test_removes;
static struct virtqueue *test_vq;

static void test_vq_done(struct virtqueue *vq __unused) { test_vq_callbacks++; }

static int test_probe(struct virtio_device *vdev)
{
	int rc = virtio_find_vq(vdev, 0, "testq", test_vq_done, &test_vq);
	if (rc)
		return rc;
	return test_probe_rc;
}

static void test_remove(struct virtio_device *vdev __unused) { test_removes++; }
static void test_config_changed(struct virtio_device *vdev __unused) { test_config_changes++; }

static const struct virtio_driver test_driver = {
	.name = "test",
	.device_id = TEST_ID,
	.probe = test_probe,
	.remove = test_remove,
	.config_changed = test_config_changed,
};

/* The driver table the core binds from (the kernel's is drivers/virtio/virtio_drivers.c). */
extern const struct virtio_driver virtio_rng_driver;
static struct virtio_driver test_driver_rw; /* test_driver with the case's features */
const struct virtio_driver *const virtio_drivers[] = { &virtio_rng_driver, &test_driver_rw };
const size_t virtio_nr_drivers = 2;

static struct vsim *test_device(uint32_t num_max)
{
	test_driver_rw = test_driver;
	test_driver_rw.features = test_features;
	struct vsim *s = vsim_create(PA, IRQ, TEST_ID);
	s->q[0].num_max = num_max;
	return s;
}

/* ---- device behaviours ---- */

/* Echo: copy the readable bytes into the writable ones, answer with what fit. */
static void dev_echo(struct vsim *s, unsigned q)
{
	struct vsim_chain c;
	while (vsim_pop(s, q, &c)) {
		uint8_t data[4096];
		uint32_t n = 0, w = 0;
		for (unsigned i = 0; i < c.nr; i++)
			if (!c.seg[i].write && n + c.seg[i].len <= sizeof(data)) {
				memcpy(data + n, c.seg[i].addr, c.seg[i].len);
				n += c.seg[i].len;
			}
		for (unsigned i = 0; i < c.nr && w < n; i++)
			if (c.seg[i].write) {
				uint32_t k = MIN(c.seg[i].len, n - w);
				memcpy(c.seg[i].addr, data + w, k);
				w += k;
			}
		vsim_push(s, q, c.head, w);
	}
}

/* Entropy: fill with 0, 1, 2, ... (continuing across requests), at most 7 bytes a time. */
static void dev_rng(struct vsim *s, unsigned q)
{
	static uint8_t next;
	struct vsim_chain c;
	while (vsim_pop(s, q, &c)) {
		uint32_t n = MIN(c.seg[0].len, 7u);
		for (uint32_t i = 0; i < n; i++)
			((uint8_t *)c.seg[0].addr)[i] = next++;
		vsim_push(s, q, c.head, n);
	}
}

static uint32_t bad_id, bad_len;
static uint16_t bad_idx_step;

static void dev_bad_id(struct vsim *s, unsigned q)
{
	struct vsim_chain c;
	while (vsim_pop(s, q, &c))
		vsim_push(s, q, bad_id, 0);
}

static void dev_bad_len(struct vsim *s, unsigned q)
{
	struct vsim_chain c;
	while (vsim_pop(s, q, &c))
		vsim_push(s, q, c.head, bad_len);
}

static void dev_bad_idx(struct vsim *s, unsigned q)
{
	struct vsim_chain c;
	while (vsim_pop(s, q, &c)) {
		vsim_push(s, q, c.head, 0);
		struct vring_used *used = (struct vring_used *)(uintptr_t)s->q[q].used;
		used->idx += bad_idx_step;
	}
}

/* ---- negotiation ---- */

static int negotiate_ok(void)
{
	struct vsim *s = test_device(16);
	struct virtio_device *vdev;

	test_features = 1ULL << 1 | 1ULL << 3;
	test_driver_rw.features = test_features;
	s->features = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << 1 | 1ULL << 2 | 1ULL << VIRTIO_F_EVENT_IDX;
	CHECK_RC(virtio_mmio_probe(&s->slot, &vdev));
	CHECK(vdev && vdev->driver == &test_driver_rw);
	/* Only what both sides know: bit 1 and VERSION_1. */
	CHECK_EQ(s->driver_features, 1ULL << VIRTIO_F_VERSION_1 | 1ULL << 1);
	CHECK_EQ(vdev->features, s->driver_features);
	CHECK(virtio_has_feature(vdev, 1) && !virtio_has_feature(vdev, 2));
	/* reset, ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK, in that order. */
	CHECK_EQ(s->status_writes, 5);
	CHECK_EQ(s->status_log[0], 0);
	CHECK_EQ(s->status_log[1], 1);
	CHECK_EQ(s->status_log[2], 3);
	CHECK_EQ(s->status_log[3], 11);
	CHECK_EQ(s->status_log[4], 15);
	CHECK(s->q[0].ready);
	CHECK_EQ(s->q[0].num, 16);
	CHECK(log_has("bound to test"));
	return 0;
}

static int negotiate_no_version1(void)
{
	struct vsim *s = test_device(16);
	struct virtio_device *vdev;
	long pages = host_pages_in_use();

	s->features = 1ULL << 1; /* a legacy-only device */
	CHECK_EQ(virtio_mmio_probe(&s->slot, &vdev), -ENOTSUP);
	CHECK(vdev && !vdev->driver);
	CHECK(s->status & VIRTIO_STATUS_FAILED);
	CHECK(!(s->status & VIRTIO_STATUS_FEATURES_OK));
	CHECK(!s->q[0].ready);
	CHECK_EQ(host_pages_in_use(), pages);
	CHECK(log_has("VIRTIO_F_VERSION_1"));
	return 0;
}

static int negotiate_features_refused(void)
{
	struct vsim *s = test_device(16);
	struct virtio_device *vdev;
	long pages = host_pages_in_use();

	s->refuse_features_ok = true;
	CHECK_EQ(virtio_mmio_probe(&s->slot, &vdev), -EIO);
	CHECK(!vdev->driver && !vdev->ready);
	CHECK(s->status & VIRTIO_STATUS_FAILED);
	CHECK(!(s->status & VIRTIO_STATUS_DRIVER_OK));
	CHECK(!s->q[0].ready);
	CHECK_EQ(host_pages_in_use(), pages);
	CHECK(log_has("refused features"));
	return 0;
}

static int reset_timeout(void)
{
	struct vsim *s = test_device(16);
	struct virtio_device *vdev;

	s->reset_stuck = true;
	CHECK_EQ(virtio_mmio_probe(&s->slot, &vdev), -ETIMEDOUT);
	CHECK(vdev->broken && !vdev->driver);
	CHECK(log_has("reset did not complete"));
	return 0;
}

static int mmio_bad_slots(void)
{
	struct virtio_device *vdev;
	struct vsim *legacy = vsim_create(0x10001000, 1, VIRTIO_ID_RNG);
	struct vsim *empty = vsim_create(0x10002000, 2, 0);
	struct vsim *junk = vsim_create(0x10003000, 3, VIRTIO_ID_RNG);

	legacy->version = 1;
	junk->magic = 0x12345678;
	log_clear();
	CHECK_EQ(virtio_mmio_probe(&empty->slot, &vdev), -ENODEV);
	CHECK(!vdev);
	CHECK_EQ(strlen(log_text()), 0); /* an empty slot is not worth a message */
	CHECK_EQ(virtio_mmio_probe(&legacy->slot, &vdev), -ENODEV);
	CHECK(!vdev && log_has("legacy register layout (version 1)"));
	CHECK_EQ(virtio_mmio_probe(&junk->slot, &vdev), -ENODEV);
	CHECK(!vdev && log_has("bad magic"));
	CHECK_EQ(legacy->status_writes + empty->status_writes + junk->status_writes, 0);
	return 0;
}

static int probe_failure_cleans_up(void)
{
	struct vsim *s = test_device(16);
	struct virtio_device *vdev;
	long pages = host_pages_in_use();

	test_probe_rc = -EINVAL;
	CHECK_EQ(virtio_mmio_probe(&s->slot, &vdev), -EINVAL);
	CHECK(!vdev->driver && !vdev->vqs[0]);
	CHECK_EQ(host_pages_in_use(), pages); /* the queue the probe made is gone */
	CHECK(s->status & VIRTIO_STATUS_FAILED);
	CHECK(!s->q[0].ready);                /* reset before the rings were freed */
	CHECK(log_has("probe failed (EINVAL)"));
	return 0;
}

/* A device whose configuration is shorter than its driver reads is refused before the probe. */
static int short_config_refused(void)
{
	struct vsim *s = test_device(16);
	struct virtio_device *vdev;

	test_probe_rc = 0;
	test_driver_rw.config_len = 0x2000; /* more than any transport's configuration window */
	CHECK_EQ(virtio_mmio_probe(&s->slot, &vdev), -EINVAL);
	CHECK(!vdev->driver && !vdev->vqs[0]); /* the probe never ran: it would have made a queue */
	CHECK(s->status & VIRTIO_STATUS_FAILED);
	CHECK(log_has("bytes of configuration, test reads 8192"));
	return 0;
}

static int no_such_queue(void)
{
	struct vsim *s = test_device(0);
	struct virtio_device *vdev;

	CHECK_EQ(virtio_mmio_probe(&s->slot, &vdev), -ENOENT);
	CHECK(log_has("does not exist"));
	return 0;
}

static int unregister_frees(void)
{
	long pages = host_pages_in_use();
	struct vsim *s = test_device(64);
	struct virtio_device *vdev;

	CHECK_RC(virtio_mmio_probe(&s->slot, &vdev));
	CHECK(host_pages_in_use() > pages);
	virtio_unregister_device(vdev);
	CHECK_EQ(test_removes, 1);
	CHECK_EQ(host_pages_in_use(), pages);
	CHECK_EQ(s->status, 0);
	return 0;
}

/* ---- queues ---- */

static int queue_round_trip(void)
{
	struct vsim *s = test_device(8);
	struct virtio_device *vdev;
	uint8_t *mem = (uint8_t *)get_free_pages(0, 0);

	s->on_notify = dev_echo;
	CHECK_RC(virtio_mmio_probe(&s->slot, &vdev));
	CHECK_EQ(test_vq->num, 8);
	/* 3 x 2 + 1 descriptors per request; 50 requests wrap the 8-entry ring many times. */
	for (int i = 0; i < 50; i++) {
		struct virtio_sg sg[3] = { { mem, 3 }, { mem + 3, 5 }, { mem + 100, 16 } };
		void *token;
		uint32_t len;
		memcpy(mem, "abcdefgh", 8);
		mem[0] = (uint8_t)i;
		memset(mem + 100, 0, 16);
		CHECK_RC(virtqueue_add(test_vq, sg, 2, 1, &sg[0]));
		CHECK_EQ(virtqueue_num_free(test_vq), 5);
		virtqueue_kick(test_vq);
		CHECK_RC(virtqueue_get_used(test_vq, &token, &len));
		CHECK(token == &sg[0]);
		CHECK_EQ(len, 8);
		CHECK_EQ(mem[100], (uint8_t)i);
		CHECK(memcmp(mem + 101, "bcdefgh", 7) == 0);
		CHECK_EQ(virtqueue_num_free(test_vq), 8);
		CHECK_EQ(virtqueue_get_used(test_vq, &token, &len), -EAGAIN);
	}
	CHECK_EQ(s->notifies, 50);
	free_pages_va(mem, 0);
	return 0;
}

static int queue_several_in_flight(void)
{
	struct vsim *s = test_device(4);
	struct virtio_device *vdev;
	uint8_t *mem = (uint8_t *)get_free_pages(0, 0);
	int tokens[4];

	CHECK_RC(virtio_mmio_probe(&s->slot, &vdev));
	for (int i = 0; i < 4; i++) {
		struct virtio_sg sg = { mem + 16 * i, 16 };
		CHECK_RC(virtqueue_add(test_vq, &sg, 0, 1, &tokens[i]));
	}
	/* Full: the fifth fails and changes nothing. */
	struct virtio_sg sg = { mem, 16 };
	uint16_t idx = test_vq->avail->idx;
	CHECK_EQ(virtqueue_add(test_vq, &sg, 0, 1, &tokens[0]), -ENOSPC);
	CHECK_EQ(test_vq->avail->idx, idx);
	CHECK_EQ(virtqueue_num_free(test_vq), 0);
	virtqueue_kick(test_vq);
	/* The device answers out of order: 2, 0, 3, 1. */
	struct vsim_chain c[4];
	for (int i = 0; i < 4; i++)
		CHECK(vsim_pop(s, 0, &c[i]));
	int order[4] = { 2, 0, 3, 1 };
	for (int i = 0; i < 4; i++)
		vsim_push(s, 0, c[order[i]].head, 4);
	for (int i = 0; i < 4; i++) {
		void *token;
		uint32_t len;
		CHECK_RC(virtqueue_get_used(test_vq, &token, &len));
		CHECK(token == &tokens[order[i]]);
	}
	CHECK_EQ(virtqueue_num_free(test_vq), 4);
	free_pages_va(mem, 0);
	return 0;
}

static int add_rejects_bad_buffers(void)
{
	struct vsim *s = test_device(32);
	struct virtio_device *vdev;
	uint8_t *mem = (uint8_t *)get_free_pages(0, 0);
	struct virtio_sg sg[VIRTQUEUE_MAX_SG + 1];
	int token;

	CHECK_RC(virtio_mmio_probe(&s->slot, &vdev));
	for (int i = 0; i <= VIRTQUEUE_MAX_SG; i++)
		sg[i] = (struct virtio_sg){ mem + i, 1 };
	CHECK_EQ(virtqueue_add(test_vq, sg, 1, 0, NULL), -EINVAL);
	CHECK_EQ(virtqueue_add(test_vq, sg, 0, 0, &token), -EINVAL);
	CHECK_EQ(virtqueue_add(test_vq, sg, VIRTQUEUE_MAX_SG, 1, &token), -EINVAL);
	sg[1].len = 0;
	CHECK_EQ(virtqueue_add(test_vq, sg, 2, 0, &token), -EINVAL);
	struct virtio_sg far = { (void *)(uintptr_t)(1ULL << 57), 8 };
	CHECK_EQ(virtqueue_add(test_vq, &far, 1, 0, &token), -EFAULT);
	CHECK_EQ(virtqueue_num_free(test_vq), 32);
	CHECK_EQ(test_vq->avail->idx, 0);
	free_pages_va(mem, 0);
	return 0;
}

/* Send one request to a misbehaving device and expect -EIO with a broken queue. */
static int expect_broken(struct vsim *s, const char *message)
{
	struct virtio_device *vdev;
	uint8_t *mem = (uint8_t *)get_free_pages(0, 0);
	struct virtio_sg sg[2] = { { mem, 8 }, { mem + 8, 8 } };
	void *token = NULL;
	uint32_t len = 12345;
	int t;

	CHECK_RC(virtio_mmio_probe(&s->slot, &vdev));
	CHECK_RC(virtqueue_add(test_vq, sg, 1, 1, &t));
	virtqueue_kick(test_vq);
	CHECK_EQ(virtqueue_get_used(test_vq, &token, &len), -EIO);
	CHECK(token == NULL && len == 12345); /* outputs untouched */
	CHECK(virtqueue_is_broken(test_vq));
	CHECK(log_has(message));
	/* A broken queue refuses more work, and keeps saying so. */
	CHECK_EQ(virtqueue_add(test_vq, sg, 1, 1, &t), -EIO);
	CHECK_EQ(virtqueue_get_used(test_vq, &token, &len), -EIO);
	CHECK_EQ(virtqueue_wait_used(test_vq, 10, &token, &len), -EIO);
	/* Unbinding still returns every page. */
	virtio_unregister_device(vdev);
	free_pages_va(mem, 0);
	return 0;
}

static int used_id_out_of_range(void)
{
	struct vsim *s = test_device(8);
	s->on_notify = dev_bad_id;
	bad_id = 1000;
	return expect_broken(s, "an id that is not in flight (1000");
}

static int used_id_not_in_flight(void)
{
	struct vsim *s = test_device(8);
	s->on_notify = dev_bad_id;
	bad_id = 1; /* the second descriptor of the chain, not its head */
	return expect_broken(s, "an id that is not in flight (1");
}

static int used_len_too_long(void)
{
	struct vsim *s = test_device(8);
	s->on_notify = dev_bad_len;
	bad_len = 9; /* only 8 writable bytes */
	return expect_broken(s, "a length beyond the buffers (9, limit 8)");
}

static int used_idx_runs_ahead(void)
{
	struct vsim *s = test_device(8);
	s->on_notify = dev_bad_idx;
	bad_idx_step = 3;
	return expect_broken(s, "a used index running ahead");
}

static int device_never_answers(void)
{
	struct vsim *s = test_device(8);
	struct virtio_device *vdev;
	uint8_t *mem = (uint8_t *)get_free_pages(0, 0);
	struct virtio_sg sg = { mem, 8 };
	void *token = NULL;
	uint32_t len = 0;
	int t;

	CHECK_RC(virtio_mmio_probe(&s->slot, &vdev));
	CHECK_RC(virtqueue_add(test_vq, &sg, 0, 1, &t));
	virtqueue_kick(test_vq);
	CHECK_EQ(virtqueue_wait_used(test_vq, 50, &token, &len), -ETIMEDOUT);
	CHECK(!virtqueue_is_broken(test_vq));
	CHECK_EQ(virtqueue_num_free(test_vq), 7); /* still the device's */
	/* A late answer is still taken. */
	struct vsim_chain c;
	CHECK(vsim_pop(s, 0, &c));
	vsim_push(s, 0, c.head, 8);
	CHECK_RC(virtqueue_wait_used(test_vq, 50, &token, &len));
	CHECK(token == &t && len == 8);
	/* After a reset, what is in flight comes back through detach_unused. */
	CHECK_RC(virtqueue_add(test_vq, &sg, 0, 1, &t));
	CHECK(virtqueue_detach_unused(test_vq) == &t);
	CHECK(virtqueue_detach_unused(test_vq) == NULL);
	CHECK_EQ(virtqueue_num_free(test_vq), 8);
	free_pages_va(mem, 0);
	return 0;
}

/* ---- config and interrupts ---- */

static int config_reads(void)
{
	struct vsim *s = test_device(8);
	struct virtio_device *vdev;
	uint64_t v = 0, big = 0x1122334455667788ULL;

	memcpy(s->config + 8, &big, 8);
	s->config[0] = 0xab;
	s->config[2] = 0x34;
	s->config[3] = 0x12;
	CHECK_RC(virtio_mmio_probe(&s->slot, &vdev));
	CHECK_EQ(virtio_cread8(vdev, 0), 0xab);
	CHECK_EQ(virtio_cread16(vdev, 2), 0x1234);
	CHECK_RC(virtio_cread64(vdev, 8, &v));
	CHECK_EQ(v, big);
	/* A few changes while reading: retried until stable. */
	s->generation_churn = 3;
	CHECK_RC(virtio_cread64(vdev, 8, &v));
	CHECK_EQ(v, big);
	/* A device that never settles: an error, not a torn value. */
	v = 7;
	s->generation_churn = 1000;
	CHECK_EQ(virtio_cread64(vdev, 8, &v), -EIO);
	CHECK_EQ(v, 7);
	/* Outside the config space: all ones and a warning. */
	CHECK_EQ(virtio_cread32(vdev, vdev->config_len - 2), 0xffffffffu);
	CHECK(log_has("outside its"));
	return 0;
}

static int interrupts(void)
{
	struct vsim *s = test_device(8);
	struct virtio_device *vdev;
	uint8_t *mem = (uint8_t *)get_free_pages(0, 0);
	struct virtio_sg sg[2] = { { mem, 4 }, { mem + 8, 4 } };
	int t;

	s->on_notify = dev_echo;
	CHECK_RC(virtio_mmio_probe(&s->slot, &vdev));
	vsim_raise_config_change(s);
	CHECK_EQ(test_config_changes, 1);
	CHECK_EQ(test_vq_callbacks, 0);
	CHECK_EQ(s->isr, 0); /* acknowledged */
	CHECK_RC(virtqueue_add(test_vq, sg, 1, 1, &t));
	virtqueue_kick(test_vq);
	CHECK(host_irq_raise(IRQ));
	CHECK_EQ(test_vq_callbacks, 1);
	CHECK_EQ(test_config_changes, 1);
	CHECK_EQ(s->isr, 0);
	/* NEEDS_RESET with a config interrupt: the device is given up, not the driver called. */
	s->status |= VIRTIO_STATUS_NEEDS_RESET;
	vsim_raise_config_change(s);
	CHECK_EQ(test_config_changes, 1);
	CHECK(vdev->broken);
	CHECK_EQ(virtqueue_add(test_vq, sg, 1, 1, &t), -EIO);
	free_pages_va(mem, 0);
	return 0;
}

/* ---- virtio-rng over virtio-mmio ---- */

static int rng_read(void)
{
	struct vsim *s = vsim_create(PA, IRQ, VIRTIO_ID_RNG);
	struct virtio_device *vdev;
	uint8_t buf[40];

	s->q[0].num_max = 1024;
	s->on_notify = dev_rng;
	CHECK_EQ(virtio_rng_read(buf, 4, 100), -ENODEV);
	CHECK_RC(virtio_mmio_probe(&s->slot, &vdev));
	CHECK(vdev->driver == &virtio_rng_driver);
	CHECK_EQ(s->q[0].num, VIRTQUEUE_MAX_SIZE);
	CHECK_EQ(virtio_rng_read(buf, sizeof(buf), 100), (int)sizeof(buf));
	for (unsigned i = 0; i < sizeof(buf); i++)
		CHECK_EQ(buf[i], i);
	CHECK_EQ(s->notifies, 6); /* 7 bytes an answer */
	return 0;
}

static int rng_timeout(void)
{
	struct vsim *s = vsim_create(PA, IRQ, VIRTIO_ID_RNG);
	struct virtio_device *vdev;
	uint8_t buf[8];

	s->q[0].num_max = 64;
	CHECK_RC(virtio_mmio_probe(&s->slot, &vdev));
	CHECK_EQ(virtio_rng_read(buf, sizeof(buf), 100), -ETIMEDOUT);
	CHECK_EQ(virtio_rng_read(buf, sizeof(buf), 100), -ETIMEDOUT);
	CHECK_EQ(s->notifies, 1); /* the buffer stayed posted: no second request */
	s->on_notify = dev_rng;
	dev_rng(s, 0); /* the device wakes up and answers the old request */
	CHECK_EQ(virtio_rng_read(buf, sizeof(buf), 100), (int)sizeof(buf));
	CHECK_EQ(buf[0], 0);
	CHECK_EQ(buf[7], 7);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		CASE(negotiate_ok),
		CASE(negotiate_no_version1),
		CASE(negotiate_features_refused),
		CASE(reset_timeout),
		CASE(mmio_bad_slots),
		CASE(probe_failure_cleans_up),
		CASE(short_config_refused),
		CASE(no_such_queue),
		CASE(unregister_frees),
		CASE(queue_round_trip),
		CASE(queue_several_in_flight),
		CASE(add_rejects_bad_buffers),
		CASE(used_id_out_of_range),
		CASE(used_id_not_in_flight),
		CASE(used_len_too_long),
		CASE(used_idx_runs_ahead),
		CASE(device_never_answers),
		CASE(config_reads),
		CASE(interrupts),
		CASE(rng_read),
		CASE(rng_timeout),
	};
	return test_main("virtio", cases, ARRAY_SIZE(cases), argc, argv);
}
