/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cgroup layer on the real host (needs root; skipped otherwise). Every
 * cgroup is named berth-test-<pid>[...] below the hierarchy roots, and the
 * teardown of each test kills what runs in them and removes them, also after
 * a failed assertion. The v2 backend runs in a child with a private mount
 * namespace on a cgroup2 mount of a test sub-tree, so it never writes to a
 * cgroup it did not create.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/strv.h"
#include "runtime/cgroups/cgroup-internal.h"

static char prefix[64]; /* berth-test-<pid> */
static pid_t children[64];
static size_t n_children;
static struct cgroup_host host; /* detected once */

/* ---- helpers ---- */

static void msleep(long ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

static char *path_for(const char *controller, const char *sub)
{
        ssize_t i =
            streq(controller, "unified") ? cgroup_host_v2(&host) : cgroup_host_find(&host, controller, false);
        char *p = NULL;

        assert_true(i >= 0);
        assert_true(asprintf(&p, "%s/%s%s%s", host.h[i].mount_point, prefix, *sub ? "/" : "", sub) > 0);
        return p;
}

/* The first line of a control file, or all of it. */
static char *read_cg_text(const char *controller, const char *sub, const char *file, bool all)
{
        _cleanup_free_ char *dir = path_for(controller, sub), *p = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        char *out = NULL;

        assert_true(asprintf(&p, "%s/%s", dir, file) > 0);
        if (read_file_at(AT_FDCWD, p, 1 << 20, &out, NULL, &err) < 0)
                fail_msg("%s", err->msg);
        if (!all)
                out[strcspn(out, "\n")] = '\0';
        return out;
}

static char *read_cg(const char *controller, const char *sub, const char *file)
{
        return read_cg_text(controller, sub, file, false);
}

#define assert_cg(expected, controller, sub, file)                                                           \
        do {                                                                                                 \
                _cleanup_free_ char *_v = read_cg(controller, sub, file);                                    \
                if (!streq(_v, expected))                                                                    \
                        fail_msg("%s %s/%s: `%s`, expected `%s`", controller, sub, file, _v, expected);      \
        } while (0)

static bool cg_dir_exists(const char *controller, const char *sub)
{
        _cleanup_free_ char *p = path_for(controller, sub);
        struct stat st;

        return stat(p, &st) == 0;
}

static json_object *parse_json(const char *s)
{
        _cleanup_berr_ struct berr *err = NULL;
        json_object *o = NULL;

        if (json_parse_buf(s, strlen(s), "test", &o, &err) < 0)
                fail_msg("%s", err->msg);
        return o;
}

static int create(const char *sub, const char *resources, struct cgroup **cg, struct berr **err)
{
        _cleanup_free_ char *path = NULL;
        json_object *res = resources ? parse_json(resources) : NULL;
        int r;

        assert_true(asprintf(&path, "/%s/%s", prefix, sub) > 0);
        r = cgroup_create(&(struct cgroup_config){.id = "x", .cgroups_path = path, .resources = res}, cg,
                          err);
        json_object_put(res);
        return r;
}

static struct cgroup *create_ok(const char *sub, const char *resources)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct cgroup *cg = NULL;

        if (create(sub, resources, &cg, &err) < 0)
                fail_msg("create %s: %s", sub, err->msg);
        return cg;
}

static void destroy_ok(struct cgroup *cg)
{
        _cleanup_berr_ struct berr *err = NULL;

        if (cgroup_destroy(cg, &err) < 0)
                fail_msg("destroy: %s", err->msg);
        cgroup_free(cg);
}

/* A child that waits for a byte on its pipe, then runs fn; returns its pid. */
struct child {
        pid_t pid;
        int go;     /* write end */
        int report; /* read end: what the child writes back */
};

static struct child spawn(int (*fn)(int report_fd, void *arg), void *arg)
{
        int go[2], rep[2];
        struct child c;

        assert_int_equal(pipe2(go, O_CLOEXEC), 0);
        assert_int_equal(pipe2(rep, O_CLOEXEC), 0);
        c.pid = fork();
        assert_true(c.pid >= 0);
        if (c.pid == 0) {
                char b;
                close(go[1]);
                close(rep[0]);
                if (read(go[0], &b, 1) != 1)
                        _exit(120);
                _exit(fn(rep[1], arg));
        }
        close(go[0]);
        close(rep[1]);
        c.go = go[1];
        c.report = rep[0];
        assert_true(n_children < ARRAY_SIZE(children));
        children[n_children++] = c.pid;
        return c;
}

static void release(struct child *c)
{
        assert_int_equal(write(c->go, "g", 1), 1);
        close(c->go);
        c->go = -1;
}

/* Waits (bounded only so a hang fails instead of blocking CI) for the child's status. */
static int reap(pid_t pid)
{
        int status;

        for (int i = 0; i < 60000; i++) {
                pid_t r = waitpid(pid, &status, WNOHANG);
                if (r == pid)
                        return status;
                assert_true(r == 0);
                msleep(1);
        }
        fail_msg("process %d did not exit", (int)pid);
        return -1;
}

static bool read_report(struct child *c, void *buf, size_t n)
{
        return read_full(c->report, buf, n) == (ssize_t)n;
}

/* ---- cleanup: everything named after this test process ---- */

static void kill_tree(const char *dir, int depth)
{
        _cleanup_free_ char *procs = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        struct dirent *de;
        char *p;

        if (depth > 16)
                return;
        if (asprintf(&p, "%s/cgroup.procs", dir) > 0) {
                if (read_file_at(AT_FDCWD, p, 1 << 20, &procs, NULL, &err) == 0)
                        for (char *l = procs; *l;) {
                                char *end;
                                long pid = strtol(l, &end, 10);
                                if (end == l)
                                        break;
                                if (pid > 0)
                                        kill((pid_t)pid, SIGKILL);
                                l = end + strspn(end, "\n");
                        }
                free(p);
        }
        d = opendir(dir);
        while (d && (de = readdir(d)))
                if (de->d_type == DT_DIR && de->d_name[0] != '.') {
                        _cleanup_free_ char *sub = NULL;
                        if (asprintf(&sub, "%s/%s", dir, de->d_name) > 0)
                                kill_tree(sub, depth + 1);
                }
}

