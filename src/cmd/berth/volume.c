/* SPDX-License-Identifier: Apache-2.0 */
/* berth volume create|ls|inspect|rm|prune|exists: docker's flags and output. */
#include <getopt.h>
#include <string.h>

#include "basic/json.h"
#include "basic/strv.h"
#include "basic/timeutil.h"
#include "berth.h"
#include "objcmd.h"
#include "engine/engine.h"
#include "engine/lifecycle.h"
#include "engine/volume.h"

static int volumes_db(struct berth_ctx *ctx, sqlite3 **db, struct berr **err)
{
        struct engine *e;

        if (berth_engine(ctx, &e, err) < 0)
                return -1;
        *db = e->db;
        return 0;
}

static json_object *pairs_object(char *const *pairs)
{
        json_object *o = json_object_new_object();

        for (size_t i = 0; pairs && pairs[i] && pairs[i + 1]; i += 2)
                json_object_object_add(o, pairs[i], json_object_new_string(pairs[i + 1]));
        return o;
}

/* docker's volume inspect object. */
static json_object *volume_json(const struct volume *v)
{
        json_object *o = json_object_new_object();
        char created[64];

        /* Whole seconds, as docker prints it. */
        time_format_rfc3339(v->created_ns / 1000000000LL * 1000000000LL, created, sizeof(created));
        json_object_object_add(o, "CreatedAt", json_object_new_string(created));
        json_object_object_add(o, "Driver", json_object_new_string(v->driver));
        json_object_object_add(o, "Labels", pairs_object(v->labels));
        json_object_object_add(o, "Mountpoint", json_object_new_string(v->mountpoint));
        json_object_object_add(o, "Name", json_object_new_string(v->name));
        json_object_object_add(o, "Options", pairs_object(v->options));
        json_object_object_add(o, "Scope", json_object_new_string("local"));
        return o;
}

/* ---- create ---- */

static const struct berth_usage create_usage = {
    .usage = "berth volume create [options] [VOLUME]",
    .summary = "Create a volume",
    .options = "  -d, --driver DRIVER   volume driver (only \"local\")\n"
               "      --ignore          accepted for podman: an existing volume is never an error (docker)\n"
               "  -l, --label KEY=VALUE set metadata on the volume\n"
               "      --name NAME       the volume's name (instead of the argument)\n"
               "  -o, --opt KEY=VALUE   driver options: type, device, o (as mount(8) -t, device, -o)\n",
};

