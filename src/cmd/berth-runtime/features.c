/* SPDX-License-Identifier: Apache-2.0 */
#include "commands.h"

int cmd_features(struct runtime_ctx *ctx, int argc, char **argv)
{
        json_object *f;

        if (argc > 1 && (streq(argv[1], "-h") || streq(argv[1], "--help")))
                return usage(command_find("features"), 0);
        f = runtime_features();
        print_json(f);
        json_object_put(f);
        return 0;
}
