/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Container administration beyond the lifecycle: rename, pause/unpause and
 * update (through the runtime, so any runc-compatible one works), and prune.
 */

#include <stdbool.h>
#include <stdint.h>

#include "container.h"
#include "engine.h"

/* The names taken in another container's name space are refused (EEXIST), as create does. */
int engine_container_rename(struct engine *e, const struct container *c, const char *name, struct berr **err);

/* RUNTIME pause/resume; the container must be running (pause) or paused (unpause). */
int engine_container_pause(struct engine *e, const struct container *c, struct berr **err);
int engine_container_unpause(struct engine *e, const struct container *c, struct berr **err);

/* `berth update`: the flags given replace the container's (as typed, validated as run validates them). */
struct engine_update_opts {
        const char *memory, *memory_reservation, *memory_swap;
        const char *cpus, *cpu_shares, *cpu_quota, *cpu_period, *cpuset_cpus, *cpuset_mems;
        const char *pids_limit;
        const char *restart; /* no, on-failure[:N], always */
};
/*
 * Rewrites the bundle's linux.resources and the record, then, if the
 * container runs, applies the resources through `RUNTIME update --resources -`.
 * A new restart policy applies from the next start (the monitor of a running
 * container keeps the one it was started with).
 */
int engine_container_update(struct engine *e, const struct container *c, const struct engine_update_opts *o,
                            struct berr **err);

/* docker's container prune filters. */
struct engine_prune_filter {
        int64_t until_ns;  /* only containers created before; 0: any */
        char **labels;     /* label=KEY[=VALUE]: all must match */
        char **not_labels; /* label!=KEY[=VALUE]: none may match */
};
int engine_prune_filter_add(struct engine_prune_filter *f, const char *spec, int64_t now_ns,
                            struct berr **err);
void engine_prune_filter_done(struct engine_prune_filter *f);

/*
 * Removes every container that is not running, paused or restarting and
 * matches f. *removed gets their ids, *reclaimed the disk space their
 * writable layers held. A container that cannot be removed is skipped; its
 * error is the one returned, after the others were removed.
 */
int engine_containers_prune(struct engine *e, const struct engine_prune_filter *f, char ***removed,
                            uint64_t *reclaimed, struct berr **err);
