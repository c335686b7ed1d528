/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <fcntl.h>
#include <string.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "registries.h"
#include "util.h"

#define CONF_MAX_SIZE    (1u << 20)
#define CONF_MAX_REGS    1024
#define CONF_MAX_MIRRORS 64

/*
 * Debian ships no C TOML library, so this reads the small TOML subset that
 * registries.conf files use: [table], [[array.table]], key = string /
 * 'literal' / bool / integer / array of those, comments. Anything else is an
 * error naming the line.
 */
enum tval_type { TV_STRING, TV_BOOL, TV_INT, TV_ARRAY };

struct tval {
        enum tval_type type;
        char *str;
        bool b;
        long long i;
        char **arr; /* arrays hold strings only */
};

struct lexer {
        const char *p, *end, *what;
        int line;
        struct berr **err;
};

static int lex_error(struct lexer *lx, const char *msg)
{
        return img_err(lx->err, EINVAL, "%s:%d: %s", lx->what, lx->line, msg);
}

/* Skips blanks and comments; with newlines also line breaks. */
static void lex_skip(struct lexer *lx, bool newlines)
{
        while (lx->p < lx->end) {
                char c = *lx->p;
                if (c == ' ' || c == '\t' || c == '\r') {
                        lx->p++;
                } else if (c == '#') {
                        while (lx->p < lx->end && *lx->p != '\n')
                                lx->p++;
                } else if (c == '\n' && newlines) {
                        lx->line++;
                        lx->p++;
                } else {
                        break;
                }
        }
}

static int lex_eol(struct lexer *lx)
{
        lex_skip(lx, false);
        if (lx->p < lx->end && *lx->p != '\n')
                return lex_error(lx, "expected the end of the line");
        return 0;
}

static void put_utf8(char *o, size_t *n, unsigned cp)
{
        if (cp < 0x80) {
                o[(*n)++] = (char)cp;
        } else if (cp < 0x800) {
                o[(*n)++] = (char)(0xc0 | (cp >> 6));
                o[(*n)++] = (char)(0x80 | (cp & 0x3f));
        } else {
                o[(*n)++] = (char)(0xe0 | (cp >> 12));
                o[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                o[(*n)++] = (char)(0x80 | (cp & 0x3f));
        }
}

static int lex_string(struct lexer *lx, char **out)
{
        char quote = *lx->p++;
        size_t n = 0;
        char *o;

        if (lx->end - lx->p >= 2 && lx->p[0] == quote && lx->p[1] == quote)
                return lex_error(lx, "multi-line strings are not supported");
        o = malloc((size_t)(lx->end - lx->p) * 2 + 1);
        if (!o)
                return berr_make(lx->err, ENOMEM, "%s", lx->what);
        while (lx->p < lx->end && *lx->p != quote && *lx->p != '\n') {
                char c = *lx->p++;
                if (c != '\\' || quote == '\'') {
                        o[n++] = c;
                        continue;
                }
                if (lx->p >= lx->end)
                        break;
                c = *lx->p++;
                switch (c) {
                case 'n': o[n++] = '\n'; break;
                case 't': o[n++] = '\t'; break;
                case 'r': o[n++] = '\r'; break;
                case 'b': o[n++] = '\b'; break;
                case 'f': o[n++] = '\f'; break;
                case '"': o[n++] = '"'; break;
                case '\\': o[n++] = '\\'; break;
                case 'u': {
                        unsigned cp = 0;
                        for (int k = 0; k < 4; k++, lx->p++) {
                                if (lx->p >= lx->end || !isxdigit((unsigned char)*lx->p)) {
                                        free(o);
                                        return lex_error(lx, "bad \\u escape");
                                }
                                cp = cp * 16 + (unsigned)(isdigit((unsigned char)*lx->p)
                                                                  ? *lx->p - '0'
                                                                  : tolower((unsigned char)*lx->p) - 'a' + 10);
                        }
                        if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff)) {
                                free(o);
                                return lex_error(lx, "bad \\u escape");
                        }
                        put_utf8(o, &n, cp);
                        break;
                }
                default:
                        free(o);
                        return lex_error(lx, "unknown escape in string");
                }
        }
        if (lx->p >= lx->end || *lx->p != quote) {
                free(o);
                return lex_error(lx, "unterminated string");
        }
        lx->p++;
        o[n] = '\0';
        if (strlen(o) != n) {
                free(o);
                return lex_error(lx, "NUL in string");
        }
        *out = o;
        return 0;
}

