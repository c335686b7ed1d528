/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <string.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/strv.h"
#include "basic/timeutil.h"
#include "compress.h"
#include "images.h"
#include "local.h"
#include "manifest.h"
#include "unpack.h"
#include "util.h"

#define IMPORT_BUF (1u << 20)

int image_record_local(struct image_store *s, const char *cjson, size_t clen, const struct local_layer *layers,
                       size_t n, char *const *names, char **id_out, struct berr **err)
{
        _cleanup_json_ json_object *man = json_object_new_object();
        _cleanup_strv_free_ char **blobs = NULL;
        _cleanup_image_config_ struct image_config *cfg = NULL;
        _cleanup_free_ struct image_layer *rl = calloc(n ? n : 1, sizeof(*rl));
        _cleanup_free_ char (*chains)[136] = calloc(n ? n : 1, 136);
        struct image_record rec = {0};
        json_object *cdesc, *larr;
        const char *mjson;
        char id[136], mdigest[136];

        if (!man || !rl || !chains)
                return berr_make(err, ENOMEM, "image");
        if (image_config_parse(cjson, clen, &cfg, err) < 0)
                return berr_wrap(err, "new image config");
        if (cfg->n_diff_ids != n)
                return img_err(err, EINVAL, "new image config lists %zu layers, not %zu", cfg->n_diff_ids, n);
        if (store_blob_put(s, cjson, clen, NULL, id, err) < 0)
                return -1;
        cdesc = json_object_new_object();
        json_object_object_add(cdesc, "mediaType", json_object_new_string(MT_OCI_CONFIG));
        json_object_object_add(cdesc, "digest", json_object_new_string(id));
        json_object_object_add(cdesc, "size", json_object_new_int64((int64_t)clen));
        larr = json_object_new_array();
        for (size_t i = 0; i < n; i++) {
                json_object *d = json_object_new_object();
                json_object_object_add(d, "mediaType", json_object_new_string(layers[i].media_type));
                json_object_object_add(d, "digest", json_object_new_string(layers[i].digest));
                json_object_object_add(d, "size", json_object_new_int64(layers[i].size));
                json_object_array_add(larr, d);
        }
        json_object_object_add(man, "schemaVersion", json_object_new_int(2));
        json_object_object_add(man, "mediaType", json_object_new_string(MT_OCI_MANIFEST));
        json_object_object_add(man, "config", cdesc);
        json_object_object_add(man, "layers", larr);
        mjson = json_to_string(man, false);
        if (store_blob_put(s, mjson, strlen(mjson), NULL, mdigest, err) < 0)
                return -1;

        if (strv_extend(&blobs, mdigest) < 0 || strv_extend(&blobs, id) < 0)
                return berr_make(err, ENOMEM, "image");
        for (size_t i = 0; i < n; i++) {
                if (!streq(layers[i].diff_id, cfg->diff_ids[i]))
                        return img_err(err, EINVAL, "layer %zu: diff_id %s does not match the config", i,
                                         layers[i].diff_id);
                if (chain_id_next(i ? chains[i - 1] : NULL, layers[i].diff_id, chains[i]) < 0)
                        return berr_make(err, ENOMEM, "chain id");
                rl[i].digest = (char *)layers[i].digest;
                rl[i].media_type = (char *)layers[i].media_type;
                rl[i].size = layers[i].size;
                rl[i].diff_id = (char *)layers[i].diff_id;
                rl[i].chain_id = chains[i];
                rl[i].unpacked_size = layers[i].unpacked_size;
                rec.size += layers[i].unpacked_size;
                if (strv_extend(&blobs, layers[i].digest) < 0)
                        return berr_make(err, ENOMEM, "image");
        }
        rec.id = id;
        rec.manifest_digest = mdigest;
        rec.manifest_media_type = (char *)MT_OCI_MANIFEST;
        rec.config_media_type = (char *)MT_OCI_CONFIG;
        rec.os = cfg->os;
        rec.architecture = cfg->architecture;
        rec.variant = cfg->variant;
        rec.created_ns = cfg->created_ns;
        rec.layers = rl;
        rec.n_layers = n;
        rec.top_chain_id = n ? chains[n - 1] : NULL;
        rec.names = (char **)names;
        if (images_put(s, &rec, blobs, err) < 0)
                return -1;
        *id_out = strdup(id);
        return *id_out ? 0 : berr_make(err, ENOMEM, "image");
}

