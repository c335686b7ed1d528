/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "basic/error.h"
#include "compress.h"
#include "store.h"

/*
 * Snapshots: read-only layer directories (store.h) composed with overlayfs
 * into a container's root filesystem.
 *
 * A writable layer ("rw layer") belongs to a container: rw/<key>/{upper,work,
 * merged}. Its lower layers are recorded in the database when it is created,
 * so they stay pinned (GC keeps them) even if the image is removed later.
 *
 * Long lowerdir lists: overlay's mount options are limited to one page. When
 * the absolute paths do not fit, the mount is done by a child process that
 * changes into the store root and names the layers by short symlinks
 * (l/<prefix of the chain ID> -> ../snapshots/<hex>/fs), the way containerd
 * and podman shorten them; the caller's working directory never changes.
 */

/* Unpacks a stored blob into the snapshot of chain_id unless it exists,
 * checking the diff_id. size (may be NULL) gets the uncompressed size. */
int snapshot_from_blob(struct image_store *s, const char *digest, enum layer_compression c, const char *diff_id,
                       const char *chain_id, uint64_t *size, struct berr **err);

/* Creates the writable layer `key` on top of image_id's layers. */
int snapshot_rw_create(struct image_store *s, const char *key, const char *image_id, struct berr **err);
/* Mounts it at target (NULL: rw/<key>/merged); *mountpoint_out (may be NULL) gets the path. */
int snapshot_rw_mount(struct image_store *s, const char *key, const char *target, bool readonly,
                      char **mountpoint_out, struct berr **err);
/* Unmounts target (NULL: rw/<key>/merged); not mounted is not an error. */
int snapshot_rw_unmount(struct image_store *s, const char *key, const char *target, struct berr **err);
/* Unmounts rw/<key>/merged if needed and deletes the layer and its record. */
int snapshot_rw_remove(struct image_store *s, const char *key, struct berr **err);
/* Absolute path of the layer's upper directory (for commit and diff). */
char *snapshot_rw_upper(struct image_store *s, const char *key);
/* The chain IDs of its lower layers, top first (for diff). */
int snapshot_rw_lowers(struct image_store *s, const char *key, char ***out, struct berr **err);
/* 1 when the writable layer exists, 0 when not. */
int snapshot_rw_exists(struct image_store *s, const char *key, struct berr **err);

/* The overlay mount options for lowers (top first) as they would be used, for tests. */
int snapshot_overlay_options(struct image_store *s, char *const *lowers, const char *upper, const char *work,
                             bool *relative, char **out, struct berr **err);
