/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Writes/reads the whole buffer, retrying on EINTR and short transfers.
 * Return 0 or -errno. */
int write_all(int fd, const void *buf, size_t len);
ssize_t read_full(int fd, void *buf, size_t len);

/* Reads a whole fd into a NUL-terminated buffer; fails with EFBIG past max. */
int read_all_fd(int fd, size_t max, char **out, size_t *len, struct berr **err);
int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len, struct berr **err);
int write_file_at(int dirfd, const char *path, const void *buf, size_t len, int flags, mode_t mode,
                  struct berr **err);
/* Writes to a temporary file and renames it over path (readers see old or new). */
int write_file_atomic_at(int dirfd, const char *path, const void *buf, size_t len, mode_t mode,
                         struct berr **err);

int mkdir_p(const char *path, mode_t mode, struct berr **err);
/* Removes dirfd/name recursively without crossing into other mounts. */
int rm_rf_at(int dirfd, const char *name, struct berr **err);

/* Closes every fd >= min_fd except those in keep (negative entries ignored). */
void close_fds_except(int min_fd, const int *keep, size_t n);

/* Reads a small decimal/text file such as /proc/sys/... (trailing newline stripped). */
int read_line_at(int dirfd, const char *path, char *buf, size_t size);
