/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

/*
 * Manifests (OCI image manifest and index, Docker v2 schema 2 manifest and
 * manifest list), platforms and image configs: parsers of untrusted registry
 * documents with caps on sizes and counts.
 */
#define MT_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG      "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER_GZIP  "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD  "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_OCI_LAYER       "application/vnd.oci.image.layer.v1.tar"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG   "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER    "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_DOCKER_V1       "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_V1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

/* Accept header for manifest requests, most preferred first. */
#define MANIFEST_ACCEPT MT_OCI_INDEX ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST ", " MT_DOCKER_MANIFEST

#define MANIFEST_MAX_SIZE  (4u << 20)
#define CONFIG_MAX_SIZE    (4u << 20)
#define MANIFEST_MAX_LAYERS 128
#define INDEX_MAX_MANIFESTS 1024

struct platform {
        char *os;
        char *architecture;
        char *variant;
        char *os_version;
};

struct descriptor {
        char *media_type;
        char *digest;
        int64_t size;
        struct platform *platform; /* index entries only, may be NULL */
        char **urls;
};

enum manifest_kind { MANIFEST_IMAGE, MANIFEST_INDEX };

struct manifest {
        enum manifest_kind kind;
        char *media_type; /* one of the four MT_* manifest/index types */
        /* MANIFEST_IMAGE */
        struct descriptor config;
        struct descriptor *layers;
        size_t n_layers;
        /* MANIFEST_INDEX */
        struct descriptor *manifests;
        size_t n_manifests;
};

/*
 * Parses a manifest or index. content_type is the registry's Content-Type (or
 * the descriptor's media type); when it is NULL or generic the document's own
 * mediaType field (or its shape) decides. Schema 1 fails as unsupported.
 */
int manifest_parse(const char *buf, size_t len, const char *content_type, struct manifest **out,
                   struct berr **err);
void manifest_free(struct manifest *m);
bool manifest_media_type_known(const char *mt);
bool config_media_type_known(const char *mt);

void platform_free(struct platform *p);
/* "linux/amd64", "linux/arm64/v8", "amd64" (os defaults to linux). */
int platform_parse(const char *s, struct platform **out, struct berr **err);
/* The platform this process runs on, in Go's GOOS/GOARCH names. */
int platform_host(struct platform **out, struct berr **err);
/* "linux/arm64/v8" */
char *platform_string(const struct platform *p);
/* Does an index entry's platform satisfy the wanted one? Empty wanted variant
 * accepts any; arm64's variant "" and "v8" are the same. */
bool platform_match(const struct platform *want, const struct platform *have);
/* Picks the best entry of an index for the platform (exact variant over any);
 * returns its index or a negative error listing what the index offers. */
int manifest_select_platform(const struct manifest *idx, const struct platform *want, size_t *out,
                             struct berr **err);

struct image_history {
        char *created;
        char *created_by;
        char *author;
        char *comment;
        bool empty_layer;
};

/* The parts of an image config a container needs (image-spec "config"), plus rootfs and history. */
struct image_config {
        char *architecture;
        char *os;
        char *variant;
        char *created; /* RFC 3339 as stored, may be NULL */
        int64_t created_ns;
        char *author;
        char *user;
        char *working_dir;
        char *stop_signal;
        char **entrypoint; /* NULL when unset */
        char **cmd;
        char **env;
        char **exposed_ports; /* "80/tcp" ... */
        char **volumes;
        char **labels; /* key, value, key, value ... */
        char **diff_ids;
        size_t n_diff_ids;
        struct image_history *history;
        size_t n_history;
        json_object *json; /* the whole document, for inspect */
};

int image_config_parse(const char *buf, size_t len, struct image_config **out, struct berr **err);
void image_config_free(struct image_config *c);

/* RFC 3339 timestamp -> nanoseconds since the epoch. */
int parse_rfc3339(const char *s, int64_t *out);

static inline void manifest_freep(struct manifest **m)
{
        manifest_free(*m);
}
static inline void platform_freep(struct platform **p)
{
        platform_free(*p);
}
static inline void image_config_freep(struct image_config **c)
{
        image_config_free(*c);
}
#define _cleanup_manifest_     _cleanup_(manifest_freep)
#define _cleanup_platform_     _cleanup_(platform_freep)
#define _cleanup_image_config_ _cleanup_(image_config_freep)