static bool is_bare(char c)
{
        return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* A key or dotted table name: bare or quoted parts joined with '.'. */
static int lex_key(struct lexer *lx, bool dotted, char **out)
{
        _cleanup_free_ char *key = NULL;

        for (;;) {
                _cleanup_free_ char *part = NULL;
                char *nk;
                lex_skip(lx, false);
                if (lx->p < lx->end && (*lx->p == '"' || *lx->p == '\'')) {
                        if (lex_string(lx, &part) < 0)
                                return -1;
                } else {
                        const char *s = lx->p;
                        while (lx->p < lx->end && is_bare(*lx->p))
                                lx->p++;
                        if (lx->p == s)
                                return lex_error(lx, "expected a key");
                        part = strndup(s, (size_t)(lx->p - s));
                }
                if (!part || asprintf(&nk, "%s%s%s", key ? key : "", key ? "." : "", part) < 0)
                        return berr_make(lx->err, ENOMEM, "%s", lx->what);
                free(key);
                key = nk;
                lex_skip(lx, false);
                if (!dotted || lx->p >= lx->end || *lx->p != '.')
                        break;
                lx->p++;
        }
        *out = TAKE_PTR(key);
        return 0;
}

static void tval_clear(struct tval *v)
{
        free(v->str);
        strv_free(v->arr);
        memset(v, 0, sizeof(*v));
}

static int lex_scalar(struct lexer *lx, struct tval *v)
{
        if (lx->p >= lx->end)
                return lex_error(lx, "expected a value");
        if (*lx->p == '"' || *lx->p == '\'') {
                v->type = TV_STRING;
                return lex_string(lx, &v->str);
        }
        if (lx->end - lx->p >= 4 && strneq(lx->p, "true", 4) && (lx->end - lx->p == 4 || !is_bare(lx->p[4]))) {
                v->type = TV_BOOL;
                v->b = true;
                lx->p += 4;
                return 0;
        }
        if (lx->end - lx->p >= 5 && strneq(lx->p, "false", 5) && (lx->end - lx->p == 5 || !is_bare(lx->p[5]))) {
                v->type = TV_BOOL;
                v->b = false;
                lx->p += 5;
                return 0;
        }
        if (isdigit((unsigned char)*lx->p) || *lx->p == '-' || *lx->p == '+') {
                const char *s = lx->p;
                char buf[32];
                char *e;
                lx->p++;
                while (lx->p < lx->end && (isdigit((unsigned char)*lx->p) || *lx->p == '_'))
                        lx->p++;
                if ((size_t)(lx->p - s) >= sizeof(buf))
                        return lex_error(lx, "integer too long");
                memcpy(buf, s, (size_t)(lx->p - s));
                buf[lx->p - s] = '\0';
                errno = 0;
                v->type = TV_INT;
                v->i = strtoll(buf, &e, 10);
                if (errno || *e)
                        return lex_error(lx, "bad integer");
                return 0;
        }
        return lex_error(lx, "unsupported value (want a string, boolean, integer or array)");
}

static int lex_value(struct lexer *lx, struct tval *v)
{
        lex_skip(lx, false);
        if (lx->p < lx->end && *lx->p == '[') {
                lx->p++;
                v->type = TV_ARRAY;
                v->arr = calloc(1, sizeof(char *));
                if (!v->arr)
                        return berr_make(lx->err, ENOMEM, "%s", lx->what);
                for (;;) {
                        struct tval e = {0};
                        lex_skip(lx, true);
                        if (lx->p < lx->end && *lx->p == ']') {
                                lx->p++;
                                return 0;
                        }
                        if (lex_scalar(lx, &e) < 0)
                                return -1;
                        if (e.type != TV_STRING) {
                                tval_clear(&e);
                                return lex_error(lx, "only arrays of strings are supported");
                        }
                        if (strv_length(v->arr) >= CONF_MAX_REGS) {
                                tval_clear(&e);
                                return lex_error(lx, "array too long");
                        }
                        if (strv_push(&v->arr, TAKE_PTR(e.str)) < 0)
                                return berr_make(lx->err, ENOMEM, "%s", lx->what);
                        lex_skip(lx, true);
                        if (lx->p < lx->end && *lx->p == ',') {
                                lx->p++;
                                continue;
                        }
                        if (lx->p < lx->end && *lx->p == ']')
                                continue;
                        return lex_error(lx, "expected `,` or `]` in array");
                }
        }
        if (lx->p < lx->end && *lx->p == '{')
                return lex_error(lx, "inline tables are not supported");
        return lex_scalar(lx, v);
}

void registries_conf_free(struct registries_conf *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n_regs; i++) {
                struct registry_entry *r = &c->regs[i];
                free(r->prefix);
                free(r->location);
                for (size_t j = 0; j < r->n_mirrors; j++)
                        free(r->mirrors[j].location);
                free(r->mirrors);
        }
        free(c->regs);
        strv_free(c->search);
        free(c);
}

