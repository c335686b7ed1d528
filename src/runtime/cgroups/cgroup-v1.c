/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup v1: one hierarchy per controller (or per co-mounted group). */
#include <inttypes.h>
#include <string.h>

#include "basic/log.h"
#include "cgroup-internal.h"

/* The v1 directory of controller, opened; NULL (and no error) when the
 * controller does not live on a v1 hierarchy. */
static struct cgroup_dir *v1_dir(struct cgroup *cg, const char *controller, int *r, struct berr **err)
{
        struct cgroup_dir *d = cgroup_dir_for(cg, controller);

        *r = 0;
        if (!d || cgroup_dir_is_v2(cg, d))
                return NULL;
        if (cgroup_dir_open(cg, d, err) < 0) {
                *r = -1;
                return NULL;
        }
        return d;
}

static int write_i64(struct cgroup_dir *d, const char *file, int64_t v, const char *field, struct berr **err)
{
        if (cg_writef(d->fd, d->full, file, err, "%" PRId64, v) < 0)
                return berr_wrap(err, "%s", field);
        return 0;
}

static int write_u64(struct cgroup_dir *d, const char *file, uint64_t v, const char *field, struct berr **err)
{
        if (cg_writef(d->fd, d->full, file, err, "%" PRIu64, v) < 0)
                return berr_wrap(err, "%s", field);
        return 0;
}

static int memory_limit(struct cgroup_dir *d, int64_t limit, struct berr **err)
{
        _cleanup_berr_ struct berr *e = NULL;
        uint64_t usage = 0, peak = 0;
        int r;

        if (limit == 0)
                return 0;
        r = cg_writef(d->fd, d->full, "memory.limit_in_bytes", &e, "%" PRId64, limit);
        if (r == 0)
                return 0;
        if (r != -EBUSY) {
                berr_move(err, &e);
                return berr_wrap(err, "memory.limit");
        }
        /* EBUSY: the container already uses more than the new limit. */
        (void)cg_read_u64(d->fd, d->full, "memory.usage_in_bytes", &usage, NULL);
        (void)cg_read_u64(d->fd, d->full, "memory.max_usage_in_bytes", &peak, NULL);
        return berr_make(err, EBUSY,
                         "memory.limit: cannot set the memory limit of %s to %" PRId64
                         " (current usage %" PRIu64 ", peak usage %" PRIu64 ")",
                         d->full, limit, usage, peak);
}

static int memory_swap(struct cgroup_dir *d, int64_t swap, int64_t limit, bool memsw, struct berr **err)
{
        if (swap == 0)
                return 0;
        if (!memsw) {
                /* Without swap accounting "no swap" and "unlimited swap" are what we get anyway. */
                if (swap == -1 || swap == limit)
                        return 0;
                return berr_make(err, 0,
                                 "memory.swap: swap accounting is not enabled on this host (no "
                                 "memory.memsw.limit_in_bytes in %s)",
                                 d->full);
        }
        return write_i64(d, "memory.memsw.limit_in_bytes", swap, "memory.swap", err);
}

static int apply_memory(struct cgroup_dir *d, const struct cgroup_resources *res, struct berr **err)
{
        int64_t limit = res->memory.has_limit ? res->memory.limit : 0;
        int64_t swap = res->memory.has_swap ? res->memory.swap : 0;
        bool memsw = cg_exists(d->fd, "memory.memsw.limit_in_bytes");

        if (res->memory.has_use_hierarchy &&
            cg_write(d->fd, d->full, "memory.use_hierarchy", res->memory.use_hierarchy ? "1" : "0", err) < 0)
                return berr_wrap(err, "memory.useHierarchy");
        /* Unlimited memory with swap unset lifts the memory+swap limit too (runc). */
        if (limit == -1 && swap == 0 && memsw)
                swap = -1;
        /* memsw must stay >= the memory limit after each write: raise swap
         * first when it grows past the current limit, else lower memory first. */
        if (limit != 0 && swap != 0) {
                uint64_t cur;
                if (cg_read_u64(d->fd, d->full, "memory.limit_in_bytes", &cur, err) < 0)
                        return berr_wrap(err, "memory.limit");
                if (swap == -1 || cur < (uint64_t)swap) {
                        if (memory_swap(d, swap, limit, memsw, err) < 0 || memory_limit(d, limit, err) < 0)
                                return -1;
                        limit = swap = 0;
                }
        }
        if (memory_limit(d, limit, err) < 0 || memory_swap(d, swap, limit, memsw, err) < 0)
                return -1;
        if (res->memory.has_reservation && write_i64(d, "memory.soft_limit_in_bytes", res->memory.reservation,
                                                     "memory.reservation", err) < 0)
                return -1;
        /* Kernel memory limits are deprecated; kernels since 6.x may lack the files (runc ignores them). */
        if (res->memory.has_kernel) {
                if (cg_exists(d->fd, "memory.kmem.limit_in_bytes")) {
                        if (write_i64(d, "memory.kmem.limit_in_bytes", res->memory.kernel, "memory.kernel",
                                      err) < 0)
                                return -1;
                } else
                        log_debug("%s: no kernel memory limit file, memory.kernel ignored", d->full);
        }
        if (res->memory.has_kernel_tcp) {
                if (cg_exists(d->fd, "memory.kmem.tcp.limit_in_bytes")) {
                        if (write_i64(d, "memory.kmem.tcp.limit_in_bytes", res->memory.kernel_tcp,
                                      "memory.kernelTCP", err) < 0)
                                return -1;
                } else
                        log_debug("%s: no kernel TCP memory limit file, memory.kernelTCP ignored", d->full);
        }
        if (res->memory.has_swappiness &&
            write_u64(d, "memory.swappiness", res->memory.swappiness, "memory.swappiness", err) < 0)
                return -1;
        if (res->memory.has_disable_oom_killer &&
            cg_write(d->fd, d->full, "memory.oom_control", res->memory.disable_oom_killer ? "1" : "0", err) <
                0)
                return berr_wrap(err, "memory.disableOOMKiller");
        return 0;
}

