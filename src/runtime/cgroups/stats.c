/* SPDX-License-Identifier: Apache-2.0 */
/* Statistics in the shape of runc's `events --stats` data (types.Stats). */
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "basic/strv.h"
#include "cgroup-internal.h"

static json_object *u64(uint64_t v)
{
        return json_object_new_uint64(v);
}

/* Go's omitempty: zero values are left out. */
static void add_nz(json_object *o, const char *key, uint64_t v)
{
        if (v)
                json_object_object_add(o, key, u64(v));
}

static uint64_t read_opt(struct cgroup_dir *d, const char *file)
{
        uint64_t v = 0;

        if (cg_read_u64(d->fd, d->full, file, &v, NULL) < 0 || v == UINT64_MAX)
                return 0;
        return v;
}

/* A limit file where "max" (or v1's huge page-rounded INT64_MAX) means none. */
static uint64_t read_limit(struct cgroup_dir *d, const char *file)
{
        uint64_t v = 0;

        if (cg_read_u64(d->fd, d->full, file, &v, NULL) < 0)
                return 0;
        return v;
}

static json_object *u64_array(const char *text)
{
        json_object *a = json_object_new_array();

        for (const char *p = text; p && *p;) {
                char *end;
                unsigned long long v = strtoull(p, &end, 10);
                if (end == p)
                        break;
                json_object_array_add(a, u64(v));
                p = end + strspn(end, " \n");
        }
        return a;
}

/* "cpu user system" then one line per CPU. */
static void percpu_modes(const char *text, json_object *usage)
{
        json_object *kernel = json_object_new_array(), *user = json_object_new_array();
        const char *l = strchr(text, '\n');

        while (l && *++l) {
                unsigned long long cpu, u, sys;
                if (sscanf(l, "%llu %llu %llu", &cpu, &u, &sys) == 3) {
                        json_object_array_add(kernel, u64(sys));
                        json_object_array_add(user, u64(u));
                }
                l = strchr(l, '\n');
        }
        json_object_object_add(usage, "percpu_kernel", kernel);
        json_object_object_add(usage, "percpu_user", user);
}

static json_object *mem_entry(uint64_t limit, uint64_t usage, uint64_t max, uint64_t failcnt)
{
        json_object *e = json_object_new_object();

        json_object_object_add(e, "limit", u64(limit));
        add_nz(e, "usage", usage);
        add_nz(e, "max", max);
        json_object_object_add(e, "failcnt", u64(failcnt));
        return e;
}

static json_object *raw_stats(const char *text, uint64_t *cache, const char *cache_key)
{
        json_object *raw = json_object_new_object();

        for (const char *l = text; l && *l;) {
                size_t kl = strcspn(l, " \n");
                const char *v = l + kl;
                _cleanup_free_ char *key = strndup(l, kl);

                if (key && *v == ' ') {
                        unsigned long long x = strtoull(v + 1, NULL, 10);
                        json_object_object_add(raw, key, u64(x));
                        if (streq(key, cache_key))
                                *cache = x;
                }
                l = strchr(l, '\n');
                if (l)
                        l++;
        }
        return raw;
}

/* ---- cpu ---- */

