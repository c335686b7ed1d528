/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>

#include "basic/strv.h"
#include "basic/timeutil.h"
#include "ctr-util.h"
#include "engine/engine.h"
#include "engine/manage.h"

static const struct berth_usage usage = {
    .usage = "berth container prune [options]",
    .summary = "Remove all stopped containers",
    .options = "      --filter FILTER   until=TIMESTAMP, label=KEY[=VALUE], label!=KEY[=VALUE] (repeatable)\n"
               "  -f, --force           do not prompt for confirmation\n",
};

int ctr_prune(struct berth_ctx *ctx, const struct engine_prune_filter *f, uint64_t *reclaimed)
{
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_strv_free_ char **removed = NULL;
        struct engine *e;
        int r;

        *reclaimed = 0;
        if (berth_engine(ctx, &e, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        r = engine_containers_prune(e, f, &removed, reclaimed, &err);
        if (removed && removed[0]) {
                printf("Deleted Containers:\n");
                STRV_FOREACH (id, removed)
                        printf("%s\n", *id);
                printf("\n");
        }
        return r < 0 ? berth_fail(&err, EXIT_BERTH) : 0;
}

/* Asks on stderr, answers from stdin: true for y/Y. */
static bool confirm(const char *text)
{
        char line[16];

        fprintf(stderr, "%s\nAre you sure you want to continue? [y/N] ", text);
        fflush(stderr);
        if (!fgets(line, sizeof(line), stdin))
                return false;
        return line[0] == 'y' || line[0] == 'Y';
}

int cmd_container_prune(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
                                             {"filter", required_argument, NULL, 'F'},
                                             {"force", no_argument, NULL, 'f'},
                                             {}};
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_(engine_prune_filter_done) struct engine_prune_filter f = {0};
        bool force = false;
        uint64_t reclaimed;
        char size[32];
        int c, ret;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hf", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case 'F':
                        if (engine_prune_filter_add(&f, optarg, time_now_ns(), &err) < 0)
                                return berth_fail(&err, EXIT_BERTH);
                        break;
                case 'f':
                        force = true;
                        break;
                default:
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return berth_usage_error(&usage, "\"berth container prune\" accepts no arguments");
        if (!force && !confirm("WARNING! This will remove all stopped containers."))
                return 0;
        ret = ctr_prune(ctx, &f, &reclaimed);
        printf("Total reclaimed space: %s\n", human_size(reclaimed, size, sizeof(size)));
        return ret;
}
