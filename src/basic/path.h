/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* "a" + "b" -> "a/b" with exactly one slash between them; NULL on ENOMEM. */
char *path_join(const char *a, const char *b);
bool path_is_absolute(const char *p);
/* True if the path has a ".." component. */
bool path_has_dotdot(const char *p);
/* Lexically cleans a path ("//a/./b/" -> "/a/b"); ".." is kept. */
char *path_clean(const char *p);

/* openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS): path is resolved as if rootfd
 * were "/", so neither "..", absolute names nor symlinks can leave it.
 * Returns an fd or -errno. */
int openat_in_root(int rootfd, const char *path, int flags, mode_t mode);

/* Creates every missing directory of path inside rootfd (resolved in root);
 * returns an O_PATH fd of the final directory or a negative error. */
int mkdir_p_in_root(int rootfd, const char *path, mode_t mode, struct berr **err);

/* Creates (if missing) the mount target `path` inside rootfd: a directory, or
 * an empty file when is_file; returns an O_PATH fd to it (not following a
 * final symlink out of the root). */
int mkmount_target_in_root(int rootfd, const char *path, bool is_file, struct berr **err);

/* "/proc/self/fd/N" for fd into buf (at least 32 bytes). */
const char *fd_path(int fd, char buf[static 32]);
