/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"

/*
 * The container's cgroup, whatever the host has: cgroup v1 (one hierarchy
 * per controller), v2 (unified) or hybrid (v1 controllers plus a cgroup2
 * mount with few or no controllers). The backend is chosen at run time.
 */
struct cgroup;

struct cgroup_config {
        const char *id;
        const char *cgroups_path; /* linux.cgroupsPath, or NULL for the default */
        json_object *resources;   /* linux.resources, or NULL */
        bool systemd;             /* --systemd-cgroup */
};

/* Validates the resources and creates the cgroup with them applied.
 * On error nothing is left behind. The device policy is always installed:
 * deny by default, then linux.resources.devices, then the runtime's
 * defaults (null, zero, full, random, urandom, tty, console, ptmx, pts,
 * tun, and mknod of any device), as runc does. */
int cgroup_create(const struct cgroup_config *cfg, struct cgroup **out, struct berr **err);
/* The cgroup an earlier create made for id at cgroups_path (resolved the same
 * way), on this host, by any runtime with the cgroupfs layout: for reading
 * statistics and processes. Nothing is created or checked for existence. */
int cgroup_open(const char *cgroups_path, const char *id, struct cgroup **out, struct berr **err);
/* Moves pid into the cgroup (all hierarchies). */
int cgroup_enter(struct cgroup *cg, pid_t pid, struct berr **err);
/* Opens every directory (before a fork whose child calls cgroup_enter_self). */
int cgroup_open_dirs(struct cgroup *cg, struct berr **err);
/* Moves the calling single-threaded process into the cgroup. A cgroup v1 thread
 * moving itself (tasks <- "0") skips the global threadgroup lock, whose first
 * writer waits for an RCU grace period (5-15 ms here, most of a container's
 * start); v2 has no such path and uses cgroup.procs. */
int cgroup_enter_self(struct cgroup *cg, struct berr **err);
/* A directory fd for clone3(CLONE_INTO_CGROUP), or -1 when the backend has
 * none (v1 and hybrid: use cgroup_enter). Owned by cg. */
int cgroup_clone_into_fd(struct cgroup *cg);

/* Persisted in the container's state, reloaded by later commands. */
json_object *cgroup_to_json(struct cgroup *cg);
int cgroup_from_json(json_object *o, struct cgroup **out, struct berr **err);

/* Applies the keys present in resources (a linux.resources object); devices
 * are left as they are. */
int cgroup_update(struct cgroup *cg, json_object *resources, struct berr **err);
int cgroup_get_pids(struct cgroup *cg, pid_t **pids, size_t *n, struct berr **err);
int cgroup_signal_all(struct cgroup *cg, int sig, struct berr **err);
int cgroup_set_frozen(struct cgroup *cg, bool frozen, struct berr **err);
int cgroup_is_frozen(struct cgroup *cg, bool *out, struct berr **err);
/* Statistics in runc's `events --stats` shape ("cpu", "memory", "pids", ...). */
int cgroup_stats(struct cgroup *cg, json_object **out, struct berr **err);
/* Removes the cgroup directories and any cgroups the container made below
 * them, waiting briefly while the last processes exit (they must be dying). */
int cgroup_destroy(struct cgroup *cg, struct berr **err);
void cgroup_free(struct cgroup *cg);
static inline void cgroup_freep(struct cgroup **c)
{
        cgroup_free(*c);
}
#define _cleanup_cgroup_ _cleanup_(cgroup_freep)

/* Mounts the cgroup filesystem(s) for a `cgroup` entry of config.json's mounts
 * on target_fd (an O_PATH fd of the directory inside the rootfs), in the
 * container's mount namespace before pivot_root. mount_attrs: MOUNT_ATTR_*.
 * own_cgroupns: the caller is already inside the cgroup and its new cgroup
 * namespace, so fresh cgroup mounts show the container's cgroup as the
 * root; otherwise the container's own directories are bind-mounted. */
int cgroup_mount(struct cgroup *cg, int target_fd, unsigned long mount_attrs, bool own_cgroupns,
                 struct berr **err);

/* OOM kills, for `events`: poll cgroup_oom_watch_fd() for POLLIN, then read.
 * v1: memory.oom_control through cgroup.event_control; v2: memory.events. */
struct cgroup_oom_watch;
int cgroup_oom_watch_new(struct cgroup *cg, struct cgroup_oom_watch **out, struct berr **err);
int cgroup_oom_watch_fd(const struct cgroup_oom_watch *w);
/* *events: OOM events since the last read (0 on a spurious wakeup); *gone:
 * the cgroup was removed (v1) or has no process left (v2). */
int cgroup_oom_watch_read(struct cgroup_oom_watch *w, uint64_t *events, bool *gone, struct berr **err);
void cgroup_oom_watch_free(struct cgroup_oom_watch *w);
static inline void cgroup_oom_watch_freep(struct cgroup_oom_watch **w)
{
        cgroup_oom_watch_free(*w);
}
#define _cleanup_oom_watch_ _cleanup_(cgroup_oom_watch_freep)

/* The "cgroup" object of the runtime features document. */
json_object *cgroup_features(void);
