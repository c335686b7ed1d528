/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* `berth info`: the host, the runtimes, the storage and the counts, under docker info's field names. */

#include <json-c/json.h>

#include "basic/error.h"
#include "engine.h"

int engine_info(struct engine *e, json_object **out, struct berr **err);

/* A program berth runs, for `berth version`. */
struct engine_component {
        char *name;
        char *path;    /* NULL: not found */
        char *version; /* the first line of `PROGRAM --version`; NULL: unknown */
};
void engine_component_done(struct engine_component *c);
/*
 * berth-monitor and the runtime (NULL: the configured default), found as a
 * container would find them, without opening the store (config: --config,
 * NULL for the default file; self_exe: the berth binary).
 */
int engine_versions(const char *config, const char *self_exe, const char *runtime,
                    struct engine_component out[2], struct berr **err);
