/* SPDX-License-Identifier: Apache-2.0 */
/* linux.resources: parsing, validation and the v1 -> v2 value translations. */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "basic/json.h"
#include "basic/strv.h"
#include "cgroup-internal.h"

const struct cgroup_device_rule cgroup_default_devices[] = {
    {true, 'c', -1, -1, CGROUP_DEV_MKNOD}, {true, 'b', -1, -1, CGROUP_DEV_MKNOD},
    {true, 'c', 1, 3, CGROUP_DEV_ALL},    /* /dev/null */
    {true, 'c', 1, 8, CGROUP_DEV_ALL},    /* /dev/random */
    {true, 'c', 1, 7, CGROUP_DEV_ALL},    /* /dev/full */
    {true, 'c', 5, 0, CGROUP_DEV_ALL},    /* /dev/tty */
    {true, 'c', 1, 5, CGROUP_DEV_ALL},    /* /dev/zero */
    {true, 'c', 1, 9, CGROUP_DEV_ALL},    /* /dev/urandom */
    {true, 'c', 5, 1, CGROUP_DEV_ALL},    /* /dev/console */
    {true, 'c', 136, -1, CGROUP_DEV_ALL}, /* /dev/pts/ */
    {true, 'c', 5, 2, CGROUP_DEV_ALL},    /* /dev/ptmx */
    {true, 'c', 10, 200, CGROUP_DEV_ALL}, /* /dev/net/tun */
};
const size_t cgroup_n_default_devices = ARRAY_SIZE(cgroup_default_devices);

uint64_t cgroup_shares_to_weight(uint64_t shares)
{
        double l, exponent;

        if (shares == 0)
                return 0;
        if (shares <= 2)
                return 1;
        if (shares >= 262144)
                return 10000;
        /* A quadratic in log2(shares) through (2, 1), (1024, 100) and
         * (262144, 10000), so the default shares map to the default weight. */
        l = log2((double)shares);
        exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
        return (uint64_t)ceil(pow(10, exponent));
}

uint64_t cgroup_blkio_weight_to_io_weight(uint64_t weight)
{
        if (weight == 0)
                return 0;
        return 1 + (weight - 10) * 9999 / 990;
}

int cgroup_swap_to_v2(int64_t swap, int64_t limit, int64_t *out, struct berr **err)
{
        if (limit == -1 && swap == 0) {
                /* Unlimited memory with swap unset means both unlimited, as on v1. */
                *out = -1;
                return 0;
        }
        if (swap == -1 || swap == 0 || limit == -1) {
                *out = swap;
                return 0;
        }
        if (limit == 0)
                return berr_make(err, 0, "memory.swap: cannot set a swap limit without a memory limit");
        if (swap < limit)
                return berr_make(err, 0,
                                 "memory.swap: memory+swap limit %" PRId64
                                 " is lower than the memory limit %" PRId64,
                                 swap, limit);
        *out = swap - limit;
        return 0;
}

int cgroup_device_rule_format(const struct cgroup_device_rule *r, char *buf, size_t size)
{
        char maj[24] = "*", min[24] = "*", acc[4];
        size_t n = 0;
        int len;

        if (r->type == 'a')
                len = snprintf(buf, size, "a *:* rwm");
        else {
                if (r->major >= 0)
                        snprintf(maj, sizeof(maj), "%" PRId64, r->major);
                if (r->minor >= 0)
                        snprintf(min, sizeof(min), "%" PRId64, r->minor);
                if (r->access & CGROUP_DEV_READ)
                        acc[n++] = 'r';
                if (r->access & CGROUP_DEV_WRITE)
                        acc[n++] = 'w';
                if (r->access & CGROUP_DEV_MKNOD)
                        acc[n++] = 'm';
                acc[n] = '\0';
                len = snprintf(buf, size, "%c %s:%s %s", r->type, maj, min, acc);
        }
        return len < 0 || (size_t)len >= size ? -ENOBUFS : len;
}

