/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "spec.h"

/* An error about a value the user gave: the message as is (no strerror), with code. */
int eng_err(struct berr **err, int code, const char *fmt, ...) _printf_(3, 4);

/* Go's strconv.ParseBool, which docker uses for option values. */
int engine_parse_bool(const char *s, bool *out);
/* --cpus: a decimal with at most 9 fractional digits -> nano CPUs. */
int engine_parse_cpus(const char *s, int64_t *nano, struct berr **err);
/* Decimal integer within [min, max] for flag. */
int engine_parse_int(const char *flag, const char *s, int64_t min, int64_t max, int64_t *out,
                     struct berr **err);
/* --ulimit NAME=SOFT[:HARD]; -1 is unlimited. */
int engine_parse_ulimit(const char *s, int *resource, uint64_t *soft, uint64_t *hard, struct berr **err);
/* docker's tmpfs options: defaults noexec,nosuid,nodev,rprivate then data,
 * later options overriding earlier ones of the same kind. */
int engine_tmpfs_options(const char *flag, const char *data, char ***out, struct berr **err);
/* --cpuset-cpus/--cpuset-mems: list syntax, and each id present in the list
 * read from avail (a /sys file such as /sys/devices/system/cpu/online). */
int engine_parse_cpuset(const char *flag, const char *s, const char *avail, struct berr **err);
/* "0-3,5" -> bitmap test; returns -EINVAL on bad syntax. */
int engine_cpuset_contains(const char *list, unsigned id);
/* Reads the environment entry for name from env (NULL: environ). */
const char *engine_getenv(const char *const *env, const char *name);
/* A mount destination checked (absolute, not "/") and cleaned as docker's filepath.Clean
 * does: ".." at the root stays at the root, so "/../../x" is "/x" (mounts are ordered by
 * depth, and a ".." would count as one). */
int engine_clean_destination(const char *flag, const char *spec, const char *dest, char **out,
                             struct berr **err);

json_object *engine_json_strv(const char *const *v);
