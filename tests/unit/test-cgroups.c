/* SPDX-License-Identifier: Apache-2.0 */
/* The cgroup layer without a real cgroupfs: parsing and validation of
 * linux.resources, v1 -> v2 translations, cgroupsPath resolution, mode
 * detection from mountinfo text, the eBPF device filter's verdicts, and the
 * backends run against fake trees in a temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/strv.h"
#include "runtime/cgroups/cgroup-internal.h"

/* ---- helpers ---- */

static json_object *parse_json(const char *s)
{
        json_object *o = NULL;
        _cleanup_berr_ struct berr *err = NULL;

        if (json_parse_buf(s, strlen(s), "test", &o, &err) < 0)
                fail_msg("bad test JSON %s: %s", s, err->msg);
        return o;
}

static int parse_res(const char *s, struct cgroup_resources *res, struct berr **err)
{
        json_object *o = parse_json(s);
        int r = cgroup_resources_parse(o, "linux.resources", res, err);

        json_object_put(o);
        return r;
}

static void expect_parse_error(const char *s, const char *fragment)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct cgroup_resources res;

        if (parse_res(s, &res, &err) == 0) {
                cgroup_resources_done(&res);
                fail_msg("%s: accepted, expected an error with `%s`", s, fragment);
        }
        assert_non_null(err);
        if (!strstr(err->msg, fragment))
                fail_msg("%s: error `%s` does not mention `%s`", s, err->msg, fragment);
}

static void write_text(const char *dir, const char *name, const char *text)
{
        _cleanup_free_ char *p = NULL;
        FILE *f;

        assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
        f = fopen(p, "w");
        if (!f)
                fail_msg("create %s: %m", p);
        fputs(text, f);
        fclose(f);
}

static char *read_text(const char *fmt, ...) _printf_(1, 2);
static char *read_text(const char *fmt, ...)
{
        _cleanup_free_ char *p = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        char *out = NULL;
        va_list ap;

        va_start(ap, fmt);
        assert_true(vasprintf(&p, fmt, ap) > 0);
        va_end(ap);
        if (read_file_at(AT_FDCWD, p, 1 << 20, &out, NULL, &err) < 0)
                fail_msg("%s", err->msg);
        return out;
}

#define assert_file(expected, ...)                                                                           \
        do {                                                                                                 \
                _cleanup_free_ char *_got = read_text(__VA_ARGS__);                                          \
                assert_string_equal(_got, expected);                                                         \
        } while (0)

static bool exists(const char *fmt, ...) _printf_(1, 2);
static bool exists(const char *fmt, ...)
{
        _cleanup_free_ char *p = NULL;
        struct stat st;
        va_list ap;

        va_start(ap, fmt);
        assert_true(vasprintf(&p, fmt, ap) > 0);
        va_end(ap);
        return stat(p, &st) == 0;
}

/* ---- parsing and validation ---- */

#define ALL_RESOURCES                                                                                        \
        "{\"memory\":{\"limit\":104857600,\"reservation\":52428800,\"swap\":209715200,\"kernel\":-1,"        \
        "\"kernelTCP\":1048576,\"swappiness\":10,\"disableOOMKiller\":true,\"useHierarchy\":true,"           \
        "\"checkBeforeUpdate\":true},"                                                                       \
        "\"cpu\":{\"shares\":1024,\"quota\":50000,\"period\":100000,\"burst\":10000,"                        \
        "\"realtimeRuntime\":950000,\"realtimePeriod\":1000000,\"cpus\":\"0\",\"mems\":\"0\",\"idle\":0},"   \
        "\"pids\":{\"limit\":42},"                                                                           \
        "\"blockIO\":{\"weight\":500,\"leafWeight\":300,"                                                    \
        "\"weightDevice\":[{\"major\":8,\"minor\":0,\"weight\":600,\"leafWeight\":200}],"                    \
        "\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":1048576}],"                            \
        "\"throttleWriteBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":2097152}],"                           \
        "\"throttleReadIOPSDevice\":[{\"major\":8,\"minor\":0,\"rate\":100}],"                               \
        "\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":16,\"rate\":0}]},"                              \
        "\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}],"                                     \
        "\"network\":{\"classID\":1048577,\"priorities\":[{\"name\":\"eth0\",\"priority\":5}]},"             \
        "\"rdma\":{\"mlx5_1\":{\"hcaHandles\":3}},"                                                          \
        "\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":4,"      \
        "\"access\":\"rw\"}]}"

static void test_parse_every_key(void **state)
{
        _cleanup_(cgroup_resources_done) struct cgroup_resources r = {};
        _cleanup_berr_ struct berr *err = NULL;

        assert_int_equal(parse_res(ALL_RESOURCES, &r, &err), 0);
        assert_true(r.memory.has_limit && r.memory.limit == 104857600);
        assert_true(r.memory.has_reservation && r.memory.reservation == 52428800);
        assert_true(r.memory.has_swap && r.memory.swap == 209715200);
        assert_true(r.memory.has_kernel && r.memory.kernel == -1);
        assert_true(r.memory.has_kernel_tcp && r.memory.kernel_tcp == 1048576);
        assert_true(r.memory.has_swappiness && r.memory.swappiness == 10);
        assert_true(r.memory.has_disable_oom_killer && r.memory.disable_oom_killer);
        assert_true(r.memory.has_use_hierarchy && r.memory.use_hierarchy);
        assert_true(r.memory.has_check_before_update && r.memory.check_before_update);
        assert_true(r.cpu.has_shares && r.cpu.shares == 1024);
        assert_true(r.cpu.has_quota && r.cpu.quota == 50000);
        assert_true(r.cpu.has_period && r.cpu.period == 100000);
        assert_true(r.cpu.has_burst && r.cpu.burst == 10000);
        assert_true(r.cpu.has_rt_runtime && r.cpu.rt_runtime == 950000);
        assert_true(r.cpu.has_rt_period && r.cpu.rt_period == 1000000);
        assert_true(r.cpu.has_idle && r.cpu.idle == 0);
        assert_string_equal(r.cpu.cpus, "0");
        assert_string_equal(r.cpu.mems, "0");
        assert_true(r.pids.has_limit && r.pids.limit == 42);
        assert_true(r.blkio.has_weight && r.blkio.weight == 500);
        assert_true(r.blkio.has_leaf_weight && r.blkio.leaf_weight == 300);
        assert_int_equal(r.blkio.n_weight_devices, 1);
        assert_true(r.blkio.weight_devices[0].major == 8 && r.blkio.weight_devices[0].weight == 600 &&
                    r.blkio.weight_devices[0].leaf_weight == 200);
        for (int t = 0; t < CGROUP_THROTTLE_N; t++)
                assert_int_equal(r.blkio.n_throttle[t], 1);
        assert_int_equal(r.blkio.throttle[CGROUP_THROTTLE_WRITE_IOPS][0].minor, 16);
        assert_int_equal(r.n_hugepages, 1);
        assert_string_equal(r.hugepages[0].pagesize, "2MB");
        assert_true(r.network.has_class_id && r.network.class_id == 1048577);
        assert_string_equal(r.network.priorities[0].name, "eth0");
        assert_int_equal(r.n_rdma, 1);
        assert_true(r.rdma[0].has_handles && !r.rdma[0].has_objects && r.rdma[0].handles == 3);
        assert_true(r.has_devices);
        assert_int_equal(r.n_devices, 2);
        assert_true(!r.devices[0].allow && r.devices[0].type == 'a' && r.devices[0].access == CGROUP_DEV_ALL);
        assert_true(r.devices[1].allow && r.devices[1].type == 'c' && r.devices[1].major == 4 &&
                    r.devices[1].minor == -1 && r.devices[1].access == (CGROUP_DEV_READ | CGROUP_DEV_WRITE));
        for (const char *const *c =
                 (const char *const[]){"memory", "cpu", "cpuset", "pids", "blkio", "hugetlb", "net_cls",
                                       "net_prio", "rdma", "devices", NULL};
             *c; c++)
                assert_true(cgroup_resources_uses(&r, *c));
}

