/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "basic/error.h"
#include "basic/macro.h"

static inline void json_object_putp(json_object **o)
{
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/* Like berr_make(), but the message is complete as written: code classifies
 * the failure (digest mismatch, not found, limit exceeded...) for callers
 * without appending strerror(code), which would only blur a precise message. */
int img_err(struct berr **err, int code, const char *fmt, ...) _printf_(3, 4);