int image_config_new(json_object *parent_config, const struct local_layer *layers, size_t n,
                     const char *created_by, const char *comment, json_object **out, struct berr **err)
{
        _cleanup_platform_ struct platform *p = NULL;
        json_object *doc, *rootfs, *ids, *hist, *h;
        char now[64];

        if (platform_host(&p, err) < 0)
                return -1;
        time_format_rfc3339(time_now_ns(), now, sizeof(now));
        doc = json_object_new_object();
        json_object_object_add(doc, "created", json_object_new_string(now));
        json_object_object_add(doc, "architecture", json_object_new_string(p->architecture));
        if (p->variant)
                json_object_object_add(doc, "variant", json_object_new_string(p->variant));
        json_object_object_add(doc, "os", json_object_new_string(p->os));
        json_object_object_add(doc, "config", parent_config ? json_object_get(parent_config) : json_object_new_object());
        rootfs = json_object_new_object();
        ids = json_object_new_array();
        for (size_t i = 0; i < n; i++)
                json_object_array_add(ids, json_object_new_string(layers[i].diff_id));
        json_object_object_add(rootfs, "type", json_object_new_string("layers"));
        json_object_object_add(rootfs, "diff_ids", ids);
        json_object_object_add(doc, "rootfs", rootfs);
        hist = json_object_new_array();
        h = json_object_new_object();
        json_object_object_add(h, "created", json_object_new_string(now));
        json_object_object_add(h, "created_by", json_object_new_string(created_by));
        if (comment && *comment)
                json_object_object_add(h, "comment", json_object_new_string(comment));
        json_object_array_add(hist, h);
        json_object_object_add(doc, "history", hist);
        *out = doc;
        return 0;
}

static const char *skip_ws(const char *p)
{
        while (isspace((unsigned char)*p))
                p++;
        return p;
}

/* Next word: a "quoted string" (\" and \\ escapes) or up to whitespace; stop_eq also stops at '='. */
static char *next_word(const char **pp, bool stop_eq)
{
        const char *p = skip_ws(*pp);
        size_t cap = strlen(p) + 1, n = 0;
        char *o = malloc(cap);

        if (!o)
                return NULL;
        while (*p && !isspace((unsigned char)*p) && !(stop_eq && *p == '=')) {
                if (*p == '"' || *p == '\'') {
                        char q = *p++;
                        while (*p && *p != q) {
                                if (*p == '\\' && q == '"' && (p[1] == '"' || p[1] == '\\'))
                                        p++;
                                o[n++] = *p++;
                        }
                        if (*p == q)
                                p++;
                        continue;
                }
                if (*p == '\\' && p[1])
                        p++;
                o[n++] = *p++;
        }
        o[n] = '\0';
        *pp = p;
        return o;
}

/* "K=V K2=V2" or legacy "K V" -> callback per pair. */
static int for_each_pair(const char *rest, const char *what, json_object *target,
                         void (*set)(json_object *, const char *, const char *), struct berr **err)
{
        const char *p = skip_ws(rest);
        const char *sp = strpbrk(p, " \t"), *eq = strchr(p, '=');

        if (!*p)
                return img_err(err, EINVAL, "%s needs an argument", what);
        if (!eq || (sp && sp < eq)) {
                _cleanup_free_ char *k = next_word(&p, false);
                if (!k)
                        return berr_make(err, ENOMEM, "%s", what);
                p = skip_ws(p);
                set(target, k, p);
                return 0;
        }
        while (*(p = skip_ws(p))) {
                _cleanup_free_ char *k = next_word(&p, true), *v = NULL;
                if (!k)
                        return berr_make(err, ENOMEM, "%s", what);
                if (*p != '=' || !*k)
                        return img_err(err, EINVAL, "%s: want KEY=VALUE, got `%s`", what, k);
                p++;
                v = *p && !isspace((unsigned char)*p) ? next_word(&p, false) : strdup("");
                if (!v)
                        return berr_make(err, ENOMEM, "%s", what);
                set(target, k, v);
        }
        return 0;
}

static void set_env(json_object *cfg, const char *k, const char *v)
{
        json_object *env;
        _cleanup_free_ char *kv = NULL;
        size_t kl = strlen(k);

        if (asprintf(&kv, "%s=%s", k, v) < 0)
                return;
        if (!json_object_object_get_ex(cfg, "Env", &env) || !json_object_is_type(env, json_type_array)) {
                env = json_object_new_array();
                json_object_object_add(cfg, "Env", env);
        }
        for (size_t i = 0; i < json_object_array_length(env); i++) {
                const char *e = json_object_get_string(json_object_array_get_idx(env, i));
                if (e && strneq(e, k, kl) && e[kl] == '=') {
                        json_object_array_put_idx(env, i, json_object_new_string(kv));
                        return;
                }
        }
        json_object_array_add(env, json_object_new_string(kv));
}