static void test_parse_unset_values(void **state)
{
        _cleanup_(cgroup_resources_done) struct cgroup_resources r = {};
        _cleanup_berr_ struct berr *err = NULL;

        /* 0 means "leave alone" as with runc, null is absent, -1 swappiness is unset. */
        assert_int_equal(
            parse_res("{\"memory\":{\"limit\":0,\"swap\":null,\"swappiness\":-1},\"cpu\":{\"shares\":0,"
                      "\"quota\":0,\"cpus\":\"\"},\"pids\":{\"limit\":0},\"blockIO\":{\"weight\":0}}",
                      &r, &err),
            0);
        assert_false(r.memory.has_limit || r.memory.has_swap || r.memory.has_swappiness);
        assert_false(r.cpu.has_shares || r.cpu.has_quota || r.cpu.cpus);
        assert_false(r.blkio.has_weight);
        /* pids.limit 0 is a limit (runtime-spec 1.2.1, runc 1.4). */
        assert_true(r.pids.has_limit && r.pids.limit == 0);
        assert_false(cgroup_resources_uses(&r, "memory") || cgroup_resources_uses(&r, "cpu") ||
                     cgroup_resources_uses(&r, "devices"));
        assert_true(cgroup_resources_uses(&r, "pids"));
        cgroup_resources_done(&r);
        assert_int_equal(parse_res("{\"pids\":{\"limit\":-1}}", &r, &err), 0);
        assert_true(r.pids.has_limit && r.pids.limit == -1);
}

