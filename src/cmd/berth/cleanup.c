/* SPDX-License-Identifier: Apache-2.0 */
/* `berth container cleanup ID`: the exit command berth-monitor runs when a container is done. */
#include "ctr-util.h"
#include "engine/engine.h"

int cmd_container_cleanup(struct berth_ctx *ctx, int argc, char **argv)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct engine *e;
        int ret = 0;

        if (argc < 2)
                return berth_failf(EXIT_BERTH, "usage: berth container cleanup ID...");
        if (berth_engine(ctx, &e, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        for (int i = 1; i < argc; i++)
                if (engine_container_cleanup(e, argv[i], &err) < 0)
                        ret = berth_fail(&err, EXIT_BERTH);
        return ret;
}