static void thaw_tree(const char *dir)
{
        _cleanup_free_ char *f = NULL, *g = NULL;
        int fd;

        if (asprintf(&f, "%s/freezer.state", dir) > 0 && (fd = open(f, O_WRONLY | O_CLOEXEC)) >= 0) {
                (void)!write(fd, "THAWED", 6);
                close(fd);
        }
        if (asprintf(&g, "%s/cgroup.freeze", dir) > 0 && (fd = open(g, O_WRONLY | O_CLOEXEC)) >= 0) {
                (void)!write(fd, "0", 1);
                close(fd);
        }
}

static void rmdir_tree(const char *dir, int depth)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;

        if (!d || depth > 16)
                return;
        while ((de = readdir(d)))
                if (de->d_type == DT_DIR && de->d_name[0] != '.') {
                        _cleanup_free_ char *sub = NULL;
                        if (asprintf(&sub, "%s/%s", dir, de->d_name) > 0)
                                rmdir_tree(sub, depth + 1);
                }
        for (int i = 0; i < 200 && rmdir(dir) < 0 && errno == EBUSY; i++)
                msleep(10);
}

static int teardown(void **state)
{
        for (size_t i = 0; i < n_children; i++)
                kill(children[i], SIGKILL);
        for (size_t i = 0; i < host.n; i++) {
                _cleanup_closedir_ DIR *d = opendir(host.h[i].mount_point);
                struct dirent *de;

                while (d && (de = readdir(d))) {
                        _cleanup_free_ char *p = NULL;
                        if (!strneq(de->d_name, prefix, strlen(prefix)))
                                continue;
                        if (asprintf(&p, "%s/%s", host.h[i].mount_point, de->d_name) < 0)
                                continue;
                        thaw_tree(p);
                        kill_tree(p, 0);
                }
        }
        /* We are a subreaper: collect the children and anything they left. */
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
        for (size_t i = 0; i < n_children; i++)
                waitpid(children[i], NULL, 0);
        n_children = 0;
        for (size_t i = 0; i < host.n; i++) {
                _cleanup_closedir_ DIR *d = opendir(host.h[i].mount_point);
                struct dirent *de;

                while (d && (de = readdir(d))) {
                        _cleanup_free_ char *p = NULL;
                        if (strneq(de->d_name, prefix, strlen(prefix)) &&
                            asprintf(&p, "%s/%s", host.h[i].mount_point, de->d_name) > 0)
                                rmdir_tree(p, 0);
                }
        }
        return 0;
}

static bool no_leftovers(void)
{
        for (size_t i = 0; i < host.n; i++) {
                _cleanup_closedir_ DIR *d = opendir(host.h[i].mount_point);
                struct dirent *de;

                while (d && (de = readdir(d)))
                        if (strneq(de->d_name, prefix, strlen(prefix))) {
                                fprintf(stderr, "# left behind: %s/%s\n", host.h[i].mount_point, de->d_name);
                                return false;
                        }
        }
        return true;
}

/* Removes the test's parent directories (the library leaves shared parents). */
static void remove_parents(void)
{
        for (size_t i = 0; i < host.n; i++) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/%s", host.h[i].mount_point, prefix) > 0)
                        rmdir(p);
        }
}

/* ---- tests ---- */

static void test_detect(void **state)
{
        ssize_t mem = cgroup_host_find(&host, "memory", false);

        /* What this machine is documented to be; other layouts still run the rest. */
        fprintf(stderr, "# host mode %s, %zu hierarchies\n", cgroup_mode_name(host.mode), host.n);
        for (size_t i = 0; i < host.n; i++) {
                assert_non_null(host.h[i].own_path);
                assert_true(host.h[i].mount_point[0] == '/');
        }
        if (mem >= 0) {
                _cleanup_strv_free_ char **paths = NULL;
                _cleanup_berr_ struct berr *err = NULL;
                _cleanup_free_ char *want = NULL;

                /* Relative paths land below the runtime's own cgroup (resolved, not created). */
                assert_int_equal(cgroup_resolve_paths(&host, "child", "x", &paths, &err), 0);
                assert_true(asprintf(&want, "%s/child", host.h[mem].own_path + 1) > 0);
                assert_string_equal(paths[mem][0] == '/' ? paths[mem] + 1 : paths[mem],
                                    streq(host.h[mem].own_path, "/") ? "child" : want);
        }
}