static int apply_cpu(struct cgroup_dir *d, const struct cgroup_resources *res, struct berr **err)
{
        bool retry_period = false, retry_burst = false;
        _cleanup_berr_ struct berr *e = NULL;

        if (res->cpu.has_shares) {
                uint64_t got;
                if (write_u64(d, "cpu.shares", res->cpu.shares, "cpu.shares", err) < 0 ||
                    cg_read_u64(d->fd, d->full, "cpu.shares", &got, err) < 0)
                        return -1;
                /* The kernel clamps silently; report the bound it applied. */
                if (got != res->cpu.shares)
                        return berr_make(err, 0, "cpu.shares: the %s allowed value is %" PRIu64,
                                         res->cpu.shares > got ? "maximum" : "minimum", got);
        }
        /* A new period (burst) can be refused against the old quota when the
         * quota changes too: retry it after the quota. */
        if (res->cpu.has_period) {
                int r = cg_writef(d->fd, d->full, "cpu.cfs_period_us", &e, "%" PRIu64, res->cpu.period);
                if (r == -EINVAL && res->cpu.has_quota)
                        retry_period = true;
                else if (r < 0) {
                        berr_move(err, &e);
                        return berr_wrap(err, "cpu.period");
                }
                berr_freep(&e);
        }
        if (res->cpu.has_burst) {
                int r = cg_writef(d->fd, d->full, "cpu.cfs_burst_us", &e, "%" PRIu64, res->cpu.burst);
                if (r == -EINVAL && res->cpu.has_quota)
                        retry_burst = true;
                else if (r < 0) {
                        berr_move(err, &e);
                        return berr_wrap(err, "cpu.burst");
                }
                berr_freep(&e);
        }
        if (res->cpu.has_quota) {
                if (write_i64(d, "cpu.cfs_quota_us", res->cpu.quota, "cpu.quota", err) < 0)
                        return -1;
                if (retry_period && write_u64(d, "cpu.cfs_period_us", res->cpu.period, "cpu.period", err) < 0)
                        return -1;
                if (retry_burst && write_u64(d, "cpu.cfs_burst_us", res->cpu.burst, "cpu.burst", err) < 0)
                        return -1;
        }
        if (res->cpu.has_idle && write_i64(d, "cpu.idle", res->cpu.idle, "cpu.idle", err) < 0)
                return -1;
        if (res->cpu.has_rt_period &&
            write_u64(d, "cpu.rt_period_us", res->cpu.rt_period, "cpu.realtimePeriod", err) < 0)
                return -1;
        if (res->cpu.has_rt_runtime &&
            write_i64(d, "cpu.rt_runtime_us", res->cpu.rt_runtime, "cpu.realtimeRuntime", err) < 0)
                return -1;
        return 0;
}

static int apply_cpuset(struct cgroup_dir *d, const struct cgroup_resources *res, struct berr **err)
{
        if (res->cpu.cpus && cg_write(d->fd, d->full, "cpuset.cpus", res->cpu.cpus, err) < 0)
                return berr_wrap(err, "cpu.cpus");
        if (res->cpu.mems && cg_write(d->fd, d->full, "cpuset.mems", res->cpu.mems, err) < 0)
                return berr_wrap(err, "cpu.mems");
        return 0;
}

