/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <string.h>

#include "basic/strv.h"
#include "berth.h"
#include "engine/engine.h"
#include "image/gc.h"

static const struct berth_usage df_usage = {
    .usage = "berth system df [options]",
    .summary = "Show berth disk usage",
    .options = "      --format FORMAT   json, or a Go template ('{{.Type}} {{.Size}}')\n",
};

static const struct berth_usage check_usage = {
    .usage = "berth system check [options]",
    .summary = "Check storage consistency and repair what can be repaired",
    .options =
        "  -q, --quick    do not verify the digest of every blob\n"
        "  -r, --repair   remove damaged blobs, layers and images (unpack layers again from their blobs)\n",
};

static void pct(char *buf, size_t size, uint64_t part, uint64_t whole)
{
        char h[32];
        snprintf(buf, size, "%s (%d%%)", human_size(part, h, sizeof(h)),
                 whole ? (int)(part * 100 / whole) : 0);
}

int cmd_system_df(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'}, {"format", required_argument, NULL, 'F'}, {}};
        _cleanup_berr_ struct berr *err = NULL;
        struct image_store *s;
        struct image_df df;
        const char *format = NULL;
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &df_usage);
                        return 0;
                case 'F':
                        format = optarg;
                        break;
                default:
                        return berth_usage_error(&df_usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (berth_store(ctx, &s, &err) < 0 || image_disk_usage(s, &df, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        {
                char total[4][32], size[2][32], rec[2][48];
                json_object *rows = json_object_new_array();
                struct {
                        const char *type;
                        size_t total, active;
                        uint64_t size, reclaimable;
                } r[] = {
                    {"Images", df.images, df.active, df.size, df.reclaimable},
                    {"Containers", df.containers, df.containers, df.containers_size, 0},
                };
                for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
                        json_object *o = json_object_new_object();
                        snprintf(total[2 * i], sizeof(total[0]), "%zu", r[i].total);
                        snprintf(total[2 * i + 1], sizeof(total[0]), "%zu", r[i].active);
                        human_size(r[i].size, size[i], sizeof(size[i]));
                        pct(rec[i], sizeof(rec[i]), r[i].reclaimable, r[i].size);
                        json_object_object_add(o, "Type", json_object_new_string(r[i].type));
                        json_object_object_add(o, "Total", json_object_new_int64((int64_t)r[i].total));
                        json_object_object_add(o, "Active", json_object_new_int64((int64_t)r[i].active));
                        json_object_object_add(o, "RawSize", json_object_new_int64((int64_t)r[i].size));
                        json_object_object_add(o, "RawReclaimable",
                                               json_object_new_int64((int64_t)r[i].reclaimable));
                        json_object_object_add(o, "Size", json_object_new_string(size[i]));
                        json_object_object_add(o, "Reclaimable", json_object_new_string(rec[i]));
                        json_object_array_add(rows, o);
                }
                if (format && streq(format, "json")) {
                        printf("%s\n", json_object_to_json_string_ext(
                                           rows, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE));
                } else if (format) {
                        if (format_is_table(format))
                                format_table_header(format, stdout);
                        for (size_t i = 0; i < json_object_array_length(rows); i++)
                                if (format_template(format, json_object_array_get_idx(rows, i), stdout,
                                                    &err) < 0) {
                                        json_object_put(rows);
                                        return berth_fail(&err, EXIT_BERTH);
                                }
                } else {
                        struct table *t = table_new(5);
                        const char *hdr[] = {"TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"};
                        table_add(t, hdr);
                        for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
                                const char *cells[] = {r[i].type, total[2 * i], total[2 * i + 1], size[i],
                                                       rec[i]};
                                table_add(t, cells);
                        }
                        table_print(t, stdout);
                        table_free(t);
                }
                json_object_put(rows);
        }
        return 0;
}

int cmd_system_check(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"quick", no_argument, NULL, 'q'},
            {"repair", no_argument, NULL, 'r'},
            {},
        };
        _cleanup_berr_ struct berr *err = NULL;
        struct check_report rep;
        bool quick = false, repair = false;
        struct image_store *s;
        int c, ret;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hqr", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &check_usage);
                        return 0;
                case 'q':
                        quick = true;
                        break;
                case 'r':
                        repair = true;
                        break;
                default:
                        return berth_usage_error(&check_usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return berth_usage_error(&check_usage, "too many arguments");
        if (berth_store(ctx, &s, &err) < 0) {
                /* A database SQLite cannot open is the one thing check cannot repair. */
                printf("problem: %s\n", err->msg);
                printf("Checked nothing: the database `%s/berth.db` cannot be read. Move it away (the blobs "
                       "and layers stay, "
                       "the records of images and containers are lost) or restore it from a backup.\n",
                       ctx->root);
                berr_freep(&err);
                return EXIT_BERTH;
        }
        if (image_check(s, repair, quick, &rep, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        {
                size_t before = strv_length(rep.problems);
                struct engine *e;
                if (berth_engine(ctx, &e, &err) < 0 ||
                    engine_check(e, repair, &rep.problems, &rep.repairs, &err) < 0) {
                        check_report_clear(&rep);
                        return berth_fail(&err, EXIT_BERTH);
                }
                if (!repair)
                        rep.remaining += strv_length(rep.problems) - before;
        }
        STRV_FOREACH (p, rep.problems)
                printf("problem: %s\n", *p);
        STRV_FOREACH (p, rep.repairs)
                printf("repaired: %s\n", *p);
        STRV_FOREACH (p, rep.notes)
                printf("note: %s\n", *p);
        printf("Checked %zu images, %zu blobs%s, %zu layers: %s\n", rep.images, rep.blobs,
               quick ? "" : " (digests verified)", rep.snapshots,
               rep.remaining  ? "damaged (run `berth system check --repair`)"
               : rep.problems ? "repaired"
                              : "OK");
        ret = rep.remaining ? EXIT_BERTH : 0;
        check_report_clear(&rep);
        return ret;
}