/* ---- parsing helpers ---- */

/* An integer in [min, max]; `unset` (when in range) leaves *has false. */
static int get_int(json_object *obj, const char *path, const char *key, int64_t min, int64_t max,
                   const int64_t *unset, bool *has, int64_t *out, struct berr **err)
{
        int64_t v;
        int r = json_get_int64(obj, path, key, min, max, &v, err);

        if (r <= 0)
                return r;
        if (unset && v == *unset)
                return 0;
        *has = true;
        *out = v;
        return 1;
}

static int get_uint(json_object *obj, const char *path, const char *key, uint64_t min, uint64_t max,
                    bool zero_unset, bool *has, uint64_t *out, struct berr **err)
{
        _cleanup_free_ char *p = NULL;
        uint64_t v;
        int r = json_get_uint64(obj, path, key, &v, err);

        if (r <= 0)
                return r;
        if (zero_unset && v == 0)
                return 0;
        if (v < min || v > max) {
                p = json_path_key(path, key);
                return berr_make(err, 0, "%s: value %" PRIu64 " out of range [%" PRIu64 ", %" PRIu64 "]",
                                 p ? p : key, v, min, max);
        }
        *has = true;
        *out = v;
        return 1;
}

static int get_array(json_object *obj, const char *path, const char *key, json_object **arr, size_t *n,
                     struct berr **err)
{
        int r = json_get(obj, path, key, json_type_array, false, arr, err);

        *n = 0;
        if (r <= 0)
                return r;
        *n = json_object_array_length(*arr);
        if (*n > CGROUP_LIST_MAX) {
                _cleanup_free_ char *p = json_path_key(path, key);
                return berr_make(err, 0, "%s: %zu entries, more than the limit of %d", p ? p : key, *n,
                                 CGROUP_LIST_MAX);
        }
        return 1;
}

static int check_string(const char *path, const char *s, bool allow_space, struct berr **err)
{
        size_t len = strlen(s);

        if (len == 0)
                return berr_make(err, 0, "%s: must not be empty", path);
        if (len > CGROUP_STRING_MAX)
                return berr_make(err, 0, "%s: %zu bytes, more than the limit of %d", path, len,
                                 CGROUP_STRING_MAX);
        for (const char *c = s; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f || (!allow_space && *c == ' '))
                        return berr_make(err, 0, "%s: `%s` contains whitespace or control characters", path,
                                         s);
        return 0;
}

/* "0-3,5,7-8": the list format of cpuset.cpus and cpuset.mems. */
static int check_cpu_list(const char *path, const char *s, struct berr **err)
{
        const char *c = s;

        if (strlen(s) > CGROUP_STRING_MAX)
                return berr_make(err, 0, "%s: longer than %d bytes", path, CGROUP_STRING_MAX);
        for (;;) {
                unsigned long lo, hi;
                char *end;

                if (!isdigit((unsigned char)*c))
                        goto bad;
                lo = strtoul(c, &end, 10);
                hi = lo;
                c = end;
                if (*c == '-') {
                        c++;
                        if (!isdigit((unsigned char)*c))
                                goto bad;
                        hi = strtoul(c, &end, 10);
                        c = end;
                }
                if (lo > hi || hi > 65535)
                        goto bad;
                if (*c == '\0')
                        return 0;
                if (*c != ',')
                        goto bad;
                c++;
        }
bad:
        return berr_make(err, 0, "%s: `%s` is not a list like `0-3,5`", path, s);
}

/* "2MB": a size with a KB, MB or GB suffix, as in hugetlb.<size>.* file names. */
static int check_pagesize(const char *path, const char *s, struct berr **err)
{
        size_t n = strspn(s, "0123456789");

        if (n == 0 || n > 6 || s[0] == '0' ||
            (!streq(s + n, "KB") && !streq(s + n, "MB") && !streq(s + n, "GB")))
                return berr_make(err, 0, "%s: `%s` is not a page size like `2MB` or `1GB`", path, s);
        return 0;
}

