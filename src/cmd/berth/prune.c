/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <string.h>

#include "basic/strv.h"
#include "berth.h"
#include "ctr-util.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "engine/volume.h"
#include "image/gc.h"
#include "image/images.h"

static const struct berth_usage image_usage = {
    .usage = "berth image prune [options]",
    .summary = "Remove unused images",
    .options = "  -a, --all     remove all images not used by containers, not only dangling ones\n"
               "  -f, --force   do not prompt for confirmation\n",
};

static const struct berth_usage system_usage = {
    .usage = "berth system prune [options]",
    .summary = "Remove unused data",
    .options = "  -a, --all       remove all unused images, not only dangling ones\n"
               "  -f, --force     do not prompt for confirmation\n"
               "      --volumes   also remove anonymous volumes no container uses\n"
               "Stopped containers and networks no container uses are removed first.\n",
};

static bool confirm(const char *what)
{
        char line[16];

        fprintf(stderr, "WARNING! This command removes %s.\nAre you sure you want to continue? [y/N] ", what);
        fflush(stderr);
        if (!fgets(line, sizeof(line), stdin))
                return false;
        return line[0] == 'y' || line[0] == 'Y';
}

/* docker's system prune --volumes: the anonymous volumes no container uses (named ones stay). */
static int prune_volumes(struct berth_ctx *ctx, uint64_t *reclaimed)
{
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_strv_free_ char **removed = NULL;
        struct volume_filter f = {.dangling = -1, .anonymous_only = true};
        struct engine *e;
        uint64_t bytes = 0;

        if (berth_engine(ctx, &e, &err) < 0 || volume_prune(e->db, ctx->root, &f, &removed, &bytes, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        if (removed && removed[0]) {
                printf("Deleted Volumes:\n");
                STRV_FOREACH (v, removed) {
                        engine_event_emit(e, "volume", "destroy", *v, NULL);
                        printf("%s\n", *v);
                }
                printf("\n");
        }
        *reclaimed += bytes;
        return 0;
}

/* Removes dangling (or, with all, unused) images, then collects garbage. With
 * system, the stopped containers, the unused networks (and with volumes the
 * unused anonymous volumes) go first, as docker's order, and the totals are printed. */
static int prune(struct berth_ctx *ctx, bool all, bool system, bool volumes)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct image_record **v = NULL;
        struct gc_result g;
        struct image_store *s;
        uint64_t reclaimed = 0;
        size_t n = 0, deleted = 0;
        char sz[32];
        int ret = 0;

        if (system && (ret = ctr_prune(ctx, NULL, &reclaimed)) != 0)
                return ret;
        if (system && (ret = berth_prune_networks(ctx)) != 0)
                return ret;
        if (volumes && (ret = prune_volumes(ctx, &reclaimed)) != 0)
                return ret;
        if (berth_store(ctx, &s, &err) < 0 || images_list(s, &v, &n, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        for (size_t i = 0; i < n; i++) {
                _cleanup_strv_free_ char **children = NULL;
                int used;
                if (!all && strv_length(v[i]->names) > 0)
                        continue;
                used = image_in_use(s, v[i]->id, &err);
                if (used < 0 || images_children(s, v[i]->id, &children, &err) < 0) {
                        ret = berth_fail(&err, EXIT_BERTH);
                        break;
                }
                if (used || children[0])
                        continue;
                if (image_remove(s, v[i]->id, false, &err) < 0) {
                        ret = berth_fail(&err, EXIT_BERTH);
                        break;
                }
                berth_event(ctx, "image", "delete", v[i]->id, NULL);
                if (system && deleted++ == 0)
                        printf("Deleted Images:\n");
                printf("%s\n", v[i]->id + 7);
        }
        if (deleted)
                printf("\n");
        image_records_free(v, n);
        if (ret)
                return ret;
        if (image_gc(s, true, &g, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        if (system)
                printf("Total reclaimed space: %s\n", human_size(g.bytes + reclaimed, sz, sizeof(sz)));
        return 0;
}

/* volumes NULL: --volumes is not a flag of this command. */
static int parse(const struct berth_usage *u, int argc, char **argv, bool *all, bool *force, bool *volumes)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"all", no_argument, NULL, 'a'},
            {"force", no_argument, NULL, 'f'},
            {"volumes", no_argument, NULL, 'V'},
            {},
        };
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "haf", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, u);
                        return 1;
                case 'a':
                        *all = true;
                        break;
                case 'f':
                        *force = true;
                        break;
                case 'V':
                        if (volumes) {
                                *volumes = true;
                                break;
                        }
                        return berth_usage_error(u, "unknown flag: %s", argv[optind - 1]);
                default:
                        return berth_usage_error(u, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return berth_usage_error(u, "too many arguments");
        return 0;
}

int cmd_image_prune(struct berth_ctx *ctx, int argc, char **argv)
{
        bool all = false, force = false;
        int r = parse(&image_usage, argc, argv, &all, &force, NULL);

        if (r)
                return r == 1 ? 0 : r;
        if (!force && !confirm(all ? "all images without at least one container associated with them"
                                   : "all dangling images"))
                return 0;
        return prune(ctx, all, false, false);
}

int cmd_system_prune(struct berth_ctx *ctx, int argc, char **argv)
{
        bool all = false, force = false, volumes = false;
        int r = parse(&system_usage, argc, argv, &all, &force, &volumes);
        char what[256];

        if (r)
                return r == 1 ? 0 : r;
        snprintf(what, sizeof(what),
                 "all stopped containers, all networks not used by at least one container, %s%s and all "
                 "unused layers",
                 volumes ? "all anonymous volumes not used by at least one container, " : "",
                 all ? "all images not used by containers" : "all dangling images");
        if (!force && !confirm(what))
                return 0;
        return prune(ctx, all, true, volumes);
}
