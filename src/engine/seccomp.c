/* SPDX-License-Identifier: Apache-2.0 */
#include "runtime/seccomp-default.h"
#include "spec-internal.h"

int engine_seccomp_resolve(json_object *profile, uint64_t caps, json_object **out, struct berr **err)
{
        const struct seccomp_target t = {.caps = caps};

        return seccomp_profile_resolve(profile, &t, out, err);
}