static void set_label(json_object *cfg, const char *k, const char *v)
{
        json_object *labels;

        if (!json_object_object_get_ex(cfg, "Labels", &labels) || !json_object_is_type(labels, json_type_object)) {
                labels = json_object_new_object();
                json_object_object_add(cfg, "Labels", labels);
        }
        json_object_object_add(labels, k, json_object_new_string(v));
}

static void add_to_set(json_object *cfg, const char *key, const char *item)
{
        json_object *set;

        if (!json_object_object_get_ex(cfg, key, &set) || !json_object_is_type(set, json_type_object)) {
                set = json_object_new_object();
                json_object_object_add(cfg, key, set);
        }
        json_object_object_add(set, item, json_object_new_object());
}

/* JSON array form, or the shell form run by /bin/sh -c. */
static int command_value(const char *rest, const char *what, json_object **out, struct berr **err)
{
        json_object *arr;

        rest = skip_ws(rest);
        if (*rest == '[') {
                if (json_parse_buf(rest, strlen(rest), what, &arr, err) < 0)
                        return -1;
                if (!json_object_is_type(arr, json_type_array)) {
                        json_object_put(arr);
                        return img_err(err, EINVAL, "%s: want a JSON array of strings", what);
                }
                for (size_t i = 0; i < json_object_array_length(arr); i++)
                        if (!json_object_is_type(json_object_array_get_idx(arr, i), json_type_string)) {
                                json_object_put(arr);
                                return img_err(err, EINVAL, "%s: want a JSON array of strings", what);
                        }
                *out = arr;
                return 0;
        }
        arr = json_object_new_array();
        json_object_array_add(arr, json_object_new_string("/bin/sh"));
        json_object_array_add(arr, json_object_new_string("-c"));
        json_object_array_add(arr, json_object_new_string(rest));
        *out = arr;
        return 0;
}

int image_config_apply_change(json_object *cfg, const char *change, struct berr **err)
{
        const char *p = skip_ws(change), *rest;
        char word[16];
        size_t n = 0;

        while (p[n] && !isspace((unsigned char)p[n]) && n < sizeof(word) - 1) {
                word[n] = (char)toupper((unsigned char)p[n]);
                n++;
        }
        word[n] = '\0';
        rest = skip_ws(p + n);
        if (streq(word, "CMD") || streq(word, "ENTRYPOINT")) {
                json_object *v;
                if (command_value(rest, word, &v, err) < 0)
                        return -1;
                json_object_object_add(cfg, streq(word, "CMD") ? "Cmd" : "Entrypoint", v);
                return 0;
        }
        if (streq(word, "ENV"))
                return for_each_pair(rest, "ENV", cfg, set_env, err);
        if (streq(word, "LABEL"))
                return for_each_pair(rest, "LABEL", cfg, set_label, err);
        if (streq(word, "USER") || streq(word, "WORKDIR") || streq(word, "STOPSIGNAL")) {
                if (!*rest)
                        return img_err(err, EINVAL, "%s needs an argument", word);
                json_object_object_add(cfg, streq(word, "USER") ? "User" : streq(word, "WORKDIR") ? "WorkingDir" : "StopSignal",
                                       json_object_new_string(rest));
                return 0;
        }
        if (streq(word, "EXPOSE") || streq(word, "VOLUME")) {
                bool expose = streq(word, "EXPOSE");
                if (!expose && *rest == '[') {
                        json_object *arr;
                        if (command_value(rest, word, &arr, err) < 0)
                                return -1;
                        for (size_t i = 0; i < json_object_array_length(arr); i++)
                                add_to_set(cfg, "Volumes", json_object_get_string(json_object_array_get_idx(arr, i)));
                        json_object_put(arr);
                        return 0;
                }
                if (!*rest)
                        return img_err(err, EINVAL, "%s needs an argument", word);
                while (*(rest = skip_ws(rest))) {
                        _cleanup_free_ char *w = next_word(&rest, false), *port = NULL;
                        if (!w)
                                return berr_make(err, ENOMEM, "%s", word);
                        if (expose && !strchr(w, '/') && asprintf(&port, "%s/tcp", w) < 0)
                                return berr_make(err, ENOMEM, "%s", word);
                        add_to_set(cfg, expose ? "ExposedPorts" : "Volumes", port ? port : w);
                }
                return 0;
        }
        return img_err(err, EINVAL,
                         "invalid change `%.64s`: want CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR or "
                         "STOPSIGNAL",
                         change);
}

