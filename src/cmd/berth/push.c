/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <string.h>

#include "berth.h"
#include "image/push.h"

static const struct berth_usage usage = {
    .usage = "berth push [options] IMAGE [DESTINATION]",
    .summary = "Push an image to a registry",
    .options = "      --digestfile FILE     write the pushed manifest's digest to FILE\n"
               "  -q, --quiet               do not print progress\n" REGISTRY_OPTIONS_HELP,
};

static void on_progress(void *ud, const struct push_event *ev)
{
        static const char *const how[] = {"", " skipped: already exists",
                                          " skipped: mounted from another repository"};
        bool quiet = *(bool *)ud;

        if (quiet)
                return;
        switch (ev->type) {
        case PUSH_EV_BLOB:
                fprintf(stderr, "Copying blob %s%s\n", ev->digest, how[ev->how]);
                break;
        case PUSH_EV_CONFIG:
                fprintf(stderr, "Copying config %s%s\n", ev->digest, how[ev->how]);
                break;
        case PUSH_EV_MANIFEST:
                fprintf(stderr, "Writing manifest to image destination\n");
                break;
        }
}

int cmd_push(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"quiet", no_argument, NULL, 'q'},
            {"digestfile", required_argument, NULL, 'D'},
            REGISTRY_LONG_OPTIONS,
            {},
        };
        struct registry_flags rf = REGISTRY_FLAGS_INIT;
        _cleanup_berr_ struct berr *err = NULL;
        struct push_opts po = {0};
        const char *digestfile = NULL;
        struct image_store *s;
        bool quiet = false;
        char digest[136];
        int c, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case 'q':
                        quiet = true;
                        break;
                case 'D':
                        digestfile = optarg;
                        break;
                case '?':
                        registry_flags_clear(&rf);
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                default:
                        if (registry_flags_parse(&rf, c, optarg) < 0) {
                                registry_flags_clear(&rf);
                                return EXIT_BERTH;
                        }
                }
        }
        if (argc - optind < 1 || argc - optind > 2) {
                registry_flags_clear(&rf);
                return berth_usage_error(&usage, "\"berth push\" requires 1 or 2 arguments");
        }
        registry_flags_apply(&rf, &po.reg);
        po.progress = on_progress;
        po.progress_userdata = &quiet;
        if (!quiet)
                fprintf(stderr, "Getting image source signatures\n");
        if (berth_store(ctx, &s, &err) < 0 ||
            image_push(s, argv[optind], argc - optind == 2 ? argv[optind + 1] : NULL, &po, digest, &err) <
                0) {
                ret = berth_fail(&err, EXIT_BERTH);
        } else {
                berth_event(ctx, "image", "push", argv[optind],
                            (const char *const[]){"name", argv[optind], NULL});
        }
        if (!ret && digestfile) {
                FILE *f = fopen(digestfile, "we");
                if (!f || fputs(digest, f) < 0 || fclose(f) != 0)
                        ret = berth_failf(EXIT_BERTH, "write `%s`", digestfile);
        }
        registry_flags_clear(&rf);
        return ret;
}