int cgroup_pids_apply(int fd, const char *full, const struct cgroup_resources *res, struct berr **err)
{
        if (!res->pids.has_limit)
                return 0;
        if (res->pids.limit < 0)
                return cg_write(fd, full, "pids.max", "max", err) < 0 ? berr_wrap(err, "pids.limit") : 0;
        /* 0 is written as 1, as runc does: systemd cannot express 0, and a task
         * must be in the cgroup to fork anyway. */
        if (cg_writef(fd, full, "pids.max", err, "%" PRId64, MAX(res->pids.limit, (int64_t)1)) < 0)
                return berr_wrap(err, "pids.limit");
        return 0;
}

static const char *const throttle_files_v1[CGROUP_THROTTLE_N] = {
    [CGROUP_THROTTLE_READ_BPS] = "blkio.throttle.read_bps_device",
    [CGROUP_THROTTLE_WRITE_BPS] = "blkio.throttle.write_bps_device",
    [CGROUP_THROTTLE_READ_IOPS] = "blkio.throttle.read_iops_device",
    [CGROUP_THROTTLE_WRITE_IOPS] = "blkio.throttle.write_iops_device",
};

static int apply_blkio(struct cgroup_dir *d, const struct cgroup_resources *res, struct berr **err)
{
        /* CFQ had blkio.weight; with BFQ the files are blkio.bfq.*. */
        bool bfq = !cg_exists(d->fd, "blkio.weight") && cg_exists(d->fd, "blkio.bfq.weight");
        const char *weight = bfq ? "blkio.bfq.weight" : "blkio.weight";
        const char *weight_dev = bfq ? "blkio.bfq.weight_device" : "blkio.weight_device";
        bool need_weight = res->blkio.has_weight;

        for (size_t i = 0; i < res->blkio.n_weight_devices; i++)
                need_weight |= res->blkio.weight_devices[i].has_weight;
        if (need_weight && !cg_exists(d->fd, weight))
                return berr_make(err, ENOTSUP,
                                 "blockIO.weight: %s has neither blkio.weight nor blkio.bfq.weight (no I/O "
                                 "scheduler with weights on this host)",
                                 d->full);
        if (res->blkio.has_weight && write_u64(d, weight, res->blkio.weight, "blockIO.weight", err) < 0)
                return -1;
        if (res->blkio.has_leaf_weight &&
            write_u64(d, "blkio.leaf_weight", res->blkio.leaf_weight, "blockIO.leafWeight", err) < 0)
                return -1;
        for (size_t i = 0; i < res->blkio.n_weight_devices; i++) {
                const struct cgroup_weight_device *w = &res->blkio.weight_devices[i];
                if (w->has_weight && cg_writef(d->fd, d->full, weight_dev, err, "%" PRId64 ":%" PRId64 " %u",
                                               w->major, w->minor, w->weight) < 0)
                        return berr_wrap(err, "blockIO.weightDevice[%zu]", i);
                if (w->has_leaf_weight &&
                    cg_writef(d->fd, d->full, "blkio.leaf_weight_device", err, "%" PRId64 ":%" PRId64 " %u",
                              w->major, w->minor, w->leaf_weight) < 0)
                        return berr_wrap(err, "blockIO.weightDevice[%zu]", i);
        }
        for (int t = 0; t < CGROUP_THROTTLE_N; t++)
                for (size_t i = 0; i < res->blkio.n_throttle[t]; i++) {
                        const struct cgroup_throttle_device *td = &res->blkio.throttle[t][i];
                        if (cg_writef(d->fd, d->full, throttle_files_v1[t], err,
                                      "%" PRId64 ":%" PRId64 " %" PRIu64, td->major, td->minor, td->rate) < 0)
                                return berr_wrap(err, "blockIO");
                }
        return 0;
}

int cgroup_hugetlb_apply(int fd, const char *full, bool v2, const struct cgroup_resources *res,
                         struct berr **err)
{
        for (size_t i = 0; i < res->n_hugepages; i++) {
                const struct cgroup_hugepage_limit *h = &res->hugepages[i];
                char file[64], rsvd[64];

                snprintf(file, sizeof(file), v2 ? "hugetlb.%s.max" : "hugetlb.%s.limit_in_bytes",
                         h->pagesize);
                snprintf(rsvd, sizeof(rsvd), v2 ? "hugetlb.%s.rsvd.max" : "hugetlb.%s.rsvd.limit_in_bytes",
                         h->pagesize);
                if (!cg_exists(fd, file))
                        return berr_make(
                            err, ENOTSUP,
                            "hugepageLimits[%zu]: page size %s is not supported on this host (no %s/%s)", i,
                            h->pagesize, full, file);
                if (cg_writef(fd, full, file, err, "%" PRIu64, h->limit) < 0)
                        return berr_wrap(err, "hugepageLimits[%zu]", i);
                /* Reservations count against the same limit where the kernel has them. */
                if (cg_exists(fd, rsvd) && cg_writef(fd, full, rsvd, err, "%" PRIu64, h->limit) < 0)
                        return berr_wrap(err, "hugepageLimits[%zu]", i);
        }
        return 0;
}

