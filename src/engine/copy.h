/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Files in and out of a container: `berth cp` (docker's path rules, tar
 * streams for "-"), `berth export`, and the access to a container's root
 * filesystem they share.
 *
 * Safety: every path inside the container is resolved with
 * openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS) below a descriptor of the
 * container's root, so ".." and symlinks planted in the container resolve
 * inside it; trees are walked relative to directory descriptors without
 * following symlinks; what is extracted goes through src/image's unpacker
 * (each entry created relative to its parent's descriptor, resolved inside
 * the destination directory), in its plain-archive mode.
 */

#include <stdbool.h>

#include "container.h"
#include "engine.h"

/*
 * A container's root filesystem, opened. A running (or paused) container's
 * is its init's /proc/<pid>/root when live is allowed: lookups then see its
 * mounts (volumes, tmpfs) as the container does. Otherwise the writable
 * layer's overlay: a stopped container's is mounted for the time (under the
 * container's lock, so start and rm wait) and unmounted again.
 */
struct engine_rootfs {
        int fd; /* O_PATH directory: the root for openat_in_root() */
        int lock;
        bool mounted; /* mounted here: unmounted by engine_rootfs_close() */
        bool live;
        char id[65];
};
int engine_rootfs_open(struct engine *e, const struct container *c, bool live, struct engine_rootfs *out,
                       struct berr **err);
void engine_rootfs_close(struct engine *e, struct engine_rootfs *r);

struct engine_copy_opts {
        bool archive;     /* -a: files copied in keep their uid/gid (else they belong to root) */
        bool follow_link; /* -L: a symlink named as the source is followed */
};

/*
 * Container path src -> host path dest, or, with dest NULL, a tar stream of
 * it on out_fd (docker cp CONTAINER:SRC -). Relative container paths are
 * relative to the container's working directory.
 */
int engine_copy_from_container(struct engine *e, const struct container *c, const char *src, const char *dest,
                               int out_fd, const struct engine_copy_opts *o, struct berr **err);
/* Host path src, or with src NULL a tar stream (possibly compressed) read from
 * in_fd, -> container path dest. */
int engine_copy_to_container(struct engine *e, const struct container *c, const char *src, int in_fd,
                             const char *dest, const struct engine_copy_opts *o, struct berr **err);

/* The container's root filesystem (its writable layer over the image, no
 * volumes) as a tar stream on out_fd. */
int engine_container_export(struct engine *e, const struct container *c, int out_fd, struct berr **err);
