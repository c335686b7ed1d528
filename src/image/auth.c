/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/stat.h>

#include "auth.h"
#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/strv.h"
#include "util.h"

#define AUTH_FILE_MAX (1u << 20)

void auth_challenges_free(struct auth_challenge *c, size_t n)
{
        if (!c)
                return;
        for (size_t i = 0; i < n; i++) {
                free(c[i].scheme);
                strv_free(c[i].params);
        }
        free(c);
}

const char *auth_challenge_param(const struct auth_challenge *c, const char *name)
{
        for (char **p = c->params; p && p[0] && p[1]; p += 2)
                if (streq(p[0], name))
                        return p[1];
        return NULL;
}

static bool is_tchar(char c)
{
        return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ows(const char *p)
{
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

static char *lower_dup(const char *s, size_t n)
{
        char *r = strndup(s, n);

        for (char *q = r; q && *q; q++)
                *q = (char)tolower((unsigned char)*q);
        return r;
}

/* quoted-string with backslash escapes; *p points at the opening quote. */
static char *parse_quoted(const char **p)
{
        const char *s = *p + 1;
        size_t cap = strlen(s) + 1, n = 0;
        char *out = malloc(cap);

        if (!out)
                return NULL;
        for (; *s && *s != '"'; s++) {
                if (*s == '\\' && s[1])
                        s++;
                out[n++] = *s;
        }
        if (*s != '"') {
                free(out);
                return NULL;
        }
        out[n] = '\0';
        *p = s + 1;
        return out;
}

int www_authenticate_parse(const char *header, struct auth_challenge **out, size_t *n_out, struct berr **err)
{
        struct auth_challenge *v = NULL;
        size_t n = 0, params = 0;
        const char *p = header;
        int r = 0;

        if (strlen(header) > WWW_AUTH_MAX_LEN)
                return img_err(err, E2BIG, "WWW-Authenticate header longer than %d bytes", WWW_AUTH_MAX_LEN);
        for (;;) {
                const char *s;
                struct auth_challenge *nv;

                p = skip_ows(p);
                while (*p == ',')
                        p = skip_ows(p + 1);
                if (!*p)
                        break;
                s = p;
                while (is_tchar(*p))
                        p++;
                if (p == s) {
                        r = img_err(err, EINVAL, "WWW-Authenticate: expected an auth scheme at `%.32s`", s);
                        break;
                }
                nv = realloc(v, (n + 1) * sizeof(*v));
                if (!nv) {
                        r = berr_make(err, ENOMEM, "WWW-Authenticate");
                        break;
                }
                v = nv;
                memset(&v[n], 0, sizeof(v[n]));
                v[n].scheme = lower_dup(s, (size_t)(p - s));
                n++;
                if (!v[n - 1].scheme) {
                        r = berr_make(err, ENOMEM, "WWW-Authenticate");
                        break;
                }
                /* auth-params: name = (token / quoted-string), comma separated; a token not
                 * followed by '=' starts the next challenge. */
                for (;;) {
                        const char *ns, *ne, *save = p;
                        char *name, *value;

                        p = skip_ows(p);
                        while (*p == ',')
                                p = skip_ows(p + 1);
                        ns = p;
                        while (is_tchar(*p))
                                p++;
                        ne = p;
                        p = skip_ows(p);
                        if (ne == ns || *p != '=') {
                                p = ne == ns ? p : save;
                                break;
                        }
                        p = skip_ows(p + 1);
                        if (*p == '"') {
                                value = parse_quoted(&p);
                                if (!value) {
                                        r = img_err(err, EINVAL, "WWW-Authenticate: unterminated quoted string");
                                        goto out;
                                }
                        } else {
                                const char *vs = p;
                                while (is_tchar(*p) || *p == '/' || *p == ':' || *p == '=')
                                        p++;
                                value = strndup(vs, (size_t)(p - vs));
                        }
                        name = lower_dup(ns, (size_t)(ne - ns));
                        if (++params > WWW_AUTH_MAX_PARAMS) {
                                free(name);
                                free(value);
                                r = img_err(err, E2BIG, "WWW-Authenticate: more than %d parameters",
                                              WWW_AUTH_MAX_PARAMS);
                                goto out;
                        }
                        if (!value || !name || strv_push(&v[n - 1].params, name) < 0 ||
                            strv_push(&v[n - 1].params, value) < 0) {
                                r = berr_make(err, ENOMEM, "WWW-Authenticate");
                                goto out;
                        }
                        p = skip_ows(p);
                        if (*p && *p != ',') {
                                r = img_err(err, EINVAL, "WWW-Authenticate: unexpected `%.32s`", p);
                                goto out;
                        }
                }
                if (*p && *p != ',' && !is_tchar(*p)) {
                        r = img_err(err, EINVAL, "WWW-Authenticate: unexpected `%.32s`", p);
                        break;
                }
        }
out:
        if (r < 0) {
                auth_challenges_free(v, n);
                return r;
        }
        if (n == 0)
                return img_err(err, EINVAL, "WWW-Authenticate header has no challenge");
        *out = v;
        *n_out = n;
        return 0;
}

void auth_creds_free(struct auth_creds *c)
{
        if (!c)
                return;
        if (c->password)
                explicit_bzero(c->password, strlen(c->password));
        free(c->username);
        free(c->password);
        free(c);
}

char *auth_encode_basic(const char *username, const char *password)
{
        _cleanup_free_ char *plain = NULL;
        size_t n;
        char *out;

        if (asprintf(&plain, "%s:%s", username, password) < 0)
                return NULL;
        n = strlen(plain);
        out = malloc(4 * ((n + 2) / 3) + 1);
        if (out)
                EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)plain, (int)n);
        explicit_bzero(plain, n);
        return out;
}