static void test_parse_errors_name_the_field(void **state)
{
        static const struct {
                const char *json, *fragment;
        } cases[] = {
            {"[]", "linux.resources: expected an object"},
            {"{\"memory\":[]}", "linux.resources.memory: expected an object"},
            {"{\"memory\":{\"limit\":-2}}", "linux.resources.memory.limit: value -2 out of range"},
            {"{\"memory\":{\"limit\":\"1g\"}}", "linux.resources.memory.limit: expected an integer"},
            {"{\"memory\":{\"limit\":1.5}}", "linux.resources.memory.limit: expected an integer"},
            {"{\"memory\":{\"limit\":200,\"swap\":100}}",
             "linux.resources.memory.swap: memory+swap limit 100 is lower"},
            {"{\"memory\":{\"reservation\":-3}}",
             "linux.resources.memory.reservation: value -3 out of range"},
            {"{\"memory\":{\"kernelTCP\":-9}}", "linux.resources.memory.kernelTCP"},
            {"{\"memory\":{\"swappiness\":101}}",
             "linux.resources.memory.swappiness: value 101 out of range"},
            {"{\"memory\":{\"disableOOMKiller\":1}}",
             "linux.resources.memory.disableOOMKiller: expected a boolean"},
            {"{\"memory\":{\"checkBeforeUpdate\":\"yes\"}}", "linux.resources.memory.checkBeforeUpdate"},
            {"{\"cpu\":{\"shares\":1}}", "linux.resources.cpu.shares: value 1 out of range [2, 262144]"},
            {"{\"cpu\":{\"shares\":262145}}", "linux.resources.cpu.shares: value 262145 out of range"},
            {"{\"cpu\":{\"shares\":-1}}", "linux.resources.cpu.shares: value -1 must not be negative"},
            {"{\"cpu\":{\"quota\":500}}", "linux.resources.cpu.quota: value 500 out of range"},
            {"{\"cpu\":{\"quota\":-2}}", "linux.resources.cpu.quota: value -2 out of range"},
            {"{\"cpu\":{\"period\":999}}",
             "linux.resources.cpu.period: value 999 out of range [1000, 1000000]"},
            {"{\"cpu\":{\"period\":1000001}}", "linux.resources.cpu.period: value 1000001 out of range"},
            {"{\"cpu\":{\"idle\":2}}", "linux.resources.cpu.idle: value 2 out of range [0, 1]"},
            {"{\"cpu\":{\"realtimeRuntime\":-5}}",
             "linux.resources.cpu.realtimeRuntime: value -5 out of range"},
            {"{\"cpu\":{\"cpus\":\"0-\"}}", "linux.resources.cpu.cpus: `0-` is not a list"},
            {"{\"cpu\":{\"cpus\":\"3-1\"}}", "linux.resources.cpu.cpus: `3-1` is not a list"},
            {"{\"cpu\":{\"mems\":\"a\"}}", "linux.resources.cpu.mems: `a` is not a list"},
            {"{\"cpu\":{\"cpus\":\"1,,2\"}}", "linux.resources.cpu.cpus"},
            {"{\"pids\":{\"limit\":-5}}", "linux.resources.pids.limit: value -5 out of range"},
            {"{\"blockIO\":{\"weight\":5}}",
             "linux.resources.blockIO.weight: value 5 out of range [10, 1000]"},
            {"{\"blockIO\":{\"leafWeight\":1001}}",
             "linux.resources.blockIO.leafWeight: value 1001 out of range"},
            {"{\"blockIO\":{\"weightDevice\":[{\"minor\":0,\"weight\":100}]}}",
             "linux.resources.blockIO.weightDevice[0].major: required field is missing"},
            {"{\"blockIO\":{\"weightDevice\":[{\"major\":8,\"minor\":0,\"weight\":1}]}}",
             "linux.resources.blockIO.weightDevice[0].weight: value 1 out of range"},
            {"{\"blockIO\":{\"weightDevice\":[3]}}",
             "linux.resources.blockIO.weightDevice[0]: expected an object"},
            {"{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0}]}}",
             "linux.resources.blockIO.throttleReadBpsDevice[0].rate: required field is missing"},
            {"{\"blockIO\":{\"throttleWriteIOPSDevice\":[{\"major\":-1,\"minor\":0,\"rate\":1}]}}",
             "linux.resources.blockIO.throttleWriteIOPSDevice[0].major: value -1 out of range"},
            {"{\"blockIO\":{\"throttleReadIOPSDevice\":[{\"major\":8,\"minor\":0,\"rate\":-1}]}}",
             "linux.resources.blockIO.throttleReadIOPSDevice[0].rate: value -1 must not be negative"},
            {"{\"hugepageLimits\":[{\"pageSize\":\"2M\",\"limit\":1}]}",
             "linux.resources.hugepageLimits[0].pageSize: `2M` is not a page size"},
            {"{\"hugepageLimits\":[{\"pageSize\":\"../x\",\"limit\":1}]}", "is not a page size"},
            {"{\"hugepageLimits\":[{\"pageSize\":\"2MB\"}]}",
             "linux.resources.hugepageLimits[0].limit: required"},
            {"{\"hugepageLimits\":[{\"limit\":1}]}", "linux.resources.hugepageLimits[0].pageSize: required"},
            {"{\"network\":{\"classID\":-1}}", "linux.resources.network.classID: value -1 out of range"},
            {"{\"network\":{\"classID\":4294967296}}",
             "linux.resources.network.classID: value 4294967296 out of range"},
            {"{\"network\":{\"priorities\":[{\"name\":\"\",\"priority\":1}]}}",
             "linux.resources.network.priorities[0].name: must not be empty"},
            {"{\"network\":{\"priorities\":[{\"name\":\"averyveryverylongname\",\"priority\":1}]}}",
             "is not a network interface name"},
            {"{\"network\":{\"priorities\":[{\"name\":\"eth 0\",\"priority\":1}]}}", "whitespace"},
            {"{\"network\":{\"priorities\":[{\"name\":\"eth0\"}]}}",
             "linux.resources.network.priorities[0].priority: required"},
            {"{\"rdma\":{\"mlx\":3}}", "linux.resources.rdma.mlx: expected an object"},
            {"{\"rdma\":{\"mlx\":{\"hcaHandles\":-1}}}",
             "linux.resources.rdma.mlx.hcaHandles: value -1 out of range"},
            {"{\"rdma\":{\"a b\":{}}}", "whitespace"},
            {"{\"unified\":{\"memory.max\":5}}", "linux.resources.unified.memory.max: expected a string"},
            {"{\"unified\":{\"../memory.max\":\"1\"}}", "must be a file name without `/`"},
            {"{\"unified\":{\"memory\":\"1\"}}", "must have the form CONTROLLER.FILE"},
            {"{\"unified\":{\"cgroup.procs\":\"1\"}}",
             "linux.resources.unified.cgroup.procs: not a resource setting"},
            {"{\"devices\":[{\"allow\":true,\"type\":\"x\"}]}",
             "linux.resources.devices[0].type: unknown device type `x`"},
            {"{\"devices\":[{\"allow\":true,\"access\":\"rwx\"}]}",
             "linux.resources.devices[0].access: `rwx` is not a combination of r, w and m"},
            {"{\"devices\":[{\"allow\":true,\"access\":\"rr\"}]}", "`rr` is not a combination"},
            {"{\"devices\":[{\"allow\":true,\"access\":\"\"}]}",
             "linux.resources.devices[0].access: must not be empty"},
            {"{\"devices\":[{\"access\":\"r\"}]}",
             "linux.resources.devices[0].allow: required field is missing"},
            {"{\"devices\":[{\"allow\":true,\"type\":\"c\",\"major\":-2}]}",
             "linux.resources.devices[0].major: value -2 out of range"},
            {"{\"devices\":{}}", "linux.resources.devices: expected an array"},
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
                expect_parse_error(cases[i].json, cases[i].fragment);
}

static void test_parse_caps_lists(void **state)
{
        _cleanup_free_ char *big = NULL;
        size_t len = 0, cap = 64 * (CGROUP_LIST_MAX + 2);

        big = malloc(cap);
        assert_non_null(big);
        len += (size_t)sprintf(big + len, "{\"devices\":[");
        for (int i = 0; i <= CGROUP_LIST_MAX; i++)
                len += (size_t)sprintf(big + len, "%s{\"allow\":true}", i ? "," : "");
        sprintf(big + len, "]}");
        expect_parse_error(big, "linux.resources.devices: 1025 entries, more than the limit of 1024");
}

/* ---- translations ---- */

static void test_translations(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        int64_t v;

        assert_int_equal(cgroup_shares_to_weight(0), 0);
        assert_int_equal(cgroup_shares_to_weight(2), 1);
        assert_int_equal(cgroup_shares_to_weight(1024), 100);
        assert_int_equal(cgroup_shares_to_weight(512), 59);
        assert_int_equal(cgroup_shares_to_weight(2048), 174);
        assert_int_equal(cgroup_shares_to_weight(262144), 10000);

        assert_int_equal(cgroup_blkio_weight_to_io_weight(0), 0);
        assert_int_equal(cgroup_blkio_weight_to_io_weight(10), 1);
        assert_int_equal(cgroup_blkio_weight_to_io_weight(500), 4950);
        assert_int_equal(cgroup_blkio_weight_to_io_weight(1000), 10000);

        assert_int_equal(cgroup_swap_to_v2(0, -1, &v, &err), 0);
        assert_int_equal(v, -1);
        assert_int_equal(cgroup_swap_to_v2(-1, 100, &v, &err), 0);
        assert_int_equal(v, -1);
        assert_int_equal(cgroup_swap_to_v2(0, 100, &v, &err), 0);
        assert_int_equal(v, 0);
        assert_int_equal(cgroup_swap_to_v2(300, 100, &v, &err), 0);
        assert_int_equal(v, 200);
        assert_int_equal(cgroup_swap_to_v2(100, 100, &v, &err), 0);
        assert_int_equal(v, 0);
        assert_int_equal(cgroup_swap_to_v2(300, -1, &v, &err), 0);
        assert_int_equal(v, 300);
        assert_true(cgroup_swap_to_v2(50, 100, &v, &err) < 0);
        assert_non_null(strstr(err->msg, "lower than the memory limit"));
        berr_freep(&err);
        assert_true(cgroup_swap_to_v2(100, 0, &v, &err) < 0);
        assert_non_null(strstr(err->msg, "without a memory limit"));
}

static void test_device_rule_format(void **state)
{
        char buf[64];

        assert_true(cgroup_device_rule_format(&(struct cgroup_device_rule){true, 'a', -1, -1, 1}, buf,
                                              sizeof(buf)) > 0);
        assert_string_equal(buf, "a *:* rwm");
        cgroup_device_rule_format(&(struct cgroup_device_rule){false, 'c', 1, 3, CGROUP_DEV_ALL}, buf,
                                  sizeof(buf));
        assert_string_equal(buf, "c 1:3 rwm");
        cgroup_device_rule_format(&(struct cgroup_device_rule){true, 'b', 8, -1, CGROUP_DEV_READ}, buf,
                                  sizeof(buf));
        assert_string_equal(buf, "b 8:* r");
        cgroup_device_rule_format(&(struct cgroup_device_rule){true, 'c', -1, -1, CGROUP_DEV_MKNOD}, buf,
                                  sizeof(buf));
        assert_string_equal(buf, "c *:* m");
        cgroup_device_rule_format(
            &(struct cgroup_device_rule){true, 'c', 136, 4, CGROUP_DEV_WRITE | CGROUP_DEV_MKNOD}, buf,
            sizeof(buf));
        assert_string_equal(buf, "c 136:4 wm");
        assert_true(cgroup_device_rule_format(&(struct cgroup_device_rule){true, 'c', 136, 4, 7}, buf, 4) <
                    0);
}

/* ---- the eBPF device filter, run by a small interpreter of what it emits ---- */

static int bpf_run(const struct bpf_insn *p, size_t n, char type, uint32_t major, uint32_t minor,
                   unsigned access)
{
        uint32_t ctx[3] = {(uint32_t)(type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR) |
                               (access << 16),
                           major, minor};
        uint64_t reg[11] = {};

        for (size_t pc = 0; pc < n; pc++) {
                const struct bpf_insn *i = &p[pc];
                uint32_t k = (uint32_t)i->imm;

                switch (i->code) {
                case BPF_LDX | BPF_MEM | BPF_W:
                        assert_int_equal(i->src_reg, BPF_REG_1);
                        assert_true(i->off >= 0 && i->off <= 8 && i->off % 4 == 0);
                        reg[i->dst_reg] = ctx[i->off / 4];
                        break;
                case BPF_ALU | BPF_AND | BPF_K:
                        reg[i->dst_reg] = (uint32_t)reg[i->dst_reg] & k;
                        break;
                case BPF_ALU | BPF_RSH | BPF_K:
                        reg[i->dst_reg] = (uint32_t)reg[i->dst_reg] >> k;
                        break;
                case BPF_ALU64 | BPF_MOV | BPF_X:
                        reg[i->dst_reg] = reg[i->src_reg];
                        break;
                case BPF_ALU64 | BPF_MOV | BPF_K:
                        reg[i->dst_reg] = (uint64_t)(int64_t)i->imm;
                        break;
                case BPF_JMP32 | BPF_JNE | BPF_K:
                        if ((uint32_t)reg[i->dst_reg] != k)
                                pc += (size_t)i->off;
                        break;
                case BPF_JMP32 | BPF_JEQ | BPF_K:
                        if ((uint32_t)reg[i->dst_reg] == k)
                                pc += (size_t)i->off;
                        break;
                case BPF_JMP | BPF_EXIT:
                        return (int)reg[0];
                default:
                        fail_msg("unexpected BPF opcode 0x%x at %zu", i->code, pc);
                }
                assert_true(pc < n);
        }
        fail_msg("the program ran off its end");
        return -1;
}

static int verdict(const char *json, char type, uint32_t major, uint32_t minor, const char *access)
{
        _cleanup_(cgroup_resources_done) struct cgroup_resources res = {};
        _cleanup_free_ struct cgroup_device_rule *rules = NULL;
        _cleanup_free_ struct bpf_insn *prog = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        unsigned acc = 0;
        size_t n, ni;

        for (const char *c = access; *c; c++)
                acc |= *c == 'r' ? CGROUP_DEV_READ : *c == 'w' ? CGROUP_DEV_WRITE : CGROUP_DEV_MKNOD;
        assert_int_equal(parse_res(json, &res, &err), 0);
        assert_int_equal(cgroup_devices_rules(&res, &rules, &n, &err), 0);
        assert_int_equal(cgroup_devices_bpf_build(rules, n, &prog, &ni, &err), 0);
        return bpf_run(prog, ni, type, major, minor, acc);
}

static void test_bpf_device_filter(void **state)
{
        const char *none = "{}";
        const char *deny_all = "{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]}";
        const char *allow_4 =
            "{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\","
            "\"major\":4,\"access\":\"rw\"}]}";
        const char *allow_all_deny_w = "{\"devices\":[{\"allow\":true,\"access\":\"rwm\"},{\"allow\":false,"
                                       "\"type\":\"c\",\"major\":1,\"minor\":11,\"access\":\"w\"}]}";
        const char *deny_null =
            "{\"devices\":[{\"allow\":false,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"}]}";
        const char *block =
            "{\"devices\":[{\"allow\":true,\"type\":\"b\",\"major\":8,\"minor\":0,\"access\":\"r\"}]}";

        /* The defaults alone. */
        assert_int_equal(verdict(none, 'c', 1, 3, "rw"), 1);
        assert_int_equal(verdict(none, 'c', 1, 9, "r"), 1);
        assert_int_equal(verdict(none, 'c', 136, 7, "rw"), 1);
        assert_int_equal(verdict(none, 'c', 10, 200, "rwm"), 1);
        assert_int_equal(verdict(none, 'c', 1, 11, "r"), 0);
        assert_int_equal(verdict(none, 'b', 8, 0, "m"), 1);
        assert_int_equal(verdict(none, 'b', 8, 0, "r"), 0);
        assert_int_equal(verdict(none, 'c', 4, 0, "rm"), 0);
        assert_int_equal(verdict(deny_all, 'c', 1, 11, "r"), 0);
        assert_int_equal(verdict(deny_all, 'c', 1, 5, "rw"), 1);
        /* An allow rule covers requests within its access only. */
        assert_int_equal(verdict(allow_4, 'c', 4, 5, "rw"), 1);
        assert_int_equal(verdict(allow_4, 'c', 4, 5, "r"), 1);
        assert_int_equal(verdict(allow_4, 'c', 4, 5, "rwm"), 0);
        assert_int_equal(verdict(allow_4, 'b', 4, 5, "r"), 0);
        assert_int_equal(verdict(allow_4, 'c', 5, 5, "r"), 0);
        /* A later deny refuses any request touching its access. */
        assert_int_equal(verdict(allow_all_deny_w, 'c', 1, 11, "r"), 1);
        assert_int_equal(verdict(allow_all_deny_w, 'c', 1, 11, "rw"), 0);
        assert_int_equal(verdict(allow_all_deny_w, 'c', 1, 11, "w"), 0);
        assert_int_equal(verdict(allow_all_deny_w, 'c', 1, 12, "w"), 1);
        assert_int_equal(verdict(allow_all_deny_w, 'b', 7, 0, "rw"), 1);
        /* The defaults come last and cannot be taken away, as with runc. */
        assert_int_equal(verdict(deny_null, 'c', 1, 3, "rw"), 1);
        assert_int_equal(verdict(block, 'b', 8, 0, "r"), 1);
        assert_int_equal(verdict(block, 'b', 8, 0, "w"), 0);
        assert_int_equal(verdict(block, 'b', 8, 1, "r"), 0);
        assert_int_equal(verdict(block, 'c', 8, 0, "r"), 0);
}

