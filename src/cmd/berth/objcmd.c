/* SPDX-License-Identifier: Apache-2.0 */
/* What the volume and network commands share: rm's loop and inspect's output. */
#include <getopt.h>

#include "basic/json.h"
#include "berth.h"
#include "objcmd.h"

int berth_print_inspect(json_object *arr, const char *format, int ret)
{
        _cleanup_berr_ struct berr *err = NULL;

        if (format) {
                for (size_t i = 0; i < json_object_array_length(arr); i++)
                        if (format_template(format, json_object_array_get_idx(arr, i), stdout, &err) < 0) {
                                ret = berth_fail(&err, EXIT_BERTH);
                                break;
                        }
        } else {
                printf("%s\n", json_to_string(arr, true));
        }
        json_object_put(arr);
        return ret;
}

int berth_rm_command(struct berth_ctx *ctx, int argc, char **argv, const struct berth_usage *u,
                     const struct berth_rm_ops *ops)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"force", no_argument, NULL, 'f'},
            {},
        };
        _cleanup_berr_ struct berr *err = NULL;
        struct engine *e;
        bool force = false;
        int c, worst = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hf", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, u);
                        return 0;
                case 'f':
                        force = true;
                        break;
                default:
                        return berth_usage_error(u, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return berth_usage_error(u, "requires at least 1 arg(s), only received 0");
        if (berth_engine(ctx, &e, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        for (int i = optind; i < argc; i++) {
                int code;
                if (force && ops->remove_users(ctx, e, argv[i], &err) < 0) {
                        berth_fail(&err, EXIT_BERTH);
                        worst = EXIT_BERTH;
                        continue;
                }
                if (ops->remove(ctx, e, argv[i], &err) == 0) {
                        printf("%s\n", argv[i]);
                        continue;
                }
                code = err->code == ENOENT ? EXIT_NOT_FOUND : err->code == EBUSY ? EXIT_IN_USE : EXIT_BERTH;
                /* podman: -f makes a missing one no error. */
                if (code == EXIT_NOT_FOUND && force) {
                        berr_freep(&err);
                        continue;
                }
                berth_fail(&err, code);
                if (worst != EXIT_BERTH)
                        worst = code;
        }
        return worst;
}