static void cpu_v1(struct cgroup *cg, json_object *cpu)
{
        struct cgroup_dir *acct = cgroup_dir_for(cg, "cpuacct"), *c = cgroup_dir_for(cg, "cpu");
        json_object *usage = json_object_new_object(), *thr = json_object_new_object();
        _cleanup_free_ char *text = NULL;
        uint64_t v;

        if (acct && !cgroup_dir_is_v2(cg, acct) && cgroup_dir_open(cg, acct, NULL) == 0) {
                long hz = sysconf(_SC_CLK_TCK);
                add_nz(usage, "total", read_opt(acct, "cpuacct.usage"));
                if (cg_read(acct->fd, acct->full, "cpuacct.usage_percpu", &text, NULL) == 0)
                        json_object_object_add(usage, "percpu", u64_array(text));
                free(TAKE_PTR(text));
                /* Per-CPU user/system time (ns) comes from cpuacct.usage_all, as runc reads it. */
                if (cg_read(acct->fd, acct->full, "cpuacct.usage_all", &text, NULL) == 0)
                        percpu_modes(text, usage);
                free(TAKE_PTR(text));
                /* cpuacct.stat counts clock ticks. */
                if (cg_read(acct->fd, acct->full, "cpuacct.stat", &text, NULL) == 0 && hz > 0) {
                        json_object_object_add(
                            usage, "kernel",
                            u64(cg_text_key_u64(text, "system", &v) ? v * (1000000000 / hz) : 0));
                        json_object_object_add(
                            usage, "user",
                            u64(cg_text_key_u64(text, "user", &v) ? v * (1000000000 / hz) : 0));
                }
                free(TAKE_PTR(text));
        }
        if (!json_object_object_get_ex(usage, "kernel", NULL)) {
                json_object_object_add(usage, "kernel", u64(0));
                json_object_object_add(usage, "user", u64(0));
        }
        if (c && !cgroup_dir_is_v2(cg, c) && cgroup_dir_open(cg, c, NULL) == 0 &&
            cg_read(c->fd, c->full, "cpu.stat", &text, NULL) == 0) {
                if (cg_text_key_u64(text, "nr_periods", &v))
                        add_nz(thr, "periods", v);
                if (cg_text_key_u64(text, "nr_throttled", &v))
                        add_nz(thr, "throttledPeriods", v);
                if (cg_text_key_u64(text, "throttled_time", &v))
                        add_nz(thr, "throttledTime", v);
        }
        json_object_object_add(cpu, "usage", usage);
        json_object_object_add(cpu, "throttling", thr);
}

static void cpu_v2(struct cgroup_dir *d, json_object *cpu)
{
        json_object *usage = json_object_new_object(), *thr = json_object_new_object();
        _cleanup_free_ char *text = NULL;
        uint64_t v;

        /* cpu.stat is a core file: usage is there even without the cpu controller. */
        if (cg_read(d->fd, d->full, "cpu.stat", &text, NULL) == 0) {
                if (cg_text_key_u64(text, "usage_usec", &v))
                        add_nz(usage, "total", v * 1000);
                json_object_object_add(usage, "kernel",
                                       u64(cg_text_key_u64(text, "system_usec", &v) ? v * 1000 : 0));
                json_object_object_add(usage, "user",
                                       u64(cg_text_key_u64(text, "user_usec", &v) ? v * 1000 : 0));
                if (cg_text_key_u64(text, "nr_periods", &v))
                        add_nz(thr, "periods", v);
                if (cg_text_key_u64(text, "nr_throttled", &v))
                        add_nz(thr, "throttledPeriods", v);
                if (cg_text_key_u64(text, "throttled_usec", &v))
                        add_nz(thr, "throttledTime", v * 1000);
        } else {
                json_object_object_add(usage, "kernel", u64(0));
                json_object_object_add(usage, "user", u64(0));
        }
        json_object_object_add(cpu, "usage", usage);
        json_object_object_add(cpu, "throttling", thr);
}

/* ---- memory ---- */

static void memory_v1(struct cgroup_dir *d, json_object *mem)
{
        static const struct {
                const char *key, *prefix;
        } entries[] = {
            {"usage", "memory."},
            {"swap", "memory.memsw."},
            {"kernel", "memory.kmem."},
            {"kernelTCP", "memory.kmem.tcp."},
        };
        _cleanup_free_ char *text = NULL;
        json_object *raw = NULL;
        uint64_t cache = 0;

        /* In the order of runc's types.Memory: cache, the entries, raw. */
        if (cg_read(d->fd, d->full, "memory.stat", &text, NULL) == 0)
                raw = raw_stats(text, &cache, "cache");
        add_nz(mem, "cache", cache);
        for (size_t i = 0; i < ARRAY_SIZE(entries); i++) {
                char f[4][64];
                snprintf(f[0], sizeof(f[0]), "%slimit_in_bytes", entries[i].prefix);
                snprintf(f[1], sizeof(f[1]), "%susage_in_bytes", entries[i].prefix);
                snprintf(f[2], sizeof(f[2]), "%smax_usage_in_bytes", entries[i].prefix);
                snprintf(f[3], sizeof(f[3]), "%sfailcnt", entries[i].prefix);
                json_object_object_add(
                    mem, entries[i].key,
                    mem_entry(read_limit(d, f[0]), read_opt(d, f[1]), read_opt(d, f[2]), read_opt(d, f[3])));
        }
        if (raw)
                json_object_object_add(mem, "raw", raw);
}

