/* SPDX-License-Identifier: Apache-2.0 */
/* update, pause and resume: cgroup operations on a live container, with runc's status rules. */
#include "container.h"

static int load_live(const struct runtime_ctx *ctx, const char *id, struct container **c, enum oci_status *st,
                     struct berr **err)
{
        if (container_load(ctx, id, c, err) < 0)
                return -1;
        *st = container_status(*c);
        if (*st == OCI_STATUS_STOPPED)
                return berr_make(err, ESRCH, "container `%s` is not running", id);
        if (!(*c)->cg)
                return berr_make(err, ENOENT, "container `%s` has no cgroup", id);
        return 0;
}

int container_update(const struct runtime_ctx *ctx, const char *id, json_object *resources, struct berr **err)
{
        _cleanup_container_ struct container *c = NULL;
        enum oci_status st;

        if (load_live(ctx, id, &c, &st, err) < 0)
                return -1;
        if (cgroup_update(c->cg, resources, err) < 0)
                return berr_wrap(err, "update container `%s`", id);
        return 0;
}

int container_pause(const struct runtime_ctx *ctx, const char *id, struct berr **err)
{
        _cleanup_container_ struct container *c = NULL;
        enum oci_status st;

        if (load_live(ctx, id, &c, &st, err) < 0)
                return -1;
        if (st == OCI_STATUS_PAUSED)
                return berr_make(err, 0, "container `%s` is already paused", id);
        if (cgroup_set_frozen(c->cg, true, err) < 0)
                return berr_wrap(err, "pause container `%s`", id);
        return 0;
}

int container_resume(const struct runtime_ctx *ctx, const char *id, struct berr **err)
{
        _cleanup_container_ struct container *c = NULL;
        enum oci_status st;

        if (load_live(ctx, id, &c, &st, err) < 0)
                return -1;
        if (st != OCI_STATUS_PAUSED)
                return berr_make(err, 0, "container `%s` is not paused", id);
        if (cgroup_set_frozen(c->cg, false, err) < 0)
                return berr_wrap(err, "resume container `%s`", id);
        return 0;
}
