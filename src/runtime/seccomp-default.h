/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <json-c/json.h>
#include <stdint.h>

#include "basic/error.h"
#include "berth-config.h"

/*
 * Conditional seccomp profiles: the format of data/seccomp/default.json, which
 * is also docker's profile format. A profile is a runtime-spec linux.seccomp
 * object with extensions that are resolved for one container:
 *
 *   "archMap": [{"architecture": A, "subArchitectures": [B, ...]}, ...]
 *       "architectures" becomes [A, B, ...] for the entry whose A is the
 *       host's architecture (none matching: only the native one);
 *   syscalls[i].includes: {"arches": [...], "caps": [...], "minKernel": "M.m"}
 *       the rule is kept only if the host's architecture is listed, every
 *       capability is in the container's bounding set and the kernel is at
 *       least M.m (each key optional);
 *   syscalls[i].excludes: same keys; the rule is dropped if any of them holds
 *       (the architecture is listed, one capability is held, kernel >= M.m);
 *   "comment" keys are dropped, docker's old single "name" becomes "names".
 *
 * Architectures are SCMP_ARCH_* names or docker's (amd64, arm64, ...).
 */

#define SECCOMP_DEFAULT_PROFILE BERTH_DATADIR "/seccomp/default.json"
#define SECCOMP_PROFILE_MAX     (1u << 20)

struct seccomp_target {
        const char *arch;                        /* SCMP_ARCH_* of the host; NULL: the one berth runs on */
        uint64_t caps;                           /* capability bounding set of the container's process */
        unsigned int kernel_major, kernel_minor; /* 0.0: the running kernel */
};

/* Reads and parses a profile file (at most SECCOMP_PROFILE_MAX bytes). */
int seccomp_profile_load(const char *path, json_object **out, struct berr **err);
/* The linux.seccomp object of profile for target t. */
int seccomp_profile_resolve(json_object *profile, const struct seccomp_target *t, json_object **out,
                            struct berr **err);
