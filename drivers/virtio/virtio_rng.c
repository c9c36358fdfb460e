// SPDX-License-Identifier: MIT
/*
 * The virtio entropy device (id 4, virtio 1.2 section 5.4): one queue, requestq, on which the
 * driver posts a device-writable buffer and the device fills some of it with random bytes. It
 * works on any transport (QEMU: -device virtio-rng-device on virtio-mmio, or
 * -device virtio-rng-pci,disable-legacy=on). The `rng [N]` command prints N random bytes.
 *
 * One request at a time, from the console: a request the device did not answer in time keeps its
 * buffer (the device may still write it) and the next read waits for it before posting another.
 *
 * Interface: virtio_rng_driver (virtio_drivers.c), virtio_rng_read, the `rng` command.
 */
#include <rvmm/console.h>
#include <rvmm/errno.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>
#include <rvmm/virtio.h>
#include <string.h>

#define RNG_MAX_DEVICES 4
#define RNG_TIMEOUT_MS 1000
#define RNG_CMD_MAX 4096

struct virtio_rng {
	struct virtio_device *vdev;   /* NULL: slot unused */
	struct virtqueue *vq;
	uint8_t *buf;                 /* one page of direct-map memory the device writes */
	bool pending;                 /* buf is posted and not yet returned */
};

/* Bound devices. Changed by probe/remove at boot; used by virtio_rng_read on the console only. */
static struct virtio_rng rngs[RNG_MAX_DEVICES];

static int virtio_rng_probe(struct virtio_device *vdev)
{
	struct virtio_rng *rng = NULL;
	int rc;

	for (int i = 0; i < RNG_MAX_DEVICES && !rng; i++)
		if (!rngs[i].vdev)
			rng = &rngs[i];
	if (!rng) {
		pr_warn("%s: more than %d entropy devices, ignored", vdev->name, RNG_MAX_DEVICES);
		return -ENODEV;
	}
	rc = virtio_find_vq(vdev, 0, "requestq", NULL, &rng->vq);
	if (rc)
		return rc;
	rng->buf = get_free_pages(0, GFP_KERNEL);
	if (!rng->buf)
		return -ENOMEM; /* the core frees the queue */
	rng->vdev = vdev;
	rng->pending = false;
	vdev->priv = rng;
	return 0;
}

static void virtio_rng_remove(struct virtio_device *vdev)
{
	struct virtio_rng *rng = vdev->priv;

	/* The device is reset: whatever was in flight is ours again. */
	while (virtqueue_detach_unused(rng->vq))
		;
	free_pages_va(rng->buf, 0);
	*rng = (struct virtio_rng){ 0 };
	vdev->priv = NULL;
}

const struct virtio_driver virtio_rng_driver = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.features = 0, /* the entropy device has no feature bits */
	.probe = virtio_rng_probe,
	.remove = virtio_rng_remove,
};

/* One answer from rng into out (at most max bytes); bytes copied or -errno. */
static int rng_read_once(struct virtio_rng *rng, uint8_t *out, size_t max, uint64_t timeout_ms)
{
	void *token;
	uint32_t len;
	int rc;

	if (!rng->pending) {
		struct virtio_sg sg = { rng->buf, (uint32_t)MIN(max, (size_t)PAGE_SIZE) };
		rc = virtqueue_add(rng->vq, &sg, 0, 1, rng->buf);
		if (rc)
			return rc;
		rng->pending = true;
		virtqueue_kick(rng->vq);
	}
	rc = virtqueue_wait_used(rng->vq, timeout_ms, &token, &len);
	if (rc)
		return rc;
	rng->pending = false;
	/* A late answer to an earlier, larger request may be longer than this one wants. */
	len = (uint32_t)MIN((size_t)len, max);
	memcpy(out, rng->buf, len);
	return (int)len;
}

int virtio_rng_read(void *buf, size_t len, uint64_t timeout_ms)
{
	struct virtio_rng *rng = NULL;
	size_t got = 0;
	unsigned empty = 0;

	for (int i = 0; i < RNG_MAX_DEVICES && !rng; i++)
		if (rngs[i].vdev && !rngs[i].vdev->broken)
			rng = &rngs[i];
	if (!rng)
		return -ENODEV;
	while (got < len) {
		int n = rng_read_once(rng, (uint8_t *)buf + got, len - got, timeout_ms);
		if (n < 0)
			return n;
		/* The spec lets the device return nothing; do not spin on it forever. */
		if (n == 0 && ++empty > 16)
			return -EIO;
		got += (size_t)n;
	}
	return (int)got;
}

static int cmd_rng(int argc, char **argv)
{
	static uint8_t bytes[RNG_CMD_MAX];
	uint64_t n = 16;
	int rc;

	if (argc > 2 || (argc == 2 && (parse_u64(argv[1], &n) || n == 0 || n > RNG_CMD_MAX)))
		return CMD_USAGE;
	rc = virtio_rng_read(bytes, n, RNG_TIMEOUT_MS);
	if (rc == -ENODEV) {
		kprintf("rng: no entropy device (QEMU: -device virtio-rng-device)\n");
		return rc;
	}
	if (rc == -ETIMEDOUT) {
		kprintf("rng: the device did not answer within %d ms\n", RNG_TIMEOUT_MS);
		return rc;
	}
	if (rc < 0) {
		kprintf("rng: read failed (%s)\n", errname(rc));
		return rc;
	}
	for (uint64_t i = 0; i < n; i++)
		kprintf("%02x%s", bytes[i], (i % 32 == 31 || i + 1 == n) ? "\n" : "");
	return 0;
}
CONSOLE_COMMAND(rng, .name = "rng", .usage = "rng [N]",
		.summary = "print N (default 16, at most 4096) random bytes from virtio-rng",
		.run = cmd_rng);