static struct registry_entry *add_reg(struct registries_conf *c, struct lexer *lx)
{
        struct registry_entry *n;

        if (c->n_regs >= CONF_MAX_REGS) {
                lex_error(lx, "too many [[registry]] tables");
                return NULL;
        }
        n = realloc(c->regs, (c->n_regs + 1) * sizeof(*n));
        if (!n) {
                berr_make(lx->err, ENOMEM, "%s", lx->what);
                return NULL;
        }
        c->regs = n;
        memset(&n[c->n_regs], 0, sizeof(*n));
        return &n[c->n_regs++];
}

static int want_type(struct lexer *lx, const char *key, const struct tval *v, enum tval_type t)
{
        static const char *const names[] = {"a string", "a boolean", "an integer", "an array"};

        if (v->type == t)
                return 0;
        return img_err(lx->err, EINVAL, "%s:%d: `%s` must be %s", lx->what, lx->line, key, names[t]);
}

/* v1 tables: [registries.insecure] / [registries.block] registries = [...] */
static int add_v1(struct registries_conf *c, struct lexer *lx, char **hosts, bool insecure)
{
        STRV_FOREACH (h, hosts) {
                struct registry_entry *r = add_reg(c, lx);
                if (!r)
                        return -1;
                r->prefix = strdup(*h);
                r->location = strdup(*h);
                if (!r->prefix || !r->location)
                        return berr_make(lx->err, ENOMEM, "%s", lx->what);
                r->insecure = insecure;
                r->blocked = !insecure;
        }
        return 0;
}

int registries_conf_parse(const char *buf, size_t len, const char *what, struct registries_conf **out,
                          struct berr **err)
{
        struct lexer lx = {.p = buf, .end = buf + len, .what = what, .line = 1, .err = err};
        _cleanup_registries_conf_ struct registries_conf *c = calloc(1, sizeof(*c));
        _cleanup_free_ char *table = NULL;
        struct registry_entry *reg = NULL;
        struct registry_mirror *mirror = NULL;

