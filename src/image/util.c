/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>

#include "util.h"

int img_err(struct berr **err, int code, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        bool had = err && *err;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        berr_make(err, 0, "%s", n >= 0 ? msg : "out of memory");
        if (err && *err && !had)
                (*err)->code = code;
        return code > 0 ? -code : -1;
}