/* ---- host layout ---- */

static const char hybrid_mountinfo[] =
    "23 1 0:21 / / rw,relatime - ext4 /dev/vda rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset,clone_children\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:5 - cgroup2 cgroup2 rw,nsdelegate\n"
    "90 23 0:32 /x /var/lib/c/rootfs/sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";

static const char hybrid_self[] =
    "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
    "4:memory:/process_api/afb9\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/user.slice\n";

static void test_mountinfo_hybrid(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct cgroup_host host;
        ssize_t i;

        assert_int_equal(cgroup_host_parse_mountinfo(hybrid_mountinfo, &host, &err), 0);
        assert_int_equal(host.mode, CGROUP_MODE_HYBRID);
        assert_int_equal(host.n, 10);
        i = cgroup_host_find(&host, "memory", false);
        assert_true(i >= 0);
        assert_string_equal(host.h[i].mount_point, "/sys/fs/cgroup/memory");
        assert_string_equal(host.h[i].mount_root, "/");
        i = cgroup_host_find(&host, "name=systemd", false);
        assert_true(i >= 0);
        assert_int_equal(strv_length(host.h[i].controllers), 1);
        assert_int_equal(strv_length(host.h[cgroup_host_find(&host, "cpuset", false)].controllers), 1);
        i = cgroup_host_v2(&host);
        assert_true(i >= 0);
        assert_string_equal(host.h[i].mount_point, "/sys/fs/cgroup/unified");
        assert_int_equal(cgroup_host_parse_self(&host, hybrid_self, &err), 0);
        assert_string_equal(host.h[cgroup_host_find(&host, "memory", false)].own_path, "/process_api/afb9");
        assert_string_equal(host.h[cgroup_host_find(&host, "name=systemd", false)].own_path, "/");
        assert_string_equal(host.h[cgroup_host_v2(&host)].own_path, "/user.slice");
        cgroup_host_done(&host);
}

static void test_mountinfo_modes(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct cgroup_host host;

        assert_int_equal(
            cgroup_host_parse_mountinfo(
                "25 1 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"
                "26 25 0:40 / /sys/fs/cgroup/x rw - cgroup cgroup rw,name=legacy\n",
                &host, &err),
            0);
        assert_int_equal(host.mode, CGROUP_MODE_V2);
        assert_int_equal(host.n, 1);
        assert_true(host.h[0].v2);
        cgroup_host_done(&host);

        /* Co-mounted controllers and an escaped mount point. */
        assert_int_equal(
            cgroup_host_parse_mountinfo(
                "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
                "33 31 0:30 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio\n"
                "34 31 0:31 /ctr /tmp/my\\040cgroups rw - cgroup none rw,memory\n",
                &host, &err),
            0);
        assert_int_equal(host.mode, CGROUP_MODE_V1);
        assert_int_equal(host.n, 3);
        assert_int_equal(cgroup_host_find(&host, "cpu", false), cgroup_host_find(&host, "cpuacct", false));
        assert_int_equal(cgroup_host_find(&host, "net_prio", false), 1);
        assert_string_equal(host.h[2].mount_point, "/tmp/my cgroups");
        assert_string_equal(host.h[2].mount_root, "/ctr");
        assert_int_equal(cgroup_host_find(&host, "pids", false), -1);
        cgroup_host_done(&host);

        assert_true(cgroup_host_parse_mountinfo("23 1 0:21 / / rw - ext4 /dev/vda rw\n", &host, &err) < 0);
        assert_non_null(strstr(err->msg, "no cgroup filesystem is mounted"));
}

/* ---- cgroupsPath ---- */

static void resolve(struct cgroup_host *host, const char *path, const char *id, const char *want_memory,
                    const char *want_v2)
{
        _cleanup_strv_free_ char **paths = NULL;
        _cleanup_berr_ struct berr *err = NULL;

        if (cgroup_resolve_paths(host, path, id, &paths, &err) < 0)
                fail_msg("%s: %s", path ? path : "(null)", err->msg);
        assert_string_equal(paths[cgroup_host_find(host, "memory", false)], want_memory);
        assert_string_equal(paths[cgroup_host_v2(host)], want_v2);
}

static void resolve_fails(struct cgroup_host *host, const char *path, const char *fragment)
{
        _cleanup_strv_free_ char **paths = NULL;
        _cleanup_berr_ struct berr *err = NULL;

        assert_true(cgroup_resolve_paths(host, path, "c1", &paths, &err) < 0);
        assert_null(paths);
        if (!strstr(err->msg, fragment))
                fail_msg("%s: `%s` does not mention `%s`", path, err->msg, fragment);
}

static void test_cgroups_path(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct cgroup_host host;

        assert_int_equal(cgroup_host_parse_mountinfo(hybrid_mountinfo, &host, &err), 0);
        assert_int_equal(cgroup_host_parse_self(&host, hybrid_self, &err), 0);

        resolve(&host, NULL, "c1", "berth-runtime/c1", "berth-runtime/c1");
        resolve(&host, "", "c1", "berth-runtime/c1", "berth-runtime/c1");
        resolve(&host, "/machine/ctr", "c1", "machine/ctr", "machine/ctr");
        resolve(&host, "//a/./b/../c/", "c1", "a/c", "a/c");
        /* Relative: below the runtime's own cgroup of each hierarchy. */
        resolve(&host, "ctr", "c1", "process_api/afb9/ctr", "user.slice/ctr");
        resolve(&host, "a/../ctr", "c1", "process_api/afb9/ctr", "user.slice/ctr");

        resolve_fails(&host, "/..", "escapes the cgroup hierarchy with `..`");
        resolve_fails(&host, "/a/../../etc", "escapes the cgroup hierarchy");
        resolve_fails(&host, "../sibling", "escapes the runtime's own cgroup");
        resolve_fails(&host, "a/../../..", "escapes the runtime's own cgroup");
        resolve_fails(&host, "/", "names the root cgroup itself");
        resolve_fails(&host, "/a/..", "names the root cgroup itself");
        resolve_fails(&host, ".", "names the runtime's own cgroup itself");
        {
                _cleanup_strv_free_ char **paths = NULL;
                assert_true(cgroup_resolve_paths(&host, NULL, "../x", &paths, &err) < 0);
                berr_freep(&err);
        }
        /* A mount that shows only part of the hierarchy (a container's view). */
        free(host.h[cgroup_host_find(&host, "memory", false)].mount_root);
        host.h[cgroup_host_find(&host, "memory", false)].mount_root = strdup("/process_api");
        resolve(&host, "ctr", "c1", "afb9/ctr", "user.slice/ctr");
        free(host.h[cgroup_host_find(&host, "memory", false)].mount_root);
        host.h[cgroup_host_find(&host, "memory", false)].mount_root = strdup("/other");
        resolve_fails(&host, "ctr", "is not visible in /sys/fs/cgroup/memory");
        cgroup_host_done(&host);
}