int auth_decode_basic(const char *b64, struct auth_creds **out, struct berr **err)
{
        size_t n = strlen(b64), pad = 0;
        _cleanup_free_ unsigned char *buf = NULL;
        struct auth_creds *c;
        char *colon;
        int len;

        if (n == 0 || n % 4 != 0 || n > 64 * 1024)
                return img_err(err, EINVAL, "invalid base64 credentials");
        buf = malloc(n / 4 * 3 + 1);
        if (!buf)
                return berr_make(err, ENOMEM, "credentials");
        len = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)n);
        if (len < 0)
                return img_err(err, EINVAL, "invalid base64 credentials");
        while (pad < 2 && b64[n - 1 - pad] == '=')
                pad++;
        len -= (int)pad;
        buf[len] = '\0';
        if (memchr(buf, '\0', (size_t)len) || !(colon = strchr((char *)buf, ':')))
                return img_err(err, EINVAL, "invalid credentials: want base64 of `user:password`");
        c = calloc(1, sizeof(*c));
        if (!c)
                return berr_make(err, ENOMEM, "credentials");
        *colon = '\0';
        c->username = strdup((char *)buf);
        c->password = strdup(colon + 1);
        explicit_bzero(buf, (size_t)len);
        if (!c->username || !c->password) {
                auth_creds_free(c);
                return berr_make(err, ENOMEM, "credentials");
        }
        *out = c;
        return 0;
}

int auth_file_default(char **out, struct berr **err)
{
        const char *env = getenv("REGISTRY_AUTH_FILE"), *xdg = getenv("XDG_RUNTIME_DIR");
        int r;

        if (env && *env)
                r = (*out = strdup(env)) ? 0 : -1;
        else if (xdg && *xdg)
                r = asprintf(out, "%s/containers/auth.json", xdg);
        else
                r = asprintf(out, "/run/containers/%u/auth.json", (unsigned)getuid());
        return r < 0 ? berr_make(err, ENOMEM, "auth file path") : 0;
}

