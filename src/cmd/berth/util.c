/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "basic/timeutil.h"
#include "berth.h"

int berth_fail(struct berr **err, int code)
{
        fprintf(stderr, "Error: %s\n", err && *err && (*err)->msg ? (*err)->msg : "unknown error");
        berr_freep(err);
        return code;
}

int berth_failf(int code, const char *fmt, ...)
{
        va_list ap;

        fputs("Error: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return code;
}

int berth_store(struct berth_ctx *ctx, struct image_store **out, struct berr **err)
{
        if (!ctx->store && image_store_open(ctx->root, &ctx->store, err) < 0)
                return -1;
        *out = ctx->store;
        return 0;
}

void berth_print_usage(FILE *f, const struct berth_usage *u)
{
        fprintf(f, "%s\n\nUsage:\n  %s\n", u->summary, u->usage);
        if (u->options && *u->options)
                fprintf(f, "\nOptions:\n%s", u->options);
}

int berth_usage_error(const struct berth_usage *u, const char *fmt, ...)
{
        va_list ap;

        fputs("Error: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nUsage: %s\nSee '%.*s --help'.\n", u->usage, (int)strcspn(u->usage, "[A-Z"),
                u->usage);
        return EXIT_BERTH;
}

int parse_bool(const char *s, bool *out)
{
        if (!s || streq(s, "true") || streq(s, "1") || streq(s, "yes")) {
                *out = true;
                return 0;
        }
        if (streq(s, "false") || streq(s, "0") || streq(s, "no")) {
                *out = false;
                return 0;
        }
        return -EINVAL;
}

int registry_flags_parse(struct registry_flags *f, int opt, const char *arg)
{
        bool b;

        switch (opt) {
        case OPT_TLS_VERIFY:
                if (parse_bool(arg, &b) < 0) {
                        berth_failf(EXIT_BERTH, "--tls-verify: invalid boolean `%s`", arg);
                        return -1;
                }
                f->tls_verify = b;
                return 0;
        case OPT_CERT_DIR:
                f->cert_dir = arg;
                return 0;
        case OPT_AUTHFILE:
                f->authfile = arg;
                return 0;
        case OPT_CREDS: {
                const char *colon = strchr(arg, ':');
                free(f->creds_user);
                free(f->creds_pass);
                f->creds_user = colon ? strndup(arg, (size_t)(colon - arg)) : strdup(arg);
                f->creds_pass = strdup(colon ? colon + 1 : "");
                if (!f->creds_user || !*f->creds_user) {
                        berth_failf(EXIT_BERTH, "--creds: want USERNAME[:PASSWORD]");
                        return -1;
                }
                return 0;
        }
        }
        return -1;
}

void registry_flags_apply(const struct registry_flags *f, struct registry_opts *o)
{
        o->tls_verify = f->tls_verify;
        o->cert_dir = f->cert_dir;
        o->authfile = f->authfile;
        o->username = f->creds_user;
        o->password = f->creds_pass;
}

void registry_flags_clear(struct registry_flags *f)
{
        free(f->creds_user);
        if (f->creds_pass)
                explicit_bzero(f->creds_pass, strlen(f->creds_pass));
        free(f->creds_pass);
        f->creds_user = f->creds_pass = NULL;
}

char *human_size(uint64_t bytes, char *buf, size_t size)
{
        static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
        double v = (double)bytes;
        size_t i = 0;

        while (v >= 1000.0 && i + 1 < ARRAY_SIZE(units)) {
                v /= 1000.0;
                i++;
        }
        snprintf(buf, size, "%.3g %s", v, units[i]);
        return buf;
}

char *human_since(int64_t ns, char *buf, size_t size)
{
        int64_t secs, mins, hours;

        if (ns <= 0) {
                snprintf(buf, size, "N/A");
                return buf;
        }
        secs = (time_now_ns() - ns) / 1000000000LL;
        mins = secs / 60;
        hours = (secs + 1800) / 3600;
        if (secs < 1)
                snprintf(buf, size, "Less than a second ago");
        else if (secs == 1)
                snprintf(buf, size, "1 second ago");
        else if (secs < 60)
                snprintf(buf, size, "%lld seconds ago", (long long)secs);
        else if (mins == 1)
                snprintf(buf, size, "About a minute ago");
        else if (mins < 60)
                snprintf(buf, size, "%lld minutes ago", (long long)mins);
        else if (hours == 1)
                snprintf(buf, size, "About an hour ago");
        else if (hours < 48)
                snprintf(buf, size, "%lld hours ago", (long long)hours);
        else if (hours < 24 * 7 * 2)
                snprintf(buf, size, "%lld days ago", (long long)(hours / 24));
        else if (hours < 24 * 30 * 2)
                snprintf(buf, size, "%lld weeks ago", (long long)(hours / 24 / 7));
        else if (hours < 24 * 365 * 2)
                snprintf(buf, size, "%lld months ago", (long long)(hours / 24 / 30));
        else
                snprintf(buf, size, "%lld years ago", (long long)(hours / 24 / 365));
        return buf;
}

const char *short_id(const char *digest, char buf[13])
{
        const char *c = strchr(digest, ':');

        snprintf(buf, 13, "%s", c ? c + 1 : digest);
        return buf;
}

bool stdout_is_tty(void)
{
        return isatty(STDOUT_FILENO) == 1;
}

bool stderr_is_tty(void)
{
        const char *term = getenv("TERM");
        return isatty(STDERR_FILENO) == 1 && !(term && streq(term, "dumb"));
}

struct table {
        size_t n_cols, n_rows;
        char **cells;
};

struct table *table_new(size_t n_cols)
{
        struct table *t = calloc(1, sizeof(*t));

        if (t)
                t->n_cols = n_cols;
        return t;
}

void table_add(struct table *t, const char *const *cells)
{
        char **n;

        if (!t)
                return;
        n = realloc(t->cells, (t->n_rows + 1) * t->n_cols * sizeof(char *));
        if (!n)
                return;
        t->cells = n;
        for (size_t i = 0; i < t->n_cols; i++)
                n[t->n_rows * t->n_cols + i] = strdup(cells[i] ? cells[i] : "");
        t->n_rows++;
}

void table_print(struct table *t, FILE *f)
{
        _cleanup_free_ size_t *w = NULL;

        if (!t)
                return;
        w = calloc(t->n_cols, sizeof(size_t));
        if (!w)
                return;
        for (size_t r = 0; r < t->n_rows; r++)
                for (size_t c = 0; c < t->n_cols; c++) {
                        const char *s = t->cells[r * t->n_cols + c];
                        size_t l = s ? strlen(s) + 2 : 2;
                        w[c] = MAX(w[c], MAX(l, (size_t)12));
                }
        for (size_t r = 0; r < t->n_rows; r++) {
                for (size_t c = 0; c < t->n_cols; c++) {
                        const char *s = t->cells[r * t->n_cols + c];
                        if (c + 1 == t->n_cols)
                                fprintf(f, "%s\n", s ? s : "");
                        else
                                fprintf(f, "%-*s", (int)w[c], s ? s : "");
                }
        }
}

void table_free(struct table *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t);
}