        if (!c)
                return berr_make(err, ENOMEM, "%s", what);
        if (len > CONF_MAX_SIZE)
                return img_err(err, EFBIG, "%s: larger than %u bytes", what, CONF_MAX_SIZE);
        if (memchr(buf, '\0', len))
                return img_err(err, EINVAL, "%s: contains a NUL byte", what);
        for (;;) {
                _cleanup_free_ char *key = NULL;
                struct tval v = {0};
                int r = 0;

                lex_skip(&lx, true);
                if (lx.p >= lx.end)
                        break;
                if (*lx.p == '[') {
                        bool array = lx.end - lx.p >= 2 && lx.p[1] == '[';
                        lx.p += array ? 2 : 1;
                        free(table);
                        table = NULL;
                        if (lex_key(&lx, true, &table) < 0)
                                return -1;
                        if (lx.p >= lx.end || *lx.p != ']' || (array && (lx.end - lx.p < 2 || lx.p[1] != ']')))
                                return lex_error(&lx, "expected `]`");
                        lx.p += array ? 2 : 1;
                        if (lex_eol(&lx) < 0)
                                return -1;
                        mirror = NULL;
                        if (array && streq(table, "registry")) {
                                reg = add_reg(c, &lx);
                                if (!reg)
                                        return -1;
                        } else if (array && streq(table, "registry.mirror")) {
                                struct registry_mirror *m;
                                if (!reg)
                                        return lex_error(&lx, "[[registry.mirror]] outside a [[registry]]");
                                if (reg->n_mirrors >= CONF_MAX_MIRRORS)
                                        return lex_error(&lx, "too many mirrors");
                                m = realloc(reg->mirrors, (reg->n_mirrors + 1) * sizeof(*m));
                                if (!m)
                                        return berr_make(err, ENOMEM, "%s", what);
                                reg->mirrors = m;
                                mirror = &m[reg->n_mirrors++];
                                memset(mirror, 0, sizeof(*mirror));
                        } else if (array || streq(table, "registry")) {
                                return lex_error(&lx, "unsupported table");
                        }
                        continue;
                }
                if (lex_key(&lx, false, &key) < 0)
                        return -1;
                if (lx.p >= lx.end || *lx.p != '=')
                        return lex_error(&lx, "expected `=` after the key");
                lx.p++;
                if (lex_value(&lx, &v) < 0 || lex_eol(&lx) < 0) {
                        tval_clear(&v);
                        return -1;
                }
                if (!table) {
                        if (streq(key, "unqualified-search-registries") &&
                            (r = want_type(&lx, key, &v, TV_ARRAY)) == 0) {
                                strv_free(c->search);
                                c->search = TAKE_PTR(v.arr);
                        }
                } else if (streq(table, "registry.mirror") && mirror) {
                        if (streq(key, "location") && (r = want_type(&lx, key, &v, TV_STRING)) == 0) {
                                free(mirror->location);
                                mirror->location = TAKE_PTR(v.str);
                        } else if (streq(key, "insecure") && (r = want_type(&lx, key, &v, TV_BOOL)) == 0) {
                                mirror->insecure = v.b;
                        }
                } else if (streq(table, "registry") && reg) {
                        if ((streq(key, "location") || streq(key, "prefix")) &&
                            (r = want_type(&lx, key, &v, TV_STRING)) == 0) {
                                char **dst = streq(key, "location") ? &reg->location : &reg->prefix;
                                free(*dst);
                                *dst = TAKE_PTR(v.str);
                        } else if (streq(key, "insecure") && (r = want_type(&lx, key, &v, TV_BOOL)) == 0) {
                                reg->insecure = v.b;
                        } else if (streq(key, "blocked") && (r = want_type(&lx, key, &v, TV_BOOL)) == 0) {
                                reg->blocked = v.b;
                        }
                } else if ((streq(table, "registries.insecure") || streq(table, "registries.block")) &&
                           streq(key, "registries")) {
                        if ((r = want_type(&lx, key, &v, TV_ARRAY)) == 0)
                                r = add_v1(c, &lx, v.arr, streq(table, "registries.insecure"));
                        reg = NULL;
                } else if (streq(table, "registries.search") && streq(key, "registries")) {
                        if ((r = want_type(&lx, key, &v, TV_ARRAY)) == 0) {
                                strv_free(c->search);
                                c->search = TAKE_PTR(v.arr);
                        }
                } else {
                        log_debug("%s:%d: ignoring `%s`", what, lx.line, key);
                }
                tval_clear(&v);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < c->n_regs; i++) {
                struct registry_entry *r = &c->regs[i];
                if (!r->location && !r->prefix)
                        return img_err(err, EINVAL, "%s: [[registry]] #%zu has neither location nor prefix", what,
                                         i + 1);
                if (!r->prefix && !(r->prefix = strdup(r->location)))
                        return berr_make(err, ENOMEM, "%s", what);
                for (size_t j = 0; j < r->n_mirrors; j++)
                        if (!r->mirrors[j].location)
                                return img_err(err, EINVAL, "%s: a mirror of `%s` has no location", what,
                                                 r->prefix);
        }
        *out = TAKE_PTR(c);
        return 0;
}

int registries_conf_load(const char *path, struct registries_conf **out, struct berr **err)
{
        _cleanup_free_ char *buf = NULL;
        _cleanup_berr_ struct berr *e = NULL;
        const char *env = getenv("BERTH_REGISTRIES_CONF");
        size_t len = 0;

        if (!path)
                path = env && *env ? env : REGISTRIES_CONF_DEFAULT;
        if (read_file_at(AT_FDCWD, path, CONF_MAX_SIZE, &buf, &len, &e) < 0) {
                if (e->code != ENOENT) {
                        berr_move(err, &e);
                        return -1;
                }
                *out = calloc(1, sizeof(**out));
                return *out ? 0 : berr_make(err, ENOMEM, "%s", path);
        }
        return registries_conf_parse(buf, len, path, out, err);
}