static int parse_device_major_minor(json_object *e, const char *p, bool required, int64_t *major,
                                    int64_t *minor, struct berr **err)
{
        static const char *const keys[2] = {"major", "minor"};
        int64_t *vals[2] = {major, minor};

        for (int i = 0; i < 2; i++) {
                bool has = false;
                int r;

                *vals[i] = -1;
                r = get_int(e, p, keys[i], required ? 0 : -1, UINT32_MAX, NULL, &has, vals[i], err);
                if (r < 0)
                        return r;
                if (r == 0 && required)
                        return berr_make(err, 0, "%s.%s: required field is missing", p, keys[i]);
        }
        return 0;
}

/* ---- sections ---- */

static int parse_memory(json_object *res, const char *path, struct cgroup_resources *out, struct berr **err)
{
        _cleanup_free_ char *p = json_path_key(path, "memory");
        const int64_t zero = 0, minus_one = -1;
        json_object *m;
        int64_t swappiness;
        bool has = false;
        int r;

        if (!p)
                return berr_make(err, ENOMEM, "memory");
        r = json_get(res, path, "memory", json_type_object, false, &m, err);
        if (r <= 0)
                return r;
        if (get_int(m, p, "limit", -1, INT64_MAX, &zero, &out->memory.has_limit, &out->memory.limit, err) <
                0 ||
            get_int(m, p, "reservation", -1, INT64_MAX, &zero, &out->memory.has_reservation,
                    &out->memory.reservation, err) < 0 ||
            get_int(m, p, "swap", -1, INT64_MAX, &zero, &out->memory.has_swap, &out->memory.swap, err) < 0 ||
            get_int(m, p, "kernel", -1, INT64_MAX, &zero, &out->memory.has_kernel, &out->memory.kernel, err) <
                0 ||
            get_int(m, p, "kernelTCP", -1, INT64_MAX, &zero, &out->memory.has_kernel_tcp,
                    &out->memory.kernel_tcp, err) < 0 ||
            get_int(m, p, "swappiness", -1, 100, &minus_one, &has, &swappiness, err) < 0)
                return -1;
        if (has) {
                out->memory.has_swappiness = true;
                out->memory.swappiness = (uint64_t)swappiness;
        }
        r = json_get_bool(m, p, "disableOOMKiller", &out->memory.disable_oom_killer, err);
        if (r < 0)
                return r;
        out->memory.has_disable_oom_killer = r > 0;
        r = json_get_bool(m, p, "useHierarchy", &out->memory.use_hierarchy, err);
        if (r < 0)
                return r;
        out->memory.has_use_hierarchy = r > 0;
        r = json_get_bool(m, p, "checkBeforeUpdate", &out->memory.check_before_update, err);
        if (r < 0)
                return r;
        out->memory.has_check_before_update = r > 0;
        if (out->memory.has_limit && out->memory.has_swap && out->memory.limit > 0 && out->memory.swap > 0 &&
            out->memory.swap < out->memory.limit)
                return berr_make(
                    err, 0, "%s.swap: memory+swap limit %" PRId64 " is lower than the memory limit %" PRId64,
                    p, out->memory.swap, out->memory.limit);
        return 0;
}

