/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>

#include "ctr-util.h"
#include "engine/commit.h"
#include "engine/engine.h"

static const struct berth_usage usage = {
    .usage = "berth diff [options] CONTAINER",
    .summary = "Inspect changes to files or directories on a container's filesystem",
    .options = "      --format FORMAT   json, or the default text (A added, C changed, D deleted)\n",
};

int cmd_diff(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'}, {"format", required_argument, NULL, 'F'}, {}};
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_container_ struct container *ct = NULL;
        struct engine_change *v = NULL;
        const char *format = NULL;
        struct engine *e;
        size_t n = 0;
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case 'F':
                        format = optarg;
                        break;
                default:
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (argc - optind != 1)
                return berth_usage_error(&usage, "\"berth diff\" requires exactly 1 argument");
        if (format && !streq(format, "json"))
                return berth_usage_error(&usage, "--format: only `json` is known");
        if (berth_engine(ctx, &e, &err) < 0 || ctr_lookup(e, argv[optind], &ct, &err) <= 0 ||
            engine_container_diff(e, ct, &v, &n, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        if (format) {
                /* podman's shape: the paths by kind. */
                json_object *o = json_object_new_object(), *a[3];
                static const char kinds[] = {'C', 'A', 'D'};
                static const char *const keys[] = {"changed", "added", "deleted"};
                for (size_t k = 0; k < 3; k++)
                        a[k] = json_object_new_array();
                for (size_t i = 0; i < n; i++)
                        for (size_t k = 0; k < 3; k++)
                                if (v[i].kind == kinds[k])
                                        json_object_array_add(a[k], json_object_new_string(v[i].path));
                for (size_t k = 0; k < 3; k++)
                        if (json_object_array_length(a[k]))
                                json_object_object_add(o, keys[k], a[k]);
                        else
                                json_object_put(a[k]);
                printf("%s\n",
                       json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(o);
        } else {
                for (size_t i = 0; i < n; i++)
                        printf("%c %s\n", v[i].kind, v[i].path);
        }
        engine_changes_free(v, n);
        return 0;
}