/* Candidate files in podman's order; an explicit file is the only candidate. */
static int auth_files(const char *authfile, char ***out, struct berr **err)
{
        const char *env = getenv("REGISTRY_AUTH_FILE"), *home = getenv("HOME"), *cfg = getenv("XDG_CONFIG_HOME");
        char *p = NULL;

        if (authfile)
                return strv_extend(out, authfile) < 0 ? berr_make(err, ENOMEM, "auth files") : 0;
        if (env && *env)
                return strv_extend(out, env) < 0 ? berr_make(err, ENOMEM, "auth files") : 0;
        if (auth_file_default(&p, err) < 0 || strv_push(out, p) < 0)
                return berr_make(err, ENOMEM, "auth files");
        if (cfg && *cfg ? asprintf(&p, "%s/containers/auth.json", cfg) >= 0
                        : home && *home && asprintf(&p, "%s/.config/containers/auth.json", home) >= 0)
                if (strv_push(out, p) < 0)
                        return berr_make(err, ENOMEM, "auth files");
        if (home && *home && asprintf(&p, "%s/.docker/config.json", home) >= 0)
                if (strv_push(out, p) < 0)
                        return berr_make(err, ENOMEM, "auth files");
        return 0;
}

static int load_auth_file(const char *path, json_object **out, struct berr **err)
{
        _cleanup_free_ char *buf = NULL;
        _cleanup_berr_ struct berr *e = NULL;
        size_t len = 0;

        if (read_file_at(AT_FDCWD, path, AUTH_FILE_MAX, &buf, &len, &e) < 0) {
                if (e->code == ENOENT || e->code == ENOTDIR) {
                        *out = NULL;
                        return 0;
                }
                berr_move(err, &e);
                return -1;
        }
        if (json_parse_buf(buf, len, path, out, err) < 0)
                return -1;
        if (!json_object_is_type(*out, json_type_object)) {
                json_object_put(*out);
                *out = NULL;
                return img_err(err, EINVAL, "%s: expected a JSON object", path);
        }
        return 1;
}

/* "https://index.docker.io/v1/" -> "docker.io", "http://host:5000/v2/" -> "host:5000" */
static char *normalize_key(const char *key)
{
        const char *s = key;
        size_t n;

        if (strneq(s, "https://", 8))
                s += 8;
        else if (strneq(s, "http://", 7))
                s += 7;
        n = strlen(s);
        while (n > 0 && s[n - 1] == '/')
                n--;
        if (n >= 3 && strneq(s + n - 3, "/v1", 3) && (strneq(key, "http", 4)))
                n -= 3;
        if (n >= 3 && strneq(s + n - 3, "/v2", 3) && (strneq(key, "http", 4)))
                n -= 3;
        if ((n == 15 && strneq(s, "index.docker.io", 15)) || (n == 20 && strneq(s, "registry-1.docker.io", 20)))
                return strdup("docker.io");
        return strndup(s, n);
}

static int lookup_in(json_object *doc, const char *path, const char *registry, const char *repo,
                     struct auth_creds **out, struct berr **err)
{
        json_object *auths;
        size_t best_len = 0;
        const char *best = NULL;
        _cleanup_free_ char *full = NULL;

        int r = json_get(doc, path, "auths", json_type_object, false, &auths, err);

        if (r <= 0)
                return r;
        if (asprintf(&full, "%s/%s", registry, repo ? repo : "") < 0)
                return berr_make(err, ENOMEM, "auth lookup");
        json_object_object_foreach(auths, k, v)
        {
                _cleanup_free_ char *nk = normalize_key(k);
                json_object *a;
                size_t l;
                if (!nk)
                        return berr_make(err, ENOMEM, "auth lookup");
                l = strlen(nk);
                /* "reg" matches every repo of reg; "reg/ns" matches reg/ns and reg/ns/... */
                if (!strneq(full, nk, l) || (full[l] != '/' && full[l] != '\0'))
                        continue;
                if (!json_object_object_get_ex(v, "auth", &a) || !json_object_is_type(a, json_type_string) ||
                    !*json_object_get_string(a))
                        continue;
                if (l > best_len) {
                        best_len = l;
                        best = json_object_get_string(a);
                }
        }
        if (!best)
                return 0;
        if (auth_decode_basic(best, out, err) < 0)
                return berr_wrap(err, "%s: credentials for %s", path, registry);
        return 1;
}