static void memory_v2(struct cgroup_dir *d, json_object *mem)
{
        _cleanup_free_ char *text = NULL, *events = NULL;
        uint64_t usage = read_opt(d, "memory.current"), swap = read_opt(d, "memory.swap.current");
        uint64_t failcnt = 0, swap_failcnt = 0, cache = 0;
        json_object *raw = NULL;

        if (cg_read(d->fd, d->full, "memory.events", &events, NULL) == 0)
                (void)cg_text_key_u64(events, "max", &failcnt);
        free(TAKE_PTR(events));
        if (cg_read(d->fd, d->full, "memory.swap.events", &events, NULL) == 0)
                (void)cg_text_key_u64(events, "max", &swap_failcnt);
        if (cg_read(d->fd, d->full, "memory.stat", &text, NULL) == 0)
                raw = raw_stats(text, &cache, "file");
        add_nz(mem, "cache", cache);
        json_object_object_add(
            mem, "usage", mem_entry(read_limit(d, "memory.max"), usage, read_opt(d, "memory.peak"), failcnt));
        /* runc reports swap as memory+swap, as v1 did. */
        json_object_object_add(mem, "swap",
                               mem_entry(read_limit(d, "memory.swap.max"), usage + swap,
                                         read_opt(d, "memory.swap.peak"), swap_failcnt));
        json_object_object_add(mem, "kernel", mem_entry(0, 0, 0, 0));
        json_object_object_add(mem, "kernelTCP", mem_entry(0, 0, 0, 0));
        if (raw)
                json_object_object_add(mem, "raw", raw);
}

/* ---- blkio ---- */

static json_object *blkio_v1_entries(struct cgroup_dir *d, const char *file)
{
        _cleanup_free_ char *text = NULL;
        json_object *arr;

        if (cg_read(d->fd, d->full, file, &text, NULL) < 0)
                return NULL;
        arr = json_object_new_array();
        for (char *l = text, *next; l && *l; l = next) {
                unsigned long long maj, min, val;
                char op[32];

                next = strchr(l, '\n');
                if (next)
                        *next++ = '\0';
                if (sscanf(l, "%llu:%llu %31s %llu", &maj, &min, op, &val) != 4)
                        continue;
                json_object *e = json_object_new_object();
                add_nz(e, "major", maj);
                add_nz(e, "minor", min);
                json_object_object_add(e, "op", json_object_new_string(op));
                add_nz(e, "value", val);
                json_object_array_add(arr, e);
        }
        if (json_object_array_length(arr) == 0) {
                json_object_put(arr);
                return NULL;
        }
        return arr;
}

static void blkio_v1(struct cgroup_dir *d, json_object *blkio)
{
        /* CFQ's files, else BFQ's, else the throttling layer's, like runc. */
        static const char *const sets[][2] = {
            {"blkio.io_service_bytes_recursive", "blkio.io_serviced_recursive"},
            {"blkio.bfq.io_service_bytes_recursive", "blkio.bfq.io_serviced_recursive"},
            {"blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_serviced_recursive"},
        };

        for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
                json_object *bytes, *ios;
                if (!cg_exists(d->fd, sets[i][0]))
                        continue;
                bytes = blkio_v1_entries(d, sets[i][0]);
                ios = blkio_v1_entries(d, sets[i][1]);
                if (bytes)
                        json_object_object_add(blkio, "ioServiceBytesRecursive", bytes);
                if (ios)
                        json_object_object_add(blkio, "ioServicedRecursive", ios);
                return;
        }
}