static void test_systemd_path(void **state)
{
        _cleanup_free_ char *slice = NULL, *prefix = NULL, *name = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        struct cgroup *cg = NULL;

        assert_int_equal(cgroup_parse_systemd_path("system.slice:berth:abc", &slice, &prefix, &name, &err),
                         0);
        assert_string_equal(slice, "system.slice");
        assert_string_equal(prefix, "berth");
        assert_string_equal(name, "abc");
        assert_true(cgroup_parse_systemd_path("a:b", &slice, &prefix, &name, &err) < 0);
        assert_non_null(strstr(err->msg, "expected \"slice:prefix:name\""));
        berr_freep(&err);
        assert_true(cgroup_parse_systemd_path("foo:b:c", &slice, &prefix, &name, &err) < 0);
        assert_non_null(strstr(err->msg, "does not end in .slice"));
        berr_freep(&err);
        assert_true(cgroup_parse_systemd_path("a.slice:b:", &slice, &prefix, &name, &err) < 0);
        berr_freep(&err);
        /* No systemd on this machine (and none reachable in the test's world either way). */
        assert_true(
            cgroup_create(
                &(struct cgroup_config){.id = "x", .cgroups_path = "system.slice:b:c", .systemd = true}, &cg,
                &err) < 0);
        assert_null(cg);
        assert_non_null(strstr(err->msg, "--systemd-cgroup"));
        assert_non_null(strstr(err->msg, "cgroupfs driver"));
}

/* ---- fake trees ---- */

struct fake {
        char root[64];
};

/* The tree of the running test, removed by the teardown if an assertion cut it short. */
static char current_fake[64];

static void fake_rm(const char *root)
{
        _cleanup_berr_ struct berr *err = NULL;

        if (root[0])
                assert_int_equal(rm_rf_at(AT_FDCWD, root, &err), 0);
        current_fake[0] = '\0';
}

static int fake_teardown(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;

        if (current_fake[0])
                (void)rm_rf_at(AT_FDCWD, current_fake, &err);
        current_fake[0] = '\0';
        return 0;
}

static void mkdir_or_fail(const char *p)
{
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                fail_msg("mkdir %s: %m", p);
}

/* Creates <root>/<mount>[/<levels>...] with the given control files (empty) in each. */
static void fake_tree(const char *root, const char *mount, const char *const *files, const char *leaf)
{
        _cleanup_free_ char *dir = NULL;
        const char *levels[] = {"", "/berth-test", leaf};

        for (size_t l = 0; l < ARRAY_SIZE(levels) && levels[l]; l++) {
                free(dir);
                assert_true(
                    asprintf(&dir, "%s/%s%s%s", root, mount, l == 2 ? "/berth-test/" : "", levels[l]) > 0);
                mkdir_or_fail(dir);
                write_text(dir, "cgroup.procs", "");
                for (const char *const *f = files; f && *f; f++)
                        write_text(dir, *f, "");
        }
}

static const char *const v1_cpu[] = {
    "cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us",  "cpu.cfs_burst_us",
    "cpu.idle",   "cpu.rt_period_us",  "cpu.rt_runtime_us", NULL};
static const char *const v1_cpuset[] = {"cpuset.cpus", "cpuset.mems", NULL};
static const char *const v1_memory[] = {
    "memory.limit_in_bytes",      "memory.memsw.limit_in_bytes",    "memory.soft_limit_in_bytes",
    "memory.kmem.limit_in_bytes", "memory.kmem.tcp.limit_in_bytes", "memory.swappiness",
    "memory.oom_control",         "memory.use_hierarchy",           NULL};
static const char *const v1_pids[] = {"pids.max", NULL};
static const char *const v1_blkio[] = {"blkio.weight",
                                       "blkio.leaf_weight",
                                       "blkio.weight_device",
                                       "blkio.leaf_weight_device",
                                       "blkio.throttle.read_bps_device",
                                       "blkio.throttle.write_bps_device",
                                       "blkio.throttle.read_iops_device",
                                       "blkio.throttle.write_iops_device",
                                       NULL};
static const char *const v1_devices[] = {"devices.allow", "devices.deny", NULL};
static const char *const v1_freezer[] = {"freezer.state", NULL};
static const char *const v1_hugetlb[] = {"hugetlb.2MB.limit_in_bytes", "hugetlb.1GB.limit_in_bytes", NULL};
static const char *const v1_net[] = {"net_cls.classid", "net_prio.ifpriomap", NULL};
static const char *const v1_rdma[] = {"rdma.max", NULL};

static const struct {
        const char *dir, *opts;
        const char *const *files;
} v1_hiers[] = {
    {"cpu,cpuacct", "cpu,cpuacct", v1_cpu},
    {"cpuset", "cpuset", v1_cpuset},
    {"memory", "memory", v1_memory},
    {"pids", "pids", v1_pids},
    {"blkio", "blkio", v1_blkio},
    {"devices", "devices", v1_devices},
    {"freezer", "freezer", v1_freezer},
    {"hugetlb", "hugetlb", v1_hugetlb},
    {"net_cls,net_prio", "net_cls,net_prio", v1_net},
    {"rdma", "rdma", v1_rdma},
    {"systemd", "xattr,name=systemd", NULL},
};

static const char *const v2_files[] = {"cgroup.subtree_control",
                                       "cgroup.freeze",
                                       "cgroup.kill",
                                       "memory.max",
                                       "memory.swap.max",
                                       "memory.low",
                                       "cpu.max",
                                       "cpu.weight",
                                       "cpu.max.burst",
                                       "cpu.idle",
                                       "io.weight",
                                       "io.max",
                                       "pids.max",
                                       "cpuset.cpus",
                                       "cpuset.mems",
                                       "hugetlb.2MB.max",
                                       "hugetlb.2MB.rsvd.max",
                                       "rdma.max",
                                       "cgroup.max.depth",
                                       NULL};

/* mountinfo text for fake hierarchies under root; skip: a v1 dir left out. */
static char *fake_mountinfo(const char *root, bool v1, bool v2, const char *skip)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        assert_non_null(f);
        for (size_t i = 0; v1 && i < ARRAY_SIZE(v1_hiers); i++)
                if (!skip || !streq(skip, v1_hiers[i].dir))
                        fprintf(f, "%zu 20 0:%zu / %s/%s rw - cgroup cgroup rw,%s\n", 40 + i, 40 + i, root,
                                v1_hiers[i].dir, v1_hiers[i].opts);
        if (v2)
                fprintf(f, "60 20 0:60 / %s/unified rw - cgroup2 cgroup2 rw\n", root);
        fclose(f);
        return text;
}

static void fake_setup(struct fake *fk, bool v1, bool v2, const char *v2_controllers, const char *skip,
                       struct cgroup_host *host)
{
        _cleanup_free_ char *mi = NULL, *unified = NULL;
        _cleanup_berr_ struct berr *err = NULL;

        snprintf(fk->root, sizeof(fk->root), "/tmp/berth-cgtest.XXXXXX");
        assert_non_null(mkdtemp(fk->root));
        snprintf(current_fake, sizeof(current_fake), "%s", fk->root);
        for (size_t i = 0; v1 && i < ARRAY_SIZE(v1_hiers); i++)
                if (!skip || !streq(skip, v1_hiers[i].dir))
                        fake_tree(fk->root, v1_hiers[i].dir, v1_hiers[i].files, "c1");
        if (v2) {
                fake_tree(fk->root, "unified", v2_files, "c1");
                assert_true(asprintf(&unified, "%s/unified", fk->root) > 0);
                write_text(unified, "cgroup.controllers", v2_controllers);
        }
        if (v1) {
                _cleanup_free_ char *cpuset = NULL, *mem = NULL;
                assert_true(asprintf(&cpuset, "%s/cpuset", fk->root) > 0);
                write_text(cpuset, "cpuset.cpus", "0-3\n");
                write_text(cpuset, "cpuset.mems", "0\n");
                assert_true(asprintf(&mem, "%s/memory/berth-test/c1", fk->root) > 0);
                write_text(mem, "memory.limit_in_bytes", "9223372036854771712\n");
        }
        mi = fake_mountinfo(fk->root, v1, v2, skip);
        assert_int_equal(cgroup_host_parse_mountinfo(mi, host, &err), 0);
        assert_int_equal(cgroup_host_read_v2_controllers(host, &err), 0);
        host->fake = true;
}

