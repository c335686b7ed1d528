/* SPDX-License-Identifier: Apache-2.0 */
#include "ctr-util.h"
#include "runflags.h"

int cmd_create(struct berth_ctx *ctx, int argc, char **argv)
{
        _cleanup_(run_flags_done) struct run_flags f = {0};
        _cleanup_container_ struct container *c = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        struct engine *e;
        int idx, code;

        code = run_flags_parse(argc, argv, false, &f, &idx);
        if (code)
                return code < 0 ? 0 : code;
        if (berth_engine(ctx, &e, &err) < 0 || engine_container_create(e, &f.co, &c, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        printf("%s\n", c->id);
        return 0;
}
