/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "basic/error.h"
#include "registry.h"
#include "store.h"

/*
 * Pushing an image: every blob the registry does not have yet is mounted from
 * another repository of the same registry it is known to be in (from pulls
 * and earlier pushes), or uploaded; then the stored manifest is put
 * unchanged, so the pushed digest is the local one.
 */
enum push_event_type {
        PUSH_EV_BLOB,        /* digest; done = 1 when it was already there, 2 when mounted */
        PUSH_EV_CONFIG,      /* digest */
        PUSH_EV_MANIFEST,    /* digest */
};

struct push_event {
        enum push_event_type type;
        const char *digest;
        int how;
};

typedef void (*push_progress_t)(void *userdata, const struct push_event *ev);

struct push_opts {
        struct registry_opts reg;
        push_progress_t progress;
        void *progress_userdata;
};

/* image: what the user typed; dest: the reference to push to (NULL: image, which must be a name). */
int image_push(struct image_store *s, const char *image, const char *dest, const struct push_opts *o,
               char digest_out[136], struct berr **err);
