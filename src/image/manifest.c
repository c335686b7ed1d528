/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <inttypes.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "basic/digest.h"
#include "basic/json.h"
#include "basic/strv.h"
#include "manifest.h"
#include "util.h"

#define HISTORY_MAX 4096

void platform_free(struct platform *p)
{
        if (!p)
                return;
        free(p->os);
        free(p->architecture);
        free(p->variant);
        free(p->os_version);
        free(p);
}

static void descriptor_clear(struct descriptor *d)
{
        free(d->media_type);
        free(d->digest);
        platform_free(d->platform);
        strv_free(d->urls);
        memset(d, 0, sizeof(*d));
}

void manifest_free(struct manifest *m)
{
        if (!m)
                return;
        free(m->media_type);
        descriptor_clear(&m->config);
        for (size_t i = 0; i < m->n_layers; i++)
                descriptor_clear(&m->layers[i]);
        free(m->layers);
        for (size_t i = 0; i < m->n_manifests; i++)
                descriptor_clear(&m->manifests[i]);
        free(m->manifests);
        free(m);
}

bool manifest_media_type_known(const char *mt)
{
        return mt && (streq(mt, MT_OCI_MANIFEST) || streq(mt, MT_OCI_INDEX) || streq(mt, MT_DOCKER_MANIFEST) ||
                      streq(mt, MT_DOCKER_LIST));
}

bool config_media_type_known(const char *mt)
{
        return mt && (streq(mt, MT_OCI_CONFIG) || streq(mt, MT_DOCKER_CONFIG));
}

static bool is_index_type(const char *mt)
{
        return streq(mt, MT_OCI_INDEX) || streq(mt, MT_DOCKER_LIST);
}

static int parse_platform(json_object *o, const char *path, struct platform **out, struct berr **err)
{
        struct platform *p = calloc(1, sizeof(*p));
        int r;

        if (!p)
                return berr_make(err, ENOMEM, "%s", path);
        if ((r = json_get_str(o, path, "os", true, &p->os, err)) < 0 ||
            (r = json_get_str(o, path, "architecture", true, &p->architecture, err)) < 0 ||
            (r = json_get_str(o, path, "variant", false, &p->variant, err)) < 0 ||
            (r = json_get_str(o, path, "os.version", false, &p->os_version, err)) < 0) {
                platform_free(p);
                return r;
        }
        *out = p;
        return 0;
}

static int parse_descriptor(json_object *o, const char *path, struct descriptor *d, struct berr **err)
{
        json_object *pl;
        int64_t size = -1;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return berr_make(err, 0, "%s: expected an object, got %s", path,
                                 json_type_label(json_object_get_type(o)));
        if ((r = json_get_str(o, path, "mediaType", true, &d->media_type, err)) < 0 ||
            (r = json_get_str(o, path, "digest", true, &d->digest, err)) < 0)
                return r;
        if (digest_validate(d->digest, NULL, err) < 0)
                return berr_wrap(err, "%s.digest", path);
        r = json_get_int64(o, path, "size", 0, INT64_MAX, &size, err);
        if (r < 0)
                return r;
        if (r == 0)
                return berr_make(err, 0, "%s.size: required field is missing", path);
        d->size = size;
        if ((r = json_get_strv(o, path, "urls", &d->urls, err)) < 0)
                return r;
        r = json_get(o, path, "platform", json_type_object, false, &pl, err);
        if (r < 0)
                return r;
        if (r > 0) {
                _cleanup_free_ char *pp = json_path_key(path, "platform");
                if (parse_platform(pl, pp ? pp : "platform", &d->platform, err) < 0)
                        return -1;
        }
        return 0;
}

static int parse_descriptor_array(json_object *doc, const char *key, size_t max, struct descriptor **out,
                                  size_t *n_out, struct berr **err)
{
        json_object *arr;
        struct descriptor *v;
        size_t n;
        int r = json_get(doc, "", key, json_type_array, true, &arr, err);

        if (r < 0)
                return r;
        n = json_object_array_length(arr);
        if (n > max)
                return img_err(err, E2BIG, "%s: %zu entries, more than the limit of %zu", key, n, max);
        v = calloc(n ? n : 1, sizeof(*v));
        if (!v)
                return berr_make(err, ENOMEM, "%s", key);
        *out = v;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *p = json_path_idx(key, i);
                *n_out = i + 1;
                if (parse_descriptor(json_object_array_get_idx(arr, i), p ? p : key, &v[i], err) < 0)
                        return -1;
        }
        return 0;
}

