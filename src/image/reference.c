/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <string.h>

#include "basic/digest.h"
#include "reference.h"
#include "util.h"

void image_ref_free(struct image_ref *r)
{
        if (!r)
                return;
        free(r->domain);
        free(r->path);
        free(r->tag);
        free(r->digest);
        free(r);
}

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
        return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static bool path_component_valid(const char *s, size_t n)
{
        size_t i = 0;

        if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
                return false;
        while (i < n) {
                size_t sep;
                if (is_lower_alnum(s[i])) {
                        i++;
                        continue;
                }
                sep = i;
                if (s[i] == '.')
                        i++;
                else if (s[i] == '_')
                        i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
                else if (s[i] == '-')
                        while (i < n && s[i] == '-')
                                i++;
                else
                        return false;
                if (i == sep || i >= n || !is_lower_alnum(s[i]))
                        return false;
        }
        return true;
}

/* host[:port] with host made of dot-separated [A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?, or [ipv6][:port]. */
static bool domain_valid(const char *s)
{
        const char *p = s, *port;

        if (*p == '[') {
                const char *e = strchr(p, ']');
                if (!e || e == p + 1)
                        return false;
                for (const char *q = p + 1; q < e; q++)
                        if (!isxdigit((unsigned char)*q) && *q != ':')
                                return false;
                port = e + 1;
                if (*port == '\0')
                        return true;
                if (*port != ':')
                        return false;
        } else {
                port = strchrnul(p, ':');
                while (p < port) {
                        const char *e = p;
                        while (e < port && *e != '.')
                                e++;
                        if (e == p || !is_alnum(*p) || !is_alnum(e[-1]))
                                return false;
                        for (const char *q = p; q < e; q++)
                                if (!is_alnum(*q) && *q != '-')
                                        return false;
                        p = e < port ? e + 1 : e;
                        if (e < port && p == port)
                                return false;
                }
                if (*port == '\0')
                        return true;
        }
        port++;
        if (!*port || strlen(port) > 5)
                return false;
        for (const char *q = port; *q; q++)
                if (!isdigit((unsigned char)*q))
                        return false;
        return true;
}

bool image_ref_tag_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > IMAGE_REF_MAX_TAG || !(is_alnum(s[0]) || s[0] == '_'))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!is_alnum(s[i]) && !strchr("_.-", s[i]))
                        return false;
        return true;
}