static int parse_cpu(json_object *res, const char *path, struct cgroup_resources *out, struct berr **err)
{
        _cleanup_free_ char *p = json_path_key(path, "cpu");
        const int64_t zero = 0;
        json_object *c;
        int r;

        if (!p)
                return berr_make(err, ENOMEM, "cpu");
        r = json_get(res, path, "cpu", json_type_object, false, &c, err);
        if (r <= 0)
                return r;
        if (get_uint(c, p, "shares", 2, 262144, true, &out->cpu.has_shares, &out->cpu.shares, err) < 0 ||
            get_int(c, p, "quota", -1, INT64_MAX, &zero, &out->cpu.has_quota, &out->cpu.quota, err) < 0 ||
            get_uint(c, p, "period", 1000, 1000000, true, &out->cpu.has_period, &out->cpu.period, err) < 0 ||
            get_uint(c, p, "burst", 0, UINT64_MAX, false, &out->cpu.has_burst, &out->cpu.burst, err) < 0 ||
            get_int(c, p, "realtimeRuntime", -1, INT64_MAX, &zero, &out->cpu.has_rt_runtime,
                    &out->cpu.rt_runtime, err) < 0 ||
            get_uint(c, p, "realtimePeriod", 1, UINT64_MAX, true, &out->cpu.has_rt_period,
                     &out->cpu.rt_period, err) < 0 ||
            get_int(c, p, "idle", 0, 1, NULL, &out->cpu.has_idle, &out->cpu.idle, err) < 0)
                return -1;
        /* The kernel's minimum CFS quota is 1ms. */
        if (out->cpu.has_quota && out->cpu.quota > 0 && out->cpu.quota < 1000)
                return berr_make(err, 0, "%s.quota: value %" PRId64 " out of range: -1 or at least 1000", p,
                                 out->cpu.quota);
        if (json_get_str(c, p, "cpus", false, &out->cpu.cpus, err) < 0 ||
            json_get_str(c, p, "mems", false, &out->cpu.mems, err) < 0)
                return -1;
        if (out->cpu.cpus && !*out->cpu.cpus)
                out->cpu.cpus = (free(out->cpu.cpus), NULL);
        if (out->cpu.mems && !*out->cpu.mems)
                out->cpu.mems = (free(out->cpu.mems), NULL);
        if (out->cpu.cpus) {
                _cleanup_free_ char *q = json_path_key(p, "cpus");
                if (check_cpu_list(q ? q : "cpus", out->cpu.cpus, err) < 0)
                        return -1;
        }
        if (out->cpu.mems) {
                _cleanup_free_ char *q = json_path_key(p, "mems");
                if (check_cpu_list(q ? q : "mems", out->cpu.mems, err) < 0)
                        return -1;
        }
        return 0;
}

static int parse_pids(json_object *res, const char *path, struct cgroup_resources *out, struct berr **err)
{
        _cleanup_free_ char *p = json_path_key(path, "pids");
        json_object *o;
        int r;

        if (!p)
                return berr_make(err, ENOMEM, "pids");
        r = json_get(res, path, "pids", json_type_object, false, &o, err);
        if (r <= 0)
                return r;
        /* Present means set, 0 included (runtime-spec 1.2.1, runc 1.4); absent leaves it alone. */
        r = get_int(o, p, "limit", -1, INT64_MAX, NULL, &out->pids.has_limit, &out->pids.limit, err);
        return r < 0 ? r : 0;
}

static int parse_weight(json_object *o, const char *p, const char *key, bool *has, uint16_t *out,
                        struct berr **err)
{
        uint64_t v = 0;
        int r = get_uint(o, p, key, 10, 1000, true, has, &v, err);

        if (r > 0)
                *out = (uint16_t)v;
        return r;
}

static const char *const throttle_keys[CGROUP_THROTTLE_N] = {
    [CGROUP_THROTTLE_READ_BPS] = "throttleReadBpsDevice",
    [CGROUP_THROTTLE_WRITE_BPS] = "throttleWriteBpsDevice",
    [CGROUP_THROTTLE_READ_IOPS] = "throttleReadIOPSDevice",
    [CGROUP_THROTTLE_WRITE_IOPS] = "throttleWriteIOPSDevice",
};