/* "application/json; charset=utf-8" -> "application/json" */
static char *content_type_base(const char *ct)
{
        size_t n;

        if (!ct)
                return NULL;
        while (*ct == ' ')
                ct++;
        n = strcspn(ct, "; \t");
        return strndup(ct, n);
}

static bool content_type_generic(const char *ct)
{
        return !ct || !*ct || streq(ct, "application/json") || streq(ct, "text/plain") ||
               streq(ct, "application/octet-stream") || streq(ct, "binary/octet-stream");
}

int manifest_parse(const char *buf, size_t len, const char *content_type, struct manifest **out,
                   struct berr **err)
{
        _cleanup_json_ json_object *doc = NULL;
        _cleanup_free_ char *ct = content_type_base(content_type);
        _cleanup_manifest_ struct manifest *m = NULL;
        _cleanup_free_ char *doc_mt = NULL;
        int64_t version = 0;
        json_object *tmp;
        int r;

        if (len > MANIFEST_MAX_SIZE)
                return img_err(err, EFBIG, "manifest is %zu bytes, more than the limit of %u", len,
                                 MANIFEST_MAX_SIZE);
        if (ct && (streq(ct, MT_DOCKER_V1) || streq(ct, MT_DOCKER_V1_SIGNED)))
                return img_err(err, ENOTSUP,
                                 "unsupported manifest format: Docker image manifest schema 1 (%s) is deprecated",
                                 ct);
        if (json_parse_buf(buf, len, "manifest", &doc, err) < 0)
                return -1;
        if (!json_object_is_type(doc, json_type_object))
                return berr_make(err, 0, "manifest: expected a JSON object, got %s",
                                 json_type_label(json_object_get_type(doc)));
        r = json_get_int64(doc, "", "schemaVersion", INT32_MIN, INT32_MAX, &version, err);
        if (r < 0)
                return r;
        if (r > 0 && version == 1)
                return img_err(err, ENOTSUP,
                                 "unsupported manifest format: Docker image manifest schema 1 is deprecated");
        if (r == 0 || version != 2)
                return img_err(err, ENOTSUP, "manifest: unsupported schemaVersion %" PRId64 " (want 2)", version);
        if (json_get_str(doc, "", "mediaType", false, &doc_mt, err) < 0)
                return -1;

        m = calloc(1, sizeof(*m));
        if (!m)
                return berr_make(err, ENOMEM, "manifest");
        if (ct && !content_type_generic(ct)) {
                if (!manifest_media_type_known(ct))
                        return img_err(err, ENOTSUP, "unsupported manifest media type `%s`", ct);
                if (doc_mt && !streq(doc_mt, ct))
                        return berr_make(err, 0, "manifest: mediaType `%s` does not match the content type `%s`",
                                         doc_mt, ct);
                m->media_type = TAKE_PTR(ct);
        } else if (doc_mt) {
                if (!manifest_media_type_known(doc_mt))
                        return img_err(err, ENOTSUP, "unsupported manifest media type `%s`", doc_mt);
                m->media_type = TAKE_PTR(doc_mt);
        } else if (json_object_object_get_ex(doc, "manifests", &tmp)) {
                m->media_type = strdup(MT_OCI_INDEX);
        } else {
                m->media_type = strdup(MT_OCI_MANIFEST);
        }
        if (!m->media_type)
                return berr_make(err, ENOMEM, "manifest");

        if (is_index_type(m->media_type)) {
                m->kind = MANIFEST_INDEX;
                if (json_object_object_get_ex(doc, "layers", &tmp) || json_object_object_get_ex(doc, "config", &tmp))
                        return berr_make(err, 0, "manifest: an index must not have `config` or `layers`");
                if (parse_descriptor_array(doc, "manifests", INDEX_MAX_MANIFESTS, &m->manifests, &m->n_manifests,
                                           err) < 0)
                        return berr_wrap(err, "index");
        } else {
                m->kind = MANIFEST_IMAGE;
                if (json_object_object_get_ex(doc, "manifests", &tmp))
                        return berr_make(err, 0, "manifest: an image manifest must not have `manifests`");
                r = json_get(doc, "", "config", json_type_object, true, &tmp, err);
                if (r < 0 || parse_descriptor(tmp, "config", &m->config, err) < 0)
                        return berr_wrap(err, "manifest");
                if (parse_descriptor_array(doc, "layers", MANIFEST_MAX_LAYERS, &m->layers, &m->n_layers, err) < 0)
                        return berr_wrap(err, "manifest");
        }
        *out = TAKE_PTR(m);
        return 0;
}

