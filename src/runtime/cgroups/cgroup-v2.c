/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup v2: one unified directory; the spec's v1-shaped values are translated. */
#include <inttypes.h>
#include <linux/bpf.h>
#include <string.h>

#include "basic/log.h"
#include "cgroup-internal.h"

/* -1 is "max" (the v1 way of saying unlimited). */
static void fmt_limit(char *buf, size_t size, int64_t v)
{
        if (v < 0)
                snprintf(buf, size, "max");
        else
                snprintf(buf, size, "%" PRId64, v);
}

static int check_usage(struct cgroup_dir *d, int64_t limit, int64_t swap, struct berr **err)
{
        uint64_t usage, swap_usage = 0;

        if (cg_read_u64(d->fd, d->full, "memory.current", &usage, err) < 0)
                return berr_wrap(err, "memory.checkBeforeUpdate");
        if (cg_exists(d->fd, "memory.swap.current") &&
            cg_read_u64(d->fd, d->full, "memory.swap.current", &swap_usage, err) < 0)
                return berr_wrap(err, "memory.checkBeforeUpdate");
        if (limit > 0 && usage >= (uint64_t)limit)
                return berr_make(err, EBUSY,
                                 "memory.limit: rejecting memory limit %" PRId64
                                 ": not above the current usage %" PRIu64,
                                 limit, usage);
        if (swap > 0 && usage + swap_usage >= (uint64_t)swap)
                return berr_make(err, EBUSY,
                                 "memory.swap: rejecting memory+swap limit %" PRId64
                                 ": not above the current usage %" PRIu64,
                                 swap, usage + swap_usage);
        return 0;
}

static int apply_memory(struct cgroup_dir *d, const struct cgroup_resources *res, struct berr **err)
{
        int64_t limit = res->memory.has_limit ? res->memory.limit : 0;
        int64_t swap = res->memory.has_swap ? res->memory.swap : 0, base = limit, swap2;
        char buf[32];

        if (res->memory.check_before_update && (limit > 0 || swap > 0) &&
            check_usage(d, limit, swap, err) < 0)
                return -1;
        /* memory.swap.max is swap alone; without a new limit use the current one. */
        if (swap > 0 && limit == 0) {
                uint64_t cur;
                if (cg_read_u64(d->fd, d->full, "memory.max", &cur, err) < 0)
                        return berr_wrap(err, "memory.swap");
                base = cur == UINT64_MAX ? -1 : (int64_t)cur;
        }
        if (cgroup_swap_to_v2(swap, base, &swap2, err) < 0)
                return -1;
        if (swap2 != 0 || swap > 0) {
                _cleanup_berr_ struct berr *e = NULL;
                int r;

                fmt_limit(buf, sizeof(buf), swap2);
                r = cg_write(d->fd, d->full, "memory.swap.max", buf, &e);
                /* Without swap, "no swap" and "unlimited swap" are already true. */
                if (r < 0 && !(r == -ENOENT && (swap2 <= 0))) {
                        berr_move(err, &e);
                        return berr_wrap(err, "memory.swap");
                }
        }
        if (limit != 0) {
                fmt_limit(buf, sizeof(buf), limit);
                if (cg_write(d->fd, d->full, "memory.max", buf, err) < 0)
                        return berr_wrap(err, "memory.limit");
        }
        if (res->memory.has_reservation) {
                fmt_limit(buf, sizeof(buf), res->memory.reservation);
                if (cg_write(d->fd, d->full, "memory.low", buf, err) < 0)
                        return berr_wrap(err, "memory.reservation");
        }
        if (res->memory.has_kernel || res->memory.has_kernel_tcp)
                log_debug("%s: cgroup v2 has no kernel memory limits, memory.kernel/kernelTCP ignored",
                          d->full);
        return 0;
}