static int parse_blkio(json_object *res, const char *path, struct cgroup_resources *out, struct berr **err)
{
        _cleanup_free_ char *p = json_path_key(path, "blockIO");
        json_object *b, *arr;
        size_t n;
        int r;

        if (!p)
                return berr_make(err, ENOMEM, "blockIO");
        r = json_get(res, path, "blockIO", json_type_object, false, &b, err);
        if (r <= 0)
                return r;
        if (parse_weight(b, p, "weight", &out->blkio.has_weight, &out->blkio.weight, err) < 0 ||
            parse_weight(b, p, "leafWeight", &out->blkio.has_leaf_weight, &out->blkio.leaf_weight, err) < 0)
                return -1;

        if (get_array(b, p, "weightDevice", &arr, &n, err) < 0)
                return -1;
        if (n > 0) {
                out->blkio.weight_devices = calloc(n, sizeof(*out->blkio.weight_devices));
                if (!out->blkio.weight_devices)
                        return berr_make(err, ENOMEM, "%s.weightDevice", p);
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *ep = NULL;
                struct cgroup_weight_device *w = &out->blkio.weight_devices[i];
                json_object *e = json_object_array_get_idx(arr, i);

                if (asprintf(&ep, "%s.weightDevice[%zu]", p, i) < 0)
                        return berr_make(err, ENOMEM, "weightDevice");
                if (!json_object_is_type(e, json_type_object))
                        return berr_make(err, 0, "%s: expected an object", ep);
                out->blkio.n_weight_devices++;
                if (parse_device_major_minor(e, ep, true, &w->major, &w->minor, err) < 0 ||
                    parse_weight(e, ep, "weight", &w->has_weight, &w->weight, err) < 0 ||
                    parse_weight(e, ep, "leafWeight", &w->has_leaf_weight, &w->leaf_weight, err) < 0)
                        return -1;
        }

        for (int t = 0; t < CGROUP_THROTTLE_N; t++) {
                if (get_array(b, p, throttle_keys[t], &arr, &n, err) < 0)
                        return -1;
                if (n == 0)
                        continue;
                out->blkio.throttle[t] = calloc(n, sizeof(*out->blkio.throttle[t]));
                if (!out->blkio.throttle[t])
                        return berr_make(err, ENOMEM, "%s.%s", p, throttle_keys[t]);
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *ep = NULL;
                        struct cgroup_throttle_device *d = &out->blkio.throttle[t][i];
                        json_object *e = json_object_array_get_idx(arr, i);
                        bool has = false;

                        if (asprintf(&ep, "%s.%s[%zu]", p, throttle_keys[t], i) < 0)
                                return berr_make(err, ENOMEM, "%s", throttle_keys[t]);
                        if (!json_object_is_type(e, json_type_object))
                                return berr_make(err, 0, "%s: expected an object", ep);
                        out->blkio.n_throttle[t]++;
                        if (parse_device_major_minor(e, ep, true, &d->major, &d->minor, err) < 0)
                                return -1;
                        r = get_uint(e, ep, "rate", 0, UINT64_MAX, false, &has, &d->rate, err);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                return berr_make(err, 0, "%s.rate: required field is missing", ep);
                }
        }
        return 0;
}

static int parse_hugepages(json_object *res, const char *path, struct cgroup_resources *out,
                           struct berr **err)
{
        json_object *arr;
        size_t n;

        if (get_array(res, path, "hugepageLimits", &arr, &n, err) < 0)
                return -1;
        if (n == 0)
                return 0;
        out->hugepages = calloc(n, sizeof(*out->hugepages));
        if (!out->hugepages)
                return berr_make(err, ENOMEM, "hugepageLimits");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *ep = NULL, *pp = NULL;
                struct cgroup_hugepage_limit *h = &out->hugepages[i];
                json_object *e = json_object_array_get_idx(arr, i);
                bool has = false;
                int r;

                if (asprintf(&ep, "%s.hugepageLimits[%zu]", path, i) < 0)
                        return berr_make(err, ENOMEM, "hugepageLimits");
                if (!json_object_is_type(e, json_type_object))
                        return berr_make(err, 0, "%s: expected an object", ep);
                out->n_hugepages++;
                if (json_get_str(e, ep, "pageSize", true, &h->pagesize, err) < 0)
                        return -1;
                pp = json_path_key(ep, "pageSize");
                if (check_pagesize(pp ? pp : ep, h->pagesize, err) < 0)
                        return -1;
                r = get_uint(e, ep, "limit", 0, UINT64_MAX, false, &has, &h->limit, err);
                if (r < 0)
                        return r;
                if (r == 0)
                        return berr_make(err, 0, "%s.limit: required field is missing", ep);
        }
        return 0;
}

