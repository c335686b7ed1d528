/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "store.h"

/*
 * Image records in the store's database. An image is identified by its config
 * digest (docker's Id); it keeps the manifest its layers were stored from,
 * any number of names ("docker.io/library/busybox:latest", unique across
 * images: tagging moves a name) and of repo digests (repo@manifest-or-index
 * digest it was pulled by).
 */
struct image_layer {
        char *digest; /* blob */
        char *media_type;
        int64_t size; /* blob bytes */
        char *diff_id;
        char *chain_id;
        uint64_t unpacked_size; /* uncompressed tar bytes */
};

struct image_record {
        char *id;
        char *manifest_digest;
        char *manifest_media_type;
        char *config_media_type;
        char *os;
        char *architecture;
        char *variant;
        int64_t created_ns;
        int64_t added_ns;
        uint64_t size; /* sum of unpacked layer sizes */
        char *top_chain_id;
        struct image_layer *layers;
        size_t n_layers;
        char **names;
        char **name_digests; /* per name: the digest it was pulled by, or "" */
        char **repo_digests; /* "repo@sha256:..." */
        const char *name_digest; /* images_put: the digest the names were pulled by */
};

int images_db_migrate(struct image_store *s, struct berr **err);

void image_record_free(struct image_record *r);
static inline void image_record_freep(struct image_record **r)
{
        image_record_free(*r);
}
#define _cleanup_image_record_ _cleanup_(image_record_freep)
void image_records_free(struct image_record **v, size_t n);

/* Returns 1 with *out, 0 when there is no such image. */
int images_get(struct image_store *s, const char *id, struct image_record **out, struct berr **err);
/* All images, newest first. */
int images_list(struct image_store *s, struct image_record ***out, size_t *n_out, struct berr **err);
/*
 * What a user typed -> image id: a full or unique prefix of an id (with or
 * without "sha256:"), a name (short names as docker normalizes them, then
 * localhost/NAME, then a unique NAME in any registry), or name@digest / a
 * manifest digest. Returns 1 with *id_out, 0 when nothing matches.
 */
int images_resolve(struct image_store *s, const char *input, char **id_out, struct berr **err);

/* Which of r's names input (a name as a user types it) refers to, or NULL. */
const char *image_record_name_for(const struct image_record *r, const char *input);

/* Records an image (replacing a record with the same id) with its layers, the
 * blobs it needs, names and repo digests, in one transaction. */
int images_put(struct image_store *s, const struct image_record *r, char *const *blobs, struct berr **err);
/* digest: the manifest or index the name was pulled by (NULL for local names). */
int images_tag(struct image_store *s, const char *id, const char *name, const char *digest, struct berr **err);
/* The digest a name was pulled by: 1 with *out, 0 when none is known. */
int images_name_digest(struct image_store *s, const char *name, char **out, struct berr **err);
/* Returns 1 when the name was removed, 0 when no image had it. */
int images_untag(struct image_store *s, const char *name, struct berr **err);
int images_add_repo_digest(struct image_store *s, const char *id, const char *repo_digest, struct berr **err);
/* Keeps another blob (e.g. an alternative manifest) alive for the image. */
int images_add_blob(struct image_store *s, const char *id, const char *digest, struct berr **err);
int images_remove(struct image_store *s, const char *id, struct berr **err);
/* Ids of images whose top layer is a parent chain of id's (docker's "child images"). */
int images_children(struct image_store *s, const char *id, char ***out, struct berr **err);

/* Everything images and containers' writable layers keep alive. */
int images_referenced(struct image_store *s, char ***blobs, char ***chains, struct berr **err);

/* Repositories a blob is known to exist in (for cross-repository mounts on push). */
int images_add_blob_source(struct image_store *s, const char *digest, const char *repo, struct berr **err);
int images_blob_sources(struct image_store *s, const char *digest, char ***out, struct berr **err);

/* A name as stored: domain/path:tag. Short names in local operations (tag,
 * import, load) get podman's "localhost/" domain rather than docker.io. */
int image_name_normalize(const char *input, bool local, char **out, struct berr **err);
