/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/*
 * Typed access to json-c objects for parsers of untrusted documents. Every
 * getter takes the dotted path of the parent ("process.user") for error
 * messages, returns 1 when the key is present with the right type, 0 when it
 * is absent or null (and not required), or a negative error naming the field.
 */
int json_parse_buf(const char *buf, size_t len, const char *what, json_object **out, struct berr **err);

const char *json_type_label(json_type t);
int json_get(json_object *obj, const char *path, const char *key, json_type type, bool required,
             json_object **out, struct berr **err);
int json_get_str(json_object *obj, const char *path, const char *key, bool required, char **out,
                 struct berr **err);
int json_get_bool(json_object *obj, const char *path, const char *key, bool *out, struct berr **err);
int json_get_int64(json_object *obj, const char *path, const char *key, int64_t min, int64_t max, int64_t *out,
                   struct berr **err);
int json_get_uint64(json_object *obj, const char *path, const char *key, uint64_t *out, struct berr **err);
/* Value checks for elements of arrays (path names the element). */
int json_as_int64(json_object *v, const char *path, int64_t min, int64_t max, int64_t *out, struct berr **err);
int json_as_uint64(json_object *v, const char *path, uint64_t *out, struct berr **err);
/* Array of strings -> strv. */
int json_get_strv(json_object *obj, const char *path, const char *key, char ***out, struct berr **err);
/* Object of string values -> strv of alternating key, value. */
int json_get_str_map(json_object *obj, const char *path, const char *key, char ***out, struct berr **err);

/* Joins a parent path and a key/index for messages: "a.b", "a[3]". */
char *json_path_key(const char *path, const char *key);
char *json_path_idx(const char *path, size_t idx);

/* Serializes without escaping slashes; returned string is owned by obj. */
const char *json_to_string(json_object *obj, bool pretty);