static void blkio_v2(struct cgroup_dir *d, json_object *blkio)
{
        static const struct {
                const char *key, *op;
                bool bytes;
        } fields[] = {
            {"rbytes", "Read", true},
            {"wbytes", "Write", true},
            {"rios", "Read", false},
            {"wios", "Write", false},
        };
        _cleanup_free_ char *text = NULL;
        json_object *bytes = json_object_new_array(), *ios = json_object_new_array();

        if (cg_read(d->fd, d->full, "io.stat", &text, NULL) == 0)
                for (char *l = text, *next; l && *l; l = next) {
                        unsigned long long maj, min;
                        int off = 0;

                        next = strchr(l, '\n');
                        if (next)
                                *next++ = '\0';
                        if (sscanf(l, "%llu:%llu %n", &maj, &min, &off) != 2 || off == 0)
                                continue;
                        for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
                                char key[16];
                                const char *p;
                                snprintf(key, sizeof(key), " %s=", fields[i].key);
                                p = strstr(l + off - 1, key);
                                if (!p)
                                        continue;
                                json_object *e = json_object_new_object();
                                add_nz(e, "major", maj);
                                add_nz(e, "minor", min);
                                json_object_object_add(e, "op", json_object_new_string(fields[i].op));
                                add_nz(e, "value", strtoull(p + strlen(key), NULL, 10));
                                json_object_array_add(fields[i].bytes ? bytes : ios, e);
                        }
                }
        if (json_object_array_length(bytes))
                json_object_object_add(blkio, "ioServiceBytesRecursive", json_object_get(bytes));
        if (json_object_array_length(ios))
                json_object_object_add(blkio, "ioServicedRecursive", json_object_get(ios));
        json_object_put(bytes);
        json_object_put(ios);
}

/* ---- hugetlb ---- */

static void hugetlb(struct cgroup_dir *d, bool v2, json_object *out)
{
        _cleanup_closedir_ DIR *dir = NULL;
        struct dirent *de;
        int fd = dup(d->fd);

        if (fd < 0 || !(dir = fdopendir(fd))) {
                safe_close(fd);
                return;
        }
        /* One entry per page size the kernel offers: hugetlb.<size>.<usage file>. */
        while ((de = readdir(dir))) {
                const char *usage_suffix = v2 ? ".current" : ".usage_in_bytes";
                size_t len = strlen(de->d_name), sl = strlen(usage_suffix);
                char size[32], f[96];
                json_object *e;
                uint64_t v = 0;

                if (!strneq(de->d_name, "hugetlb.", 8) || len <= 8 + sl ||
                    !streq(de->d_name + len - sl, usage_suffix) || strstr(de->d_name, ".rsvd."))
                        continue;
                snprintf(size, sizeof(size), "%.*s", (int)(len - 8 - sl), de->d_name + 8);
                e = json_object_new_object();
                add_nz(e, "usage", read_opt(d, de->d_name));
                if (v2) {
                        _cleanup_free_ char *events = NULL;
                        snprintf(f, sizeof(f), "hugetlb.%s.events", size);
                        if (cg_read(d->fd, d->full, f, &events, NULL) == 0)
                                (void)cg_text_key_u64(events, "max", &v);
                } else {
                        snprintf(f, sizeof(f), "hugetlb.%s.max_usage_in_bytes", size);
                        add_nz(e, "max", read_opt(d, f));
                        snprintf(f, sizeof(f), "hugetlb.%s.failcnt", size);
                        v = read_opt(d, f);
                }
                json_object_object_add(e, "failcnt", u64(v));
                json_object_object_add(out, size, e);
        }
}

/* ---- cpuset ---- */

static json_object *cpu_list(const char *text)
{
        json_object *a = json_object_new_array();
        const char *p = text;

        while (*p >= '0' && *p <= '9') {
                char *end;
                unsigned long lo = strtoul(p, &end, 10), hi = lo;
                if (*end == '-')
                        hi = strtoul(end + 1, &end, 10);
                for (unsigned long i = lo; i <= hi && i < 65536; i++)
                        json_object_array_add(a, u64(i));
                p = *end == ',' ? end + 1 : end;
        }
        return a;
}

static void add_list(json_object *out, const char *key, const char *text)
{
        json_object *a = cpu_list(text);

        if (json_object_array_length(a))
                json_object_object_add(out, key, a);
        else
                json_object_put(a);
}

