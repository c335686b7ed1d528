/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <string.h>

#include "berth.h"
#include "image/images.h"

static const struct berth_usage usage = {
    .usage = "berth tag IMAGE TARGET_NAME[:TAG] [TARGET_NAME[:TAG]...]",
    .summary = "Add an additional name to a local image",
    .options = "",
};

int cmd_tag(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {}};
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_free_ char *id = NULL;
        struct image_store *s;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == 'h') {
                        berth_print_usage(stdout, &usage);
                        return 0;
                }
                return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
        }
        if (argc - optind < 2)
                return berth_usage_error(&usage, "\"berth tag\" requires at least 2 arguments");
        if (berth_store(ctx, &s, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        r = images_resolve(s, argv[optind], &id, &err);
        if (r < 0)
                return berth_fail(&err, EXIT_BERTH);
        if (r == 0)
                return berth_failf(EXIT_BERTH, "%s: image not known", argv[optind]);
        for (int i = optind + 1; i < argc; i++) {
                _cleanup_free_ char *name = NULL;
                if (image_name_normalize(argv[i], true, &name, &err) < 0 ||
                    images_tag(s, id, name, NULL, &err) < 0)
                        return berth_fail(&err, EXIT_BERTH);
                berth_event(ctx, "image", "tag", id, (const char *const[]){"name", name, NULL});
        }
        return 0;
}