int auth_lookup(const char *authfile, const char *registry, const char *repo, struct auth_creds **out,
                struct berr **err)
{
        _cleanup_strv_free_ char **files = NULL;

        if (auth_files(authfile, &files, err) < 0)
                return -1;
        STRV_FOREACH (f, files) {
                _cleanup_json_ json_object *doc = NULL;
                int r = load_auth_file(*f, &doc, err);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                r = lookup_in(doc, *f, registry, repo, out, err);
                if (r != 0)
                        return r;
        }
        return 0;
}

static int save_auth_file(const char *path, json_object *doc, struct berr **err)
{
        _cleanup_free_ char *dir = strdup(path);
        const char *s;
        char *slash;

        if (!dir)
                return berr_make(err, ENOMEM, "auth file");
        slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                if (mkdir_p(dir, 0700, err) < 0)
                        return -1;
        }
        s = json_to_string(doc, true);
        return write_file_atomic_at(AT_FDCWD, path, s, strlen(s), 0600, err);
}

int auth_store(const char *authfile, const char *key, const char *username, const char *password,
               struct berr **err)
{
        _cleanup_free_ char *path = NULL, *b64 = NULL;
        _cleanup_json_ json_object *doc = NULL;
        json_object *auths, *entry;
        int r;

        if (authfile)
                path = strdup(authfile);
        else if (auth_file_default(&path, err) < 0)
                return -1;
        if (!path)
                return berr_make(err, ENOMEM, "auth file");
        r = load_auth_file(path, &doc, err);
        if (r < 0)
                return r;
        if (!doc && !(doc = json_object_new_object()))
                return berr_make(err, ENOMEM, "auth file");
        if (!json_object_object_get_ex(doc, "auths", &auths) || !json_object_is_type(auths, json_type_object)) {
                auths = json_object_new_object();
                if (!auths)
                        return berr_make(err, ENOMEM, "auth file");
                json_object_object_add(doc, "auths", auths);
        }
        b64 = auth_encode_basic(username, password);
        entry = json_object_new_object();
        if (!b64 || !entry)
                return berr_make(err, ENOMEM, "auth file");
        json_object_object_add(entry, "auth", json_object_new_string(b64));
        explicit_bzero(b64, strlen(b64));
        json_object_object_add(auths, key, entry);
        return save_auth_file(path, doc, err);
}

int auth_remove(const char *authfile, const char *key, struct berr **err)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_json_ json_object *doc = NULL;
        _cleanup_strv_free_ char **gone = NULL;
        json_object *auths;
        int r;

        if (authfile)
                path = strdup(authfile);
        else if (auth_file_default(&path, err) < 0)
                return -1;
        if (!path)
                return berr_make(err, ENOMEM, "auth file");
        r = load_auth_file(path, &doc, err);
        if (r <= 0)
                return r;
        if (!json_object_object_get_ex(doc, "auths", &auths) || !json_object_is_type(auths, json_type_object))
                return 0;
        json_object_object_foreach(auths, k, v)
        {
                _cleanup_free_ char *nk = normalize_key(k);
                (void)v;
                if (!nk)
                        return berr_make(err, ENOMEM, "auth file");
                if ((!key || streq(nk, key)) && strv_extend(&gone, k) < 0)
                        return berr_make(err, ENOMEM, "auth file");
        }
        if (!gone)
                return 0;
        STRV_FOREACH (g, gone)
                json_object_object_del(auths, *g);
        if (save_auth_file(path, doc, err) < 0)
                return -1;
        return 1;
}
