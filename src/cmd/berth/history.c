/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <string.h>

#include "basic/json.h"
#include "basic/timeutil.h"
#include "berth.h"
#include "image/images.h"
#include "image/manifest.h"

static const struct berth_usage usage = {
    .usage = "berth history [options] IMAGE",
    .summary = "Show the history of an image",
    .options = "      --format FORMAT   json, or a Go template ('{{.CreatedBy}}')\n"
               "  -H, --human BOOL      human readable sizes and dates (default true)\n"
               "      --no-trunc        do not truncate the output\n"
               "  -q, --quiet           print only the IDs\n",
};

/* The newest entry carries the image id, older ones "<missing>", like docker. */
static json_object *history_entry(const struct image_record *rec, const struct image_history *h,
                                  ssize_t layer, bool newest)
{
        json_object *o = json_object_new_object();
        int64_t created = 0;
        uint64_t size = 0;
        const char *hid = newest ? rec->id : "<missing>";

        if (layer >= 0)
                size = rec->layers[layer].unpacked_size;
        if (h && h->created)
                parse_rfc3339(h->created, &created);
        json_object_object_add(o, "id", json_object_new_string(hid));
        json_object_object_add(o, "created", json_object_new_int64(created / 1000000000LL));
        json_object_object_add(o, "createdBy",
                               json_object_new_string(h && h->created_by ? h->created_by : ""));
        json_object_object_add(o, "size", json_object_new_int64((int64_t)size));
        json_object_object_add(o, "comment", json_object_new_string(h && h->comment ? h->comment : ""));
        json_object_object_add(o, "CreatedAtNs", json_object_new_int64(created));
        return o;
}

/* Layers from the config's history, newest first; empty_layer entries have no layer (podman's "<missing>").
 */
int cmd_history(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},        {"format", required_argument, NULL, 'F'},
            {"human", optional_argument, NULL, 'H'}, {"no-trunc", no_argument, NULL, 'n'},
            {"quiet", no_argument, NULL, 'q'},       {},
        };
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_image_record_ struct image_record *rec = NULL;
        _cleanup_image_config_ struct image_config *cfg = NULL;
        _cleanup_free_ char *id = NULL, *buf = NULL;
        bool human = true, no_trunc = false, quiet = false;
        const char *format = NULL;
        struct image_store *s;
        json_object *arr;
        struct table *t = NULL;
        size_t len, layer;
        int c, r, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hH::nq", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case 'F':
                        format = optarg;
                        break;
                case 'H':
                        if (parse_bool(optarg, &human) < 0)
                                return berth_usage_error(&usage, "--human: invalid boolean `%s`", optarg);
                        break;
                case 'n':
                        no_trunc = true;
                        break;
                case 'q':
                        quiet = true;
                        break;
                default:
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (argc - optind != 1)
                return berth_usage_error(&usage, "\"berth history\" requires exactly 1 argument");
        if (berth_store(ctx, &s, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        r = images_resolve(s, argv[optind], &id, &err);
        if (r == 0)
                return berth_failf(EXIT_BERTH, "%s: image not known", argv[optind]);
        if (r < 0 || images_get(s, id, &rec, &err) <= 0 ||
            store_blob_read(s, id, CONFIG_MAX_SIZE, &buf, &len, &err) < 0 ||
            image_config_parse(buf, len, &cfg, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);

        arr = json_object_new_array();
        layer = rec->n_layers;
        if (cfg->n_history > 0) {
                for (size_t k = cfg->n_history; k-- > 0;) {
                        const struct image_history *h = &cfg->history[k];
                        ssize_t l = -1;
                        if (!h->empty_layer && layer > 0)
                                l = (ssize_t)--layer;
                        json_object_array_add(arr, history_entry(rec, h, l, k + 1 == cfg->n_history));
                }
        } else {
                while (layer-- > 0)
                        json_object_array_add(
                            arr, history_entry(rec, NULL, (ssize_t)layer, layer + 1 == rec->n_layers));
        }

        if (format && streq(format, "json")) {
                printf("%s\n", json_to_string(arr, true));
        } else {
                if (!format && !quiet) {
                        const char *hdr[] = {"ID", "CREATED", "CREATED BY", "SIZE", "COMMENT"};
                        t = table_new(5);
                        table_add(t, hdr);
                } else if (format && format_is_table(format)) {
                        format_table_header(format, stdout);
                }
                for (size_t i = 0; i < json_object_array_length(arr); i++) {
                        json_object *o = json_object_array_get_idx(arr, i), *x;
                        char idb[13], since[64], sz[32], created[64];
                        const char *hid, *by;
                        int64_t ns;
                        json_object_object_get_ex(o, "id", &x);
                        hid = json_object_get_string(x);
                        if (!no_trunc && strneq(hid, "sha256:", 7))
                                hid = short_id(hid, idb);
                        if (quiet) {
                                printf("%s\n", hid);
                                continue;
                        }
                        json_object_object_get_ex(o, "CreatedAtNs", &x);
                        ns = json_object_get_int64(x);
                        json_object_object_get_ex(o, "createdBy", &x);
                        by = json_object_get_string(x);
                        json_object_object_get_ex(o, "size", &x);
                        if (human) {
                                human_since(ns, since, sizeof(since));
                                human_size((uint64_t)json_object_get_int64(x), sz, sizeof(sz));
                        } else {
                                time_format_rfc3339(ns, since, sizeof(since));
                                snprintf(sz, sizeof(sz), "%lld", (long long)json_object_get_int64(x));
                        }
                        if (t) {
                                _cleanup_free_ char *b = strdup(by);
                                const char *cells[5];
                                json_object *cm;
                                if (b && !no_trunc && strlen(b) > 45)
                                        strcpy(b + 42, "...");
                                json_object_object_get_ex(o, "comment", &cm);
                                cells[0] = hid;
                                cells[1] = since;
                                cells[2] = b ? b : by;
                                cells[3] = sz;
                                cells[4] = json_object_get_string(cm);
                                table_add(t, cells);
                        } else {
                                json_object *row = json_object_new_object();
                                json_object_object_add(row, "ID", json_object_new_string(hid));
                                json_object_object_add(row, "Created", json_object_new_string(since));
                                json_object_object_add(row, "CreatedSince", json_object_new_string(since));
                                json_object_object_add(row, "CreatedAt",
                                                       json_object_new_string(time_format_rfc3339(
                                                           ns, created, sizeof(created))));
                                json_object_object_add(row, "CreatedBy", json_object_new_string(by));
                                json_object_object_add(row, "Size", json_object_new_string(sz));
                                if (format_template(format, row, stdout, &err) < 0)
                                        ret = berth_fail(&err, EXIT_BERTH);
                                json_object_put(row);
                                if (ret)
                                        break;
                        }
                }
                table_print(t, stdout);
                table_free(t);
        }
        json_object_put(arr);
        return ret;
}
