/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "store.h"

/*
 * Images made on this machine (import, load from a docker archive, and later
 * the engine's commit): their layers are already in the store as blobs and
 * snapshots; this writes the config and an OCI manifest and records the image.
 */
struct local_layer {
        char digest[136]; /* blob */
        const char *media_type;
        int64_t size;
        char diff_id[136];
        uint64_t unpacked_size;
};

/* config: a complete image config document (its rootfs.diff_ids must match layers),
 * stored byte for byte (its digest is the image id). */
int image_record_local(struct image_store *s, const char *config, size_t config_len, const struct local_layer *layers,
                       size_t n, char *const *names, char **id_out, struct berr **err);

/* A new image config for this host: created now, os/architecture of the host,
 * rootfs from layers, one history entry. parent_config (may be NULL) provides
 * the "config" section to start from. */
int image_config_new(json_object *parent_config, const struct local_layer *layers, size_t n,
                     const char *created_by, const char *comment, json_object **out, struct berr **err);

/* Applies Dockerfile-style changes (`--change`) to a config's "config" section:
 * CMD, ENTRYPOINT (JSON array or shell form), ENV, EXPOSE, LABEL, USER,
 * VOLUME, WORKDIR, STOPSIGNAL. */
int image_config_apply_change(json_object *config_section, const char *change, struct berr **err);

struct import_opts {
        const char *name; /* NULL: a dangling image */
        char **changes;
        const char *message;
};
/* A (possibly gzip/zstd compressed) rootfs tarball from fd -> a one-layer image.
 * The tarball is read once: stored as the layer blob (gzip-compressed when it
 * was not compressed) while it is unpacked. */
int image_import(struct image_store *s, int fd, const struct import_opts *o, char **id_out, struct berr **err);
