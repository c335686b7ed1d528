/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prints the linux.seccomp object of a conditional profile (such as
 * data/seccomp/default.json) for an architecture and a capability set, as
 * the engine will put it into config.json.
 *   seccomp-resolve PROFILE ARCH|native [CAP_X,CAP_Y,...]
 */
#include <stdio.h>
#include <string.h>

#include "basic/json.h"
#include "oci/spec.h"
#include "runtime/seccomp-default.h"

int main(int argc, char **argv)
{
        struct seccomp_target t = {0};
        struct berr *err = NULL;
        json_object *profile, *out;

        if (argc < 3 || argc > 4) {
                fprintf(stderr, "usage: seccomp-resolve PROFILE ARCH|native [CAP_X,CAP_Y,...]\n");
                return 2;
        }
        t.arch = strcmp(argv[2], "native") == 0 ? NULL : argv[2];
        for (char *cap = argc > 3 ? strtok(argv[3], ",") : NULL; cap; cap = strtok(NULL, ",")) {
                int c = oci_cap_from_name(cap);
                if (c < 0) {
                        fprintf(stderr, "seccomp-resolve: unknown capability %s\n", cap);
                        return 2;
                }
                t.caps |= UINT64_C(1) << c;
        }
        if (seccomp_profile_load(argv[1], &profile, &err) < 0 ||
            seccomp_profile_resolve(profile, &t, &out, &err) < 0) {
                fprintf(stderr, "seccomp-resolve: %s\n", err->msg);
                return 1;
        }
        puts(json_to_string(out, true));
        json_object_put(out);
        json_object_put(profile);
        return 0;
}