static int parse_network(json_object *res, const char *path, struct cgroup_resources *out, struct berr **err)
{
        _cleanup_free_ char *p = json_path_key(path, "network");
        json_object *o, *arr;
        int64_t classid = 0;
        size_t n;
        int r;

        if (!p)
                return berr_make(err, ENOMEM, "network");
        r = json_get(res, path, "network", json_type_object, false, &o, err);
        if (r <= 0)
                return r;
        if (get_int(o, p, "classID", 0, UINT32_MAX, NULL, &out->network.has_class_id, &classid, err) < 0)
                return -1;
        out->network.class_id = (uint32_t)classid;
        if (get_array(o, p, "priorities", &arr, &n, err) < 0)
                return -1;
        if (n == 0)
                return 0;
        out->network.priorities = calloc(n, sizeof(*out->network.priorities));
        if (!out->network.priorities)
                return berr_make(err, ENOMEM, "priorities");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *ep = NULL, *np = NULL;
                struct cgroup_ifprio *ip = &out->network.priorities[i];
                json_object *e = json_object_array_get_idx(arr, i);
                bool has = false;
                int64_t prio;

                if (asprintf(&ep, "%s.priorities[%zu]", p, i) < 0)
                        return berr_make(err, ENOMEM, "priorities");
                if (!json_object_is_type(e, json_type_object))
                        return berr_make(err, 0, "%s: expected an object", ep);
                out->network.n_priorities++;
                if (json_get_str(e, ep, "name", true, &ip->name, err) < 0)
                        return -1;
                np = json_path_key(ep, "name");
                if (check_string(np ? np : ep, ip->name, false, err) < 0)
                        return -1;
                if (strlen(ip->name) >= 16 || strchr(ip->name, '/'))
                        return berr_make(err, 0, "%s: `%s` is not a network interface name", np ? np : ep,
                                         ip->name);
                r = get_int(e, ep, "priority", 0, UINT32_MAX, NULL, &has, &prio, err);
                if (r < 0)
                        return r;
                if (r == 0)
                        return berr_make(err, 0, "%s.priority: required field is missing", ep);
                ip->priority = (uint32_t)prio;
        }
        return 0;
}

static int parse_rdma(json_object *res, const char *path, struct cgroup_resources *out, struct berr **err)
{
        _cleanup_free_ char *p = json_path_key(path, "rdma");
        json_object *o;
        size_t n;
        int r;

        if (!p)
                return berr_make(err, ENOMEM, "rdma");
        r = json_get(res, path, "rdma", json_type_object, false, &o, err);
        if (r <= 0)
                return r;
        n = (size_t)json_object_object_length(o);
        if (n > CGROUP_LIST_MAX)
                return berr_make(err, 0, "%s: %zu entries, more than the limit of %d", p, n, CGROUP_LIST_MAX);
        if (n == 0)
                return 0;
        out->rdma = calloc(n, sizeof(*out->rdma));
        if (!out->rdma)
                return berr_make(err, ENOMEM, "rdma");
        json_object_object_foreach (o, key, val) {
                _cleanup_free_ char *ep = json_path_key(p, key);
                struct cgroup_rdma_limit *l = &out->rdma[out->n_rdma];
                int64_t v = 0;

                if (!ep)
                        return berr_make(err, ENOMEM, "rdma");
                if (check_string(ep, key, false, err) < 0)
                        return -1;
                if (!val || !json_object_is_type(val, json_type_object))
                        return berr_make(err, 0, "%s: expected an object", ep);
                l->device = strdup(key);
                if (!l->device)
                        return berr_make(err, ENOMEM, "rdma");
                out->n_rdma++;
                if (get_int(val, ep, "hcaHandles", 0, UINT32_MAX, NULL, &l->has_handles, &v, err) < 0)
                        return -1;
                l->handles = (uint32_t)v;
                if (get_int(val, ep, "hcaObjects", 0, UINT32_MAX, NULL, &l->has_objects, &v, err) < 0)
                        return -1;
                l->objects = (uint32_t)v;
        }
        return 0;
}

