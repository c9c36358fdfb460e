/* SPDX-License-Identifier: MIT */
/*
 * Error numbers. rvmm returns them negated (-ENOMEM), as Linux does; foreign codes (libfdt, SBI,
 * virtio device replies) are translated into these at the boundary where they enter.
 */
#ifndef RVMM_ERRNO_H
#define RVMM_ERRNO_H

#define EPERM 1
#define ENOENT 2
#define EIO 5
#define E2BIG 7
#define EAGAIN 11
#define ENOMEM 12
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define ENODEV 19
#define EINVAL 22
#define ENOSPC 28
#define ERANGE 34
#define EPROTO 71 /* a device answered outside its protocol */
#define ENOSYS 38
#define ENOTSUP 95
#define ETIMEDOUT 110

/* A short name for an error number ("ENOMEM"), for messages. */
const char *errname(int err);

#endif
