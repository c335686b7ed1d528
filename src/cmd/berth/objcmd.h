/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <json-c/json.h>

#include "berth.h"
#include "engine/engine.h"

/* inspect's output: the array as JSON, or the template for each element. Takes arr; returns ret,
 * or EXIT_BERTH when the template fails. */
int berth_print_inspect(json_object *arr, const char *format, int ret);

struct berth_rm_ops {
        /* podman's rm -f: removes the containers that use the object first. */
        int (*remove_users)(struct berth_ctx *ctx, struct engine *e, const char *name, struct berr **err);
        /* Removes the object (and records its event). */
        int (*remove)(struct berth_ctx *ctx, struct engine *e, const char *name, struct berr **err);
};
/* `berth volume|network rm [-f] NAME...`: podman's exit codes (1 not found, 2 in use, 125). */
int berth_rm_command(struct berth_ctx *ctx, int argc, char **argv, const struct berth_usage *u,
                     const struct berth_rm_ops *ops);
