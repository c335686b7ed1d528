/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "basic/error.h"

/* linux.seccomp, compiled by the runtime before the container exists, so a
 * bad profile fails `create` early and the child only has to load it. */
struct seccomp_prog;

int seccomp_prepare(json_object *seccomp, struct seccomp_prog **out, struct berr **err);
/* Installs the filter in the calling process. With a listenerPath the
 * SECCOMP_RET_USER_NOTIF fd is returned in *notify_fd (else -1). */
int seccomp_install(struct seccomp_prog *p, int *notify_fd, struct berr **err);
bool seccomp_has_listener(const struct seccomp_prog *p);
/* Sends the notify fd and the container state to listenerPath, as runc does. */
int seccomp_send_to_listener(const struct seccomp_prog *p, int notify_fd, json_object *state,
                             struct berr **err);
void seccomp_prog_free(struct seccomp_prog *p);
static inline void seccomp_prog_freep(struct seccomp_prog **p)
{
        seccomp_prog_free(*p);
}
#define _cleanup_seccomp_prog_ _cleanup_(seccomp_prog_freep)

/* The "seccomp" object of the runtime features document. */
json_object *seccomp_features(void);
