/* SPDX-License-Identifier: Apache-2.0 */
#include "commands.h"

int cmd_state(struct runtime_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {}};
        _cleanup_container_ struct container *c = NULL;
        struct berr *err = NULL;
        json_object *o;
        int ch;

        while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1)
                return usage(command_find("state"), ch == 'h' ? 0 : 1);
        if (need_args("state", argc - optind, 1, 1))
                return 1;
        if (container_load(ctx, argv[optind], &c, &err) < 0)
                return fail(err);
        o = container_state_json(c, container_status(c), true);
        print_json(o);
        json_object_put(o);
        return 0;
}