struct import_sink {
        struct blob_writer *w;
};

static int to_blob(void *ud, const void *buf, size_t len, struct berr **err)
{
        struct import_sink *k = ud;
        return blob_writer_write(k->w, buf, len, err);
}

int image_import(struct image_store *s, int fd, const struct import_opts *o, char **id_out, struct berr **err)
{
        struct unpack_opts uo = {.overlay_whiteouts = true, .no_chown = s->rootless,
                                 .overlay_userxattr = s->rootless};
        _cleanup_free_ char *buf = malloc(IMPORT_BUF), *name = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_json_ json_object *config = NULL;
        struct snapshot_tmp tmp = {.dirfd = -1};
        struct layer_unpacker *u = NULL;
        struct compressor *z = NULL;
        struct import_sink sink = {0};
        struct unpack_result res;
        struct snapshot_meta meta;
        struct local_layer layer = {0};
        enum layer_compression comp;
        json_object *cfg;
        ssize_t n;
        int ret = -1;

        if (!buf)
                return berr_make(err, ENOMEM, "import");
        if (o->name && (image_name_normalize(o->name, true, &name, err) < 0 || strv_extend(&names, name) < 0))
                return -1;
        if (image_store_lock(s, false, true, err) < 0)
                return -1;
        n = read_full(fd, buf, IMPORT_BUF);
        if (n < 0) {
                berr_make(err, (int)-n, "read the tarball");
                goto out;
        }
        comp = layer_compression_sniff(buf, (size_t)n);
        if (blob_writer_open(s, NULL, -1, false, &sink.w, err) < 0 || store_snapshot_begin(s, &tmp, err) < 0 ||
            layer_unpacker_new(tmp.dirfd, comp, &uo, &u, err) < 0)
                goto out;
        /* An uncompressed tarball is stored gzip-compressed, as registries expect layers. */
        if (comp == LAYER_UNCOMPRESSED && compressor_new(LAYER_GZIP, 0, to_blob, &sink, &z, err) < 0)
                goto out;
        layer.media_type = comp == LAYER_UNCOMPRESSED ? MT_OCI_LAYER_GZIP : layer_media_type(comp);
        while (n > 0) {
                if ((z ? compressor_write(z, buf, (size_t)n, err) : to_blob(&sink, buf, (size_t)n, err)) < 0 ||
                    layer_unpacker_write(u, buf, (size_t)n, err) < 0)
                        goto out;
                n = read_full(fd, buf, IMPORT_BUF);
                if (n < 0) {
                        berr_make(err, (int)-n, "read the tarball");
                        goto out;
                }
        }
        if ((z && compressor_finish(z, err) < 0) || layer_unpacker_finish(u, &res, err) < 0 ||
            blob_writer_commit(sink.w, layer.digest, err) < 0)
                goto out;
        layer.size = (int64_t)blob_writer_offset(sink.w);
        snprintf(layer.diff_id, sizeof(layer.diff_id), "%s", res.diff_id);
        layer.unpacked_size = res.uncompressed_size;
        snprintf(meta.diff_id, sizeof(meta.diff_id), "%s", res.diff_id);
        meta.size = res.uncompressed_size;
        meta.entries = res.entries;
        /* A one-layer image's chain ID is its diff_id. */
        if (store_snapshot_commit(s, &tmp, res.diff_id, &meta, err) < 0)
                goto out;
        if (image_config_new(NULL, &layer, 1, "berth import", o->message, &config, err) < 0)
                goto out;
        if (!json_object_object_get_ex(config, "config", &cfg))
                goto out;
        STRV_FOREACH (c, o->changes)
                if (image_config_apply_change(cfg, *c, err) < 0)
                        goto out;
        {
                const char *cj = json_to_string(config, false);
                ret = image_record_local(s, cj, strlen(cj), &layer, 1, names, id_out, err);
        }
out:
        if (tmp.name[0])
                store_snapshot_abort(s, &tmp);
        layer_unpacker_free(u);
        compressor_free(z);
        blob_writer_free(sink.w, false);
        image_store_unlock(s);
        if (ret < 0)
                berr_wrap(err, "import");
        return ret;
}
