/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Declarations shared by the libruntime modules only. */

#include <stdbool.h>
#include <sys/types.h>

#include "basic/error.h"
#include "cgroups/cgroup.h"
#include "oci/spec.h"
#include "container.h"
#include "seccomp.h"

#define START_SOCKET "start.sock"
#define STATE_FILE   "state.json"
#define CONFIG_COPY  "config.json"

/* What the container's init needs, prepared by the runtime before clone. */
struct init_ctx {
        const struct oci_spec *spec;
        const char *id;
        const char *bundle;
        char *rootfs; /* absolute */
        int sync_fd;
        int console_fd;      /* connected --console-socket, or -1 */
        bool pty_to_runtime; /* foreground run with a terminal: send the pty master back */
        int start_fd;        /* create: the listening start socket; -1 for run */
        bool no_pivot;
        bool no_new_keyring;
        int extra_fds; /* LISTEN_FDS + --preserve-fds */
        char **extra_env;
        struct seccomp_prog *seccomp;
        struct cgroup *cg;
        bool two_stage;           /* namespaces joined by path or time offsets */
        int ns_fds[OCI_NS_COUNT]; /* namespaces to join by path, or -1 */
        bool need_hooks_sync;     /* prestart/createRuntime hooks exist */
        int devnull_fd;           /* the host's /dev/null, checked, for maskedPaths */
        int rootfd;               /* O_PATH of the bind-mounted rootfs (in the child) */
        char *exec_path;          /* args[0] resolved in the container */
        pid_t host_pid;
        bool cgroup_self_join; /* the init moves itself into cg, first thing */
};

_noreturn_ void init_main(struct init_ctx *c);

/* mount.c */
int rootfs_prepare(struct init_ctx *c, struct berr **err);
int rootfs_pivot(struct init_ctx *c, struct berr **err);
/* sysctls, masked and read-only paths (before pivot_root). */
int rootfs_finalize(struct init_ctx *c, struct berr **err);
/* After pivot_root and the console: root propagation and read-only root. */
int rootfs_seal(struct init_ctx *c, struct berr **err);
/* Without a mount namespace the rootfs bind, and every container mount under
 * it, is made in the runtime's namespace. mount_id_of() returns the id of the
 * mount at path (0 if unknown); rootfs_detach_host_bind() detaches the mount
 * at rootfs if it is still mount mnt_id. */
uint64_t mount_id_of(const char *path);
void rootfs_detach_host_bind(const char *rootfs, uint64_t mnt_id);
/* Parses mount options into mount attributes and fs data (exposed for features and tests). */
const char *const *mount_option_names(void);

/* devices.c */
int devices_setup(int rootfd, const struct oci_spec *spec, bool userns, struct berr **err);

/* console.c */
/* In the container (after pivot_root): allocates a pty from its devpts, makes
 * it the controlling terminal and stdio, binds it to /dev/console; returns the master. */
int console_create(const struct oci_process *p, struct berr **err);
/* Foreground run/exec with a terminal: copies between our stdio and the pty
 * master, forwards window size, until the master hangs up. */
void console_copy_step(int master, int events_in, int *stdin_open);

/* process.c */
/* Default dispositions and an empty mask: execve keeps ignored signals and the mask. */
void process_reset_signals(void);
/* Resolves args[0] with PATH from the process env, in the current root. */
int process_lookup(const struct oci_process *p, char **path, struct berr **err);
/* rlimits, ioprio, scheduler, affinity: set while still privileged. */
int process_apply_limits(const struct oci_process *p, struct berr **err);
/* Loads a filter that has a listener and hands the notify fd to the runtime
 * over sync_fd: SYNC_SECCOMP_FD carries only the fd's number, written with
 * write(2), which no rule may notify; the runtime copies the fd with
 * pidfd_getfd, gives it to the agent and answers SYNC_SECCOMP_DONE. */
int process_seccomp_listener(struct seccomp_prog *seccomp, int sync_fd, struct berr **err);
/* Identity, capabilities, no_new_privs, seccomp, cwd, fds, then execve.
 * Returns only on error. */
int process_exec(const struct oci_process *p, const char *exec_path, struct seccomp_prog *seccomp,
                 bool userns, int extra_fds, char **extra_env, struct berr **err);

/* hooks.c */
int hooks_run(const struct oci_spec *spec, enum oci_hook_kind kind, json_object *state, struct berr **err);

/* namespaces.c */
int userns_write_maps(pid_t pid, const struct oci_spec *spec, struct berr **err);
int timens_write_offsets(pid_t pid, const struct oci_spec *spec, struct berr **err);
int ns_flags_new(const struct oci_spec *spec);
pid_t clone_fork(unsigned long flags, int cgroup_fd, int *pidfd);

/* Forwarding signals to a foreground container and reaping it. */
int wait_foreground(pid_t pid, int pidfd, int pty_master, int *exit_status, struct berr **err);
/* Opens a pidfd for pid if it is still the process that started at starttime. */
int pidfd_open_checked(pid_t pid, uint64_t starttime);
/* Kill with SIGKILL and wait (pidfd) until gone. */
int kill_and_wait(int pidfd, int timeout_ms);

/* create.c: removes what a stopped container leaves (cgroup, poststop hooks, state dir). */
int container_destroy(const struct runtime_ctx *ctx, const char *id, struct oci_spec *spec, struct cgroup *cg,
                      json_object *state, struct berr **err);
