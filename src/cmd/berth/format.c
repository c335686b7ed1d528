/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The part of Go's text/template that `--format` users type: literal text,
 * {{.Field}}, {{.Field.Sub}}, {{json .Field}}, {{.}}, and a leading "table"
 * (podman prints a header line of the field names). Escapes \t and \n work in
 * the literal text as podman's do.
 */
#include <ctype.h>
#include <string.h>

#include "basic/json.h"
#include "berth.h"

bool format_is_table(const char *tmpl)
{
        return strneq(tmpl, "table", 5) && (tmpl[5] == ' ' || tmpl[5] == '\0');
}

static const char *body_of(const char *tmpl)
{
        if (format_is_table(tmpl)) {
                tmpl += 5;
                while (*tmpl == ' ')
                        tmpl++;
        }
        return tmpl;
}

static void put_literal(const char *s, size_t n, FILE *out)
{
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '\\' && i + 1 < n && (s[i + 1] == 't' || s[i + 1] == 'n')) {
                        fputc(s[i + 1] == 't' ? '\t' : '\n', out);
                        i++;
                } else {
                        fputc(s[i], out);
                }
        }
}

/* Go's fmt %v of a value. */
static void put_value(json_object *v, FILE *out)
{
        switch (json_object_get_type(v)) {
        case json_type_null:
                fputs("<no value>", out);
                break;
        case json_type_string:
                fputs(json_object_get_string(v), out);
                break;
        case json_type_array:
                fputc('[', out);
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        if (i)
                                fputc(' ', out);
                        put_value(json_object_array_get_idx(v, i), out);
                }
                fputc(']', out);
                break;
        case json_type_object: {
                bool first = true;
                fputs("map[", out);
                json_object_object_foreach (v, k, e) {
                        fprintf(out, "%s%s:", first ? "" : " ", k);
                        put_value(e, out);
                        first = false;
                }
                fputc(']', out);
                break;
        }
        default:
                fputs(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), out);
        }
}

int format_template(const char *tmpl, json_object *obj, FILE *out, struct berr **err)
{
        const char *p = body_of(tmpl);

        while (*p) {
                const char *open = strstr(p, "{{"), *close;
                _cleanup_free_ char *action = NULL;
                char *a, *path, *save = NULL;
                bool json = false;
                json_object *v = obj;

                if (!open) {
                        put_literal(p, strlen(p), out);
                        break;
                }
                put_literal(p, (size_t)(open - p), out);
                close = strstr(open + 2, "}}");
                if (!close)
                        return berr_make(err, EINVAL, "template: unclosed action in `%s`", tmpl);
                action = strndup(open + 2, (size_t)(close - open - 2));
                if (!action)
                        return berr_make(err, ENOMEM, "template");
                a = action;
                while (isspace((unsigned char)*a) || *a == '-')
                        a++;
                for (char *e = a + strlen(a); e > a && (isspace((unsigned char)e[-1]) || e[-1] == '-'); e--)
                        e[-1] = '\0';
                if (strneq(a, "json ", 5)) {
                        json = true;
                        a += 5;
                        while (*a == ' ')
                                a++;
                }
                if (*a != '.')
                        return berr_make(err, EINVAL, "template: unsupported action `{{%s}}`", action);
                for (path = strtok_r(a + 1, ".", &save); path; path = strtok_r(NULL, ".", &save)) {
                        json_object *n = NULL;
                        if (!json_object_is_type(v, json_type_object) ||
                            !json_object_object_get_ex(v, path, &n))
                                return berr_make(err, EINVAL, "template: can't evaluate field %s", path);
                        v = n;
                }
                if (json)
                        fputs(json_to_string(v, false), out);
                else
                        put_value(v, out);
                p = close + 2;
        }
        fputc('\n', out);
        return 0;
}

void format_table_header(const char *tmpl, FILE *out)
{
        const char *p = body_of(tmpl);

        while (*p) {
                const char *open = strstr(p, "{{"), *close;
                const char *f, *e;
                if (!open) {
                        put_literal(p, strlen(p), out);
                        break;
                }
                put_literal(p, (size_t)(open - p), out);
                close = strstr(open + 2, "}}");
                if (!close)
                        break;
                f = open + 2;
                while (f < close && (*f == ' ' || *f == '.'))
                        f++;
                if (strneq(f, "json ", 5))
                        f += 5;
                while (f < close && (*f == ' ' || *f == '.'))
                        f++;
                e = f;
                while (e < close && *e != ' ' && *e != '}')
                        e++;
                for (const char *c = f; c < e; c++)
                        fputc(*c == '.' ? ' ' : toupper((unsigned char)*c), out);
                p = close + 2;
        }
        fputc('\n', out);
}
