/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder until libseccomp support lands: refuses any profile. */
#include "seccomp.h"

struct seccomp_prog {
        int unused;
};

int seccomp_prepare(json_object *seccomp, struct seccomp_prog **out, struct berr **err)
{
        *out = NULL;
        if (seccomp)
                return berr_make(err, ENOTSUP, "linux.seccomp: seccomp is not supported yet");
        return 0;
}

int seccomp_install(struct seccomp_prog *p, int *notify_fd, struct berr **err)
{
        *notify_fd = -1;
        return 0;
}

bool seccomp_has_listener(const struct seccomp_prog *p)
{
        return false;
}

int seccomp_send_to_listener(const struct seccomp_prog *p, int notify_fd, json_object *state, struct berr **err)
{
        return 0;
}

void seccomp_prog_free(struct seccomp_prog *p)
{
}

json_object *seccomp_features(void)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "enabled", json_object_new_boolean(0));
        return o;
}
