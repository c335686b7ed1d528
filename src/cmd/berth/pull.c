/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <string.h>

#include "basic/timeutil.h"
#include "berth.h"
#include "image/pull.h"

static const struct berth_usage usage = {
    .usage = "berth pull [options] IMAGE",
    .summary = "Pull an image from a registry",
    .options =
        "  -q, --quiet               print only the image ID\n"
        "      --platform OS/ARCH[/VARIANT]  pull this platform of a multi-platform image\n"
        "      --max-concurrent-downloads N  layers downloaded at once (default 3)\n" REGISTRY_OPTIONS_HELP,
};

/*
 * Progress: on a terminal one line per layer, redrawn in place (docker's
 * layout); otherwise podman's plain lines.
 */
enum layer_state { LS_WAITING, LS_DOWNLOADING, LS_EXTRACTING, LS_DONE, LS_EXISTS };

struct progress {
        bool tty, quiet;
        size_t n;
        enum layer_state *state;
        uint64_t *done, *total;
        char (*ids)[13];
        size_t drawn;
        int64_t last_draw;
        char config[136];
};

static void draw(struct progress *p, bool force)
{
        int64_t now = time_mono_ns();
        size_t lines = 0;

        if (!force && now - p->last_draw < 100000000LL)
                return;
        p->last_draw = now;
        if (p->drawn)
                fprintf(stderr, "\033[%zuA", p->drawn);
        for (size_t i = 0; i < p->n; i++) {
                char a[32], b[32], bar[41];
                if (!p->ids[i][0])
                        continue;
                lines++;
                fprintf(stderr, "\033[2K%s: ", p->ids[i]);
                switch (p->state[i]) {
                case LS_WAITING:
                        fputs("Waiting\n", stderr);
                        break;
                case LS_DOWNLOADING: {
                        size_t fill =
                            p->total[i] ? (size_t)((double)p->done[i] / (double)p->total[i] * 40) : 0;
                        memset(bar, ' ', 40);
                        bar[40] = '\0';
                        memset(bar, '=', MIN(fill, (size_t)40));
                        if (fill > 0 && fill < 40)
                                bar[fill - 1] = '>';
                        fprintf(stderr, "Downloading [%s] %s/%s\n", bar, human_size(p->done[i], a, sizeof(a)),
                                human_size(p->total[i], b, sizeof(b)));
                        break;
                }
                case LS_EXTRACTING:
                        fputs("Extracting\n", stderr);
                        break;
                case LS_DONE:
                        fputs("Pull complete\n", stderr);
                        break;
                case LS_EXISTS:
                        fputs("Already exists\n", stderr);
                        break;
                }
        }
        p->drawn = lines;
        fflush(stderr);
}

static void on_progress(void *ud, const struct pull_event *ev)
{
        struct progress *p = ud;

        if (p->quiet)
                return;
        if (ev->type == PULL_EV_TRYING) {
                fprintf(stderr, "Trying to pull %s...\n", ev->text);
                return;
        }
        if (ev->type == PULL_EV_WARNING) {
                fprintf(stderr, "WARNING: %s\n", ev->text);
                return;
        }
        if (ev->type == PULL_EV_RESOLVED) {
                free(p->state);
                free(p->done);
                free(p->total);
                free(p->ids);
                p->n = ev->n_layers;
                p->state = calloc(p->n + 1, sizeof(*p->state));
                p->done = calloc(p->n + 1, sizeof(*p->done));
                p->total = calloc(p->n + 1, sizeof(*p->total));
                p->ids = calloc(p->n + 1, sizeof(*p->ids));
                if (!p->state || !p->done || !p->total || !p->ids)
                        p->n = 0;
                if (!p->tty)
                        fputs("Getting image source signatures\n", stderr);
                return;
        }
        if (ev->type == PULL_EV_CONFIG) {
                snprintf(p->config, sizeof(p->config), "%s", ev->digest);
                return;
        }
        if (ev->type == PULL_EV_WRITING) {
                if (p->tty)
                        draw(p, true);
                else
                        fprintf(stderr, "Copying config %s\nWriting manifest to image destination\n",
                                p->config);
                return;
        }
        if (ev->layer >= p->n)
                return;
        if (!p->ids[ev->layer][0])
                short_id(ev->digest, p->ids[ev->layer]);
        p->total[ev->layer] = ev->total;
        switch (ev->type) {
        case PULL_EV_LAYER_SKIP:
                p->state[ev->layer] = LS_EXISTS;
                if (!p->tty)
                        fprintf(stderr, "Copying blob %s skipped: already exists\n", ev->digest);
                break;
        case PULL_EV_LAYER_START:
                p->state[ev->layer] = LS_DOWNLOADING;
                p->done[ev->layer] = ev->done;
                if (!p->tty)
                        fprintf(stderr, "Copying blob %s\n", ev->digest);
                break;
        case PULL_EV_LAYER_PROGRESS:
                p->done[ev->layer] = ev->done;
                break;
        case PULL_EV_LAYER_DOWNLOADED:
                p->state[ev->layer] = LS_EXTRACTING;
                break;
        case PULL_EV_LAYER_DONE:
                p->state[ev->layer] = LS_DONE;
                break;
        default:
                break;
        }
        if (p->tty)
                draw(p, ev->type != PULL_EV_LAYER_PROGRESS);
}

int cmd_pull(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"quiet", no_argument, NULL, 'q'},
            {"platform", required_argument, NULL, 'p'},
            {"max-concurrent-downloads", required_argument, NULL, 'j'},
            REGISTRY_LONG_OPTIONS,
            {},
        };
        struct registry_flags rf = REGISTRY_FLAGS_INIT;
        struct pull_opts po = {0};
        struct progress p = {0};
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_free_ char *id = NULL;
        struct image_store *s;
        int c, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hqp:", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case 'q':
                        p.quiet = true;
                        break;
                case 'p':
                        po.platform = optarg;
                        break;
                case 'j': {
                        char *e;
                        unsigned long v = strtoul(optarg, &e, 10);
                        if (*e || v < 1 || v > PULL_MAX_PARALLEL) {
                                registry_flags_clear(&rf);
                                return berth_usage_error(&usage, "--max-concurrent-downloads: want 1..%d",
                                                         PULL_MAX_PARALLEL);
                        }
                        po.max_parallel = (unsigned)v;
                        break;
                }
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
        if (argc - optind != 1) {
                registry_flags_clear(&rf);
                return berth_usage_error(&usage, "\"berth pull\" requires exactly 1 argument");
        }
        registry_flags_apply(&rf, &po.reg);
        p.tty = stderr_is_tty();
        po.progress = on_progress;
        po.progress_userdata = &p;
        if (berth_store(ctx, &s, &err) < 0 || image_pull(s, argv[optind], &po, &id, &err) < 0)
                ret = berth_fail(&err, EXIT_BERTH);
        else {
                berth_event(ctx, "image", "pull", argv[optind],
                            (const char *const[]){"name", argv[optind], NULL});
                printf("%s\n", id + strlen("sha256:"));
        }
        free(p.state);
        free(p.done);
        free(p.total);
        free(p.ids);
        registry_flags_clear(&rf);
        return ret;
}
