/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <string.h>

#include "basic/json.h"
#include "basic/strv.h"
#include "basic/timeutil.h"
#include "berth.h"
#include "image/images.h"
#include "image/manifest.h"

static const struct berth_usage usage = {
    .usage = "berth image inspect [options] IMAGE [IMAGE...]",
    .summary = "Display the configuration of an image",
    .options = "  -f, --format FORMAT   a Go template (e.g. '{{.Id}}', '{{json .Config}}')\n",
};

static json_object *strv_json(char **l)
{
        json_object *a = json_object_new_array();

        STRV_FOREACH (s, l)
                json_object_array_add(a, json_object_new_string(*s));
        return a;
}

static json_object *copy_member(json_object *from, const char *key)
{
        json_object *v;

        if (!from || !json_object_object_get_ex(from, key, &v) || !v)
                return NULL;
        return json_object_get(v);
}

/* docker's `image inspect` document, plus podman's Digest/ManifestType/History. */
static int inspect_json(struct image_store *s, const char *id, json_object **out, struct berr **err)
{
        _cleanup_image_record_ struct image_record *r = NULL;
        _cleanup_image_config_ struct image_config *cfg = NULL;
        _cleanup_free_ char *buf = NULL;
        json_object *o, *rootfs, *layers, *config;
        char created[64];
        size_t len;
        int rc = images_get(s, id, &r, err);

        if (rc <= 0)
                return rc < 0 ? rc : berr_make(err, ENOENT, "%s: image not known", id);
        if (store_blob_read(s, r->id, CONFIG_MAX_SIZE, &buf, &len, err) < 0 ||
            image_config_parse(buf, len, &cfg, err) < 0)
                return berr_wrap(err, "image %s", r->id);
        o = json_object_new_object();
        json_object_object_add(o, "Id", json_object_new_string(r->id));
        json_object_object_add(o, "Digest", json_object_new_string(r->manifest_digest));
        json_object_object_add(o, "RepoTags", strv_json(r->names));
        json_object_object_add(o, "RepoDigests", strv_json(r->repo_digests));
        json_object_object_add(o, "Parent", json_object_new_string(""));
        json_object_object_add(o, "Comment", json_object_new_string(""));
        json_object_object_add(
            o, "Created",
            json_object_new_string(cfg->created ? cfg->created
                                                : time_format_rfc3339(0, created, sizeof(created))));
        json_object_object_add(o, "Author", json_object_new_string(cfg->author ? cfg->author : ""));
        config = copy_member(cfg->json, "config");
        json_object_object_add(o, "Config", config ? config : json_object_new_object());
        json_object_object_add(o, "Architecture",
                               json_object_new_string(cfg->architecture ? cfg->architecture : ""));
        if (cfg->variant)
                json_object_object_add(o, "Variant", json_object_new_string(cfg->variant));
        json_object_object_add(o, "Os", json_object_new_string(cfg->os ? cfg->os : ""));
        json_object_object_add(o, "Size", json_object_new_int64((int64_t)r->size));
        json_object_object_add(o, "VirtualSize", json_object_new_int64((int64_t)r->size));
        rootfs = json_object_new_object();
        layers = json_object_new_array();
        for (size_t i = 0; i < cfg->n_diff_ids; i++)
                json_object_array_add(layers, json_object_new_string(cfg->diff_ids[i]));
        json_object_object_add(rootfs, "Type", json_object_new_string("layers"));
        json_object_object_add(rootfs, "Layers", layers);
        json_object_object_add(o, "RootFS", rootfs);
        {
                json_object *labels = json_object_new_object();
                for (char **l = cfg->labels; l && l[0] && l[1]; l += 2)
                        json_object_object_add(labels, l[0], json_object_new_string(l[1]));
                json_object_object_add(o, "Labels", labels);
        }
        json_object_object_add(o, "ManifestType", json_object_new_string(r->manifest_media_type));
        json_object_object_add(o, "User", json_object_new_string(cfg->user ? cfg->user : ""));
        {
                json_object *h = copy_member(cfg->json, "history");
                json_object_object_add(o, "History", h ? h : json_object_new_array());
        }
        *out = o;
        return 0;
}

int cmd_image_inspect(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"format", required_argument, NULL, 'f'},
            {"type", required_argument, NULL, 't'},
            {},
        };
        _cleanup_berr_ struct berr *err = NULL;
        const char *format = NULL;
        struct image_store *s;
        json_object *arr;
        int c, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hf:t:", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case 'f':
                        format = optarg;
                        break;
                case 't':
                        if (!streq(optarg, "image"))
                                return berth_usage_error(&usage, "only --type image is supported");
                        break;
                default:
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return berth_usage_error(&usage, "\"berth image inspect\" requires at least 1 argument");
        if (berth_store(ctx, &s, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        arr = json_object_new_array();
        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *id = NULL;
                json_object *o = NULL;
                int r = images_resolve(s, argv[i], &id, &err);
                if (r == 0) {
                        berth_failf(EXIT_BERTH, "%s: image not known", argv[i]);
                        ret = EXIT_BERTH;
                        continue;
                }
                if (r < 0 || inspect_json(s, id, &o, &err) < 0) {
                        ret = berth_fail(&err, EXIT_BERTH);
                        continue;
                }
                if (format) {
                        if (format_template(format, o, stdout, &err) < 0)
                                ret = berth_fail(&err, EXIT_BERTH);
                        json_object_put(o);
                } else {
                        json_object_array_add(arr, o);
                }
        }
        if (!format)
                printf("%s\n", json_to_string(arr, true));
        json_object_put(arr);
        return ret;
}
