/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * What a container uses, for `berth stats` and `berth top`: read from its
 * cgroup through berth-runtime's cgroup layer (v1, v2 or hybrid; any
 * runtime's containers, since the engine chose the cgroup path) and from its
 * network namespace's /proc/<pid>/net/dev.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "container.h"
#include "engine.h"

struct engine_stats {
        bool running;    /* false: a stopped container, everything below is 0 */
        int64_t read_ns; /* when it was read (CLOCK_REALTIME) */
        int64_t started_ns;
        uint64_t cpu_ns;    /* CPU time used by the container so far */
        uint64_t mem_usage; /* without the page cache that can be dropped, as docker counts it */
        uint64_t mem_limit; /* the cgroup's limit, or the host's memory without one */
        uint64_t net_rx, net_tx;
        uint64_t blk_read, blk_write;
        uint64_t pids;
};
int engine_container_stats(struct engine *e, const struct container *c, struct engine_stats *out,
                           struct berr **err);
/* CPU use between two samples of one container, 100 per busy CPU; prev NULL:
 * the average since the container started (podman's first sample). */
double engine_stats_cpu_percent(const struct engine_stats *prev, const struct engine_stats *cur);

/* The host pids of the processes in the container's cgroup (it must be running). */
int engine_container_pids(struct engine *e, const struct container *c, pid_t **pids, size_t *n,
                          struct berr **err);