static int fake_create(struct cgroup_host *host, const char *path, const char *resources, struct cgroup **cg,
                       struct berr **err)
{
        json_object *res = resources ? parse_json(resources) : NULL;
        int r = cgroup_create_on(
            host, &(struct cgroup_config){.id = "c1", .cgroups_path = path, .resources = res}, cg, err);

        json_object_put(res);
        return r;
}

static void test_fake_v1_every_key(void **state)
{
        _cleanup_cgroup_ struct cgroup *cg = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        struct cgroup_host host;
        struct fake fk;
        const char *r;

        fake_setup(&fk, true, false, NULL, NULL, &host);
        assert_int_equal(host.mode, CGROUP_MODE_V1);
        if (fake_create(&host, "/berth-test/c1", ALL_RESOURCES, &cg, &err) < 0)
                fail_msg("%s", err->msg);
        r = fk.root;
        assert_file("104857600", "%s/memory/berth-test/c1/memory.limit_in_bytes", r);
        assert_file("209715200", "%s/memory/berth-test/c1/memory.memsw.limit_in_bytes", r);
        assert_file("52428800", "%s/memory/berth-test/c1/memory.soft_limit_in_bytes", r);
        assert_file("-1", "%s/memory/berth-test/c1/memory.kmem.limit_in_bytes", r);
        assert_file("1048576", "%s/memory/berth-test/c1/memory.kmem.tcp.limit_in_bytes", r);
        assert_file("10", "%s/memory/berth-test/c1/memory.swappiness", r);
        assert_file("1", "%s/memory/berth-test/c1/memory.oom_control", r);
        assert_file("1", "%s/memory/berth-test/c1/memory.use_hierarchy", r);
        assert_file("50000", "%s/cpu,cpuacct/berth-test/c1/cpu.cfs_quota_us", r);
        assert_file("100000", "%s/cpu,cpuacct/berth-test/c1/cpu.cfs_period_us", r);
        assert_file("10000", "%s/cpu,cpuacct/berth-test/c1/cpu.cfs_burst_us", r);
        assert_file("1024", "%s/cpu,cpuacct/berth-test/c1/cpu.shares", r);
        assert_file("0", "%s/cpu,cpuacct/berth-test/c1/cpu.idle", r);
        assert_file("1000000", "%s/cpu,cpuacct/berth-test/c1/cpu.rt_period_us", r);
        assert_file("950000", "%s/cpu,cpuacct/berth-test/c1/cpu.rt_runtime_us", r);
        /* New cpuset levels inherit the parent's cpus and mems before the container's own apply. */
        assert_file("0-3", "%s/cpuset/berth-test/cpuset.cpus", r);
        assert_file("0", "%s/cpuset/berth-test/cpuset.mems", r);
        assert_file("0", "%s/cpuset/berth-test/c1/cpuset.cpus", r);
        assert_file("42", "%s/pids/berth-test/c1/pids.max", r);
        assert_file("500", "%s/blkio/berth-test/c1/blkio.weight", r);
        assert_file("300", "%s/blkio/berth-test/c1/blkio.leaf_weight", r);
        assert_file("8:0 600", "%s/blkio/berth-test/c1/blkio.weight_device", r);
        assert_file("8:0 200", "%s/blkio/berth-test/c1/blkio.leaf_weight_device", r);
        assert_file("8:0 1048576", "%s/blkio/berth-test/c1/blkio.throttle.read_bps_device", r);
        assert_file("8:0 2097152", "%s/blkio/berth-test/c1/blkio.throttle.write_bps_device", r);
        assert_file("8:0 100", "%s/blkio/berth-test/c1/blkio.throttle.read_iops_device", r);
        assert_file("8:16 0", "%s/blkio/berth-test/c1/blkio.throttle.write_iops_device", r);
        assert_file("4194304", "%s/hugetlb/berth-test/c1/hugetlb.2MB.limit_in_bytes", r);
        assert_file("1048577", "%s/net_cls,net_prio/berth-test/c1/net_cls.classid", r);
        assert_file("eth0 5", "%s/net_cls,net_prio/berth-test/c1/net_prio.ifpriomap", r);
        assert_file("mlx5_1 hca_handle=3 hca_object=max", "%s/rdma/berth-test/c1/rdma.max", r);
        /* The device list is replayed after "deny all"; the defaults come last. */
        assert_file("a *:* rwm", "%s/devices/berth-test/c1/devices.deny", r);
        assert_file("c 10:200 rwm", "%s/devices/berth-test/c1/devices.allow", r);
        cgroup_free(TAKE_PTR(cg));
        fake_rm(fk.root);
}

static void test_fake_v2_translations(void **state)
{
        _cleanup_cgroup_ struct cgroup *cg = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        struct cgroup_host host;
        struct fake fk;
        const char *r;

        fake_setup(&fk, false, true, "cpuset cpu io memory hugetlb pids rdma\n", NULL, &host);
        assert_int_equal(host.mode, CGROUP_MODE_V2);
        if (fake_create(
                &host, "/berth-test/c1",
                "{\"memory\":{\"limit\":104857600,\"reservation\":-1,\"swap\":209715200,\"kernel\":5000000},"
                "\"cpu\":{\"shares\":1024,\"quota\":50000,\"period\":100000,\"burst\":1000,\"idle\":1,"
                "\"cpus\":\"1-2\",\"mems\":\"0\"},\"pids\":{\"limit\":-1},"
                "\"blockIO\":{\"weight\":500,\"throttleWriteBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":0}"
                "]},"
                "\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":2097152}],"
                "\"rdma\":{\"mlx4_0\":{\"hcaHandles\":2,\"hcaObjects\":2000}},"
                "\"unified\":{\"pids.max\":\"77\",\"io.max\":\"8:0 rbps=1\\n8:16 wbps=2\\n\"}}",
                &cg, &err) < 0)
                fail_msg("%s", err->msg);
        r = fk.root;
        assert_file("104857600", "%s/unified/berth-test/c1/memory.max", r);
        assert_file("104857600", "%s/unified/berth-test/c1/memory.swap.max", r); /* swap - limit */
        assert_file("max", "%s/unified/berth-test/c1/memory.low", r);
        assert_file("100", "%s/unified/berth-test/c1/cpu.weight", r);
        assert_file("50000 100000", "%s/unified/berth-test/c1/cpu.max", r);
        assert_file("1000", "%s/unified/berth-test/c1/cpu.max.burst", r);
        assert_file("1", "%s/unified/berth-test/c1/cpu.idle", r);
        assert_file("1-2", "%s/unified/berth-test/c1/cpuset.cpus", r);
        assert_file("4950", "%s/unified/berth-test/c1/io.weight", r);
        assert_file("2097152", "%s/unified/berth-test/c1/hugetlb.2MB.max", r);
        assert_file("2097152", "%s/unified/berth-test/c1/hugetlb.2MB.rsvd.max", r);
        assert_file("mlx4_0 hca_handle=2 hca_object=2000", "%s/unified/berth-test/c1/rdma.max", r);
        /* unified is applied last and overrides; multi-line values go line by line. */
        assert_file("77", "%s/unified/berth-test/c1/pids.max", r);
        assert_file("8:16 wbps=2", "%s/unified/berth-test/c1/io.max", r);
        /* Every controller is enabled from the mount point down on a pure v2 host. */
        assert_file("+cpuset +cpu +io +memory +hugetlb +pids +rdma", "%s/unified/cgroup.subtree_control", r);
        assert_file("+cpuset +cpu +io +memory +hugetlb +pids +rdma",
                    "%s/unified/berth-test/cgroup.subtree_control", r);
        assert_file("", "%s/unified/berth-test/c1/cgroup.subtree_control", r);
        assert_int_equal(cgroup_clone_into_fd(cg) >= 0, 1);

        /* update: only the keys given; the period keeps the current quota. */
        write_text(cg->dirs[0].full, "cpu.max", "50000 100000\n");
        {
                json_object *u = parse_json(
                    "{\"cpu\":{\"period\":200000},\"memory\":{\"swap\":-1},\"pids\":{\"limit\":9}}");
                assert_int_equal(cgroup_update(cg, u, &err), 0);
                json_object_put(u);
        }
        assert_file("50000 200000", "%s/unified/berth-test/c1/cpu.max", r);
        assert_file("max", "%s/unified/berth-test/c1/memory.swap.max", r);
        assert_file("9", "%s/unified/berth-test/c1/pids.max", r);
        {
                json_object *u = parse_json("{\"pids\":{\"limit\":0}}");
                assert_int_equal(cgroup_update(cg, u, &err), 0);
                json_object_put(u);
        }
        assert_file("1", "%s/unified/berth-test/c1/pids.max", r);
        /* swap alone is relative to the current memory.max. */
        write_text(cg->dirs[0].full, "memory.max", "1000000\n");
        {
                json_object *u = parse_json("{\"memory\":{\"swap\":3000000}}");
                assert_int_equal(cgroup_update(cg, u, &err), 0);
                json_object_put(u);
        }
        assert_file("2000000", "%s/unified/berth-test/c1/memory.swap.max", r);
        /* checkBeforeUpdate refuses a limit under the current usage. */
        write_text(cg->dirs[0].full, "memory.current", "5000\n");
        {
                json_object *u = parse_json("{\"memory\":{\"limit\":4096,\"checkBeforeUpdate\":true}}");
                assert_true(cgroup_update(cg, u, &err) < 0);
                json_object_put(u);
                assert_non_null(strstr(err->msg, "rejecting memory limit 4096"));
                berr_freep(&err);
        }
        assert_file("1000000\n", "%s/unified/berth-test/c1/memory.max", r);
        cgroup_free(TAKE_PTR(cg));
        fake_rm(fk.root);
}