static int volume_create_cmd(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"driver", required_argument, NULL, 'd'},
            {"label", required_argument, NULL, 'l'},
            {"opt", required_argument, NULL, 'o'},
            {"name", required_argument, NULL, 'n'},
            {"ignore", no_argument, NULL, 'i'},
            {},
        };
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_strv_free_ char **labels = NULL, **options = NULL;
        _cleanup_volume_ struct volume *v = NULL;
        struct volume_create_opts o = {0};
        sqlite3 *db;
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hd:l:o:", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &create_usage);
                        return 0;
                case 'd':
                        o.driver = optarg;
                        break;
                case 'l':
                        if (strv_extend(&labels, optarg) < 0)
                                return berth_failf(EXIT_BERTH, "out of memory");
                        break;
                case 'o':
                        if (strv_extend(&options, optarg) < 0)
                                return berth_failf(EXIT_BERTH, "out of memory");
                        break;
                case 'n':
                        o.name = optarg;
                        break;
                case 'i':
                        break;
                default:
                        return berth_usage_error(&create_usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind < argc && o.name)
                return berth_usage_error(
                    &create_usage,
                    "conflicting options: either specify --name or provide positional arg, not both");
        if (argc - optind > 1)
                return berth_usage_error(&create_usage, "accepts at most 1 arg(s), received %d",
                                         argc - optind);
        if (optind < argc)
                o.name = argv[optind];
        o.labels = (const char *const *)labels;
        o.driver_options = (const char *const *)options;
        if (volumes_db(ctx, &db, &err) < 0 || volume_create(db, ctx->root, &o, &v, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        berth_event(ctx, "volume", "create", v->name, (const char *const[]){"driver", v->driver, NULL});
        printf("%s\n", v->name);
        return 0;
}

/* ---- ls ---- */

static const struct berth_usage ls_usage = {
    .usage = "berth volume ls [options]",
    .summary = "List volumes",
    .options = "  -f, --filter FILTER   name=REGEX, label=KEY[=VALUE], dangling=true|false, driver=local\n"
               "      --format FORMAT   json, or a Go template (e.g. '{{.Name}}\\t{{.Mountpoint}}')\n"
               "  -q, --quiet           print only volume names\n",
};

struct filter_args {
        char **names, **labels;
        struct volume_filter f;
};

static void filter_args_done(struct filter_args *a)
{
        strv_free(a->names);
        strv_free(a->labels);
}

/* Returns 0, or an exit code after printing the error. */
static int filter_add(const struct berth_usage *u, struct filter_args *a, const char *arg, bool prune)
{
        const char *eq = strchr(arg, '=');
        size_t klen = eq ? (size_t)(eq - arg) : 0;
        const char *val = eq ? eq + 1 : NULL;

        if (!eq)
                return berth_usage_error(u, "invalid filter `%s`: want KEY=VALUE", arg);
        if (klen == 5 && strneq(arg, "label", 5))
                return strv_extend(&a->labels, val) < 0 ? berth_failf(EXIT_BERTH, "out of memory") : 0;
        if (prune)
                return berth_usage_error(u, "invalid filter `%s` (prune takes label=)", arg);
        if (klen == 4 && strneq(arg, "name", 4))
                return strv_extend(&a->names, val) < 0 ? berth_failf(EXIT_BERTH, "out of memory") : 0;
        if (klen == 6 && strneq(arg, "driver", 6)) {
                a->f.driver = val;
                return 0;
        }
        if (klen == 8 && strneq(arg, "dangling", 8)) {
                bool b;
                if (parse_bool(val, &b) < 0)
                        return berth_usage_error(u, "invalid filter `%s`: want true or false", arg);
                a->f.dangling = b;
                return 0;
        }
        return berth_usage_error(u, "invalid filter `%s` (name, label, dangling, driver)", arg);
}

static int volume_ls_cmd(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"filter", required_argument, NULL, 'f'},
            {"format", required_argument, NULL, 'F'},
            {"quiet", no_argument, NULL, 'q'},
            {},
        };
        _cleanup_berr_ struct berr *err = NULL;
        struct filter_args fa = {.f.dangling = -1};
        const char *format = NULL;
        struct volume **v = NULL;
        bool quiet = false;
        size_t n = 0;
        sqlite3 *db;
        int c, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hf:q", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &ls_usage);
                        filter_args_done(&fa);
                        return 0;
                case 'f':
                        ret = filter_add(&ls_usage, &fa, optarg, false);
                        if (ret) {
                                filter_args_done(&fa);
                                return ret;
                        }
                        break;
                case 'F':
                        format = optarg;
                        break;
                case 'q':
                        quiet = true;
                        break;
                default:
                        filter_args_done(&fa);
                        return berth_usage_error(&ls_usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind < argc) {
                filter_args_done(&fa);
                return berth_usage_error(&ls_usage, "too many arguments");
        }
        fa.f.names = (const char *const *)fa.names;
        fa.f.labels = (const char *const *)fa.labels;
        if (volumes_db(ctx, &db, &err) < 0 || volume_list(db, ctx->root, &fa.f, &v, &n, &err) < 0) {
                filter_args_done(&fa);
                return berth_fail(&err, EXIT_BERTH);
        }
        if (format && streq(format, "json")) {
                json_object *arr = json_object_new_array();
                for (size_t i = 0; i < n; i++)
                        json_object_array_add(arr, volume_json(v[i]));
                printf("%s\n", json_to_string(arr, true));
                json_object_put(arr);
        } else if (quiet) {
                for (size_t i = 0; i < n; i++)
                        printf("%s\n", v[i]->name);
        } else if (format) {
                if (format_is_table(format))
                        format_table_header(format, stdout);
                for (size_t i = 0; i < n && ret == 0; i++) {
                        json_object *o = volume_json(v[i]);
                        if (format_template(format, o, stdout, &err) < 0)
                                ret = berth_fail(&err, EXIT_BERTH);
                        json_object_put(o);
                }
        } else {
                struct table *t = table_new(2);
                table_add(t, (const char *[]){"DRIVER", "VOLUME NAME"});
                for (size_t i = 0; i < n; i++)
                        table_add(t, (const char *[]){v[i]->driver, v[i]->name});
                table_print(t, stdout);
                table_free(t);
        }
        volume_freev(v, n);
        filter_args_done(&fa);
        return ret;
}