/* In the order of runc's types.CPUSet. */
static void cpuset(struct cgroup *cg, struct cgroup_dir *d, json_object *out)
{
        static const char *const flags[] = {"mem_hardwall",       "mem_exclusive",      "memory_migrate",
                                            "memory_spread_page", "memory_spread_slab", "memory_pressure",
                                            "sched_load_balance"};
        bool v2 = cgroup_dir_is_v2(cg, d);
        _cleanup_free_ char *cpus = NULL, *mems = NULL, *relax = NULL;

        if (cg_read(d->fd, d->full, v2 ? "cpuset.cpus.effective" : "cpuset.cpus", &cpus, NULL) == 0)
                add_list(out, "cpus", cpus);
        if (!v2)
                json_object_object_add(out, "cpu_exclusive", u64(read_opt(d, "cpuset.cpu_exclusive")));
        if (cg_read(d->fd, d->full, v2 ? "cpuset.mems.effective" : "cpuset.mems", &mems, NULL) == 0)
                add_list(out, "mems", mems);
        if (v2)
                return;
        for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
                char f[64];
                snprintf(f, sizeof(f), "cpuset.%s", flags[i]);
                json_object_object_add(out, flags[i], u64(read_opt(d, f)));
        }
        /* Signed: -1 is the system default. */
        json_object_object_add(
            out, "sched_relax_domain_level",
            json_object_new_int64(cg_read(d->fd, d->full, "cpuset.sched_relax_domain_level", &relax, NULL) ==
                                          0
                                      ? strtoll(relax, NULL, 10)
                                      : 0));
}

static json_object *add_object(json_object *o, const char *key, bool *oom)
{
        json_object *v = json_object_new_object();

        if (!v || json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                *oom = true;
                return NULL;
        }
        return v;
}

int cgroup_stats(struct cgroup *cg, json_object **out, struct berr **err)
{
        json_object *o = json_object_new_object(), *cpu, *cs, *mem, *pids, *blkio, *huge;
        struct cgroup_dir *d = cg->n_dirs ? &cg->dirs[0] : NULL;
        bool oom = false;

        if (!o)
                return berr_make(err, ENOMEM, "stats");
        /* The container must still have its cgroup; each controller is then best effort. */
        if (d && cgroup_dir_open(cg, d, err) < 0) {
                json_object_put(o);
                return -1;
        }
        cpu = add_object(o, "cpu", &oom);
        cs = add_object(o, "cpuset", &oom);
        mem = add_object(o, "memory", &oom);
        pids = add_object(o, "pids", &oom);
        blkio = add_object(o, "blkio", &oom);
        huge = add_object(o, "hugetlb", &oom);
        (void)add_object(o, "intel_rdt", &oom);
        if (oom || json_object_object_add(o, "network_interfaces", NULL) < 0) {
                json_object_put(o);
                return berr_make(err, ENOMEM, "stats");
        }
        if ((d = cgroup_dir_for(cg, "cpu")) && !cgroup_dir_is_v2(cg, d))
                cpu_v1(cg, cpu);
        else if ((d = cgroup_dir_v2(cg)) && cgroup_dir_open(cg, d, NULL) == 0)
                cpu_v2(d, cpu);
        if ((d = cgroup_dir_for(cg, "cpuset")) && cgroup_dir_open(cg, d, NULL) == 0)
                cpuset(cg, d, cs);
        if ((d = cgroup_dir_for(cg, "memory")) && cgroup_dir_open(cg, d, NULL) == 0) {
                if (cgroup_dir_is_v2(cg, d))
                        memory_v2(d, mem);
                else
                        memory_v1(d, mem);
        }
        if ((d = cgroup_dir_for(cg, "pids")) && cgroup_dir_open(cg, d, NULL) == 0) {
                add_nz(pids, "current", read_opt(d, "pids.current"));
                add_nz(pids, "limit", read_opt(d, "pids.max"));
        }
        if ((d = cgroup_dir_for(cg, "blkio")) && cgroup_dir_open(cg, d, NULL) == 0) {
                if (cgroup_dir_is_v2(cg, d))
                        blkio_v2(d, blkio);
                else
                        blkio_v1(d, blkio);
        }
        if ((d = cgroup_dir_for(cg, "hugetlb")) && cgroup_dir_open(cg, d, NULL) == 0)
                hugetlb(d, cgroup_dir_is_v2(cg, d), huge);
        *out = o;
        return 0;
}