static void test_fake_v2_refusals(void **state)
{
        static const struct {
                const char *json, *fragment;
        } cases[] = {
            {"{\"memory\":{\"swappiness\":5}}",
             "linux.resources.memory.swappiness: not supported on cgroup v2"},
            {"{\"memory\":{\"disableOOMKiller\":true}}", "disableOOMKiller: not supported on cgroup v2"},
            {"{\"memory\":{\"useHierarchy\":false}}", "always hierarchical"},
            {"{\"memory\":{\"limit\":-1,\"swap\":100}}", NULL},
            {"{\"cpu\":{\"realtimeRuntime\":100}}",
             "realtimeRuntime: realtime scheduling limits are not supported"},
            {"{\"blockIO\":{\"leafWeight\":100}}", "blockIO.leafWeight: not supported on cgroup v2"},
            {"{\"network\":{\"classID\":1}}", "linux.resources.network.classID: the net_cls controller is "
                                              "not mounted and cgroup v2 has no equivalent"},
            {"{\"pids\":{\"limit\":3}}",
             "linux.resources.pids: the pids controller is not available on this host"},
            {"{\"unified\":{\"pids.max\":\"3\"}}",
             "linux.resources.unified.pids.max: the pids controller is not available"},
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_cgroup_ struct cgroup *cg = NULL;
                _cleanup_berr_ struct berr *err = NULL;
                struct cgroup_host host;
                struct fake fk;
                int r;

                fake_setup(&fk, false, true, "cpu io memory\n", NULL, &host);
                r = fake_create(&host, cases[i].fragment ? "/berth-test/new" : "/berth-test/c1",
                                cases[i].json, &cg, &err);
                if (!cases[i].fragment) {
                        assert_int_equal(r, 0);
                } else {
                        assert_true(r < 0);
                        if (!strstr(err->msg, cases[i].fragment))
                                fail_msg("%s: `%s` does not mention `%s`", cases[i].json, err->msg,
                                         cases[i].fragment);
                        /* Refused before anything was created. */
                        assert_false(exists("%s/unified/berth-test/new", fk.root));
                }
                cgroup_free(TAKE_PTR(cg));
                fake_rm(fk.root);
        }
}

static void test_fake_hybrid(void **state)
{
        _cleanup_cgroup_ struct cgroup *cg = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        struct cgroup_host host;
        struct fake fk;

        /* hugetlb lives only on the cgroup2 mount. */
        fake_setup(&fk, true, true, "hugetlb\n", "hugetlb", &host);
        assert_int_equal(host.mode, CGROUP_MODE_HYBRID);
        if (fake_create(
                &host, "/berth-test/c1",
                "{\"memory\":{\"limit\":1048576},\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":0}],"
                "\"unified\":{\"cgroup.max.depth\":\"3\"}}",
                &cg, &err) < 0)
                fail_msg("%s", err->msg);
        assert_file("1048576", "%s/memory/berth-test/c1/memory.limit_in_bytes", fk.root);
        assert_file("0", "%s/unified/berth-test/c1/hugetlb.2MB.max", fk.root);
        assert_file("3", "%s/unified/berth-test/c1/cgroup.max.depth", fk.root);
        /* Only what the resources need is enabled on the unified tree of a hybrid host. */
        assert_file("+hugetlb", "%s/unified/cgroup.subtree_control", fk.root);
        /* Both trees are joined; v1 devices (not eBPF) and v1 freezer are used. */
        assert_ptr_equal(cgroup_dir_for(cg, "devices"),
                         &cg->dirs[cgroup_host_find(&cg->host, "devices", false)]);
        assert_false(cgroup_dir_is_v2(cg, cgroup_dir_for(cg, "freezer")));
        assert_true(cgroup_dir_is_v2(cg, cgroup_dir_for(cg, "hugetlb")));
        assert_int_equal(cgroup_clone_into_fd(cg), -1);
        cgroup_free(TAKE_PTR(cg));
        fake_rm(fk.root);

        fake_setup(&fk, true, true, "hugetlb\n", "hugetlb", &host);
        assert_true(fake_create(&host, "/berth-test/new", "{\"unified\":{\"memory.max\":\"1\"}}", &cg, &err) <
                    0);
        assert_non_null(strstr(
            err->msg, "linux.resources.unified.memory.max: the memory controller is bound to cgroup v1"));
        assert_false(exists("%s/memory/berth-test/new", fk.root));
        berr_freep(&err);
        fake_rm(fk.root);

        fake_setup(&fk, true, false, NULL, NULL, &host);
        assert_true(fake_create(&host, "/berth-test/new", "{\"unified\":{\"cgroup.max.depth\":\"1\"}}", &cg,
                                &err) < 0);
        assert_non_null(strstr(err->msg, "this host has cgroup v1 only"));
        fake_rm(fk.root);
}

static void test_fake_missing_controller_creates_nothing(void **state)
{
        _cleanup_cgroup_ struct cgroup *cg = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        struct cgroup_host host;
        struct fake fk;

        fake_setup(&fk, true, false, NULL, "pids", &host);
        assert_true(fake_create(&host, "/berth-test/new", "{\"pids\":{\"limit\":5}}", &cg, &err) < 0);
        assert_string_equal(err->msg,
                            "linux.resources.pids: the pids controller is not mounted on this host");
        for (size_t i = 0; i < ARRAY_SIZE(v1_hiers); i++)
                assert_false(exists("%s/%s/berth-test/new", fk.root, v1_hiers[i].dir));
        berr_freep(&err);
        fake_rm(fk.root);

        /* Not set, not needed. */
        fake_setup(&fk, true, false, NULL, "pids", &host);
        assert_int_equal(fake_create(&host, "/berth-test/c1", "{\"memory\":{\"limit\":4096}}", &cg, &err), 0);
        cgroup_free(TAKE_PTR(cg));
        fake_rm(fk.root);
}

static void test_fake_failure_removes_what_it_made(void **state)
{
        _cleanup_cgroup_ struct cgroup *cg = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        struct cgroup_host host;
        struct fake fk;

        /* New directories of a fake tree have no control files: the first
         * write fails, and everything created on the way must go. */
        fake_setup(&fk, true, false, NULL, NULL, &host);
        assert_true(fake_create(&host, "/berth-test/a/b", "{\"memory\":{\"limit\":4096}}", &cg, &err) < 0);
        assert_null(cg);
        for (size_t i = 0; i < ARRAY_SIZE(v1_hiers); i++) {
                assert_false(exists("%s/%s/berth-test/a", fk.root, v1_hiers[i].dir));
                assert_true(exists("%s/%s/berth-test", fk.root, v1_hiers[i].dir));
        }
        berr_freep(&err);
        fake_rm(fk.root);

        /* A kernel refusal after the directories exist. */
        fake_setup(&fk, false, true, "memory\n", NULL, &host);
        {
                _cleanup_free_ char *p = NULL;
                assert_true(asprintf(&p, "%s/unified/berth-test/c1/memory.max", fk.root) > 0);
                assert_int_equal(unlink(p), 0);
        }
        assert_true(fake_create(&host, "/berth-test/c1", "{\"memory\":{\"limit\":4096}}", &cg, &err) < 0);
        assert_non_null(strstr(err->msg, "memory.limit: open"));
        assert_non_null(strstr(err->msg, "memory.max: No such file or directory"));
        /* It existed before: left alone. */
        assert_true(exists("%s/unified/berth-test/c1", fk.root));
        fake_rm(fk.root);
}