static void test_v1_resources_read_back(void **state)
{
        _cleanup_free_ char *res = NULL, *dev = NULL, *devline = NULL;
        struct cgroup *cg;

        if (host.mode == CGROUP_MODE_V2)
                skip();
        /* A real block device for the throttle keys. */
        {
                _cleanup_berr_ struct berr *err = NULL;
                if (read_file_at(AT_FDCWD, "/sys/block/vda/dev", 65536, &dev, NULL, &err) < 0 &&
                    read_file_at(AT_FDCWD, "/sys/block/loop0/dev", 65536, &dev, NULL, &err) < 0)
                        skip();
                dev[strcspn(dev, "\n")] = '\0';
        }
        unsigned maj, min;
        assert_int_equal(sscanf(dev, "%u:%u", &maj, &min), 2);
        assert_true(
            asprintf(
                &res,
                "{\"memory\":{\"limit\":67108864,\"reservation\":33554432,\"swap\":67108864,"
                "\"kernelTCP\":16777216,\"swappiness\":30,\"disableOOMKiller\":false,\"useHierarchy\":true},"
                "\"cpu\":{\"shares\":512,\"quota\":20000,\"period\":100000,\"burst\":1000,\"idle\":0,"
                "\"realtimePeriod\":500000,\"cpus\":\"0\",\"mems\":\"0\"},"
                "\"pids\":{\"limit\":10},"
                "\"blockIO\":{\"weight\":300,\"throttleReadBpsDevice\":[{\"major\":%u,\"minor\":%u,\"rate\":"
                "1048576}],"
                "\"throttleWriteIOPSDevice\":[{\"major\":%u,\"minor\":%u,\"rate\":300}]}}",
                maj, min, maj, min) > 0);
        cg = create_ok("res", res);
        assert_cg("67108864", "memory", "res", "memory.limit_in_bytes");
        assert_cg("67108864", "memory", "res", "memory.memsw.limit_in_bytes");
        assert_cg("33554432", "memory", "res", "memory.soft_limit_in_bytes");
        assert_cg("16777216", "memory", "res", "memory.kmem.tcp.limit_in_bytes");
        assert_cg("30", "memory", "res", "memory.swappiness");
        assert_cg("oom_kill_disable 0", "memory", "res", "memory.oom_control");
        assert_cg("1", "memory", "res", "memory.use_hierarchy");
        assert_cg("512", "cpu", "res", "cpu.shares");
        assert_cg("20000", "cpu", "res", "cpu.cfs_quota_us");
        assert_cg("100000", "cpu", "res", "cpu.cfs_period_us");
        assert_cg("1000", "cpu", "res", "cpu.cfs_burst_us");
        assert_cg("0", "cpu", "res", "cpu.idle");
        assert_cg("500000", "cpu", "res", "cpu.rt_period_us");
        assert_cg("0", "cpuset", "res", "cpuset.cpus");
        assert_cg("0", "cpuset", "res", "cpuset.mems");
        assert_cg("10", "pids", "res", "pids.max");
        assert_true(asprintf(&devline, "%u:%u 1048576", maj, min) > 0);
        assert_cg(devline, "blkio", "res", "blkio.throttle.read_bps_device");
        free(devline);
        assert_true(asprintf(&devline, "%u:%u 300", maj, min) > 0);
        assert_cg(devline, "blkio", "res", "blkio.throttle.write_iops_device");
        /* This machine's blkio weights are BFQ's (no CFQ blkio.weight). */
        {
                _cleanup_free_ char *dir = path_for("blkio", "res"), *w = NULL;
                struct stat st;
                assert_true(asprintf(&w, "%s/blkio.weight", dir) > 0);
                if (stat(w, &st) == 0)
                        assert_cg("300", "blkio", "res", "blkio.weight");
                else
                        assert_cg("300", "blkio", "res", "blkio.bfq.weight");
        }
        /* The default device policy: no blanket access, the standard devices allowed. */
        {
                _cleanup_free_ char *list = read_cg_text("devices", "res", "devices.list", true);
                assert_null(strstr(list, "a *:* rwm"));
                assert_non_null(strstr(list, "c 1:3 rwm"));
        }
        /* Joined in every hierarchy, the unified one included. */
        assert_true(cgroup_host_find(&host, "name=systemd", false) < 0 ||
                    cg_dir_exists("name=systemd", "res"));
        if (host.mode == CGROUP_MODE_HYBRID)
                assert_true(cg_dir_exists("unified", "res"));

        /* update: swap raised before the limit, lowered after it. */
        {
                _cleanup_berr_ struct berr *err = NULL;
                json_object *u =
                    parse_json("{\"memory\":{\"limit\":134217728,\"swap\":268435456},\"pids\":{\"limit\":-1},"
                               "\"cpu\":{\"shares\":2048}}");
                if (cgroup_update(cg, u, &err) < 0)
                        fail_msg("%s", err->msg);
                json_object_put(u);
                assert_cg("134217728", "memory", "res", "memory.limit_in_bytes");
                assert_cg("268435456", "memory", "res", "memory.memsw.limit_in_bytes");
                assert_cg("max", "pids", "res", "pids.max");
                assert_cg("2048", "cpu", "res", "cpu.shares");
                u = parse_json("{\"memory\":{\"limit\":33554432,\"swap\":33554432}}");
                if (cgroup_update(cg, u, &err) < 0)
                        fail_msg("%s", err->msg);
                json_object_put(u);
                assert_cg("33554432", "memory", "res", "memory.limit_in_bytes");
                assert_cg("33554432", "memory", "res", "memory.memsw.limit_in_bytes");
                /* Unlimited memory lifts the memory+swap limit too. */
                u = parse_json("{\"memory\":{\"limit\":-1}}");
                assert_int_equal(cgroup_update(cg, u, &err), 0);
                json_object_put(u);
                assert_cg("9223372036854771712", "memory", "res", "memory.limit_in_bytes");
                assert_cg("9223372036854771712", "memory", "res", "memory.memsw.limit_in_bytes");
        }
        destroy_ok(cg);
        remove_parents();
        assert_true(no_leftovers());
}

static void expect_create_error(const char *resources, const char *fragment)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct cgroup *cg = NULL;

        if (create("bad", resources, &cg, &err) == 0) {
                destroy_ok(cg);
                fail_msg("%s: accepted", resources);
        }
        assert_null(cg);
        if (!strstr(err->msg, fragment))
                fail_msg("%s: `%s` does not mention `%s`", resources, err->msg, fragment);
        /* Nothing left behind: not the cgroup, not the parent we made for it. */
        remove_parents();
        assert_true(no_leftovers());
}