static int apply_cpu(struct cgroup_dir *d, const struct cgroup_resources *res, struct berr **err)
{
        _cleanup_berr_ struct berr *e = NULL;
        bool retry_burst = false;

        if (res->cpu.has_idle && cg_writef(d->fd, d->full, "cpu.idle", err, "%" PRId64, res->cpu.idle) < 0)
                return berr_wrap(err, "cpu.idle");
        if (res->cpu.has_shares && cg_writef(d->fd, d->full, "cpu.weight", err, "%" PRIu64,
                                             cgroup_shares_to_weight(res->cpu.shares)) < 0)
                return berr_wrap(err, "cpu.shares");
        if (res->cpu.has_burst) {
                /* Refused against the old quota when the quota changes too: retry after it. */
                int r = cg_writef(d->fd, d->full, "cpu.max.burst", &e, "%" PRIu64, res->cpu.burst);
                if (r == -EINVAL && res->cpu.has_quota)
                        retry_burst = true;
                else if (r < 0) {
                        berr_move(err, &e);
                        return berr_wrap(err, "cpu.burst");
                }
        }
        if (res->cpu.has_quota || res->cpu.has_period) {
                char quota[32] = "max";

                if (res->cpu.has_quota)
                        fmt_limit(quota, sizeof(quota), res->cpu.quota);
                else {
                        /* cpu.max sets both: keep the current quota when only the period changes. */
                        _cleanup_free_ char *cur = NULL;
                        if (cg_read(d->fd, d->full, "cpu.max", &cur, err) < 0)
                                return berr_wrap(err, "cpu.period");
                        snprintf(quota, sizeof(quota), "%.*s", (int)strcspn(cur, " \n"), cur);
                }
                if (res->cpu.has_period
                        ? cg_writef(d->fd, d->full, "cpu.max", err, "%s %" PRIu64, quota, res->cpu.period)
                        : cg_write(d->fd, d->full, "cpu.max", quota, err))
                        return berr_wrap(err, res->cpu.has_quota ? "cpu.quota" : "cpu.period");
        }
        if (retry_burst && cg_writef(d->fd, d->full, "cpu.max.burst", err, "%" PRIu64, res->cpu.burst) < 0)
                return berr_wrap(err, "cpu.burst");
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

static const char *const throttle_keys_v2[CGROUP_THROTTLE_N] = {
    [CGROUP_THROTTLE_READ_BPS] = "rbps",
    [CGROUP_THROTTLE_WRITE_BPS] = "wbps",
    [CGROUP_THROTTLE_READ_IOPS] = "riops",
    [CGROUP_THROTTLE_WRITE_IOPS] = "wiops",
};

static int apply_io(struct cgroup_dir *d, const struct cgroup_resources *res, struct berr **err)
{
        /* BFQ takes blkio's 10..1000 weights as they are; io.weight needs 1..10000. */
        bool bfq = cg_exists(d->fd, "io.bfq.weight");
        const char *file = bfq ? "io.bfq.weight" : "io.weight";

        if (res->blkio.has_weight &&
            cg_writef(d->fd, d->full, file, err, "%" PRIu64,
                      bfq ? res->blkio.weight : cgroup_blkio_weight_to_io_weight(res->blkio.weight)) < 0)
                return berr_wrap(err, "blockIO.weight");
        for (size_t i = 0; i < res->blkio.n_weight_devices; i++) {
                const struct cgroup_weight_device *w = &res->blkio.weight_devices[i];
                if (w->has_weight &&
                    cg_writef(d->fd, d->full, file, err, "%" PRId64 ":%" PRId64 " %" PRIu64, w->major,
                              w->minor, bfq ? w->weight : cgroup_blkio_weight_to_io_weight(w->weight)) < 0)
                        return berr_wrap(err, "blockIO.weightDevice[%zu]", i);
        }
        for (int t = 0; t < CGROUP_THROTTLE_N; t++)
                for (size_t i = 0; i < res->blkio.n_throttle[t]; i++) {
                        const struct cgroup_throttle_device *td = &res->blkio.throttle[t][i];
                        char rate[24] = "max";

                        /* 0 lifts the limit, as writing 0 does on v1. */
                        if (td->rate)
                                snprintf(rate, sizeof(rate), "%" PRIu64, td->rate);
                        if (cg_writef(d->fd, d->full, "io.max", err, "%" PRId64 ":%" PRId64 " %s=%s",
                                      td->major, td->minor, throttle_keys_v2[t], rate) < 0)
                                return berr_wrap(err, "blockIO");
                }
        return 0;
}

static int apply_devices(struct cgroup *cg, struct cgroup_dir *d, const struct cgroup_resources *res,
                         struct berr **err)
{
        _cleanup_free_ struct cgroup_device_rule *rules = NULL;
        _cleanup_free_ struct bpf_insn *prog = NULL;
        size_t n, n_insns;

        if (cgroup_devices_rules(res, &rules, &n, err) < 0 ||
            cgroup_devices_bpf_build(rules, n, &prog, &n_insns, err) < 0)
                return berr_wrap(err, "devices");
        /* A plain test directory cannot hold BPF programs. */
        if (cg->host.fake)
                return 0;
        if (cgroup_devices_bpf_attach(d->fd, d->full, prog, n_insns, err) < 0)
                return berr_wrap(err, "devices");
        return 0;
}

static int apply_unified(struct cgroup_dir *d, const struct cgroup_resources *res, struct berr **err)
{
        for (char **k = res->unified; k && *k; k += 2) {
                const char *v = k[1];

                /* Multi-line values (io.max for several devices) go one line per write. */
                do {
                        size_t n = strcspn(v, "\n");
                        _cleanup_free_ char *line = strndup(v, n);

                        if (!line)
                                return berr_make(err, ENOMEM, "unified");
                        if ((n > 0 || !strchr(k[1], '\n')) && cg_write(d->fd, d->full, *k, line, err) < 0)
                                return berr_wrap(err, "unified.%s", *k);
                        v += n;
                        if (*v)
                                v++;
                } while (*v);
        }
        return 0;
}

int cgroup_v2_apply(struct cgroup *cg, const struct cgroup_resources *res, bool update, struct berr **err)
{
        struct cgroup_dir *d = cgroup_dir_v2(cg);

#define ON(c) (cgroup_dir_for(cg, c) == d)
        if (!d)
                return 0;
        if (cgroup_dir_open(cg, d, err) < 0)
                return -1;
        /* The order of runc's v2 manager; unified last so it overrides. */
        if (ON("pids") && cgroup_pids_apply(d->fd, d->full, res, err) < 0)
                return -1;
        if (ON("memory") && apply_memory(d, res, err) < 0)
                return -1;
        if (ON("blkio") && apply_io(d, res, err) < 0)
                return -1;
        if (ON("cpu") && apply_cpu(d, res, err) < 0)
                return -1;
        if (!update && ON("devices") && apply_devices(cg, d, res, err) < 0)
                return -1;
        if (ON("cpuset") && apply_cpuset(d, res, err) < 0)
                return -1;
        if (ON("hugetlb") && cgroup_hugetlb_apply(d->fd, d->full, true, res, err) < 0)
                return -1;
        if (ON("rdma") && cgroup_rdma_apply(d->fd, d->full, res, err) < 0)
                return -1;
#undef ON
        return apply_unified(d, res, err);
}