static int parse_unified(json_object *res, const char *path, struct cgroup_resources *out, struct berr **err)
{
        _cleanup_free_ char *p = json_path_key(path, "unified");

        if (!p)
                return berr_make(err, ENOMEM, "unified");
        if (json_get_str_map(res, path, "unified", &out->unified, err) < 0)
                return -1;
        if (strv_length(out->unified) / 2 > CGROUP_LIST_MAX)
                return berr_make(err, 0, "%s: more than %d entries", p, CGROUP_LIST_MAX);
        for (char **k = out->unified; k && *k; k += 2) {
                _cleanup_free_ char *kp = json_path_key(p, *k);
                const char *ctx = kp ? kp : p;

                if (check_string(ctx, *k, false, err) < 0)
                        return -1;
                if (strchr(*k, '/') || streq(*k, ".") || streq(*k, ".."))
                        return berr_make(err, 0, "%s: the key must be a file name without `/`", ctx);
                if (!strchr(*k + 1, '.'))
                        return berr_make(err, 0, "%s: the key must have the form CONTROLLER.FILE", ctx);
                /* Moving arbitrary host processes into the container's cgroup
                 * is not a resource setting. */
                if (streq(*k, "cgroup.procs") || streq(*k, "cgroup.threads"))
                        return berr_make(err, 0, "%s: not a resource setting", ctx);
                if (strlen(k[1]) > CGROUP_STRING_MAX)
                        return berr_make(err, 0, "%s: value longer than %d bytes", ctx, CGROUP_STRING_MAX);
        }
        return 0;
}

static int parse_access(const char *path, const char *s, unsigned *out, struct berr **err)
{
        unsigned acc = 0;

        if (!*s)
                return berr_make(err, 0, "%s: must not be empty (use a combination of r, w and m)", path);
        for (const char *c = s; *c; c++) {
                unsigned bit = *c == 'r'   ? CGROUP_DEV_READ
                               : *c == 'w' ? CGROUP_DEV_WRITE
                               : *c == 'm' ? CGROUP_DEV_MKNOD
                                           : 0;
                if (!bit || (acc & bit))
                        return berr_make(err, 0, "%s: `%s` is not a combination of r, w and m", path, s);
                acc |= bit;
        }
        *out = acc;
        return 0;
}

static int parse_devices(json_object *res, const char *path, struct cgroup_resources *out, struct berr **err)
{
        json_object *arr;
        size_t n;
        int r;

        r = get_array(res, path, "devices", &arr, &n, err);
        if (r <= 0)
                return r;
        out->has_devices = true;
        if (n == 0)
                return 0;
        out->devices = calloc(n, sizeof(*out->devices));
        if (!out->devices)
                return berr_make(err, ENOMEM, "devices");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *ep = NULL, *type = NULL, *access = NULL;
                struct cgroup_device_rule *d = &out->devices[i];
                json_object *e = json_object_array_get_idx(arr, i), *b;

                if (asprintf(&ep, "%s.devices[%zu]", path, i) < 0)
                        return berr_make(err, ENOMEM, "devices");
                if (!json_object_is_type(e, json_type_object))
                        return berr_make(err, 0, "%s: expected an object", ep);
                out->n_devices++;
                if (json_get(e, ep, "allow", json_type_boolean, true, &b, err) < 0)
                        return -1;
                d->allow = json_object_get_boolean(b);
                if (json_get_str(e, ep, "type", false, &type, err) < 0)
                        return -1;
                if (!type || streq(type, "a"))
                        d->type = 'a';
                else if (streq(type, "b") || streq(type, "c"))
                        d->type = type[0];
                else
                        return berr_make(err, 0, "%s.type: unknown device type `%s` (expected a, b or c)", ep,
                                         type);
                if (parse_device_major_minor(e, ep, false, &d->major, &d->minor, err) < 0)
                        return -1;
                if (json_get_str(e, ep, "access", false, &access, err) < 0)
                        return -1;
                if (access) {
                        _cleanup_free_ char *ap = json_path_key(ep, "access");
                        if (parse_access(ap ? ap : ep, access, &d->access, err) < 0)
                                return -1;
                } else
                        d->access = CGROUP_DEV_ALL;
        }
        return 0;
}