/* Go's names: GOOS/GOARCH and the variant podman/containerd use. */
static const char *normalize_arch(const char *arch, const char **variant)
{
        static const struct {
                const char *from, *to, *variant;
        } map[] = {
                {"x86_64", "amd64", ""},     {"x86-64", "amd64", ""}, {"aarch64", "arm64", ""},
                {"armhf", "arm", "v7"},      {"armel", "arm", "v6"},  {"i386", "386", ""},
                {"i686", "386", ""},         {"ppc64el", "ppc64le", ""},
        };

        for (size_t i = 0; i < ARRAY_SIZE(map); i++)
                if (streq(arch, map[i].from)) {
                        if (variant && !**variant)
                                *variant = map[i].variant;
                        return map[i].to;
                }
        return arch;
}

static const char *normalize_variant(const char *arch, const char *variant)
{
        if (!variant)
                variant = "";
        if (streq(arch, "arm64") && (streq(variant, "v8") || streq(variant, "8")))
                return "";
        if (streq(arch, "amd64") && streq(variant, "v1"))
                return "";
        if (streq(arch, "arm") && !*variant)
                return "v7";
        return variant;
}

int platform_parse(const char *s, struct platform **out, struct berr **err)
{
        _cleanup_strv_free_ char **parts = NULL;
        _cleanup_free_ char *copy = strdup(s);
        struct platform *p;
        const char *variant = "";
        size_t n;
        char *save = NULL;

        if (!copy)
                return berr_make(err, ENOMEM, "platform");
        for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save))
                if (strv_extend(&parts, t) < 0)
                        return berr_make(err, ENOMEM, "platform");
        n = strv_length(parts);
        if (n < 1 || n > 3 || strchr(s, ' '))
                return img_err(err, EINVAL, "invalid platform `%s`: want OS/ARCH[/VARIANT]", s);
        p = calloc(1, sizeof(*p));
        if (!p)
                return berr_make(err, ENOMEM, "platform");
        if (n == 1) {
                p->os = strdup("linux");
                p->architecture = strdup(normalize_arch(parts[0], &variant));
        } else {
                p->os = strdup(parts[0]);
                if (n == 3)
                        variant = parts[2];
                p->architecture = strdup(normalize_arch(parts[1], &variant));
        }
        p->variant = *variant ? strdup(variant) : NULL;
        if (!p->os || !p->architecture || (*variant && !p->variant)) {
                platform_free(p);
                return berr_make(err, ENOMEM, "platform");
        }
        *out = p;
        return 0;
}

int platform_host(struct platform **out, struct berr **err)
{
        struct utsname u;
        const char *variant = "";
        struct platform *p;

        if (uname(&u) < 0)
                return berr_errno(err, "uname");
        p = calloc(1, sizeof(*p));
        if (!p)
                return berr_make(err, ENOMEM, "platform");
        p->os = strdup("linux");
        if (strneq(u.machine, "armv7", 5))
                p->architecture = strdup("arm"), variant = "v7";
        else if (strneq(u.machine, "armv6", 5))
                p->architecture = strdup("arm"), variant = "v6";
        else
                p->architecture = strdup(normalize_arch(u.machine, &variant));
        p->variant = *variant ? strdup(variant) : NULL;
        if (!p->os || !p->architecture || (*variant && !p->variant)) {
                platform_free(p);
                return berr_make(err, ENOMEM, "platform");
        }
        *out = p;
        return 0;
}

char *platform_string(const struct platform *p)
{
        char *s;

        if (asprintf(&s, "%s/%s%s%s", p->os ? p->os : "", p->architecture ? p->architecture : "",
                     p->variant && *p->variant ? "/" : "", p->variant ? p->variant : "") < 0)
                return NULL;
        return s;
}

bool platform_match(const struct platform *want, const struct platform *have)
{
        const char *wv = want->variant ? want->variant : "", *hv = have->variant ? have->variant : "";
        const char *wa = normalize_arch(want->architecture, NULL), *ha = normalize_arch(have->architecture, NULL);

        if (!have->os || !streq(want->os, have->os) || !streq(wa, ha))
                return false;
        if (!*wv)
                return true;
        return streq(normalize_variant(wa, wv), normalize_variant(ha, hv));
}

int manifest_select_platform(const struct manifest *idx, const struct platform *want, size_t *out,
                             struct berr **err)
{
        _cleanup_free_ char *offered = NULL, *w = platform_string(want);
        ssize_t best = -1;
        size_t used = 0;