static int parse(const char *s, bool repo_only, struct image_ref **out, struct berr **err)
{
        _cleanup_free_ char *name = NULL;
        struct image_ref *r;
        char *at, *slash, *colon, *rest, *first;
        size_t n;

        if (!s || !*s)
                return img_err(err, EINVAL, "invalid reference format: empty name");
        if (strlen(s) > 4096)
                return img_err(err, EINVAL, "invalid reference format: reference is longer than 4096 bytes");
        name = strdup(s);
        r = calloc(1, sizeof(*r));
        if (!name || !r) {
                free(r);
                return berr_make(err, ENOMEM, "parse reference");
        }
        _cleanup_image_ref_ struct image_ref *ref = r;

        at = strchr(name, '@');
        if (at) {
                if (repo_only)
                        return img_err(err, EINVAL, "invalid repository name `%s`: a digest is not allowed here",
                                         s);
                *at = '\0';
                if (digest_validate(at + 1, NULL, NULL) < 0)
                        return img_err(err, EINVAL, "invalid reference format `%s`: bad digest `%s`", s,
                                         at + 1);
                ref->digest = strdup(at + 1);
                if (!ref->digest)
                        return berr_make(err, ENOMEM, "parse reference");
        }
        slash = strrchr(name, '/');
        colon = strrchr(slash ? slash : name, ':');
        if (colon) {
                if (repo_only)
                        return img_err(err, EINVAL, "invalid repository name `%s`: a tag is not allowed here", s);
                *colon = '\0';
                if (!image_ref_tag_valid(colon + 1))
                        return img_err(err, EINVAL, "invalid reference format `%s`: bad tag `%s`", s, colon + 1);
                ref->tag = strdup(colon + 1);
                if (!ref->tag)
                        return berr_make(err, ENOMEM, "parse reference");
        }

        first = name;
        slash = strchr(name, '/');
        if (slash) {
                bool upper = false;
                for (char *q = name; q < slash; q++)
                        upper |= isupper((unsigned char)*q);
                *slash = '\0';
                if (strpbrk(first, ".:") || streq(first, "localhost") || upper) {
                        if (!domain_valid(first))
                                return img_err(err, EINVAL, "invalid reference format `%s`: bad registry `%s`", s,
                                                 first);
                        ref->domain = strdup(streq(first, "index.docker.io") ? IMAGE_REF_DEFAULT_DOMAIN : first);
                        rest = slash + 1;
                } else {
                        *slash = '/';
                        rest = name;
                }
        } else {
                rest = name;
        }
        if (!ref->domain)
                ref->domain = strdup(IMAGE_REF_DEFAULT_DOMAIN);
        if (!ref->domain)
                return berr_make(err, ENOMEM, "parse reference");

        for (char *c = rest;;) {
                char *e = strchrnul(c, '/');
                if (!path_component_valid(c, (size_t)(e - c))) {
                        for (char *q = rest; *q; q++)
                                if (isupper((unsigned char)*q))
                                        return img_err(err, EINVAL,
                                                         "invalid reference format `%s`: repository name must be lowercase",
                                                         s);
                        return img_err(err, EINVAL, "invalid reference format `%s`: bad name component `%.*s`", s,
                                         (int)(e - c), c);
                }
                if (!*e)
                        break;
                c = e + 1;
        }
        if (streq(ref->domain, IMAGE_REF_DEFAULT_DOMAIN) && !strchr(rest, '/')) {
                if (asprintf(&ref->path, "library/%s", rest) < 0)
                        ref->path = NULL;
        } else {
                ref->path = strdup(rest);
        }
        if (!ref->path)
                return berr_make(err, ENOMEM, "parse reference");
        n = strlen(ref->domain) + 1 + strlen(ref->path);
        if (n > IMAGE_REF_MAX_NAME)
                return img_err(err, EINVAL, "invalid reference format `%.64s...`: name is longer than %d bytes", s,
                                 IMAGE_REF_MAX_NAME);
        if (!repo_only && !ref->tag && !ref->digest) {
                ref->tag = strdup(IMAGE_REF_DEFAULT_TAG);
                if (!ref->tag)
                        return berr_make(err, ENOMEM, "parse reference");
        }
        *out = TAKE_PTR(ref);
        return 0;
}

int image_ref_parse(const char *s, struct image_ref **out, struct berr **err)
{
        return parse(s, false, out, err);
}

int image_ref_parse_repo(const char *s, struct image_ref **out, struct berr **err)
{
        return parse(s, true, out, err);
}

struct image_ref *image_ref_dup(const struct image_ref *r)
{
        struct image_ref *d = calloc(1, sizeof(*d));

        if (!d)
                return NULL;
        d->domain = strdup(r->domain);
        d->path = strdup(r->path);
        d->tag = r->tag ? strdup(r->tag) : NULL;
        d->digest = r->digest ? strdup(r->digest) : NULL;
        if (!d->domain || !d->path || (r->tag && !d->tag) || (r->digest && !d->digest)) {
                image_ref_free(d);
                return NULL;
        }
        return d;
}

char *image_ref_repo(const struct image_ref *r)
{
        char *s;

        if (asprintf(&s, "%s/%s", r->domain, r->path) < 0)
                return NULL;
        return s;
}

char *image_ref_string(const struct image_ref *r)
{
        char *s;

        if (asprintf(&s, "%s/%s%s%s%s%s", r->domain, r->path, r->tag ? ":" : "", r->tag ? r->tag : "",
                     r->digest ? "@" : "", r->digest ? r->digest : "") < 0)
                return NULL;
        return s;
}

char *image_ref_name_tag(const struct image_ref *r)
{
        char *s;

        if (r->tag) {
                if (asprintf(&s, "%s/%s:%s", r->domain, r->path, r->tag) < 0)
                        return NULL;
                return s;
        }
        return image_ref_string(r);
}
