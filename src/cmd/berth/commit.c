/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>

#include "basic/strv.h"
#include "ctr-util.h"
#include "engine/commit.h"
#include "engine/engine.h"

static const struct berth_usage usage = {
    .usage = "berth commit [options] CONTAINER [REPOSITORY[:TAG]]",
    .summary = "Create a new image from a container's changes",
    .options =
        "  -a, --author STRING        author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")\n"
        "  -c, --change INSTRUCTION   apply a Dockerfile instruction to the created image (repeatable)\n"
        "  -m, --message STRING       commit message\n"
        "  -p, --pause BOOL           pause the container during commit (default true)\n"
        "  -q, --quiet                print only the image id (what is printed anyway)\n",
};

int cmd_commit(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
                                             {"author", required_argument, NULL, 'a'},
                                             {"change", required_argument, NULL, 'c'},
                                             {"message", required_argument, NULL, 'm'},
                                             {"pause", optional_argument, NULL, 'p'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {}};
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_container_ struct container *ct = NULL;
        _cleanup_strv_free_ char **changes = NULL;
        _cleanup_free_ char *id = NULL;
        struct engine_commit_opts o = {.pause = true};
        struct engine *e;
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "ha:c:m:pq", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case 'a':
                        o.author = optarg;
                        break;
                case 'c':
                        if (strv_extend(&changes, optarg) < 0)
                                return berth_failf(EXIT_BERTH, "out of memory");
                        break;
                case 'm':
                        o.message = optarg;
                        break;
                case 'p':
                        if (parse_bool(optarg, &o.pause) < 0)
                                return berth_usage_error(&usage, "invalid value for --pause: `%s`", optarg);
                        break;
                case 'q':
                        break;
                default:
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (argc - optind < 1 || argc - optind > 2)
                return berth_usage_error(&usage,
                                         "\"berth commit\" requires at least 1 and at most 2 arguments");
        o.name = argc - optind == 2 ? argv[optind + 1] : NULL;
        o.changes = (const char *const *)changes;
        if (berth_engine(ctx, &e, &err) < 0 || ctr_lookup(e, argv[optind], &ct, &err) <= 0 ||
            engine_container_commit(e, ct, &o, &id, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        printf("%s\n", id);
        return 0;
}
