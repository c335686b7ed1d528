/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "registry.h"
#include "store.h"

/*
 * Pulling an image: resolve the reference (mirrors first), pick the platform
 * from an index, fetch the config, then download up to max_parallel layers at
 * once while each one is unpacked as it streams into a snapshot keyed by its
 * chain ID. Layers already present (by chain ID) are skipped. Every blob is
 * verified (digest, size) before it is committed; the image record is written
 * last, in one transaction, so an interrupted pull leaves no image behind.
 */
enum pull_event_type {
        PULL_EV_TRYING,     /* text: the reference being tried */
        PULL_EV_RESOLVED,   /* digest: manifest; n_layers */
        PULL_EV_WARNING,    /* text */
        PULL_EV_LAYER_SKIP, /* layer already present */
        PULL_EV_LAYER_START,
        PULL_EV_LAYER_PROGRESS, /* done/total bytes downloaded */
        PULL_EV_LAYER_DOWNLOADED,
        PULL_EV_LAYER_DONE, /* unpacked and committed */
        PULL_EV_CONFIG,     /* digest: config */
        PULL_EV_WRITING,    /* storing the manifest and image record */
};

struct pull_event {
        enum pull_event_type type;
        size_t layer; /* index into the manifest's layers */
        size_t n_layers;
        const char *digest;
        uint64_t done, total;
        const char *text;
};

/* Called from the pull's threads, one call at a time. */
typedef void (*pull_progress_t)(void *userdata, const struct pull_event *ev);

#define PULL_DEFAULT_PARALLEL 3
#define PULL_MAX_PARALLEL     32

struct pull_opts {
        struct registry_opts reg;
        const char *platform; /* "os/arch[/variant]"; NULL: this host */
        unsigned max_parallel; /* 0: PULL_DEFAULT_PARALLEL */
        pull_progress_t progress;
        void *progress_userdata;
};

/* Pulls ref into the store; *id_out gets the image id (config digest). */
int image_pull(struct image_store *s, const char *ref, const struct pull_opts *o, char **id_out,
               struct berr **err);
