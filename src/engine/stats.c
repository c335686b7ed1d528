/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <fcntl.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/timeutil.h"
#include "lifecycle.h"
#include "runtime/cgroups/cgroup.h"
#include "spec-internal.h"
#include "stats.h"

#define NET_DEV_MAX (1u << 20)

static uint64_t jget(json_object *o, const char *a, const char *b)
{
        json_object *v = json_object_object_get(o, a);

        if (b)
                v = json_object_object_get(v, b);
        return v ? json_object_get_uint64(v) : 0;
}

static int open_cgroup(const struct container *c, struct cgroup **cg, struct berr **err)
{
        const char *path = container_cfg_str(c, "cgroupsPath");

        if (!path)
                return eng_err(err, ENOENT, "container %s has no cgroup path", c->name);
        return cgroup_open(path, c->id, cg, err);
}

/* Bytes received and sent on every interface but lo of the process's network namespace. */
static void net_io(pid_t pid, uint64_t *rx, uint64_t *tx)
{
        _cleanup_free_ char *buf = NULL;
        char path[64];
        size_t len;

        snprintf(path, sizeof(path), "/proc/%d/net/dev", (int)pid);
        if (read_file_at(AT_FDCWD, path, NET_DEV_MAX, &buf, &len, NULL) < 0)
                return;
        for (char *l = buf, *next; l && *l; l = next) {
                unsigned long long v[9];
                char *colon;

                next = strchr(l, '\n');
                if (next)
                        *next++ = '\0';
                colon = strchr(l, ':');
                if (!colon)
                        continue;
                *colon = '\0';
                while (isspace((unsigned char)*l))
                        l++;
                if (streq(l, "lo"))
                        continue;
                /* rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes ... */
                if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                           &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) == 9) {
                        *rx += v[0];
                        *tx += v[8];
                }
        }
}

static void blkio_sum(json_object *blkio, uint64_t *rd, uint64_t *wr)
{
        json_object *a = json_object_object_get(blkio, "ioServiceBytesRecursive");

        for (size_t i = 0; json_object_is_type(a, json_type_array) && i < json_object_array_length(a); i++) {
                json_object *e = json_object_array_get_idx(a, i);
                const char *op = json_object_get_string(json_object_object_get(e, "op"));
                uint64_t v = jget(e, "value", NULL);
                if (op && strcasecmp(op, "read") == 0)
                        *rd += v;
                else if (op && strcasecmp(op, "write") == 0)
                        *wr += v;
        }
}

static uint64_t host_memory(void)
{
        struct sysinfo si;

        return sysinfo(&si) == 0 ? (uint64_t)si.totalram * si.mem_unit : 0;
}

int engine_container_stats(struct engine *e, const struct container *c, struct engine_stats *out,
                           struct berr **err)
{
        _cleanup_cgroup_ struct cgroup *cg = NULL;
        json_object *s = NULL, *mem, *raw;
        struct container_state st;
        uint64_t usage, inactive, host = host_memory();
        const char *net;
        int r;

        *out = (struct engine_stats){.read_ns = time_now_ns(), .mem_limit = 0};
        if (container_state_derive(e, c, &st, err) < 0)
                return -1;
        r = st.status == CONTAINER_RUNNING || st.status == CONTAINER_PAUSED;
        out->started_ns = st.started_ns;
        if (r && st.pid > 0) {
                net = json_object_get_string(json_object_object_get(container_cfg(c, "network"), "mode"));
                /* With the host's network, its traffic is not the container's (docker shows none). */
                if (!net || !streq(net, "host"))
                        net_io(st.pid, &out->net_rx, &out->net_tx);
        }
        container_state_done(&st);
        if (!r)
                return 0;
        if (open_cgroup(c, &cg, err) < 0 || cgroup_stats(cg, &s, err) < 0)
                return berr_wrap(err, "statistics of %s", c->name);
        out->running = true;
        out->cpu_ns = jget(json_object_object_get(s, "cpu"), "usage", "total");
        mem = json_object_object_get(s, "memory");
        raw = json_object_object_get(mem, "raw");
        usage = jget(mem, "usage", "usage");
        /* docker's CLI: the usage minus inactive page cache (total_inactive_file on v1, inactive_file on v2).
         */
        inactive = json_object_object_get_ex(raw, "total_inactive_file", NULL)
                       ? jget(raw, "total_inactive_file", NULL)
                       : jget(raw, "inactive_file", NULL);
        out->mem_usage = inactive < usage ? usage - inactive : usage;
        out->mem_limit = jget(mem, "usage", "limit");
        if (!out->mem_limit || (host && out->mem_limit > host))
                out->mem_limit = host;
        blkio_sum(json_object_object_get(s, "blkio"), &out->blk_read, &out->blk_write);
        out->pids = jget(json_object_object_get(s, "pids"), "current", NULL);
        json_object_put(s);
        return 0;
}

double engine_stats_cpu_percent(const struct engine_stats *prev, const struct engine_stats *cur)
{
        int64_t wall = prev ? cur->read_ns - prev->read_ns : cur->read_ns - cur->started_ns;
        uint64_t used = prev ? (cur->cpu_ns > prev->cpu_ns ? cur->cpu_ns - prev->cpu_ns : 0) : cur->cpu_ns;

        if (!cur->running || wall <= 0)
                return 0;
        return (double)used * 100.0 / (double)wall;
}

int engine_container_pids(struct engine *e, const struct container *c, pid_t **pids, size_t *n,
                          struct berr **err)
{
        _cleanup_cgroup_ struct cgroup *cg = NULL;
        struct container_state st;
        int r;

        if (container_state_derive(e, c, &st, err) < 0)
                return -1;
        r = st.status == CONTAINER_RUNNING || st.status == CONTAINER_PAUSED;
        container_state_done(&st);
        if (!r)
                return eng_err(err, EINVAL, "container %s is not running", c->name);
        if (open_cgroup(c, &cg, err) < 0 || cgroup_get_pids(cg, pids, n, err) < 0)
                return berr_wrap(err, "processes of %s", c->name);
        return 0;
}