int cgroup_rdma_apply(int fd, const char *full, const struct cgroup_resources *res, struct berr **err)
{
        for (size_t i = 0; i < res->n_rdma; i++) {
                const struct cgroup_rdma_limit *l = &res->rdma[i];
                char handles[16] = "max", objects[16] = "max";

                if (l->has_handles)
                        snprintf(handles, sizeof(handles), "%u", l->handles);
                if (l->has_objects)
                        snprintf(objects, sizeof(objects), "%u", l->objects);
                if (cg_writef(fd, full, "rdma.max", err, "%s hca_handle=%s hca_object=%s", l->device, handles,
                              objects) < 0)
                        return berr_wrap(err, "rdma.%s", l->device);
        }
        return 0;
}

static int apply_devices(struct cgroup_dir *d, const struct cgroup_resources *res, struct berr **err)
{
        _cleanup_free_ struct cgroup_device_rule *rules = NULL;
        size_t n;

        if (cgroup_devices_rules(res, &rules, &n, err) < 0)
                return -1;
        /* Deny everything, then replay the list: later rules override earlier ones. */
        if (cg_write(d->fd, d->full, "devices.deny", "a", err) < 0)
                return berr_wrap(err, "devices");
        for (size_t i = 0; i < n; i++) {
                char line[64];
                if (cgroup_device_rule_format(&rules[i], line, sizeof(line)) < 0)
                        return berr_make(err, EINVAL, "devices[%zu]: cannot format the rule", i);
                if (cg_write(d->fd, d->full, rules[i].allow ? "devices.allow" : "devices.deny", line, err) <
                    0)
                        return berr_wrap(err, "devices");
        }
        return 0;
}

int cgroup_v1_apply(struct cgroup *cg, const struct cgroup_resources *res, bool update, struct berr **err)
{
        struct cgroup_dir *d;
        int r;

        /* The order of runc's v1 manager. */
        if ((d = v1_dir(cg, "cpuset", &r, err)) && apply_cpuset(d, res, err) < 0)
                return -1;
        if (r < 0)
                return r;
        if (!update) {
                if ((d = v1_dir(cg, "devices", &r, err)) && apply_devices(d, res, err) < 0)
                        return -1;
                if (r < 0)
                        return r;
        }
        if ((d = v1_dir(cg, "memory", &r, err)) && apply_memory(d, res, err) < 0)
                return -1;
        if (r < 0)
                return r;
        if ((d = v1_dir(cg, "cpu", &r, err)) && apply_cpu(d, res, err) < 0)
                return -1;
        if (r < 0)
                return r;
        if ((d = v1_dir(cg, "pids", &r, err)) && cgroup_pids_apply(d->fd, d->full, res, err) < 0)
                return -1;
        if (r < 0)
                return r;
        if ((d = v1_dir(cg, "blkio", &r, err)) && apply_blkio(d, res, err) < 0)
                return -1;
        if (r < 0)
                return r;
        if ((d = v1_dir(cg, "hugetlb", &r, err)) && cgroup_hugetlb_apply(d->fd, d->full, false, res, err) < 0)
                return -1;
        if (r < 0)
                return r;
        if ((d = v1_dir(cg, "net_cls", &r, err)) && res->network.has_class_id &&
            write_u64(d, "net_cls.classid", res->network.class_id, "network.classID", err) < 0)
                return -1;
        if (r < 0)
                return r;
        if ((d = v1_dir(cg, "net_prio", &r, err)))
                for (size_t i = 0; i < res->network.n_priorities; i++)
                        if (cg_writef(d->fd, d->full, "net_prio.ifpriomap", err, "%s %u",
                                      res->network.priorities[i].name,
                                      res->network.priorities[i].priority) < 0)
                                return berr_wrap(err, "network.priorities[%zu]", i);
        if (r < 0)
                return r;
        if ((d = v1_dir(cg, "rdma", &r, err)) && cgroup_rdma_apply(d->fd, d->full, res, err) < 0)
                return -1;
        return r;
}
