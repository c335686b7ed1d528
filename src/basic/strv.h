/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* NULL-terminated arrays of owned strings. */
void strv_free(char **l);
size_t strv_length(char *const *l);
/* Appends (takes ownership of s); returns 0 or -ENOMEM (s is freed on failure). */
int strv_push(char ***l, char *s);
int strv_extend(char ***l, const char *s);
bool strv_contains(char *const *l, const char *s);
/* Finds "KEY=..." in an environment list; returns the entry's index or -1. */
ssize_t strv_env_find(char *const *l, const char *key, size_t keylen);

static inline void strv_freep(char ***l)
{
        strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)
#define STRV_FOREACH(s, l) for (char *const *s = (l); s && *s; s++)