        for (size_t i = 0; i < idx->n_manifests; i++) {
                const struct descriptor *d = &idx->manifests[i];
                if (!d->platform || is_index_type(d->media_type) || !platform_match(want, d->platform))
                        continue;
                /* Without a wanted variant prefer the architecture's default one. */
                if (best < 0 || (!want->variant && !*normalize_variant(d->platform->architecture,
                                                                        d->platform->variant)))
                        best = (ssize_t)i;
                if (want->variant)
                        break;
        }
        if (best >= 0) {
                *out = (size_t)best;
                return 0;
        }
        for (size_t i = 0; i < idx->n_manifests && i < 32; i++) {
                _cleanup_free_ char *ps = idx->manifests[i].platform ? platform_string(idx->manifests[i].platform)
                                                                     : strdup("unknown");
                size_t l = ps ? strlen(ps) : 0;
                char *n = realloc(offered, used + l + 3);
                if (!ps || !n)
                        return berr_make(err, ENOMEM, "platform");
                offered = n;
                used += (size_t)sprintf(offered + used, "%s%s", used ? ", " : "", ps);
        }
        return img_err(err, ENOENT, "no image for platform %s in the manifest list (it has: %s)", w ? w : "?",
                         offered ? offered : "nothing");
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), without timegm's TZ dependence. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
        int64_t era;
        unsigned yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = (unsigned)(y - era * 400);
        doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t)doe - 719468;
}

int parse_rfc3339(const char *s, int64_t *out)
{
        int y, mo, d, h, mi, sec, n = 0;
        int64_t ns = 0, secs, off = 0;
        const char *p;

        if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
                return -EINVAL;
        if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 0 || mo < 0 || h < 0 ||
            mi < 0 || sec < 0)
                return -EINVAL;
        p = s + n;
        if (*p == '.') {
                int digits = 0;
                p++;
                if (!isdigit((unsigned char)*p))
                        return -EINVAL;
                for (; isdigit((unsigned char)*p); p++, digits++)
                        if (digits < 9)
                                ns = ns * 10 + (*p - '0');
                for (; digits < 9; digits++)
                        ns *= 10;
        }
        if (*p == 'Z' || *p == 'z') {
                p++;
        } else if (*p == '+' || *p == '-') {
                int oh, om, k = 0;
                if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) != 2 || k != 5 || oh > 23 || om > 59 || oh < 0 ||
                    om < 0)
                        return -EINVAL;
                off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
                p += 6;
        } else {
                return -EINVAL;
        }
        if (*p)
                return -EINVAL;
        secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec - off;
        /* int64 nanoseconds span 1678..2262; Go's zero time (year 1) means "unknown". */
        if (secs < -9223372036LL || secs > 9223372035LL) {
                *out = 0;
                return 0;
        }
        *out = secs * 1000000000LL + ns;
        return 0;
}

void image_config_free(struct image_config *c)
{
        if (!c)
                return;
        free(c->architecture);
        free(c->os);
        free(c->variant);
        free(c->created);
        free(c->author);
        free(c->user);
        free(c->working_dir);
        free(c->stop_signal);
        strv_free(c->entrypoint);
        strv_free(c->cmd);
        strv_free(c->env);
        strv_free(c->exposed_ports);
        strv_free(c->volumes);
        strv_free(c->labels);
        strv_free(c->diff_ids);
        for (size_t i = 0; i < c->n_history; i++) {
                free(c->history[i].created);
                free(c->history[i].created_by);
                free(c->history[i].author);
                free(c->history[i].comment);
        }
        free(c->history);
        json_object_put(c->json);
        free(c);
}

/* {"80/tcp": {}, ...} -> strv of keys */
static int get_key_set(json_object *o, const char *path, const char *key, char ***out, struct berr **err)
{
        json_object *set;
        int r = json_get(o, path, key, json_type_object, false, &set, err);

        if (r <= 0)
                return r;
        json_object_object_foreach(set, k, v)
        {
                (void)v;
                if (strv_extend(out, k) < 0)
                        return berr_make(err, ENOMEM, "%s", key);
        }
        return 1;
}

static int parse_history(json_object *doc, struct image_config *c, struct berr **err)
{
        json_object *arr;
        size_t n;
        int r = json_get(doc, "", "history", json_type_array, false, &arr, err);

        if (r <= 0)
                return r;
        n = json_object_array_length(arr);
        if (n > HISTORY_MAX)
                return img_err(err, E2BIG, "history: %zu entries, more than the limit of %d", n, HISTORY_MAX);
        c->history = calloc(n ? n : 1, sizeof(*c->history));
        if (!c->history)
                return berr_make(err, ENOMEM, "history");
        for (size_t i = 0; i < n; i++) {
                json_object *h = json_object_array_get_idx(arr, i);
                struct image_history *e = &c->history[i];
                _cleanup_free_ char *p = json_path_idx("history", i);
                c->n_history = i + 1;
                if (!json_object_is_type(h, json_type_object))
                        return berr_make(err, 0, "%s: expected an object", p ? p : "history");
                if (json_get_str(h, p, "created", false, &e->created, err) < 0 ||
                    json_get_str(h, p, "created_by", false, &e->created_by, err) < 0 ||
                    json_get_str(h, p, "author", false, &e->author, err) < 0 ||
                    json_get_str(h, p, "comment", false, &e->comment, err) < 0 ||
                    json_get_bool(h, p, "empty_layer", &e->empty_layer, err) < 0)
                        return -1;
        }
        return 0;
}

