/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "strv.h"

int json_parse_buf(const char *buf, size_t len, const char *what, json_object **out, struct berr **err)
{
        json_tokener *tok = json_tokener_new_ex(64);
        enum json_tokener_error jerr;
        json_object *obj;

        if (!tok)
                return berr_make(err, ENOMEM, "%s", what);
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        obj = json_tokener_parse_ex(tok, buf, (int)len);
        jerr = json_tokener_get_error(tok);
        if (jerr == json_tokener_continue)
                jerr = json_tokener_error_parse_eof;
        if (jerr == json_tokener_success && (size_t)json_tokener_get_parse_end(tok) < len) {
                size_t i;
                for (i = json_tokener_get_parse_end(tok); i < len; i++)
                        if (!strchr(" \t\r\n", buf[i]))
                                break;
                if (i < len) {
                        json_object_put(obj);
                        json_tokener_free(tok);
                        return berr_make(err, 0, "%s: invalid JSON: trailing data at offset %zu", what, i);
                }
        }
        if (jerr != json_tokener_success) {
                size_t off = json_tokener_get_parse_end(tok);
                json_object_put(obj);
                json_tokener_free(tok);
                return berr_make(err, 0, "%s: invalid JSON at offset %zu: %s", what, off,
                                 json_tokener_error_desc(jerr));
        }
        json_tokener_free(tok);
        *out = obj;
        return 0;
}

const char *json_type_label(json_type t)
{
        switch (t) {
        case json_type_null:
                return "null";
        case json_type_boolean:
                return "a boolean";
        case json_type_double:
                return "a number";
        case json_type_int:
                return "an integer";
        case json_type_object:
                return "an object";
        case json_type_array:
                return "an array";
        case json_type_string:
                return "a string";
        }
        return "?";
}

char *json_path_key(const char *path, const char *key)
{
        char *r;

        if (asprintf(&r, "%s%s%s", path ? path : "", path && *path ? "." : "", key) < 0)
                return NULL;
        return r;
}

char *json_path_idx(const char *path, size_t idx)
{
        char *r;

        if (asprintf(&r, "%s[%zu]", path ? path : "", idx) < 0)
                return NULL;
        return r;
}

int json_get(json_object *obj, const char *path, const char *key, json_type type, bool required,
             json_object **out, struct berr **err)
{
        json_object *v = NULL;

        *out = NULL;
        if (!obj || !json_object_object_get_ex(obj, key, &v) || !v) {
                if (required) {
                        _cleanup_free_ char *p = json_path_key(path, key);
                        return berr_make(err, 0, "%s: required field is missing", p ? p : key);
                }
                return 0;
        }
        if (!json_object_is_type(v, type)) {
                _cleanup_free_ char *p = json_path_key(path, key);
                return berr_make(err, 0, "%s: expected %s, got %s", p ? p : key, json_type_label(type),
                                 json_type_label(json_object_get_type(v)));
        }
        *out = v;
        return 1;
}

int json_get_str(json_object *obj, const char *path, const char *key, bool required, char **out,
                 struct berr **err)
{
        json_object *v;
        int r = json_get(obj, path, key, json_type_string, required, &v, err);

        if (r <= 0)
                return r;
        free(*out);
        *out = strdup(json_object_get_string(v));
        if (!*out)
                return berr_make(err, ENOMEM, "%s", key);
        return 1;
}

int json_get_bool(json_object *obj, const char *path, const char *key, bool *out, struct berr **err)
{
        json_object *v;
        int r = json_get(obj, path, key, json_type_boolean, false, &v, err);

        if (r <= 0)
                return r;
        *out = json_object_get_boolean(v);
        return 1;
}

