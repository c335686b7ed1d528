/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "store.h"

/*
 * Garbage collection, removal, disk usage and consistency checks. All of
 * them take the store lock exclusively, so they never race a pull.
 */
struct gc_result {
        uint64_t blobs;
        uint64_t snapshots;
        uint64_t bytes;
};

/* Deletes blobs and snapshots that no image or container layer references and
 * the leftovers of interrupted work. Without wait, returns -EWOULDBLOCK (no
 * error) when another command holds the store. */
int image_gc(struct image_store *s, bool wait, struct gc_result *res, struct berr **err);

/* Deletes an image record. Unless force, refuses (EBUSY) when a container's
 * writable layer was made from it, and (EEXIST) when other images are built on it. */
int image_remove(struct image_store *s, const char *id, bool force, struct berr **err);
/* Is the image used by a container's writable layer? */
int image_in_use(struct image_store *s, const char *id, struct berr **err);

struct image_df {
        size_t images;
        size_t active; /* used by containers */
        uint64_t size; /* unique layer bytes on disk + blobs */
        uint64_t reclaimable;
        size_t containers;
        uint64_t containers_size;
};
int image_disk_usage(struct image_store *s, struct image_df *out, struct berr **err);

struct check_report {
        size_t images, blobs, snapshots;
        char **problems; /* what was found, one line each */
        char **repairs;  /* what repair did */
        char **notes;    /* harmless findings */
        size_t remaining; /* problems still there afterwards */
};
/* Verifies the database, every blob's digest (unless quick), every snapshot's
 * metadata and every image's references. With repair, removes what is
 * damaged: corrupt blobs and snapshots, the images that needed them, and
 * leftovers of interrupted work. */
int image_check(struct image_store *s, bool repair, bool quick, struct check_report *out, struct berr **err);
void check_report_clear(struct check_report *r);