/* ---- inspect ---- */

static const struct berth_usage inspect_usage = {
    .usage = "berth volume inspect [options] VOLUME [VOLUME...]",
    .summary = "Display detailed information on one or more volumes",
    .options = "  -a, --all             inspect all volumes\n"
               "  -f, --format FORMAT   a Go template (e.g. '{{.Mountpoint}}')\n",
};

static int volume_inspect_cmd(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"all", no_argument, NULL, 'a'},
            {"format", required_argument, NULL, 'f'},
            {},
        };
        _cleanup_berr_ struct berr *err = NULL;
        const char *format = NULL;
        json_object *arr;
        bool all = false;
        sqlite3 *db;
        int c, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "haf:", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &inspect_usage);
                        return 0;
                case 'a':
                        all = true;
                        break;
                case 'f':
                        format = optarg;
                        break;
                default:
                        return berth_usage_error(&inspect_usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (!all && optind >= argc)
                return berth_usage_error(&inspect_usage, "provide one or more volume names");
        if (all && optind < argc)
                return berth_usage_error(&inspect_usage,
                                         "when using the --all switch, you may not pass any volume names");
        if (volumes_db(ctx, &db, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        arr = json_object_new_array();
        if (all) {
                struct volume **v = NULL;
                size_t n = 0;
                if (volume_list(db, ctx->root, NULL, &v, &n, &err) < 0) {
                        json_object_put(arr);
                        return berth_fail(&err, EXIT_BERTH);
                }
                for (size_t i = 0; i < n; i++)
                        json_object_array_add(arr, volume_json(v[i]));
                volume_freev(v, n);
        }
        for (int i = optind; i < argc; i++) {
                _cleanup_volume_ struct volume *v = NULL;
                if (volume_get(db, ctx->root, argv[i], &v, &err) < 0) {
                        ret = berth_fail(&err, EXIT_BERTH);
                        continue;
                }
                json_object_array_add(arr, volume_json(v));
        }
        return berth_print_inspect(arr, format, ret);
}

/* podman's rm -f: the containers using the volume go first (killed when running). */
static int remove_users(struct berth_ctx *ctx, struct engine *e, const char *name, struct berr **err)
{
        _cleanup_volume_ struct volume *v = NULL;

        if (volume_get(e->db, ctx->root, name, &v, err) < 0) {
                if ((*err)->code != ENOENT)
                        return -1;
                berr_freep(err);
                return 0;
        }
        STRV_FOREACH (id, v->users) {
                if (engine_container_remove(e, *id, true, false, err) == 0)
                        continue;
                if ((*err)->code != ENOENT)
                        return -1;
                berr_freep(err);
        }
        return 0;
}

static int remove_one(struct berth_ctx *ctx, struct engine *e, const char *name, struct berr **err)
{
        if (volume_remove(e->db, ctx->root, name, false, err) < 0)
                return -1;
        berth_event(ctx, "volume", "destroy", name, NULL);
        return 0;
}

/* ---- rm ---- */

static const struct berth_usage rm_usage = {
    .usage = "berth volume rm [options] VOLUME [VOLUME...]",
    .summary = "Remove one or more volumes",
    .options =
        "  -f, --force   remove the containers that use the volume first; missing volumes are no error\n",
};

static int volume_rm_cmd(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct berth_rm_ops ops = {.remove_users = remove_users, .remove = remove_one};

        return berth_rm_command(ctx, argc, argv, &rm_usage, &ops);
}

/* ---- prune ---- */

static const struct berth_usage prune_usage = {
    .usage = "berth volume prune [options]",
    .summary = "Remove unused volumes",
    .options = "  -a, --all             remove all unused volumes, not only anonymous ones\n"
               "      --filter FILTER   label=KEY[=VALUE]\n"
               "  -f, --force           do not prompt for confirmation\n",
};

static int volume_prune_cmd(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"all", no_argument, NULL, 'a'},
            {"filter", required_argument, NULL, 'F'},
            {"force", no_argument, NULL, 'f'},
            {},
        };
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_strv_free_ char **removed = NULL;
        struct filter_args fa = {.f.dangling = -1};
        bool all = false, force = false;
        uint64_t reclaimed = 0;
        char line[16], size[32];
        sqlite3 *db;
        int c, ret;

        optind = 0;
        while ((c = getopt_long(argc, argv, "haf", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &prune_usage);
                        filter_args_done(&fa);
                        return 0;
                case 'a':
                        all = true;
                        break;
                case 'F':
                        ret = filter_add(&prune_usage, &fa, optarg, true);
                        if (ret) {
                                filter_args_done(&fa);
                                return ret;
                        }
                        break;
                case 'f':
                        force = true;
                        break;
                default:
                        filter_args_done(&fa);
                        return berth_usage_error(&prune_usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind < argc) {
                filter_args_done(&fa);
                return berth_usage_error(&prune_usage, "too many arguments");
        }
        if (!force) {
                fprintf(stderr,
                        "WARNING! This will remove %s local volumes not used by at least one container.\n"
                        "Are you sure you want to continue? [y/N] ",
                        all ? "all" : "anonymous");
                fflush(stderr);
                if (!fgets(line, sizeof(line), stdin) || (line[0] != 'y' && line[0] != 'Y')) {
                        filter_args_done(&fa);
                        return 0;
                }
        }
        fa.f.labels = (const char *const *)fa.labels;
        fa.f.anonymous_only = !all;
        ret = volumes_db(ctx, &db, &err) < 0 ||
              volume_prune(db, ctx->root, &fa.f, &removed, &reclaimed, &err) < 0;
        filter_args_done(&fa);
        if (ret)
                return berth_fail(&err, EXIT_BERTH);
        if (removed) {
                printf("Deleted Volumes:\n");
                STRV_FOREACH (r, removed) {
                        berth_event(ctx, "volume", "destroy", *r, NULL);
                        printf("%s\n", *r);
                }
                printf("\n");
        }
        printf("Total reclaimed space: %s\n", human_size(reclaimed, size, sizeof(size)));
        return 0;
}

/* ---- exists ---- */

static int volume_exists_cmd(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct berth_usage usage = {
            .usage = "berth volume exists VOLUME",
            .summary = "Check if a volume exists (exit 0 if it does, 1 if not)",
        };
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_volume_ struct volume *v = NULL;
        sqlite3 *db;

        if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                berth_print_usage(stdout, &usage);
                return 0;
        }
        if (argc != 2)
                return berth_usage_error(&usage, "requires exactly 1 arg(s), received %d", argc - 1);
        if (volumes_db(ctx, &db, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        if (volume_get(db, ctx->root, argv[1], &v, &err) < 0)
                return err->code == ENOENT ? 1 : berth_fail(&err, EXIT_BERTH);
        return 0;
}

static const struct berth_command volume_commands[] = {
    {"create", volume_create_cmd, "Create a volume", false},
    {"exists", volume_exists_cmd, "Check if a volume exists", false},
    {"inspect", volume_inspect_cmd, "Display detailed information on one or more volumes", false},
    {"list", volume_ls_cmd, "List volumes", true},
    {"ls", volume_ls_cmd, "List volumes", false},
    {"prune", volume_prune_cmd, "Remove unused volumes", false},
    {"remove", volume_rm_cmd, "Remove one or more volumes", true},
    {"rm", volume_rm_cmd, "Remove one or more volumes", false},
};

int cmd_volume(struct berth_ctx *ctx, int argc, char **argv)
{
        return berth_group(ctx, "volume", volume_commands, ARRAY_SIZE(volume_commands), argc, argv);
}
