/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "ctr-util.h"
#include "engine/engine.h"
#include "runflags.h"

/* A failed start: docker's exit code from the runtime's words, and --rm still removes. */
static int start_failure(struct engine *e, const char *id, bool rm, struct berr **err)
{
        int code = engine_exit_code_for(err && *err ? (*err)->msg : NULL);

        berth_fail(err, code);
        if (rm) {
                _cleanup_berr_ struct berr *e2 = NULL;
                if (engine_container_remove(e, id, true, true, &e2) < 0)
                        berth_fail(&e2, code);
        }
        return code;
}

int cmd_run(struct berth_ctx *ctx, int argc, char **argv)
{
        _cleanup_(run_flags_done) struct run_flags f = {0};
        _cleanup_container_ struct container *c = NULL;
        _cleanup_attach_conn_ struct attach_conn *conn = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        struct attach_session as;
        struct engine *e;
        int idx, code;

        code = run_flags_parse(argc, argv, true, &f, &idx);
        if (code)
                return code < 0 ? 0 : code;
        as = (struct attach_session){.forward_stdin = f.co.run.interactive,
                                     .tty = f.co.run.tty,
                                     .sig_proxy = f.sig_proxy && !f.co.run.tty};
        if (ctr_parse_detach_keys(f.detach_keys ? f.detach_keys : "ctrl-p,ctrl-q", &as) < 0)
                return berth_failf(EXIT_BERTH, "--detach-keys: invalid sequence `%s`", f.detach_keys);
        if (berth_engine(ctx, &e, &err) < 0 || engine_container_create(e, &f.co, &c, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        if (f.detach) {
                if (engine_container_start(e, c->id, NULL, &err) < 0)
                        return start_failure(e, c->id, f.co.rm, &err);
                printf("%s\n", c->id);
                return 0;
        }
        if (engine_container_start(e, c->id, &conn, &err) < 0)
                return start_failure(e, c->id, f.co.rm, &err);
        as.conn = conn;
        as.engine = e;
        as.id = c->id;
        code = ctr_attach_session(&as, &err);
        if (code == ATTACH_DETACHED)
                return 0;
        if (code < 0) {
                berth_fail(&err, EXIT_BERTH);
                code = EXIT_BERTH;
        }
        /* The exit command removes an --rm container too, and is sometimes first: gone is done. */
        if (f.co.rm && engine_container_remove(e, c->id, true, true, &err) < 0 &&
            !(err && err->code == ENOENT))
                berth_fail(&err, code);
        return code;
}
