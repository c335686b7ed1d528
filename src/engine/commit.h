/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A container's writable layer: `berth commit` (it becomes the top layer of a
 * new image) and `berth diff` (what it changed).
 *
 * The runtime creates mount points in the layer for the container's mounts
 * (/proc, /dev, /etc/hosts ... where the image has none); docker keeps those
 * in a separate init layer. Here they are left out of both: every mount
 * destination of the container's config.json, with everything below it.
 */

#include <stdbool.h>
#include <stddef.h>

#include "container.h"
#include "engine.h"

struct engine_commit_opts {
        const char *name;    /* repository[:tag] (localhost/ for short names, as import); NULL: dangling */
        const char *author;  /* -a */
        const char *message; /* -m: the history entry's comment */
        const char *const
            *changes; /* -c: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL */
        bool pause;   /* freeze a running container while its layer is read (docker's default) */
};

/*
 * The container's image plus its writable layer (gzip) as a new image, whose
 * config is the container's (environment, command, entrypoint, labels, user
 * and working directory as it was run) with the changes applied. *image_id
 * gets the new image's id.
 */
int engine_container_commit(struct engine *e, const struct container *c, const struct engine_commit_opts *o,
                            char **image_id, struct berr **err);

/* docker diff's kinds. */
struct engine_change {
        char kind; /* 'A' added, 'C' changed, 'D' deleted */
        char *path;
};
/* The changes sorted by path. A directory counts as changed when something
 * below it changed or its mode or owner differs from the image's. */
int engine_container_diff(struct engine *e, const struct container *c, struct engine_change **out, size_t *n,
                          struct berr **err);
void engine_changes_free(struct engine_change *v, size_t n);
