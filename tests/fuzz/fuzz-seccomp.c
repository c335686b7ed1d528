/* SPDX-License-Identifier: Apache-2.0 */
/* linux.seccomp compiler: any JSON either compiles to a filter or fails with
 * an error, never crashes or leaks. Profiles with conditions (the default
 * profile's format) are first resolved for a fixed target, then compiled. */
#include <stdint.h>
#include <stdlib.h>

#include "basic/json.h"
#include "basic/log.h"
#include "runtime/seccomp-default.h"
#include "runtime/seccomp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void compile(json_object *o)
{
        struct seccomp_prog *p = NULL;
        struct berr *err = NULL;

        if (seccomp_prepare(o, &p, &err) == 0)
                seccomp_prog_free(p);
        berr_free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const struct seccomp_target t = {
            .arch = "SCMP_ARCH_X86_64", .caps = 1u << 21, .kernel_major = 6, .kernel_minor = 1};
        json_object *o = NULL, *resolved = NULL;
        struct berr *err = NULL;

        log_setup(-1, LOG_FORMAT_TEXT, LOG_LEVEL_ERROR);
        if (json_parse_buf((const char *)data, size, "fuzz", &o, &err) < 0) {
                berr_free(err);
                return 0;
        }
        compile(o);
        if (seccomp_profile_resolve(o, &t, &resolved, &err) == 0) {
                compile(resolved);
                json_object_put(resolved);
        }
        berr_free(err);
        json_object_put(o);
        return 0;
}
