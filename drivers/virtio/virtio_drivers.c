// SPDX-License-Identifier: MIT
/*
 * The virtio device drivers rvmm has, as data: the core (virtio.c) binds a device to the entry
 * with its device id. Adding a driver is one line here. Host tests link their own table.
 *
 * Interface: virtio_drivers[], virtio_nr_drivers.
 */
#include <rvmm/virtio.h>

extern const struct virtio_driver virtio_rng_driver;
extern const struct virtio_driver virtio_mem_driver;
extern const struct virtio_driver virtio_pmem_driver;

const struct virtio_driver *const virtio_drivers[] = {
	&virtio_rng_driver,
	&virtio_mem_driver,
	&virtio_pmem_driver,
};
const size_t virtio_nr_drivers = sizeof(virtio_drivers) / sizeof(virtio_drivers[0]);