static void test_errors_leave_nothing(void **state)
{
        if (host.mode == CGROUP_MODE_V2)
                skip();
        /* Refused before creation. */
        if (cgroup_host_find(&host, "rdma", false) < 0)
                expect_create_error(
                    "{\"rdma\":{\"mlx5_0\":{\"hcaHandles\":1}}}",
                    "linux.resources.rdma: the rdma controller is not available on this host");
        if (cgroup_host_find(&host, "net_cls", false) < 0)
                expect_create_error("{\"network\":{\"classID\":1}}",
                                    "linux.resources.network.classID: the net_cls");
        expect_create_error("{\"cpu\":{\"shares\":1}}", "linux.resources.cpu.shares: value 1 out of range");
        {
                _cleanup_berr_ struct berr *err = NULL;
                _cleanup_free_ char *path = NULL;
                struct cgroup *cg = NULL;
                assert_true(asprintf(&path, "/%s/../../etc", prefix) > 0);
                assert_true(
                    cgroup_create(&(struct cgroup_config){.id = "x", .cgroups_path = path}, &cg, &err) < 0);
                assert_non_null(strstr(err->msg, "escapes the cgroup hierarchy"));
                assert_true(no_leftovers());
        }
        /* Refused by the kernel after the directories were made: they go again. */
        expect_create_error("{\"cpu\":{\"realtimeRuntime\":10000}}", "cpu.realtimeRuntime: write `10000`");
        /* Without CFQ, blkio has no leaf weights (BFQ has none). */
        if (cgroup_host_find(&host, "blkio", false) >= 0)
                expect_create_error("{\"blockIO\":{\"leafWeight\":500}}", "blockIO.leafWeight: open");
        /* A per-device weight the device's scheduler cannot take. */
        {
                _cleanup_free_ char *sched = NULL;
                _cleanup_berr_ struct berr *err = NULL;
                if (read_file_at(AT_FDCWD, "/sys/block/vda/queue/scheduler", 65536, &sched, NULL, &err) ==
                        0 &&
                    strstr(sched, "[none]") && cgroup_host_find(&host, "blkio", false) >= 0) {
                        _cleanup_free_ char *dev = NULL, *res = NULL;
                        assert_int_equal(
                            read_file_at(AT_FDCWD, "/sys/block/vda/dev", 65536, &dev, NULL, &err), 0);
                        dev[strcspn(dev, "\n")] = '\0';
                        assert_true(asprintf(&res,
                                             "{\"blockIO\":{\"weightDevice\":[{\"major\":%.*s,\"minor\":%s,"
                                             "\"weight\":200}]}}",
                                             (int)strcspn(dev, ":"), dev, strchr(dev, ':') + 1) > 0);
                        expect_create_error(res, "blockIO.weightDevice[0]: write");
                }
        }
}

static int fork_until_refused(int report, void *arg)
{
        int n = 0;

        for (;;) {
                pid_t p = fork();
                if (p < 0)
                        break;
                if (p == 0) {
                        pause();
                        _exit(0);
                }
                n++;
                if (n > 100)
                        break;
        }
        (void)!write(report, &n, sizeof(n));
        pause();
        return 0;
}

static void test_pids_limit_and_kill(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        struct cgroup *cg = create_ok("pids", "{\"pids\":{\"limit\":4}}");
        struct child c = spawn(fork_until_refused, NULL);
        json_object *st = NULL;
        size_t n;
        int forks = -1;

        assert_int_equal(cgroup_enter(cg, c.pid, &err), 0);
        release(&c);
        assert_true(read_report(&c, &forks, sizeof(forks)));
        /* The child and three more: the fourth fork hits pids.max. */
        assert_int_equal(forks, 3);
        assert_int_equal(cgroup_get_pids(cg, &pids, &n, &err), 0);
        assert_int_equal(n, 4);
        assert_int_equal(cgroup_stats(cg, &st, &err), 0);
        assert_string_equal(json_to_string(json_object_object_get(st, "pids"), false),
                            "{\"current\":4,\"limit\":4}");
        json_object_put(st);

        assert_int_equal(cgroup_signal_all(cg, SIGKILL, &err), 0);
        assert_true(WIFSIGNALED(reap(c.pid)));
        destroy_ok(cg);
        remove_parents();
        assert_true(no_leftovers());
}

static int eat_memory(int report, void *arg)
{
        size_t total = 512u << 20;
        char *p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (p == MAP_FAILED)
                return 2;
        for (size_t off = 0; off < total; off += 4096)
                p[off] = 1;
        return 3; /* not killed: the limit did not hold */
}