/* Does prefix match name ("domain/path") on a component boundary? "*.example.com" matches subdomains. */
static size_t prefix_match(const char *prefix, const char *name)
{
        size_t l = strlen(prefix);

        if (strneq(prefix, "*.", 2)) {
                const char *slash = strchrnul(name, '/');
                size_t dl = (size_t)(slash - name), sl = l - 1;
                if (dl > sl && strneq(name + dl - sl, prefix + 1, sl))
                        return l;
                return 0;
        }
        if (strneq(name, prefix, l) && (name[l] == '/' || name[l] == '\0'))
                return l;
        return 0;
}

static const struct registry_entry *find_entry(const struct registries_conf *c, const char *name)
{
        const struct registry_entry *best = NULL;
        size_t best_len = 0;

        for (size_t i = 0; c && i < c->n_regs; i++) {
                size_t l = prefix_match(c->regs[i].prefix, name);
                if (l > best_len) {
                        best_len = l;
                        best = &c->regs[i];
                }
        }
        return best;
}

void registry_endpoints_free(struct registry_endpoint *e, size_t n)
{
        for (size_t i = 0; e && i < n; i++) {
                free(e[i].domain);
                free(e[i].path);
        }
        free(e);
}

/* location + the part of name after prefix, split into domain and path. */
static int make_endpoint(struct registry_endpoint *e, const char *location, const char *rest, bool insecure,
                         bool mirror)
{
        _cleanup_free_ char *full = NULL;
        char *slash;

        if (asprintf(&full, "%s%s", location, rest) < 0)
                return -ENOMEM;
        slash = strchr(full, '/');
        if (!slash)
                return -EINVAL;
        e->domain = strndup(full, (size_t)(slash - full));
        e->path = strdup(slash + 1);
        e->insecure = insecure;
        e->mirror = mirror;
        return e->domain && e->path ? 0 : -ENOMEM;
}

int registries_conf_endpoints(const struct registries_conf *c, const char *domain, const char *path, bool pull,
                              struct registry_endpoint **out, size_t *n_out, struct berr **err)
{
        _cleanup_free_ char *name = NULL;
        const struct registry_entry *e;
        struct registry_endpoint *v;
        const char *rest;
        size_t n = 0;
        int r;

        if (asprintf(&name, "%s/%s", domain, path) < 0)
                return berr_make(err, ENOMEM, "registry endpoints");
        e = find_entry(c, name);
        if (e && e->blocked)
                return img_err(err, EACCES, "registry %s is blocked in registries.conf", domain);
        v = calloc(e ? e->n_mirrors + 1 : 1, sizeof(*v));
        if (!v)
                return berr_make(err, ENOMEM, "registry endpoints");
        if (!e) {
                v[0].domain = strdup(domain);
                v[0].path = strdup(path);
                if (!v[0].domain || !v[0].path) {
                        registry_endpoints_free(v, 1);
                        return berr_make(err, ENOMEM, "registry endpoints");
                }
                *out = v;
                *n_out = 1;
                return 0;
        }
        rest = strneq(e->prefix, "*.", 2) ? name + strcspn(name, "/") : name + strlen(e->prefix);
        for (size_t i = 0; pull && i < e->n_mirrors; i++) {
                r = make_endpoint(&v[n++], e->mirrors[i].location, rest, e->mirrors[i].insecure, true);
                if (r < 0) {
                        registry_endpoints_free(v, n);
                        return berr_make(err, -r, "mirror `%s` for %s", e->mirrors[i].location, name);
                }
        }
        /* A wildcard prefix keeps the matched domain as location. */
        r = make_endpoint(&v[n++], e->location && !strneq(e->prefix, "*.", 2) ? e->location : domain, rest,
                          e->insecure, false);
        if (r < 0) {
                registry_endpoints_free(v, n);
                return berr_make(err, -r, "registry location `%s` for %s", e->location ? e->location : domain,
                                 name);
        }
        *out = v;
        *n_out = n;
        return 0;
}

bool registries_conf_insecure(const struct registries_conf *c, const char *domain)
{
        for (size_t i = 0; c && i < c->n_regs; i++) {
                const struct registry_entry *r = &c->regs[i];
                const char *loc = r->location ? r->location : r->prefix;
                size_t l = strcspn(loc, "/");
                if (r->insecure && strlen(domain) == l && strneq(loc, domain, l))
                        return true;
                for (size_t j = 0; j < r->n_mirrors; j++) {
                        loc = r->mirrors[j].location;
                        l = strcspn(loc, "/");
                        if (r->mirrors[j].insecure && strlen(domain) == l && strneq(loc, domain, l))
                                return true;
                }
        }
        return false;
}