int json_as_int64(json_object *v, const char *path, int64_t min, int64_t max, int64_t *out, struct berr **err)
{
        int64_t x;

        if (!json_object_is_type(v, json_type_int))
                return berr_make(err, 0, "%s: expected an integer, got %s", path,
                                 json_type_label(json_object_get_type(v)));
        errno = 0;
        x = json_object_get_int64(v);
        if (x == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
                return berr_make(err, 0, "%s: value %" PRIu64 " out of range [%" PRId64 ", %" PRId64 "]", path,
                                 json_object_get_uint64(v), min, max);
        if (x < min || x > max)
                return berr_make(err, 0, "%s: value %" PRId64 " out of range [%" PRId64 ", %" PRId64 "]", path, x,
                                 min, max);
        *out = x;
        return 1;
}

int json_as_uint64(json_object *v, const char *path, uint64_t *out, struct berr **err)
{
        if (!json_object_is_type(v, json_type_int))
                return berr_make(err, 0, "%s: expected an integer, got %s", path,
                                 json_type_label(json_object_get_type(v)));
        if (json_object_get_int64(v) < 0)
                return berr_make(err, 0, "%s: value %" PRId64 " must not be negative", path,
                                 json_object_get_int64(v));
        *out = json_object_get_uint64(v);
        return 1;
}

int json_get_int64(json_object *obj, const char *path, const char *key, int64_t min, int64_t max, int64_t *out,
                   struct berr **err)
{
        _cleanup_free_ char *p = NULL;
        json_object *v = NULL;

        if (!obj || !json_object_object_get_ex(obj, key, &v) || !v)
                return 0;
        p = json_path_key(path, key);
        return json_as_int64(v, p ? p : key, min, max, out, err);
}

int json_get_uint64(json_object *obj, const char *path, const char *key, uint64_t *out, struct berr **err)
{
        _cleanup_free_ char *p = NULL;
        json_object *v = NULL;

        if (!obj || !json_object_object_get_ex(obj, key, &v) || !v)
                return 0;
        p = json_path_key(path, key);
        return json_as_uint64(v, p ? p : key, out, err);
}

int json_get_strv(json_object *obj, const char *path, const char *key, char ***out, struct berr **err)
{
        _cleanup_strv_free_ char **l = NULL;
        json_object *arr;
        size_t n;
        int r = json_get(obj, path, key, json_type_array, false, &arr, err);

        if (r <= 0)
                return r;
        n = json_object_array_length(arr);
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return berr_make(err, ENOMEM, "%s", key);
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(arr, i);
                if (!json_object_is_type(e, json_type_string)) {
                        _cleanup_free_ char *p = json_path_key(path, key);
                        return berr_make(err, 0, "%s[%zu]: expected a string, got %s", p ? p : key, i,
                                         json_type_label(json_object_get_type(e)));
                }
                l[i] = strdup(json_object_get_string(e));
                if (!l[i])
                        return berr_make(err, ENOMEM, "%s", key);
        }
        strv_free(*out);
        *out = TAKE_PTR(l);
        return 1;
}

int json_get_str_map(json_object *obj, const char *path, const char *key, char ***out, struct berr **err)
{
        _cleanup_strv_free_ char **l = NULL;
        json_object *map;
        size_t i = 0;
        int r = json_get(obj, path, key, json_type_object, false, &map, err);

        if (r <= 0)
                return r;
        l = calloc(2 * (size_t)json_object_object_length(map) + 1, sizeof(char *));
        if (!l)
                return berr_make(err, ENOMEM, "%s", key);
        json_object_object_foreach(map, k, v)
        {
                if (!json_object_is_type(v, json_type_string)) {
                        _cleanup_free_ char *p = json_path_key(path, key);
                        return berr_make(err, 0, "%s.%s: expected a string, got %s", p ? p : key, k,
                                         json_type_label(json_object_get_type(v)));
                }
                l[i] = strdup(k);
                l[i + 1] = strdup(json_object_get_string(v));
                if (!l[i] || !l[i + 1])
                        return berr_make(err, ENOMEM, "%s", key);
                i += 2;
        }
        strv_free(*out);
        *out = TAKE_PTR(l);
        return 1;
}

const char *json_to_string(json_object *obj, bool pretty)
{
        return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_NOSLASHESCAPE |
                                                           (pretty ? JSON_C_TO_STRING_PRETTY |
                                                                             JSON_C_TO_STRING_SPACED
                                                                   : JSON_C_TO_STRING_PLAIN));
}