int image_config_parse(const char *buf, size_t len, struct image_config **out, struct berr **err)
{
        _cleanup_image_config_ struct image_config *c = NULL;
        json_object *doc, *cfg, *rootfs;
        _cleanup_free_ char *type = NULL;
        int r;

        if (len > CONFIG_MAX_SIZE)
                return img_err(err, EFBIG, "image config is %zu bytes, more than the limit of %u", len,
                                 CONFIG_MAX_SIZE);
        c = calloc(1, sizeof(*c));
        if (!c)
                return berr_make(err, ENOMEM, "image config");
        if (json_parse_buf(buf, len, "image config", &c->json, err) < 0)
                return -1;
        doc = c->json;
        if (!json_object_is_type(doc, json_type_object))
                return berr_make(err, 0, "image config: expected a JSON object");
        if (json_get_str(doc, "", "architecture", false, &c->architecture, err) < 0 ||
            json_get_str(doc, "", "os", false, &c->os, err) < 0 ||
            json_get_str(doc, "", "variant", false, &c->variant, err) < 0 ||
            json_get_str(doc, "", "created", false, &c->created, err) < 0 ||
            json_get_str(doc, "", "author", false, &c->author, err) < 0)
                return berr_wrap(err, "image config");
        if (c->created && parse_rfc3339(c->created, &c->created_ns) < 0)
                return berr_make(err, 0, "image config: created: invalid timestamp `%.64s`", c->created);

        r = json_get(doc, "", "config", json_type_object, false, &cfg, err);
        if (r < 0)
                return berr_wrap(err, "image config");
        if (r > 0 && (json_get_str(cfg, "config", "User", false, &c->user, err) < 0 ||
                      json_get_str(cfg, "config", "WorkingDir", false, &c->working_dir, err) < 0 ||
                      json_get_str(cfg, "config", "StopSignal", false, &c->stop_signal, err) < 0 ||
                      json_get_strv(cfg, "config", "Entrypoint", &c->entrypoint, err) < 0 ||
                      json_get_strv(cfg, "config", "Cmd", &c->cmd, err) < 0 ||
                      json_get_strv(cfg, "config", "Env", &c->env, err) < 0 ||
                      get_key_set(cfg, "config", "ExposedPorts", &c->exposed_ports, err) < 0 ||
                      get_key_set(cfg, "config", "Volumes", &c->volumes, err) < 0 ||
                      json_get_str_map(cfg, "config", "Labels", &c->labels, err) < 0))
                return berr_wrap(err, "image config");

        r = json_get(doc, "", "rootfs", json_type_object, true, &rootfs, err);
        if (r < 0 || json_get_str(rootfs, "rootfs", "type", true, &type, err) < 0)
                return berr_wrap(err, "image config");
        if (!streq(type, "layers"))
                return berr_make(err, 0, "image config: rootfs.type: want `layers`, got `%.64s`", type);
        {
                json_object *arr;
                r = json_get(rootfs, "rootfs", "diff_ids", json_type_array, true, &arr, err);
                if (r < 0)
                        return berr_wrap(err, "image config");
                if (json_object_array_length(arr) > MANIFEST_MAX_LAYERS)
                        return img_err(err, E2BIG, "image config: rootfs.diff_ids: %zu layers, more than the limit of %d",
                                         json_object_array_length(arr), MANIFEST_MAX_LAYERS);
        }
        if (json_get_strv(rootfs, "rootfs", "diff_ids", &c->diff_ids, err) < 0)
                return berr_wrap(err, "image config");
        c->n_diff_ids = strv_length(c->diff_ids);
        for (size_t i = 0; i < c->n_diff_ids; i++)
                if (digest_validate(c->diff_ids[i], NULL, err) < 0)
                        return berr_wrap(err, "image config: rootfs.diff_ids[%zu]", i);
        if (parse_history(doc, c, err) < 0)
                return berr_wrap(err, "image config");
        *out = TAKE_PTR(c);
        return 0;
}
