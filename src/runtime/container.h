/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "cgroups/cgroup.h"
#include "oci/spec.h"
#include "oci/state.h"

/* libruntime: the operations behind each berth-runtime command. */

#define RUNTIME_DEFAULT_ROOT "/run/berth-runtime"

struct runtime_ctx {
        const char *root; /* state directory root (--root) */
        bool systemd_cgroup;
};

/* A container as persisted in <root>/<id>/state.json. */
struct container {
        char *id;
        int dirfd; /* O_RDONLY|O_DIRECTORY of <root>/<id> */
        pid_t pid;
        uint64_t pid_start; /* /proc/<pid>/stat starttime, guards against pid reuse */
        char *bundle;
        char *rootfs;
        uint64_t rootfs_mnt; /* without a mount namespace: the rootfs bind in ours, else 0 */
        int64_t created_ns;
        char *owner;
        char **annotations;
        struct cgroup *cg;
        struct oci_spec *spec; /* loaded on demand by container_load_spec() */
};

int container_load(const struct runtime_ctx *ctx, const char *id, struct container **out, struct berr **err);
int container_load_spec(struct container *c, struct berr **err);
enum oci_status container_status(struct container *c);
json_object *container_state_json(struct container *c, enum oci_status st, bool full);
void container_free(struct container *c);
static inline void container_freep(struct container **c)
{
        container_free(*c);
}
#define _cleanup_container_ _cleanup_(container_freep)

enum create_mode { CREATE_MODE_CREATE, CREATE_MODE_RUN, CREATE_MODE_RUN_DETACHED };

struct create_opts {
        const char *id;
        const char *bundle;
        const char *console_socket;
        const char *pid_file;
        bool no_pivot;
        bool no_new_keyring;
        int preserve_fds;
        bool keep; /* run: keep the state after the container exits */
        enum create_mode mode;
};

/* create, or run (create + start, and in the foreground wait: *exit_status
 * gets the container's status, 128+signal when killed). */
int container_create(const struct runtime_ctx *ctx, const struct create_opts *o, int *exit_status,
                     struct berr **err);
int container_start(const struct runtime_ctx *ctx, const char *id, struct berr **err);
int container_kill(const struct runtime_ctx *ctx, const char *id, int sig, bool all, struct berr **err);
int container_delete(const struct runtime_ctx *ctx, const char *id, bool force, struct berr **err);
/* Ids of every container under the root, sorted. */
int container_list_ids(const struct runtime_ctx *ctx, char ***ids, struct berr **err);
int container_pids(struct container *c, pid_t **pids, size_t *n, struct berr **err);

struct exec_opts {
        struct oci_process *process; /* filled by the caller (from --process or flags) */
        const char *console_socket;
        const char *pid_file;
        bool detach;
        int preserve_fds;
};
/* Builds the exec process template from the container's config.process. */
int container_exec_template(struct container *c, struct oci_process *out, struct berr **err);
int container_exec(const struct runtime_ctx *ctx, const char *id, const struct exec_opts *o, int *exit_status,
                   struct berr **err);

/* cgroup-ops.c: resources is a linux.resources object (only its keys change). */
int container_update(const struct runtime_ctx *ctx, const char *id, json_object *resources, struct berr **err);
int container_pause(const struct runtime_ctx *ctx, const char *id, struct berr **err);
int container_resume(const struct runtime_ctx *ctx, const char *id, struct berr **err);

json_object *runtime_features(void);

/* CVE-2019-5736: re-executes the runtime from a sealed memfd copy of itself
 * unless it already runs from one. Returns only on error. */
bool runtime_exe_is_sealed(void);
int runtime_reexec_sealed(char **argv, char **envp, struct berr **err);

/* Signal names as runc accepts them ("KILL", "SIGKILL", "9"). */
int signal_parse(const char *s);
/* Reads /proc/<pid>/stat: state letter and start time. */
int proc_stat(pid_t pid, char *state, uint64_t *starttime);