static void test_memory_limit_oom_event(void **state)
{
        _cleanup_oom_watch_ struct cgroup_oom_watch *w = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        struct cgroup *cg = create_ok("oom", "{\"memory\":{\"limit\":33554432,\"swap\":33554432}}");
        struct child c;
        uint64_t events = 0, total = 0;
        bool gone = false;
        json_object *st = NULL;
        int status;

        assert_int_equal(cgroup_oom_watch_new(cg, &w, &err), 0);
        c = spawn(eat_memory, NULL);
        assert_int_equal(cgroup_enter(cg, c.pid, &err), 0);
        release(&c);
        status = reap(c.pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        /* The notification may trail the kill a little; poll for it. */
        for (int i = 0; i < 100 && total == 0; i++) {
                struct pollfd pfd = {.fd = cgroup_oom_watch_fd(w), .events = POLLIN};
                (void)poll(&pfd, 1, 100);
                assert_int_equal(cgroup_oom_watch_read(w, &events, &gone, &err), 0);
                total += events;
                assert_false(gone);
        }
        assert_true(total >= 1);
        assert_int_equal(cgroup_stats(cg, &st, &err), 0);
        {
                json_object *mem = json_object_object_get(st, "memory"),
                            *usage = json_object_object_get(mem, "usage");
                assert_int_equal(json_object_get_int64(json_object_object_get(usage, "limit")), 33554432);
                assert_true(json_object_get_int64(json_object_object_get(usage, "max")) > 0);
        }
        json_object_put(st);
        destroy_ok(cg);
        /* The watch learns that the cgroup is gone. */
        {
                bool seen_gone = false;
                for (int i = 0; i < 100 && !seen_gone; i++) {
                        struct pollfd pfd = {.fd = cgroup_oom_watch_fd(w), .events = POLLIN};
                        (void)poll(&pfd, 1, 100);
                        assert_int_equal(cgroup_oom_watch_read(w, &events, &seen_gone, &err), 0);
                }
                assert_true(seen_gone);
        }
        remove_parents();
        assert_true(no_leftovers());
}

static int hold_memory(int report, void *arg)
{
        size_t total = 24u << 20;
        char *p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        char ok = 1;

        if (p == MAP_FAILED)
                return 2;
        memset(p, 1, total);
        (void)!write(report, &ok, 1);
        pause();
        return 0;
}

static void test_update_below_usage(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct cgroup *cg = create_ok("busy", "{\"memory\":{\"limit\":67108864,\"swap\":67108864}}");
        struct child c = spawn(hold_memory, NULL);
        json_object *u;
        char ok;

        assert_int_equal(cgroup_enter(cg, c.pid, &err), 0);
        release(&c);
        assert_true(read_report(&c, &ok, 1));
        u = parse_json("{\"memory\":{\"limit\":8388608,\"swap\":8388608}}");
        assert_true(cgroup_update(cg, u, &err) < 0);
        json_object_put(u);
        if (!strstr(err->msg, "cannot set the memory limit") || !strstr(err->msg, "current usage"))
                fail_msg("unexpected: %s", err->msg);
        berr_freep(&err);
        assert_cg("67108864", "memory", "busy", "memory.limit_in_bytes");
        assert_int_equal(cgroup_signal_all(cg, SIGKILL, &err), 0);
        reap(c.pid);
        destroy_ok(cg);
        remove_parents();
        assert_true(no_leftovers());
}

static int spin(int report, void *arg)
{
        volatile uint64_t *counter = arg;
        pid_t kid = fork();

        /* A grandchild too, so signal_all has a tree to reach. */
        if (kid == 0) {
                for (;;)
                        pause();
        }
        for (;;)
                (*counter)++;
        return 0;
}

static void test_freeze_thaw_signal(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        volatile uint64_t *counter =
            mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        struct cgroup *cg = create_ok("freeze", NULL);
        _cleanup_free_ pid_t *pids = NULL;
        struct child c;
        uint64_t a, b;
        bool frozen;
        size_t n = 0;

        assert_true(counter != MAP_FAILED);
        c = spawn(spin, (void *)counter);
        assert_int_equal(cgroup_enter(cg, c.pid, &err), 0);
        release(&c);
        for (int i = 0; i < 5000 && n < 2; i++) {
                free(pids);
                assert_int_equal(cgroup_get_pids(cg, &pids, &n, &err), 0);
                msleep(1);
        }
        assert_int_equal(n, 2);
        assert_int_equal(cgroup_is_frozen(cg, &frozen, &err), 0);
        assert_false(frozen);
        assert_int_equal(cgroup_set_frozen(cg, true, &err), 0);
        assert_int_equal(cgroup_is_frozen(cg, &frozen, &err), 0);
        assert_true(frozen);
        a = *counter;
        msleep(50);
        b = *counter;
        assert_true(a == b);
        assert_int_equal(cgroup_set_frozen(cg, false, &err), 0);
        assert_int_equal(cgroup_is_frozen(cg, &frozen, &err), 0);
        assert_false(frozen);
        for (int i = 0; i < 5000 && *counter == b; i++)
                msleep(1);
        assert_true(*counter != b);

        /* Not SIGKILL: freeze, signal every process, thaw. */
        assert_int_equal(cgroup_signal_all(cg, SIGTERM, &err), 0);
        assert_true(WIFSIGNALED(reap(c.pid)));
        for (int i = 0; i < 5000; i++) {
                free(pids);
                pids = NULL;
                assert_int_equal(cgroup_get_pids(cg, &pids, &n, &err), 0);
                if (n == 0)
                        break;
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;
                msleep(1);
        }
        assert_int_equal(n, 0);
        assert_int_equal(cgroup_is_frozen(cg, &frozen, &err), 0);
        assert_false(frozen);
        munmap((void *)counter, 4096);
        destroy_ok(cg);
        remove_parents();
        assert_true(no_leftovers());
}

static int open_devices(int report, void *arg)
{
        int ok = open("/dev/null", O_RDWR | O_CLOEXEC) >= 0;
        int fd = open("/dev/kmsg", O_RDONLY | O_CLOEXEC);
        int denied = fd < 0 && errno == EPERM;

        return (ok ? 0 : 1) | (denied ? 0 : 2);
}

static void test_devices_v1(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct cgroup *cg;
        struct child c;
        int status;

        if (cgroup_host_find(&host, "devices", false) < 0)
                skip();
        cg = create_ok("dev", "{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]}");
        c = spawn(open_devices, NULL);
        assert_int_equal(cgroup_enter(cg, c.pid, &err), 0);
        release(&c);
        status = reap(c.pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        destroy_ok(cg);
        remove_parents();
        assert_true(no_leftovers());
}

static void test_destroy_nested_and_json(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct cgroup *cg = create_ok("nest", "{\"pids\":{\"limit\":100}}"), *again = NULL;
        json_object *o;

        /* What a container with its own cgroup namespace might make below its cgroup. */
        for (size_t i = 0; i < host.n; i++) {
                _cleanup_free_ char *p = NULL;
                assert_true(asprintf(&p, "%s/%s/nest/inner", host.h[i].mount_point, prefix) > 0);
                assert_int_equal(mkdir(p, 0755), 0);
                free(p);
                assert_true(asprintf(&p, "%s/%s/nest/inner/deeper", host.h[i].mount_point, prefix) > 0);
                assert_int_equal(mkdir(p, 0755), 0);
        }
        o = cgroup_to_json(cg);
        cgroup_free(cg);
        assert_int_equal(cgroup_from_json(o, &again, &err), 0);
        destroy_ok(again);
        assert_false(cg_dir_exists("pids", "nest"));
        /* A second delete finds nothing to do. */
        assert_int_equal(cgroup_from_json(o, &again, &err), 0);
        json_object_put(o);
        destroy_ok(again);
        remove_parents();
        assert_true(no_leftovers());
}

/* ---- cgroup_mount, in a child with a private mount namespace ---- */

struct mount_case {
        struct cgroup *cg;
        bool own_ns;
        char target[64];
};

#define CHECK(cond)                                                                                          \
        do {                                                                                                 \
                if (!(cond)) {                                                                               \
                        fprintf(stderr, "# child check failed: %s (line %d): %m\n", #cond, __LINE__);        \
                        return 1;                                                                            \
                }                                                                                            \
        } while (0)

static int do_mount(int report, void *arg)
{
        struct mount_case *mc = arg;
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_free_ char *limit = NULL, *self = NULL, *p = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (mc->own_ns) {
                CHECK(cgroup_enter(mc->cg, getpid(), &err) == 0);
                CHECK(unshare(CLONE_NEWCGROUP | CLONE_NEWNS) == 0);
        } else
                CHECK(unshare(CLONE_NEWNS) == 0);
        CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
        fd = open(mc->target, O_PATH | O_DIRECTORY | O_CLOEXEC);
        CHECK(fd >= 0);
        if (cgroup_mount(mc->cg, fd,
                         MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                         mc->own_ns, &err) < 0) {
                fprintf(stderr, "# cgroup_mount: %s\n", err->msg);
                return 1;
        }
        /* The container's own memory cgroup is the root of what it sees. */
        CHECK(asprintf(&p, "%s/memory/memory.limit_in_bytes", mc->target) > 0);
        CHECK(read_file_at(AT_FDCWD, p, 4096, &limit, NULL, &err) == 0);
        CHECK(strneq(limit, "16777216", 8));
        free(p);
        CHECK(asprintf(&p, "%s/memory/%s", mc->target, prefix) > 0);
        CHECK(stat(p, &st) < 0 && errno == ENOENT);
        free(p);
        CHECK(asprintf(&p, "%s/systemd/cgroup.procs", mc->target) > 0);
        CHECK(stat(p, &st) == 0 || cgroup_host_find(&host, "name=systemd", false) < 0);
        free(p);
        if (host.mode == CGROUP_MODE_HYBRID) {
                CHECK(asprintf(&p, "%s/unified/cgroup.procs", mc->target) > 0);
                CHECK(stat(p, &st) == 0);
                free(p);
        }
        /* Read-only, as the mount options asked. */
        CHECK(asprintf(&p, "%s/memory/memory.limit_in_bytes", mc->target) > 0);
        CHECK(open(p, O_WRONLY | O_CLOEXEC) < 0 && errno == EROFS);
        CHECK(asprintf(&self, "%s/extra", mc->target) > 0);
        CHECK(mkdir(self, 0755) < 0 && errno == EROFS);
        if (mc->own_ns) {
                _cleanup_free_ char *text = NULL;
                CHECK(read_file_at(AT_FDCWD, "/proc/self/cgroup", 65536, &text, NULL, &err) == 0);
                CHECK(strstr(text, prefix) == NULL);
        }
        return 0;
}

static void run_mount_case(bool own_ns)
{
        struct mount_case mc = {.own_ns = own_ns};
        struct child c;
        int status;

        if (host.mode == CGROUP_MODE_V2 || cgroup_host_find(&host, "memory", false) < 0)
                skip();
        mc.cg = create_ok(own_ns ? "mnt-ns" : "mnt-bind", "{\"memory\":{\"limit\":16777216}}");
        snprintf(mc.target, sizeof(mc.target), "/tmp/berth-cgmount.XXXXXX");
        assert_non_null(mkdtemp(mc.target));
        c = spawn(do_mount, &mc);
        release(&c);
        status = reap(c.pid);
        rmdir(mc.target);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        destroy_ok(mc.cg);
        remove_parents();
        assert_true(no_leftovers());
}

static void test_mount_bind(void **state)
{
        run_mount_case(false);
}

static void test_mount_own_cgroupns(void **state)
{
        run_mount_case(true);
}

/* ---- cgroup v2, on a cgroup2 mount of a test sub-tree in a private mount namespace ---- */

static int v2_devices_child(void)
{
        int ok = open("/dev/null", O_RDWR | O_CLOEXEC) >= 0;
        int fd = open("/dev/kmsg", O_RDONLY | O_CLOEXEC);

        _exit((ok ? 0 : 1) | (fd < 0 && errno == EPERM ? 0 : 2));
}

static pid_t clone_into(int cgfd)
{
        struct clone_args args = {
            .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)cgfd};

        return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

static int v2_steps(const char *tree, const char *view, const char *sub)
{
        _cleanup_free_ char *mi = NULL, *path = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        struct cgroup_host h;
        struct cgroup *cg = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        json_object *res, *st;
        pid_t kid, sleeper;
        bool frozen;
        size_t n;
        int status, cgfd;

        /* Our own sub-tree as the hierarchy's root, as a container would see it. */
        CHECK(mkdir(sub, 0755) == 0);
        CHECK(mount(sub, view, NULL, MS_BIND, NULL) == 0);
        CHECK(asprintf(&mi, "1 1 0:99 /%s-v2 %s rw - cgroup2 cgroup2 rw\n", prefix, view) > 0);
        CHECK(cgroup_host_parse_mountinfo(mi, &h, &err) == 0);
        CHECK(h.mode == CGROUP_MODE_V2);
        CHECK(cgroup_host_read_v2_controllers(&h, &err) == 0);
        fprintf(stderr, "# v2 sub-tree controllers: %zu\n", strv_length(h.h[0].controllers));

        /* Controllers this hierarchy lacks are refused by name, before anything exists. */
        res = parse_json("{\"pids\":{\"limit\":3}}");
        {
                struct cgroup_host copy;
                CHECK(cgroup_host_parse_mountinfo(mi, &copy, &err) == 0);
                CHECK(cgroup_host_read_v2_controllers(&copy, &err) == 0);
                if (!strv_contains(copy.h[0].controllers, "pids")) {
                        CHECK(cgroup_create_on(&copy, &(struct cgroup_config){.id = "x", .resources = res},
                                               &cg, &err) < 0);
                        CHECK(strstr(err->msg, "the pids controller is not available") != NULL);
                        berr_freep(&err);
                } else
                        cgroup_host_done(&copy);
        }
        json_object_put(res);

        CHECK(cgroup_create_on(&h, &(struct cgroup_config){.id = "c", .cgroups_path = "/ctr/c"}, &cg, &err) ==
              0);
        CHECK(asprintf(&path, "%s/ctr/c", sub) > 0);

        /* CLONE_INTO_CGROUP starts the child inside; the eBPF filter refuses /dev/kmsg. */
        cgfd = cgroup_clone_into_fd(cg);
        CHECK(cgfd >= 0);
        kid = clone_into(cgfd);
        CHECK(kid >= 0);
        if (kid == 0)
                v2_devices_child();
        CHECK(waitpid(kid, &status, 0) == kid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

        /* freeze, kill, pids, stats */
        sleeper = clone_into(cgfd);
        CHECK(sleeper >= 0);
        if (sleeper == 0) {
                for (;;)
                        pause();
        }
        CHECK(cgroup_get_pids(cg, &pids, &n, &err) == 0 && n == 1 && pids[0] == sleeper);
        CHECK(cgroup_set_frozen(cg, true, &err) == 0);
        CHECK(cgroup_is_frozen(cg, &frozen, &err) == 0 && frozen);
        CHECK(cgroup_set_frozen(cg, false, &err) == 0);
        CHECK(cgroup_is_frozen(cg, &frozen, &err) == 0 && !frozen);
        CHECK(cgroup_stats(cg, &st, &err) == 0);
        CHECK(json_object_object_get(st, "cpu") != NULL);
        json_object_put(st);
        CHECK(cgroup_signal_all(cg, SIGKILL, &err) == 0);
        CHECK(waitpid(sleeper, &status, 0) == sleeper && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

        /* A cgroup2 mount in a child's own cgroup namespace shows its cgroup as the root. */
        {
                char target[64] = "/tmp/berth-cgv2mnt.XXXXXX";
                pid_t m;
                CHECK(mkdtemp(target));
                m = fork();
                if (m < 0)
                        rmdir(target);
                CHECK(m >= 0);
                if (m == 0) {
                        _cleanup_berr_ struct berr *e = NULL;
                        int tfd;
                        struct stat sb;
                        char *ctl = NULL;
                        if (cgroup_enter(cg, getpid(), &e) < 0 || unshare(CLONE_NEWCGROUP | CLONE_NEWNS) < 0)
                                _exit(1);
                        tfd = open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (tfd < 0 || cgroup_mount(cg, tfd, MOUNT_ATTR_RDONLY, true, &e) < 0) {
                                fprintf(stderr, "# %s\n", e ? e->msg : "open");
                                _exit(2);
                        }
                        if (asprintf(&ctl, "%s/ctr", target) < 0 || stat(ctl, &sb) == 0)
                                _exit(3);
                        free(ctl);
                        if (asprintf(&ctl, "%s/cgroup.procs", target) < 0 || stat(ctl, &sb) < 0)
                                _exit(4);
                        free(ctl);
                        if (asprintf(&ctl, "%s/newcg", target) < 0)
                                _exit(5);
                        _exit(mkdir(ctl, 0755) < 0 && errno == EROFS ? 0 : 6);
                }
                CHECK(waitpid(m, &status, 0) == m);
                rmdir(target);
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        fprintf(stderr, "# v2 mount child status 0x%x\n", status);
                CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }

        CHECK(cgroup_destroy(cg, &err) == 0);
        {
                struct stat sb;
                CHECK(stat(path, &sb) < 0 && errno == ENOENT);
        }
        cgroup_free(cg);
        free(path);
        path = NULL;
        CHECK(asprintf(&path, "%s/ctr", sub) > 0);
        CHECK(rmdir(path) == 0);
        return 0;
}

static int v2_scenario(int report, void *arg)
{
        char tree[64] = "/tmp/berth-cgv2.XXXXXX", view[64] = "/tmp/berth-cgv2view.XXXXXX";
        _cleanup_free_ char *sub = NULL;
        int r = 1;

        CHECK(unshare(CLONE_NEWNS) == 0);
        CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
        CHECK(mkdtemp(tree));
        if (mkdtemp(view) && mount("cgroup2", tree, "cgroup2", 0, NULL) == 0) {
                if (asprintf(&sub, "%s/%s-v2", tree, prefix) > 0)
                        r = v2_steps(tree, view, sub);
                /* Failed steps leave cgroups for the parent's teardown (they are under prefix). */
                umount2(view, MNT_DETACH);
                if (sub)
                        rmdir(sub);
                umount2(tree, MNT_DETACH);
        }
        rmdir(view);
        rmdir(tree);
        return r;
}

static void test_v2_private_mount(void **state)
{
        struct child c;
        int status;

        if (cgroup_host_v2(&host) < 0)
                skip();
        c = spawn(v2_scenario, NULL);
        release(&c);
        status = reap(c.pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_true(no_leftovers());
}

/* ---- net_cls/net_prio: unused on this host, mounted privately for the test ---- */

/* net_cls's line of /proc/cgroups: hierarchy id and number of cgroups. */
static void net_cls_line(long *hier, long *n)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        const char *l;
        char *end;

        *hier = *n = 0;
        if (read_file_at(AT_FDCWD, "/proc/cgroups", 65536, &text, NULL, &err) < 0)
                return;
        l = strstr(text, "\nnet_cls\t");
        if (!l)
                return;
        *hier = strtol(l + 9, &end, 10);
        *n = strtol(end, NULL, 10);
}

static bool net_cls_bound(void)
{
        long h, n;

        net_cls_line(&h, &n);
        return h != 0;
}

static long net_cls_cgroups(void)
{
        long h, n;

        net_cls_line(&h, &n);
        return n;
}

static int net_steps(const char *mnt)
{
        _cleanup_free_ char *mi = NULL, *text = NULL, *p = NULL, *path = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        struct cgroup_host h = {};
        struct cgroup *cg = NULL;
        json_object *res;

        CHECK(asprintf(&mi, "1 1 0:98 / %s rw - cgroup cgroup rw,net_cls,net_prio\n", mnt) > 0);
        CHECK(asprintf(&path, "/%s", prefix) > 0);
        CHECK(cgroup_host_parse_mountinfo(mi, &h, &err) == 0);
        res = parse_json(
            "{\"network\":{\"classID\":1048577,\"priorities\":[{\"name\":\"lo\",\"priority\":7}]}}");
        CHECK(cgroup_create_on(&h, &(struct cgroup_config){.id = "c", .cgroups_path = path, .resources = res},
                               &cg, &err) == 0);
        json_object_put(res);
        CHECK(asprintf(&p, "%s/%s/net_cls.classid", mnt, prefix) > 0);
        CHECK(read_file_at(AT_FDCWD, p, 4096, &text, NULL, &err) == 0 && strneq(text, "1048577\n", 8));
        free(p);
        free(text);
        text = NULL;
        CHECK(asprintf(&p, "%s/%s/net_prio.ifpriomap", mnt, prefix) > 0);
        CHECK(read_file_at(AT_FDCWD, p, 4096, &text, NULL, &err) == 0 && strstr(text, "lo 7\n"));
        CHECK(cgroup_destroy(cg, &err) == 0);
        cgroup_free(cg);
        return 0;
}

static int net_scenario(int report, void *arg)
{
        char mnt[64] = "/tmp/berth-cgnet.XXXXXX";
        _cleanup_free_ char *p = NULL;
        int r;

        CHECK(unshare(CLONE_NEWNS) == 0);
        CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
        CHECK(mkdtemp(mnt));
        if (mount("cgroup", mnt, "cgroup", 0, "net_cls,net_prio") < 0) {
                rmdir(mnt);
                return 77; /* bound elsewhere: cannot test here */
        }
        r = net_steps(mnt);
        /* The hierarchy lives on while it has cgroups: remove ours whatever happened. */
        if (asprintf(&p, "%s/%s", mnt, prefix) > 0)
                rmdir(p);
        /* A removed cgroup lingers a moment, and unmounting before it is gone
         * leaves the hierarchy (and net_cls, net_prio bound to it) behind. */
        for (int i = 0; i < 500 && net_cls_cgroups() > 1; i++)
                msleep(10);
        umount2(mnt, 0);
        for (int i = 0; i < 1000 && net_cls_bound(); i++) {
                msleep(10);
                /* Still there after a while: it was not released, mount and unmount to let it go. */
                if (i % 200 == 199 && mount("cgroup", mnt, "cgroup", 0, "net_cls,net_prio") == 0)
                        umount2(mnt, 0);
        }
        rmdir(mnt);
        if (net_cls_bound()) {
                fprintf(stderr, "# the net_cls,net_prio hierarchy is still bound\n");
                return 1;
        }
        return r;
}

static void test_net_cls_prio(void **state)
{
        struct child c;
        int status;

        /* Only when net_cls is free: then this test owns the hierarchy it makes. */
        if (cgroup_host_find(&host, "net_cls", false) >= 0 || net_cls_bound())
                skip();
        c = spawn(net_scenario, NULL);
        release(&c);
        status = reap(c.pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                skip();
        assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_teardown(test_detect, teardown),
            cmocka_unit_test_teardown(test_v1_resources_read_back, teardown),
            cmocka_unit_test_teardown(test_errors_leave_nothing, teardown),
            cmocka_unit_test_teardown(test_pids_limit_and_kill, teardown),
            cmocka_unit_test_teardown(test_memory_limit_oom_event, teardown),
            cmocka_unit_test_teardown(test_update_below_usage, teardown),
            cmocka_unit_test_teardown(test_freeze_thaw_signal, teardown),
            cmocka_unit_test_teardown(test_devices_v1, teardown),
            cmocka_unit_test_teardown(test_destroy_nested_and_json, teardown),
            cmocka_unit_test_teardown(test_mount_bind, teardown),
            cmocka_unit_test_teardown(test_mount_own_cgroupns, teardown),
            cmocka_unit_test_teardown(test_v2_private_mount, teardown),
            cmocka_unit_test_teardown(test_net_cls_prio, teardown),
        };
        _cleanup_berr_ struct berr *err = NULL;
        int r;

        snprintf(prefix, sizeof(prefix), "berth-test-%d", (int)getpid());
        if (geteuid() != 0 || cgroup_host_detect(&host, &err) < 0) {
                /* Not root, or no cgroups: report every test as skipped. */
                printf("1..%zu\n", ARRAY_SIZE(tests));
                for (size_t i = 0; i < ARRAY_SIZE(tests); i++)
                        printf("ok %zu - %s # SKIP %s\n", i + 1, tests[i].name,
                               err ? err->msg : "needs root");
                return 0;
        }
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        r = cmocka_run_group_tests_name("cgroups-host", tests, NULL, NULL);
        cgroup_host_done(&host);
        return r;
}