int cgroup_resources_parse(json_object *obj, const char *path, struct cgroup_resources *res,
                           struct berr **err)
{
        *res = (struct cgroup_resources){};
        if (!obj)
                return 0;
        if (!json_object_is_type(obj, json_type_object))
                return berr_make(err, 0, "%s: expected an object, got %s", path,
                                 json_type_label(json_object_get_type(obj)));
        if (parse_memory(obj, path, res, err) < 0 || parse_cpu(obj, path, res, err) < 0 ||
            parse_pids(obj, path, res, err) < 0 || parse_blkio(obj, path, res, err) < 0 ||
            parse_hugepages(obj, path, res, err) < 0 || parse_network(obj, path, res, err) < 0 ||
            parse_rdma(obj, path, res, err) < 0 || parse_unified(obj, path, res, err) < 0 ||
            parse_devices(obj, path, res, err) < 0) {
                cgroup_resources_done(res);
                return -1;
        }
        return 0;
}

void cgroup_resources_done(struct cgroup_resources *res)
{
        free(res->cpu.cpus);
        free(res->cpu.mems);
        free(res->blkio.weight_devices);
        for (int t = 0; t < CGROUP_THROTTLE_N; t++)
                free(res->blkio.throttle[t]);
        for (size_t i = 0; i < res->n_hugepages; i++)
                free(res->hugepages[i].pagesize);
        free(res->hugepages);
        for (size_t i = 0; i < res->network.n_priorities; i++)
                free(res->network.priorities[i].name);
        free(res->network.priorities);
        for (size_t i = 0; i < res->n_rdma; i++)
                free(res->rdma[i].device);
        free(res->rdma);
        strv_free(res->unified);
        free(res->devices);
        *res = (struct cgroup_resources){};
}

bool cgroup_resources_uses(const struct cgroup_resources *r, const char *c)
{
        if (streq(c, "memory"))
                return r->memory.has_limit || r->memory.has_reservation || r->memory.has_swap ||
                       r->memory.has_kernel || r->memory.has_kernel_tcp || r->memory.has_swappiness ||
                       r->memory.has_disable_oom_killer || r->memory.has_use_hierarchy;
        if (streq(c, "cpu"))
                return r->cpu.has_shares || r->cpu.has_quota || r->cpu.has_period || r->cpu.has_burst ||
                       r->cpu.has_rt_runtime || r->cpu.has_rt_period || r->cpu.has_idle;
        if (streq(c, "cpuset"))
                return r->cpu.cpus || r->cpu.mems;
        if (streq(c, "pids"))
                return r->pids.has_limit;
        if (streq(c, "blkio")) {
                size_t n = r->blkio.n_weight_devices;
                for (int t = 0; t < CGROUP_THROTTLE_N; t++)
                        n += r->blkio.n_throttle[t];
                return r->blkio.has_weight || r->blkio.has_leaf_weight || n > 0;
        }
        if (streq(c, "hugetlb"))
                return r->n_hugepages > 0;
        if (streq(c, "net_cls"))
                return r->network.has_class_id;
        if (streq(c, "net_prio"))
                return r->network.n_priorities > 0;
        if (streq(c, "rdma"))
                return r->n_rdma > 0;
        if (streq(c, "devices"))
                return r->has_devices;
        return false;
}