static void test_fake_json_roundtrip_freeze_pids(void **state)
{
        _cleanup_cgroup_ struct cgroup *cg = NULL, *again = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        struct cgroup_host host;
        json_object *o;
        struct fake fk;
        bool frozen;
        size_t n;

        fake_setup(&fk, true, true, "hugetlb\n", "hugetlb", &host);
        assert_int_equal(fake_create(&host, "/berth-test/c1", NULL, &cg, &err), 0);
        o = cgroup_to_json(cg);
        assert_int_equal(cgroup_from_json_fake(o, true, &again, &err), 0);
        json_object_put(o);
        assert_int_equal(again->host.mode, CGROUP_MODE_HYBRID);
        assert_int_equal(again->n_dirs, cg->n_dirs);
        for (size_t i = 0; i < cg->n_dirs; i++)
                assert_string_equal(again->dirs[i].full, cg->dirs[i].full);

        /* v1 freezer. */
        assert_int_equal(cgroup_set_frozen(again, true, &err), 0);
        assert_file("FROZEN", "%s/freezer/berth-test/c1/freezer.state", fk.root);
        assert_int_equal(cgroup_is_frozen(again, &frozen, &err), 0);
        assert_true(frozen);
        assert_int_equal(cgroup_set_frozen(again, false, &err), 0);
        assert_file("THAWED", "%s/freezer/berth-test/c1/freezer.state", fk.root);

        /* Processes: the unified tree, nested cgroups included. */
        {
                _cleanup_free_ char *sub = NULL;
                write_text(cgroup_dir_v2(again)->full, "cgroup.procs", "10\n11\n");
                assert_true(asprintf(&sub, "%s/nested", cgroup_dir_v2(again)->full) > 0);
                mkdir_or_fail(sub);
                write_text(sub, "cgroup.procs", "12\n");
        }
        assert_int_equal(cgroup_get_pids(again, &pids, &n, &err), 0);
        assert_int_equal(n, 3);
        assert_int_equal(pids[0] + pids[1] + pids[2], 33);

        /* Bad state documents. */
        {
                static const char *const bad[] = {
                    "{\"mode\":\"v3\",\"hierarchies\":[{}]}",
                    "{\"mode\":\"v2\",\"hierarchies\":[]}",
                    "{\"mode\":\"v2\",\"hierarchies\":[{\"v2\":true,\"mountPoint\":\"/sys/fs/"
                    "cgroup\",\"mountRoot\":\"/\",\"path\":\"../x\"}]}",
                    "{\"mode\":\"v2\",\"hierarchies\":[{\"v2\":true,\"mountPoint\":\"sys\",\"mountRoot\":\"/"
                    "\",\"path\":\"x\"}]}",
                    "{\"mode\":\"v2\",\"hierarchies\":[{\"v2\":true,\"mountPoint\":\"/sys\",\"mountRoot\":\"/"
                    "\",\"path\":\"/x\"}]}",
                    "{\"mode\":\"v2\"}",
                };
                for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                        _cleanup_cgroup_ struct cgroup *x = NULL;
                        json_object *b = parse_json(bad[i]);
                        assert_true(cgroup_from_json(b, &x, &err) < 0);
                        assert_null(x);
                        json_object_put(b);
                        berr_freep(&err);
                }
        }
        cgroup_free(TAKE_PTR(cg));
        cgroup_free(TAKE_PTR(again));
        fake_rm(fk.root);
}

static void test_fake_v2_freeze_and_stats(void **state)
{
        _cleanup_cgroup_ struct cgroup *cg = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        struct cgroup_host host;
        json_object *st = NULL, *v;
        struct fake fk;
        bool frozen;

        fake_setup(&fk, false, true, "cpu memory pids io hugetlb\n", NULL, &host);
        assert_int_equal(fake_create(&host, "/berth-test/c1", NULL, &cg, &err), 0);
        write_text(cg->dirs[0].full, "cgroup.events", "populated 1\nfrozen 1\n");
        assert_int_equal(cgroup_set_frozen(cg, true, &err), 0);
        assert_file("1", "%s/unified/berth-test/c1/cgroup.freeze", fk.root);
        assert_int_equal(cgroup_is_frozen(cg, &frozen, &err), 0);
        assert_true(frozen);

        write_text(cg->dirs[0].full, "cpu.stat",
                   "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\n"
                   "nr_throttled 2\nthrottled_usec 30\n");
        write_text(cg->dirs[0].full, "memory.current", "8192\n");
        write_text(cg->dirs[0].full, "memory.max", "max\n");
        write_text(cg->dirs[0].full, "memory.swap.current", "4096\n");
        write_text(cg->dirs[0].full, "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
        write_text(cg->dirs[0].full, "memory.stat", "anon 4096\nfile 12288\n");
        write_text(cg->dirs[0].full, "pids.current", "2\n");
        write_text(cg->dirs[0].full, "pids.max", "10\n");
        write_text(cg->dirs[0].full, "io.stat", "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n");
        write_text(cg->dirs[0].full, "hugetlb.2MB.current", "2097152\n");
        write_text(cg->dirs[0].full, "hugetlb.2MB.events", "max 4\n");
        assert_int_equal(cgroup_stats(cg, &st, &err), 0);
        assert_true(json_object_object_get_ex(st, "cpu", &v));
        assert_string_equal(json_to_string(v, false),
                            "{\"usage\":{\"total\":1500000,\"kernel\":500000,\"user\":1000000},"
                            "\"throttling\":{\"periods\":4,\"throttledPeriods\":2,\"throttledTime\":30000}}");
        assert_true(json_object_object_get_ex(st, "memory", &v));
        assert_string_equal(json_to_string(json_object_object_get(v, "usage"), false),
                            "{\"limit\":18446744073709551615,\"usage\":8192,\"failcnt\":3}");
        assert_int_equal(
            json_object_get_int64(json_object_object_get(json_object_object_get(v, "swap"), "usage")), 12288);
        assert_int_equal(json_object_get_int64(json_object_object_get(v, "cache")), 12288);
        assert_int_equal(
            json_object_get_int64(json_object_object_get(json_object_object_get(v, "raw"), "anon")), 4096);
        assert_string_equal(json_to_string(json_object_object_get(st, "pids"), false),
                            "{\"current\":2,\"limit\":10}");
        assert_string_equal(json_to_string(json_object_object_get(st, "blkio"), false),
                            "{\"ioServiceBytesRecursive\":[{\"major\":8,\"op\":\"Read\",\"value\":100},"
                            "{\"major\":8,\"op\":\"Write\",\"value\":200}],"
                            "\"ioServicedRecursive\":[{\"major\":8,\"op\":\"Read\",\"value\":1},"
                            "{\"major\":8,\"op\":\"Write\",\"value\":2}]}");
        assert_string_equal(json_to_string(json_object_object_get(st, "hugetlb"), false),
                            "{\"2MB\":{\"usage\":2097152,\"failcnt\":4}}");
        json_object_put(st);
        cgroup_free(TAKE_PTR(cg));
        fake_rm(fk.root);
}

static void test_features(void **state)
{
        json_object *f = cgroup_features();

        assert_string_equal(
            json_to_string(f, false),
            "{\"v1\":true,\"v2\":true,\"systemd\":false,\"systemdUser\":false,\"rdma\":true}");
        json_object_put(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_parse_every_key),
            cmocka_unit_test(test_parse_unset_values),
            cmocka_unit_test(test_parse_errors_name_the_field),
            cmocka_unit_test(test_parse_caps_lists),
            cmocka_unit_test(test_translations),
            cmocka_unit_test(test_device_rule_format),
            cmocka_unit_test(test_bpf_device_filter),
            cmocka_unit_test(test_mountinfo_hybrid),
            cmocka_unit_test(test_mountinfo_modes),
            cmocka_unit_test(test_cgroups_path),
            cmocka_unit_test(test_systemd_path),
            cmocka_unit_test_teardown(test_fake_v1_every_key, fake_teardown),
            cmocka_unit_test_teardown(test_fake_v2_translations, fake_teardown),
            cmocka_unit_test_teardown(test_fake_v2_refusals, fake_teardown),
            cmocka_unit_test_teardown(test_fake_hybrid, fake_teardown),
            cmocka_unit_test_teardown(test_fake_missing_controller_creates_nothing, fake_teardown),
            cmocka_unit_test_teardown(test_fake_failure_removes_what_it_made, fake_teardown),
            cmocka_unit_test_teardown(test_fake_json_roundtrip_freeze_pids, fake_teardown),
            cmocka_unit_test_teardown(test_fake_v2_freeze_and_stats, fake_teardown),
            cmocka_unit_test(test_features),
        };
        return cmocka_run_group_tests_name("cgroups", tests, NULL, NULL);
}
