/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "macro.h"

/*
 * Library error: created where the failure happens, naming the path or value
 * that failed. Functions return a negative value and fill *err; only the
 * command layer prints it. `code` is an errno value or 0.
 */
struct berr {
        int code;
        char *msg;
};

/* Sets *err (if err is not NULL and not yet set); with code != 0 appends
 * ": strerror(code)". Returns -code, or -1 when code is 0. */
int berr_make(struct berr **err, int code, const char *fmt, ...) _printf_(3, 4);
/* Sets a message as is (no strerror suffix) with an errno code, e.g. to pass
 * on an error received from another process. */
int berr_make_raw(struct berr **err, int code, const char *msg);
/* Like berr_make(err, errno, ...). */
int berr_errno(struct berr **err, const char *fmt, ...) _printf_(2, 3);
/* Prefixes the message of an existing error with context ("ctx: msg"). */
int berr_wrap(struct berr **err, const char *fmt, ...) _printf_(2, 3);
void berr_free(struct berr *err);
/* Moves *from into *to (freeing what *to held). */
void berr_move(struct berr **to, struct berr **from);

static inline void berr_freep(struct berr **e)
{
        if (*e)
                berr_free(*e);
        *e = NULL;
}
#define _cleanup_berr_ _cleanup_(berr_freep)
