/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "basic/error.h"

/* linux.seccomp, compiled by the runtime before the container exists, so a
 * bad profile fails `create` early and the child only has to load it. */
struct seccomp_prog;

int seccomp_prepare(json_object *seccomp, struct seccomp_prog **out, struct berr **err);
/* The same, keeping compiled programs in the directory cache_dirfd (one only
 * the runtime writes, such as <root>/seccomp-cache): compiling the default
 * profile takes libseccomp tens of milliseconds, a cache hit a fraction of
 * one. Cache failures are not errors. cache_dirfd -1: no cache. */
int seccomp_prepare_cached(json_object *seccomp, int cache_dirfd, struct seccomp_prog **out,
                           struct berr **err);
/* The cache directory <root>/.seccomp-cache (created if missing; `list`
 * skips dot names), or -1 when it cannot be used, which is not an error. */
#define SECCOMP_CACHE_DIR ".seccomp-cache"
int seccomp_cache_open(const char *root);
/* Installs the filter in the calling process, which needs no_new_privs set
 * or CAP_SYS_ADMIN (noNewPrivileges false: before dropping it). A NULL p
 * (no seccomp) does nothing. When a rule uses
 * SCMP_ACT_NOTIFY (which requires a listenerPath) the SECCOMP_RET_USER_NOTIF
 * fd is returned in *notify_fd (else -1), for seccomp_forward_to_listener. */
int seccomp_install(struct seccomp_prog *p, int *notify_fd, struct berr **err);
bool seccomp_has_listener(const struct seccomp_prog *p);
/* Sends the notify fd and the container state to listenerPath, as runc does:
 * {"ociVersion","fds":["seccompFd"],"pid","metadata","state"}, the fd attached
 * with SCM_RIGHTS. The process is the container's init (state's "pid"). */
int seccomp_send_to_listener(const struct seccomp_prog *p, int notify_fd, json_object *state,
                             struct berr **err);
/* Same for another process of the container (exec): pid is that process. */
int seccomp_send_process_to_listener(const struct seccomp_prog *p, int notify_fd, pid_t pid,
                                     json_object *state, struct berr **err);
/* Same, with the notify fd still in the container process `pidfd`, known by
 * its number there: the process reports the number with write(2), which no
 * rule may notify, and the fd is copied with pidfd_getfd (as runc does). */
int seccomp_forward_to_listener(const struct seccomp_prog *p, int pidfd, int remote_fd, pid_t pid,
                                json_object *state, struct berr **err);
/* The flags given to seccomp(2) and the program's length, for debug logs. */
unsigned int seccomp_prog_flags(const struct seccomp_prog *p);
size_t seccomp_prog_length(const struct seccomp_prog *p);
void seccomp_prog_free(struct seccomp_prog *p);
static inline void seccomp_prog_freep(struct seccomp_prog **p)
{
        seccomp_prog_free(*p);
}
#define _cleanup_seccomp_prog_ _cleanup_(seccomp_prog_freep)

/* The "seccomp" object of the runtime features document. */
json_object *seccomp_features(void);
