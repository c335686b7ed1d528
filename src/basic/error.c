/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <string.h>

#include "error.h"

static int make_v(struct berr **err, int code, const char *fmt, va_list ap)
{
        int ret = code > 0 ? -code : -1;
        char *msg = NULL;

        if (!err || *err)
                return ret;
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        if (msg && code > 0) {
                char *full = NULL;
                if (asprintf(&full, "%s: %s", msg, strerror(code)) >= 0) {
                        free(msg);
                        msg = full;
                }
        }
        *err = calloc(1, sizeof(**err));
        if (!*err) {
                free(msg);
                return ret;
        }
        (*err)->code = code;
        (*err)->msg = msg ? msg : strdup("out of memory");
        return ret;
}

int berr_make(struct berr **err, int code, const char *fmt, ...)
{
        va_list ap;
        int ret;

        va_start(ap, fmt);
        ret = make_v(err, code, fmt, ap);
        va_end(ap);
        return ret;
}

int berr_make_raw(struct berr **err, int code, const char *msg)
{
        int ret = code > 0 ? -code : -1;

        if (!err || *err)
                return ret;
        *err = calloc(1, sizeof(**err));
        if (!*err)
                return ret;
        (*err)->code = code > 0 ? code : 0;
        (*err)->msg = strdup(msg ? msg : "");
        return ret;
}

int berr_errno(struct berr **err, const char *fmt, ...)
{
        int code = errno ? errno : EIO;
        va_list ap;
        int ret;

        va_start(ap, fmt);
        ret = make_v(err, code, fmt, ap);
        va_end(ap);
        return ret;
}

int berr_wrap(struct berr **err, const char *fmt, ...)
{
        char *ctx = NULL, *full = NULL;
        va_list ap;

        if (!err || !*err)
                return -1;
        va_start(ap, fmt);
        if (vasprintf(&ctx, fmt, ap) < 0)
                ctx = NULL;
        va_end(ap);
        if (ctx && asprintf(&full, "%s: %s", ctx, (*err)->msg ? (*err)->msg : "") >= 0) {
                free((*err)->msg);
                (*err)->msg = full;
        }
        free(ctx);
        return (*err)->code > 0 ? -(*err)->code : -1;
}

void berr_free(struct berr *err)
{
        if (!err)
                return;
        free(err->msg);
        free(err);
}

void berr_move(struct berr **to, struct berr **from)
{
        if (!to) {
                berr_freep(from);
                return;
        }
        berr_freep(to);
        *to = *from;
        *from = NULL;
}
