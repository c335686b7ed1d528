/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/strv.h"
#include "engine/spec-internal.h"

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

static char tmpdir[64], rootfs[128], files[128], resolv[128], hostsf[128];
static const char *const caller_env[] = {"FROMCALLER=yes", "OTHER=1", NULL};

static void put(const char *dir, const char *name, const char *content)
{
        char p[512];

        snprintf(p, sizeof(p), "%s/%s", dir, name);
        assert_int_equal(write_file_at(AT_FDCWD, p, content, strlen(content), O_CREAT | O_TRUNC, 0644, NULL),
                         0);
}

static int setup(void **state)
{
        char etc[160];

        strcpy(tmpdir, "/tmp/berth-unit-spec-XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
        snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmpdir);
        snprintf(files, sizeof(files), "%s/files", tmpdir);
        snprintf(resolv, sizeof(resolv), "%s/resolv.conf", tmpdir);
        snprintf(hostsf, sizeof(hostsf), "%s/hosts", tmpdir);
        snprintf(etc, sizeof(etc), "%s/etc", rootfs);
        assert_int_equal(mkdir_p(etc, 0755, NULL), 0);
        put(etc, "passwd",
            "root:x:0:0:root:/root:/bin/sh\n"
            "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
            "  app:x:1000:1000:App:/home/app:/bin/sh  \n"
            "\n"
            "nohome:x:1001:1001:::/bin/sh\n"
            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
            "bigu:x:4294967296:1::/:/bin/sh\n"
            "bigg:x:1002:4294967296::/:/bin/sh\n");
        put(etc, "group",
            "root:x:0:\n"
            "bin:x:1:root,daemon\n"
            "# comment:x:77:app\n"
            "wheel:x:10:root,app\n"
            "app:x:1000:\n"
            "video:x:44:app\n"
            "staff:x:50:\n"
            "nogroup:x:65534:\n");
        put(tmpdir, "resolv.conf",
            "# host comment\nnameserver 127.0.0.53\nnameserver 10.0.0.2\n"
            "search example.com corp\noptions edns0 trust-ad\nsortlist 10.0.0.0\n");
        put(tmpdir, "hosts", "127.0.0.1 localhost\n10.1.1.1 hosty\n");
        return 0;
}

static int teardown(void **state)
{
        assert_int_equal(rm_rf_at(AT_FDCWD, tmpdir, NULL), 0);
        return 0;
}

static struct engine_spec_ctx base_ctx(void)
{
        return (struct engine_spec_ctx){
            .id = "0123456789abcdef0123",
            .name = "web",
            .rootfs = rootfs,
            .files_dir = files,
            .host_resolv_conf = resolv,
            .host_hosts = hostsf,
            .caller_env = caller_env,
            .seccomp_profile = DEFAULT_PROFILE_SRC,
        };
}

static struct engine_image_config base_img(void)
{
        static char *cmd[] = {"sh", NULL};
        return (struct engine_image_config){.cmd = cmd};
}

static struct engine_spec *build_ctx(const struct engine_image_config *img, const struct engine_run_opts *o,
                                     const struct engine_spec_ctx *ctx)
{
        struct engine_spec *s = NULL;
        struct berr *err = NULL;
        int r = engine_spec_build(img, o, ctx, &s, &err);

        if (r < 0)
                print_error("build failed: %s\n", err ? err->msg : "?");
        assert_int_equal(r, 0);
        berr_free(err);
        return s;
}

static struct engine_spec *build(const struct engine_run_opts *o)
{
        struct engine_image_config img = base_img();
        struct engine_spec_ctx ctx = base_ctx();

        return build_ctx(&img, o, &ctx);
}

/* Builds and expects an error with exactly this message. */
static void build_fails_ctx(const struct engine_image_config *img, const struct engine_run_opts *o,
                            const struct engine_spec_ctx *ctx, const char *msg)
{
        struct engine_spec *s = NULL;
        struct berr *err = NULL;

        assert_true(engine_spec_build(img, o, ctx, &s, &err) < 0);
        assert_null(s);
        assert_non_null(err);
        assert_string_equal(err->msg, msg);
        berr_free(err);
}

static void build_fails(const struct engine_run_opts *o, const char *msg)
{
        struct engine_image_config img = base_img();
        struct engine_spec_ctx ctx = base_ctx();

        build_fails_ctx(&img, o, &ctx, msg);
}

/* "a.b.c" lookup; arrays by index ("mounts.3.destination"). */
static json_object *jget(json_object *o, const char *path)
{
        _cleanup_free_ char *p = strdup(path);
        char *save = NULL;

        for (char *k = strtok_r(p, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
                if (json_object_is_type(o, json_type_array))
                        o = json_object_array_get_idx(o, (size_t)atoi(k));
                else if (!json_object_object_get_ex(o, k, &o))
                        o = NULL;
        }
        return o;
}

static const char *jstr(json_object *o, const char *path)
{
        json_object *v = jget(o, path);
        return v ? json_object_get_string(v) : NULL;
}

static void assert_json(json_object *o, const char *path, const char *expected_json)
{
        json_object *v = jget(o, path), *e = json_tokener_parse(expected_json);

        assert_non_null(e);
        if (!v || !json_object_equal(v, e))
                print_error("%s: got %s, want %s\n", path, v ? json_object_to_json_string(v) : "(missing)",
                            expected_json);
        assert_true(v && json_object_equal(v, e));
        json_object_put(e);
}

static const char *sysctl(json_object *spec, const char *key)
{
        json_object *v;

        if (!json_object_object_get_ex(jget(spec, "linux.sysctl"), key, &v))
                return "(missing)";
        return json_object_get_string(v);
}

/* A syscall named in an SCMP_ACT_ALLOW rule of linux.seccomp. */
static bool seccomp_allows(json_object *spec, const char *name)
{
        json_object *rules = jget(spec, "linux.seccomp.syscalls");

        for (size_t i = 0; rules && i < json_object_array_length(rules); i++) {
                json_object *r = json_object_array_get_idx(rules, i);
                json_object *names = jget(r, "names");
                if (!streq(jstr(r, "action"), "SCMP_ACT_ALLOW"))
                        continue;
                for (size_t k = 0; names && k < json_object_array_length(names); k++)
                        if (streq(json_object_get_string(json_object_array_get_idx(names, k)), name))
                                return true;
        }
        return false;
}

static json_object *mount_at(json_object *spec, const char *dest)
{
        json_object *m = jget(spec, "mounts");

        for (size_t i = 0; i < json_object_array_length(m); i++) {
                json_object *e = json_object_array_get_idx(m, i);
                if (streq(jstr(e, "destination"), dest))
                        return e;
        }
        return NULL;
}

static bool strv_json_has(json_object *a, const char *s)
{
        for (size_t i = 0; a && i < json_object_array_length(a); i++)
                if (streq(json_object_get_string(json_object_array_get_idx(a, i)), s))
                        return true;
        return false;
}

/* ---- defaults ------------------------------------------------------------ */

static void test_defaults_match_docker(void **state)
{
        struct engine_run_opts o = {0};
        struct engine_spec *s = build(&o);
        json_object *c = s->config, *masked;

        assert_string_equal(jstr(c, "ociVersion"), OCI_VERSION);
        assert_string_equal(s->hostname, "0123456789ab");
        assert_string_equal(jstr(c, "hostname"), "0123456789ab");
        assert_string_equal(jstr(c, "root.path"), rootfs);
        assert_null(jget(c, "root.readonly"));
        /* docker's 14 default capabilities, and only bounding/effective/permitted */
        assert_json(
            c, "process.capabilities",
            "{\"bounding\":[\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_FOWNER\",\"CAP_FSETID\",\"CAP_KILL\","
            "\"CAP_SETGID\",\"CAP_SETUID\",\"CAP_SETPCAP\",\"CAP_NET_BIND_SERVICE\",\"CAP_NET_RAW\","
            "\"CAP_SYS_CHROOT\",\"CAP_MKNOD\",\"CAP_AUDIT_WRITE\",\"CAP_SETFCAP\"],"
            "\"effective\":[\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_FOWNER\",\"CAP_FSETID\",\"CAP_KILL\","
            "\"CAP_SETGID\",\"CAP_SETUID\",\"CAP_SETPCAP\",\"CAP_NET_BIND_SERVICE\",\"CAP_NET_RAW\","
            "\"CAP_SYS_CHROOT\",\"CAP_MKNOD\",\"CAP_AUDIT_WRITE\",\"CAP_SETFCAP\"],"
            "\"permitted\":[\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_FOWNER\",\"CAP_FSETID\",\"CAP_KILL\","
            "\"CAP_SETGID\",\"CAP_SETUID\",\"CAP_SETPCAP\",\"CAP_NET_BIND_SERVICE\",\"CAP_NET_RAW\","
            "\"CAP_SYS_CHROOT\",\"CAP_MKNOD\",\"CAP_AUDIT_WRITE\",\"CAP_SETFCAP\"]}");
        assert_null(jget(c, "process.noNewPrivileges"));
        assert_null(jget(c, "process.oomScoreAdj"));
        assert_json(c, "process.terminal", "false");
        /* root is listed in bin and wheel of this rootfs: docker adds both */
        assert_json(c, "process.user", "{\"uid\":0,\"gid\":0,\"additionalGids\":[0,1,10]}");
        assert_json(c, "process.env",
                    "[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
                    "\"HOSTNAME=0123456789ab\",\"HOME=/root\"]");
        assert_string_equal(jstr(c, "process.cwd"), "/");
        /* moby's DefaultLinuxSpec mounts, /dev/shm with the 64m default */
        assert_json(c, "mounts.0",
                    "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\","
                    "\"options\":[\"nosuid\",\"noexec\",\"nodev\"]}");
        assert_json(c, "mounts.1",
                    "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
                    "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]}");
        assert_json(c, "mounts.2",
                    "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":"
                    "[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]}");
        assert_json(c, "mounts.3",
                    "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
                    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]}");
        assert_json(c, "mounts.4",
                    "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
                    "\"options\":[\"ro\",\"nosuid\",\"noexec\",\"nodev\"]}");
        assert_json(c, "mounts.5",
                    "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\","
                    "\"options\":[\"nosuid\",\"noexec\",\"nodev\"]}");
        assert_json(c, "mounts.6",
                    "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
                    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=67108864\"]}");
        assert_string_equal(jstr(c, "mounts.7.destination"), "/etc/resolv.conf");
        assert_json(c, "mounts.9.options", "[\"rbind\",\"rprivate\"]");
        assert_null(jget(c, "mounts.10"));
        /* moby's masked paths (thermal_throttle ones only where they exist) and read-only paths */
        masked = jget(c, "linux.maskedPaths");
        {
                static const char *const want[] = {
                    "/proc/acpi",
                    "/proc/asound",
                    "/proc/interrupts",
                    "/proc/kcore",
                    "/proc/keys",
                    "/proc/latency_stats",
                    "/proc/sched_debug",
                    "/proc/scsi",
                    "/proc/timer_list",
                    "/proc/timer_stats",
                    "/sys/devices/virtual/powercap",
                    "/sys/firmware",
                };
                for (size_t i = 0; i < ARRAY_SIZE(want); i++)
                        assert_string_equal(json_object_get_string(json_object_array_get_idx(masked, i)),
                                            want[i]);
        }
        for (size_t i = 12; i < json_object_array_length(masked); i++)
                assert_non_null(strstr(json_object_get_string(json_object_array_get_idx(masked, i)),
                                       "/thermal_throttle"));
        assert_json(c, "linux.readonlyPaths",
                    "[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\",\"/proc/sysrq-trigger\"]");
        assert_json(c, "linux.resources.devices",
                    "[{\"allow\":false,\"access\":\"rwm\"},"
                    "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":5,\"access\":\"rwm\"},"
                    "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"},"
                    "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":9,\"access\":\"rwm\"},"
                    "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":8,\"access\":\"rwm\"},"
                    "{\"allow\":true,\"type\":\"c\",\"major\":5,\"minor\":0,\"access\":\"rwm\"},"
                    "{\"allow\":true,\"type\":\"c\",\"major\":5,\"minor\":1,\"access\":\"rwm\"},"
                    "{\"allow\":false,\"type\":\"c\",\"major\":10,\"minor\":229,\"access\":\"rwm\"}]");
        assert_json(c, "linux.devices", "[]");
        assert_null(jget(c, "linux.resources.memory"));
        assert_null(jget(c, "linux.resources.cpu"));
        assert_null(jget(c, "linux.resources.pids"));
        /* docker's default profile, resolved for the default capabilities: no mount(2) */
        assert_string_equal(jstr(c, "linux.seccomp.defaultAction"), "SCMP_ACT_ERRNO");
        assert_false(seccomp_allows(c, "mount"));
        assert_true(seccomp_allows(c, "read"));
        assert_string_equal(jstr(c, "linux.cgroupsPath"), "/berth/0123456789abcdef0123");
        assert_string_equal(jstr(c, "linux.namespaces.0.type"), "mount");
        assert_string_equal(jstr(c, "linux.namespaces.1.type"), "network");
        assert_string_equal(jstr(c, "linux.namespaces.2.type"), "uts");
        assert_string_equal(jstr(c, "linux.namespaces.3.type"), "pid");
        assert_string_equal(jstr(c, "linux.namespaces.4.type"), "ipc");
        if (access("/proc/sys/net/ipv4/ping_group_range", F_OK) == 0)
                assert_string_equal(sysctl(c, "net.ipv4.ping_group_range"), "0 2147483647");
        assert_int_equal(s->stop_signal, SIGTERM);
        assert_string_equal(s->hostname_file, "0123456789ab\n");
        engine_spec_free(s);
}

static void test_rlimits_clamped(void **state)
{
        struct engine_run_opts o = {0};
        struct engine_spec *s = build(&o);
        struct rlimit rl;
        json_object *r = jget(s->config, "process.rlimits");
        uint64_t want;

        assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
        want = MIN(1048576u, (uint64_t)rl.rlim_max);
        assert_string_equal(jstr(r, "0.type"), "RLIMIT_NOFILE");
        assert_int_equal(json_object_get_uint64(jget(r, "0.hard")), want);
        assert_int_equal(json_object_get_uint64(jget(r, "0.soft")), want);
        assert_string_equal(jstr(r, "1.type"), "RLIMIT_NPROC");
        engine_spec_free(s);

        o.ulimits = L("nofile=100:200", "core=-1", "nproc=10");
        s = build(&o);
        r = jget(s->config, "process.rlimits");
        assert_json(r, "0", "{\"type\":\"RLIMIT_NOFILE\",\"hard\":200,\"soft\":100}");
        assert_string_equal(jstr(r, "1.type"), "RLIMIT_CORE");
        assert_int_equal(json_object_get_uint64(jget(r, "1.hard")), UINT64_MAX);
        assert_json(r, "2", "{\"type\":\"RLIMIT_NPROC\",\"hard\":10,\"soft\":10}");
        assert_null(jget(r, "3"));
        engine_spec_free(s);
}

static void test_ulimit_errors(void **state)
{
        struct engine_run_opts o = {.ulimits = L("foo=1")};
        struct rlimit rl;

        build_fails(&o, "--ulimit: unknown limit `foo`");
        o.ulimits = L("nofile");
        build_fails(&o, "--ulimit: `nofile` is not NAME=SOFT[:HARD]");
        o.ulimits = L("nofile=20:10");
        build_fails(&o, "--ulimit: nofile: soft limit must be less than or equal to hard limit: 20 > 10");
        o.ulimits = L("nofile=x");
        build_fails(&o, "--ulimit: invalid number `x`");
        o.ulimits = L("as=1");
        build_fails(&o, "--ulimit: unknown limit `as`");
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
        if (rl.rlim_max < 1048576) {
                char v[64];
                snprintf(v, sizeof(v), "nofile=%llu", (unsigned long long)rl.rlim_max + 1);
                o.ulimits = (const char *const[]){v, NULL};
                {
                        struct engine_spec *s = NULL;
                        struct berr *err = NULL;
                        struct engine_image_config img = base_img();
                        struct engine_spec_ctx ctx = base_ctx();
                        assert_true(engine_spec_build(&img, &o, &ctx, &s, &err) < 0);
                        assert_non_null(strstr(err->msg, "exceeds"));
                        berr_free(err);
                }
        }
}

/* ---- capabilities and security ------------------------------------------- */

static uint64_t self_caps(void)
{
        _cleanup_free_ char *buf = NULL;
        const char *p;

        assert_int_equal(read_file_at(AT_FDCWD, "/proc/self/status", 1 << 16, &buf, NULL, NULL), 0);
        p = strstr(buf, "\nCapEff:");
        assert_non_null(p);
        return strtoull(p + 8, NULL, 16);
}

static void test_caps(void **state)
{
        struct engine_run_opts o = {.cap_drop = L("ALL")};
        struct engine_spec *s = build(&o);

        assert_json(s->config, "process.capabilities.bounding", "[]");
        assert_json(s->config, "process.capabilities.effective", "[]");
        engine_spec_free(s);

        o = (struct engine_run_opts){.cap_drop = L("all"), .cap_add = L("sys_admin", "CAP_NET_ADMIN")};
        s = build(&o);
        assert_json(s->config, "process.capabilities.bounding", "[\"CAP_NET_ADMIN\",\"CAP_SYS_ADMIN\"]");
        engine_spec_free(s);

        o = (struct engine_run_opts){.cap_drop = L("NET_RAW", "mknod"), .cap_add = L("SYS_PTRACE")};
        s = build(&o);
        assert_false(strv_json_has(jget(s->config, "process.capabilities.bounding"), "CAP_NET_RAW"));
        assert_false(strv_json_has(jget(s->config, "process.capabilities.bounding"), "CAP_MKNOD"));
        assert_true(strv_json_has(jget(s->config, "process.capabilities.permitted"), "CAP_SYS_PTRACE"));
        assert_true(strv_json_has(jget(s->config, "process.capabilities.permitted"), "CAP_CHOWN"));
        engine_spec_free(s);

        o = (struct engine_run_opts){.cap_add = L("ALL"), .cap_drop = L("SYS_ADMIN")};
        s = build(&o);
        assert_int_equal(json_object_array_length(jget(s->config, "process.capabilities.bounding")),
                         (size_t)__builtin_popcountll(self_caps()) - ((self_caps() >> 21) & 1));
        assert_false(strv_json_has(jget(s->config, "process.capabilities.bounding"), "CAP_SYS_ADMIN"));
        engine_spec_free(s);

        o = (struct engine_run_opts){.cap_add = L("CAP_X")};
        build_fails(&o, "--cap-add: unknown capability `CAP_X`");
        /* a capability berth does not hold cannot be granted (CAP_SYS_RESOURCE on the test VM) */
        if (!((self_caps() >> 24) & 1)) {
                o = (struct engine_run_opts){.cap_add = L("SYS_RESOURCE")};
                build_fails(&o,
                            "--cap-add: capability `CAP_SYS_RESOURCE` is not supported by the kernel or not "
                            "available to berth");
        }
        o = (struct engine_run_opts){.cap_drop = L("bogus")};
        build_fails(&o, "--cap-drop: unknown capability `CAP_BOGUS`");
}

static void test_privileged(void **state)
{
        struct engine_run_opts o = {.privileged = true,
                                    .security_opts = L("seccomp=/nonexistent/profile.json")};
        struct engine_spec *s = build(&o);
        json_object *c = s->config;

        assert_int_equal(json_object_array_length(jget(c, "process.capabilities.bounding")),
                         (size_t)__builtin_popcountll(self_caps()));
        assert_null(jget(c, "linux.maskedPaths"));
        assert_null(jget(c, "linux.readonlyPaths"));
        assert_null(jget(c, "linux.seccomp"));
        assert_json(c, "linux.resources.devices", "[{\"allow\":true,\"access\":\"rwm\"}]");
        assert_json(mount_at(c, "/sys"), "options", "[\"nosuid\",\"noexec\",\"nodev\"]");
        assert_json(mount_at(c, "/sys/fs/cgroup"), "options", "[\"nosuid\",\"noexec\",\"nodev\"]");
        /* the host's devices: /dev/null at least, never /dev/console or /dev/pts */
        {
                json_object *d = jget(c, "linux.devices");
                bool null_found = false;
                for (size_t i = 0; i < json_object_array_length(d); i++) {
                        const char *p = jstr(json_object_array_get_idx(d, i), "path");
                        null_found |= streq(p, "/dev/null");
                        assert_false(streq(p, "/dev/console"));
                        assert_false(strneq(p, "/dev/pts/", 9));
                }
                assert_true(null_found);
        }
        engine_spec_free(s);
}

static int resolve_calls;
static uint64_t resolve_caps;

static int fake_resolve(json_object *profile, uint64_t caps, json_object **out, struct berr **err)
{
        resolve_calls++;
        resolve_caps = caps;
        *out = json_object_new_object();
        json_object_object_add(*out, "defaultAction",
                               json_object_get(json_object_object_get(profile, "defaultAction")));
        json_object_object_add(*out, "resolved", json_object_new_boolean(1));
        return 0;
}

static void test_security_opts(void **state)
{
        struct engine_image_config img = base_img();
        struct engine_spec_ctx ctx = base_ctx();
        struct engine_run_opts o = {.security_opts = L("no-new-privileges", "label=disable", "apparmor=foo")};
        struct engine_spec *s;
        char prof[160];

        snprintf(prof, sizeof(prof), "%s/profile.json", tmpdir);
        put(tmpdir, "profile.json", "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[]}");
        s = build(&o);
        assert_json(s->config, "process.noNewPrivileges", "true");
        engine_spec_free(s);
        o.security_opts = L("no-new-privileges=false");
        s = build(&o);
        assert_null(jget(s->config, "process.noNewPrivileges"));
        engine_spec_free(s);
        o.security_opts = L("no-new-privileges:true");
        s = build(&o);
        assert_json(s->config, "process.noNewPrivileges", "true");
        engine_spec_free(s);

        /* the default profile, through the resolve hook with the bounding set */
        ctx.seccomp_profile = prof;
        ctx.seccomp_resolve = fake_resolve;
        o = (struct engine_run_opts){.cap_drop = L("ALL"), .cap_add = L("CHOWN")};
        resolve_calls = 0;
        s = build_ctx(&img, &o, &ctx);
        assert_int_equal(resolve_calls, 1);
        assert_int_equal(resolve_caps, 1); /* CAP_CHOWN is 0 */
        assert_json(s->config, "linux.seccomp", "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"resolved\":true}");
        engine_spec_free(s);
        /* without a hook, runtime/seccomp-default resolves it */
        ctx.seccomp_resolve = NULL;
        s = build_ctx(&img, &o, &ctx);
        assert_string_equal(jstr(s->config, "linux.seccomp.defaultAction"), "SCMP_ACT_ERRNO");
        assert_null(jget(s->config, "linux.seccomp.resolved"));
        engine_spec_free(s);
        /* the default profile follows the capabilities: CAP_SYS_ADMIN allows mount(2) */
        ctx.seccomp_profile = DEFAULT_PROFILE_SRC;
        o = (struct engine_run_opts){.cap_add = L("SYS_ADMIN")};
        s = build_ctx(&img, &o, &ctx);
        assert_true(seccomp_allows(s->config, "mount"));
        engine_spec_free(s);
        o.security_opts = L("seccomp=unconfined");
        s = build_ctx(&img, &o, &ctx);
        assert_null(jget(s->config, "linux.seccomp"));
        engine_spec_free(s);
        {
                char bad[200];
                snprintf(bad, sizeof(bad), "seccomp=%s/resolv.conf", tmpdir);
                o.security_opts = (const char *const[]){bad, NULL};
                struct engine_spec *f = NULL;
                struct berr *err = NULL;
                assert_true(engine_spec_build(&img, &o, &ctx, &f, &err) < 0);
                assert_non_null(strstr(err->msg, "--security-opt seccomp: "));
                berr_free(err);
        }
        o.security_opts = L("bogus=1");
        build_fails(&o, "--security-opt: invalid option `bogus=1`");
        o.security_opts = L("label=weird");
        build_fails(&o, "--security-opt: invalid label option `weird`");
        o.security_opts = L("no-new-privileges=maybe");
        build_fails(&o, "--security-opt: invalid value in `no-new-privileges=maybe`");
}

/* ---- user resolution ------------------------------------------------------ */

static int resolve(const char *spec, const char *const *group_add, struct engine_user *u, struct berr **err)
{
        int fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        int r;

        assert_true(fd >= 0);
        r = engine_user_resolve(fd, spec, group_add, u, err);
        close(fd);
        return r;
}

static void assert_user(const char *spec, const char *const *ga, uint32_t uid, uint32_t gid, const char *home,
                        const uint32_t *gids, size_t n)
{
        struct engine_user u = {0};
        struct berr *err = NULL;

        if (resolve(spec, ga, &u, &err) < 0)
                print_error("%s: %s\n", spec, err->msg);
        assert_null(err);
        assert_int_equal(u.uid, uid);
        assert_int_equal(u.gid, gid);
        assert_string_equal(u.home, home);
        assert_int_equal(u.n_gids, n);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(u.gids[i], gids[i]);
        engine_user_done(&u);
}

static void assert_user_fails(const char *spec, const char *const *ga, const char *msg)
{
        struct engine_user u = {0};
        struct berr *err = NULL;

        assert_true(resolve(spec, ga, &u, &err) < 0);
        assert_string_equal(err->msg, msg);
        berr_free(err);
}

static void test_user_resolution(void **state)
{
        /* root is a member of bin and wheel: docker adds them */
        assert_user(NULL, NULL, 0, 0, "/root", (uint32_t[]){0, 1, 10}, 3);
        assert_user("app", NULL, 1000, 1000, "/home/app", (uint32_t[]){1000, 10, 44}, 3);
        assert_user("1000", NULL, 1000, 1000, "/home/app", (uint32_t[]){1000, 10, 44}, 3);
        assert_user("app:staff", NULL, 1000, 50, "/home/app", (uint32_t[]){50}, 1);
        assert_user("app:44", NULL, 1000, 44, "/home/app", (uint32_t[]){44}, 1);
        assert_user("4242:4343", NULL, 4242, 4343, "/", (uint32_t[]){4343}, 1);
        assert_user("4242", NULL, 4242, 0, "/", (uint32_t[]){0}, 1);
        assert_user("nohome", NULL, 1001, 1001, "/", (uint32_t[]){1001}, 1);
        assert_user("nobody", L("staff", "video", "777", "staff"), 65534, 65534, "/nonexistent",
                    (uint32_t[]){65534, 50, 44, 777}, 4);
        assert_user_fails("ghost", NULL, "unable to find user ghost: no matching entries in passwd file");
        /* ids past int32 in the image's passwd are errors, never 0 or -1 (CVE-2024-40635) */
        assert_user_fails(
            "bigu", NULL,
            "user bigu: uid `4294967296` or gid `1` in /etc/passwd is not in range 0-2147483647");
        assert_user_fails(
            "bigg", NULL,
            "user bigg: uid `1002` or gid `4294967296` in /etc/passwd is not in range 0-2147483647");
        assert_user_fails("app:ghosts", NULL,
                          "unable to find group ghosts: no matching entries in group file");
        assert_user_fails("nobody", L("ghosts"),
                          "--group-add: unable to find group ghosts: no matching entries in group file");
        assert_user_fails("99999999999", NULL, "--user: uids and gids must be in range 0-2147483647");
        assert_user_fails("-5", NULL, "--user: uids and gids must be in range 0-2147483647");
}

static void test_user_in_root_only(void **state)
{
        char etc[192], p[256];
        struct engine_user u = {0};
        struct berr *err = NULL;

        snprintf(etc, sizeof(etc), "%s/etc", rootfs);
        /* /etc/passwd pointing at the host's file resolves inside the rootfs: no such user there */
        snprintf(p, sizeof(p), "%s/passwd", etc);
        {
                char saved[256];
                snprintf(saved, sizeof(saved), "%s/passwd.saved", etc);
                assert_int_equal(rename(p, saved), 0);
                assert_int_equal(symlink("/etc/passwd", p), 0);
                /* the host's root exists in its passwd; in this rootfs /etc/passwd -> /etc/passwd loops */
                assert_true(resolve("root", NULL, &u, &err) < 0);
                berr_free(err);
                err = NULL;
                assert_int_equal(unlink(p), 0);
                assert_int_equal(symlink("../../../../../../etc/passwd.saved", p), 0);
                /* ".." stops at the rootfs: this is the rootfs's own passwd.saved */
                assert_user("app", NULL, 1000, 1000, "/home/app", (uint32_t[]){1000, 10, 44}, 3);
                assert_int_equal(unlink(p), 0);
                /* a FIFO is refused instead of blocking */
                assert_int_equal(mkfifo(p, 0644), 0);
                assert_user_fails("app", NULL, "`/etc/passwd` in the container's root is not a regular file");
                assert_int_equal(unlink(p), 0);
                /* missing passwd: numeric users work, names do not */
                assert_user("123", NULL, 123, 0, "/", (uint32_t[]){0}, 1);
                assert_user_fails("app", NULL, "unable to find user app: no matching entries in passwd file");
                assert_int_equal(rename(saved, p), 0);
        }
}

static void test_user_from_image(void **state)
{
        struct engine_image_config img = base_img();
        struct engine_spec_ctx ctx = base_ctx();
        struct engine_run_opts o = {.group_add = L("video")};
        struct engine_spec *s;

        img.user = "app";
        s = build_ctx(&img, &o, &ctx);
        assert_json(s->config, "process.user", "{\"uid\":1000,\"gid\":1000,\"additionalGids\":[1000,10,44]}");
        assert_true(strv_json_has(jget(s->config, "process.env"), "HOME=/home/app"));
        engine_spec_free(s);
        o.user = "nobody";
        s = build_ctx(&img, &o, &ctx);
        assert_json(s->config, "process.user", "{\"uid\":65534,\"gid\":65534,\"additionalGids\":[65534,44]}");
        engine_spec_free(s);
        o.user = "ghost";
        build_fails_ctx(&img, &o, &ctx, "unable to find user ghost: no matching entries in passwd file");
}

/* ---- environment and command ---------------------------------------------- */

static void test_env_merge(void **state)
{
        static char *img_env[] = {"PATH=/img/bin", "A=image", "B=image", "KEEP=1", NULL};
        struct engine_image_config img = base_img();
        struct engine_spec_ctx ctx = base_ctx();
        struct engine_run_opts o = {.env = L("B=user", "C=user", "FROMCALLER", "KEEP", "MISSING"),
                                    .tty = true};
        struct engine_spec *s;
        char ef[160];

        img.env = img_env;
        s = build_ctx(&img, &o, &ctx);
        /* defaults replaced in place, then -e in order, then the image's not named by -e; KEEP and
         * MISSING have no value in the caller's environment: they remove the image's variable */
        assert_json(s->config, "process.env",
                    "[\"PATH=/img/bin\",\"HOSTNAME=0123456789ab\",\"TERM=xterm\",\"B=user\",\"C=user\","
                    "\"FROMCALLER=yes\",\"A=image\",\"HOME=/root\"]");
        engine_spec_free(s);

        snprintf(ef, sizeof(ef), "%s/env.list", tmpdir);
        put(tmpdir, "env.list",
            "\xef\xbb\xbf# comment\n  C=file \n\nOTHER\nNOTSET\nD=\"quoted\"\r\nHOME=/custom\n");
        o = (struct engine_run_opts){.env_files = (const char *const[]){ef, NULL}, .env = L("D=flag")};
        s = build_ctx(&img, &o, &ctx);
        assert_json(s->config, "process.env",
                    "[\"PATH=/img/bin\",\"HOSTNAME=0123456789ab\",\"C=file \",\"OTHER=1\",\"D=flag\","
                    "\"HOME=/custom\",\"A=image\",\"B=image\",\"KEEP=1\"]");
        engine_spec_free(s);

        put(tmpdir, "env.list", "BAD KEY=1\n");
        {
                char msg[300];
                snprintf(msg, sizeof(msg),
                         "--env-file: invalid env file (%s): variable 'BAD KEY' contains whitespaces", ef);
                build_fails_ctx(&img, &o, &ctx, msg);
                put(tmpdir, "env.list", "=1\n");
                snprintf(msg, sizeof(msg), "--env-file: invalid env file (%s): no variable name on line '=1'",
                         ef);
                build_fails_ctx(&img, &o, &ctx, msg);
                put(tmpdir, "env.list", "A=\xff\xfe\n");
                snprintf(msg, sizeof(msg), "--env-file: invalid env file (%s): invalid utf8 bytes at line 1",
                         ef);
                build_fails_ctx(&img, &o, &ctx, msg);
        }
        o = (struct engine_run_opts){.env = L("=x")};
        build_fails(&o, "--env: invalid environment variable: =x");
}

static void test_args(void **state)
{
        static char *ep[] = {"/entry", "-x", NULL}, *cmd[] = {"serve", "--port", "80", NULL},
                    *empty_ep[] = {"", NULL};
        struct engine_image_config img = {.entrypoint = ep, .cmd = cmd};
        struct engine_run_opts o = {0};
        _cleanup_strv_free_ char **a = NULL;
        struct berr *err = NULL;

        assert_int_equal(engine_args_build(&img, &o, &a, NULL), 0);
        assert_string_equal(strv_length(a) == 5 ? a[3] : "", "--port");
        strv_free(TAKE_PTR(a));
        o.cmd = L("other");
        assert_int_equal(engine_args_build(&img, &o, &a, NULL), 0);
        assert_int_equal(strv_length(a), 3);
        assert_string_equal(a[2], "other");
        strv_free(TAKE_PTR(a));
        /* --entrypoint drops the image's Cmd too */
        o = (struct engine_run_opts){.entrypoint = "/bin/true"};
        assert_int_equal(engine_args_build(&img, &o, &a, NULL), 0);
        assert_int_equal(strv_length(a), 1);
        assert_string_equal(a[0], "/bin/true");
        strv_free(TAKE_PTR(a));
        o.cmd = L("a", "b");
        assert_int_equal(engine_args_build(&img, &o, &a, NULL), 0);
        assert_int_equal(strv_length(a), 3);
        strv_free(TAKE_PTR(a));
        /* --entrypoint "" clears it: the arguments alone, or nothing to run */
        o = (struct engine_run_opts){.entrypoint = "", .cmd = L("ls", "-l")};
        assert_int_equal(engine_args_build(&img, &o, &a, NULL), 0);
        assert_int_equal(strv_length(a), 2);
        assert_string_equal(a[0], "ls");
        strv_free(TAKE_PTR(a));
        o.cmd = NULL;
        assert_true(engine_args_build(&img, &o, &a, &err) < 0);
        assert_string_equal(err->msg, "no command specified");
        berr_freep(&err);
        /* an image with neither */
        img = (struct engine_image_config){0};
        o = (struct engine_run_opts){0};
        assert_true(engine_args_build(&img, &o, &a, &err) < 0);
        assert_string_equal(err->msg, "no command specified");
        berr_freep(&err);
        /* Entrypoint [""] in the image means none */
        img.entrypoint = empty_ep;
        img.cmd = cmd;
        assert_int_equal(engine_args_build(&img, &o, &a, NULL), 0);
        assert_string_equal(a[0], "serve");
}

/* ---- /etc files ----------------------------------------------------------- */

static void test_hosts(void **state)
{
        struct engine_spec_ctx ctx = base_ctx();
        const struct engine_host_entry others[] = {{"10.89.0.7", L("db", "abcdef012345")}};
        struct engine_run_opts o = {.add_hosts =
                                        L("foo:1.2.3.4", "bar=::1", "v6:[2001:db8::1]", "gw:host-gateway")};
        _cleanup_free_ char *h = NULL;
        struct berr *err = NULL;

        ctx.ips = L("10.89.0.5");
        ctx.hosts = others;
        ctx.n_hosts = 1;
        ctx.host_gateway = "10.89.0.1";
        assert_int_equal(engine_hosts_render(&o, &ctx, "myhost", false, &h, NULL), 0);
        assert_string_equal(h, "127.0.0.1\tlocalhost\n"
                               "::1\tlocalhost ip6-localhost ip6-loopback\n"
                               "fe00::\tip6-localnet\n"
                               "ff00::\tip6-mcastprefix\n"
                               "ff02::1\tip6-allnodes\n"
                               "ff02::2\tip6-allrouters\n"
                               "1.2.3.4\tfoo\n"
                               "::1\tbar\n"
                               "2001:db8::1\tv6\n"
                               "10.89.0.1\tgw\n"
                               "10.89.0.5\tmyhost web\n"
                               "10.89.0.7\tdb abcdef012345\n");
        free(TAKE_PTR(h));
        /* no address: the own names resolve to loopback */
        ctx = base_ctx();
        o = (struct engine_run_opts){0};
        assert_int_equal(engine_hosts_render(&o, &ctx, "web", false, &h, NULL), 0);
        assert_non_null(strstr(h, "\n127.0.0.1\tweb\n"));
        free(TAKE_PTR(h));
        /* --network host: the host's file plus --add-host */
        o.add_hosts = L("extra:5.6.7.8");
        assert_int_equal(engine_hosts_render(&o, &ctx, "web", true, &h, NULL), 0);
        assert_string_equal(h, "127.0.0.1 localhost\n10.1.1.1 hosty\n5.6.7.8\textra\n");
        free(TAKE_PTR(h));

        o.add_hosts = L("nohost");
        assert_true(engine_hosts_render(&o, &ctx, "web", false, &h, &err) < 0);
        assert_string_equal(err->msg, "--add-host: bad format for add-host: \"nohost\"");
        berr_freep(&err);
        o.add_hosts = L("x:999.1.1.1");
        assert_true(engine_hosts_render(&o, &ctx, "web", false, &h, &err) < 0);
        assert_string_equal(err->msg, "--add-host: invalid IP address in add-host: \"999.1.1.1\"");
        berr_freep(&err);
        o.add_hosts = L("a b:1.1.1.1");
        assert_true(engine_hosts_render(&o, &ctx, "web", false, &h, &err) < 0);
        berr_freep(&err);
        o.add_hosts = L("gw:host-gateway");
        assert_true(engine_hosts_render(&o, &ctx, "web", false, &h, &err) < 0);
        assert_string_equal(err->msg,
                            "--add-host: the host-gateway address is not known for gw:host-gateway");
        berr_freep(&err);
}

static void test_resolv_conf(void **state)
{
        struct engine_spec_ctx ctx = base_ctx();
        struct engine_run_opts o = {0};
        _cleanup_free_ char *r = NULL, *want = NULL;
        struct berr *err = NULL;

        assert_int_equal(engine_resolv_conf_render(&o, &ctx, false, &r, NULL), 0);
        assert_true(asprintf(&want,
                             "# Generated by berth from %s\nsortlist 10.0.0.0\nnameserver 10.0.0.2\n"
                             "search example.com corp\noptions edns0 trust-ad\n",
                             resolv) > 0);
        assert_string_equal(r, want);
        free(TAKE_PTR(r));
        free(TAKE_PTR(want));
        /* host network keeps the loopback resolver */
        assert_int_equal(engine_resolv_conf_render(&o, &ctx, true, &r, NULL), 0);
        assert_non_null(strstr(r, "nameserver 127.0.0.53\nnameserver 10.0.0.2\n"));
        free(TAKE_PTR(r));
        o = (struct engine_run_opts){.dns = L("9.9.9.9", "2001:db8::53"),
                                     .dns_search = L("a.test", "b.test"),
                                     .dns_options = L("ndots:2")};
        assert_int_equal(engine_resolv_conf_render(&o, &ctx, false, &r, NULL), 0);
        assert_non_null(strstr(
            r, "nameserver 9.9.9.9\nnameserver 2001:db8::53\nsearch a.test b.test\noptions ndots:2\n"));
        assert_null(strstr(r, "10.0.0.2"));
        free(TAKE_PTR(r));
        o = (struct engine_run_opts){.dns_search = L(".")};
        assert_int_equal(engine_resolv_conf_render(&o, &ctx, false, &r, NULL), 0);
        assert_null(strstr(r, "search"));
        free(TAKE_PTR(r));
        /* only loopback servers: none left, and the file says why */
        put(tmpdir, "resolv.conf", "nameserver 127.0.0.53\nnameserver ::1\n");
        o = (struct engine_run_opts){0};
        assert_int_equal(engine_resolv_conf_render(&o, &ctx, false, &r, NULL), 0);
        assert_null(strstr(r, "\nnameserver"));
        assert_non_null(strstr(r, "# No nameserver: the host's are loopback addresses"));
        free(TAKE_PTR(r));
        put(tmpdir, "resolv.conf",
            "# host comment\nnameserver 127.0.0.53\nnameserver 10.0.0.2\n"
            "search example.com corp\noptions edns0 trust-ad\nsortlist 10.0.0.0\n");
        o.dns = L("not-an-ip");
        assert_true(engine_resolv_conf_render(&o, &ctx, false, &r, &err) < 0);
        assert_string_equal(err->msg, "--dns: `not-an-ip` is not an IP address");
        berr_freep(&err);
        o = (struct engine_run_opts){.dns_search = L("bad domain")};
        assert_true(engine_resolv_conf_render(&o, &ctx, false, &r, &err) < 0);
        assert_string_equal(err->msg, "--dns-search: `bad domain` is not a valid domain");
        berr_freep(&err);
}

static void test_prepare_writes_files(void **state)
{
        struct engine_image_config img = base_img();
        struct engine_spec_ctx ctx = base_ctx();
        struct engine_run_opts o = {.workdir = "/srv/app/./data", .hostname = "box"};
        struct engine_spec *s = build_ctx(&img, &o, &ctx);
        _cleanup_free_ char *buf = NULL, *bundle = NULL, *wd = NULL;
        struct stat st;

        assert_string_equal(jstr(s->config, "process.cwd"), "/srv/app/data");
        assert_int_equal(engine_spec_prepare(s, &ctx, NULL), 0);
        {
                char p[256];
                snprintf(p, sizeof(p), "%s/hostname", files);
                assert_int_equal(read_file_at(AT_FDCWD, p, 4096, &buf, NULL, NULL), 0);
                assert_string_equal(buf, "box\n");
                free(TAKE_PTR(buf));
                snprintf(p, sizeof(p), "%s/hosts", files);
                assert_int_equal(read_file_at(AT_FDCWD, p, 4096, &buf, NULL, NULL), 0);
                assert_non_null(strstr(buf, "127.0.0.1\tbox web\n"));
                free(TAKE_PTR(buf));
        }
        assert_int_equal(asprintf(&wd, "%s/srv/app/data", rootfs) > 0, 1);
        assert_int_equal(stat(wd, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(asprintf(&bundle, "%s/bundle", tmpdir) > 0, 1);
        assert_int_equal(engine_spec_write_bundle(s, bundle, NULL), 0);
        {
                char p[256];
                struct oci_spec *parsed = NULL;
                struct berr *err = NULL;
                snprintf(p, sizeof(p), "%s/config.json", bundle);
                assert_int_equal(stat(p, &st), 0);
                assert_int_equal(st.st_mode & 0777, 0600);
                /* what berth-runtime's parser accepts */
                if (oci_spec_load(bundle, &parsed, &err) < 0)
                        print_error("%s\n", err->msg);
                assert_non_null(parsed);
                oci_spec_free(parsed);
        }
        engine_spec_free(s);
        o.workdir = "relative";
        build_fails(
            &o, "--workdir: the working directory 'relative' is invalid, it needs to be an absolute path");
}

/* ---- resources ------------------------------------------------------------ */

static void test_sizes(void **state)
{
        int64_t v;
        struct berr *err = NULL;

        assert_int_equal(engine_parse_size("--memory", "512m", &v, NULL), 0);
        assert_int_equal(v, 512 * 1024 * 1024);
        assert_int_equal(engine_parse_size("--memory", "1G", &v, NULL), 0);
        assert_int_equal(v, 1024 * 1024 * 1024);
        assert_int_equal(engine_parse_size("--memory", "1.5k", &v, NULL), 0);
        assert_int_equal(v, 1536);
        assert_int_equal(engine_parse_size("--memory", "10 MB", &v, NULL), 0);
        assert_int_equal(v, 10 * 1024 * 1024);
        assert_int_equal(engine_parse_size("--memory", "2KiB", &v, NULL), 0);
        assert_int_equal(v, 2048);
        assert_int_equal(engine_parse_size("--memory", "100", &v, NULL), 0);
        assert_int_equal(v, 100);
        assert_int_equal(engine_parse_size("--memory", "7b", &v, NULL), 0);
        assert_int_equal(v, 7);
        assert_true(engine_parse_size("--memory", "12q", &v, &err) < 0);
        assert_string_equal(err->msg, "--memory: invalid size `12q`");
        berr_freep(&err);
        assert_true(engine_parse_size("--memory", "-1m", &v, NULL) < 0);
        assert_true(engine_parse_size("--memory", "m", &v, NULL) < 0);
        assert_true(engine_parse_size("--memory", "1kbb", &v, NULL) < 0);
        assert_true(engine_parse_size("--memory", "1mx", &v, NULL) < 0);
        assert_true(engine_parse_size("--memory", "99999999999p", &v, NULL) < 0);
}

static void test_resources(void **state)
{
        struct engine_run_opts o = {.memory = "512m",
                                    .memory_reservation = "256m",
                                    .cpus = "1.5",
                                    .cpu_shares = "512",
                                    .pids_limit = "100",
                                    .cpuset_cpus = "0",
                                    .cpuset_mems = "0"};
        struct engine_spec *s = build(&o);
        json_object *r = jget(s->config, "linux.resources");

        assert_json(r, "memory", "{\"limit\":536870912,\"reservation\":268435456,\"swap\":1073741824}");
        assert_json(r, "cpu",
                    "{\"shares\":512,\"quota\":150000,\"period\":100000,\"cpus\":\"0\",\"mems\":\"0\"}");
        assert_json(r, "pids", "{\"limit\":100}");
        engine_spec_free(s);

        o = (struct engine_run_opts){.memory = "1g",
                                     .memory_swap = "-1",
                                     .cpu_quota = "50000",
                                     .cpu_period = "100000",
                                     .pids_limit = "0"};
        s = build(&o);
        r = jget(s->config, "linux.resources");
        assert_json(r, "memory", "{\"limit\":1073741824}");
        assert_json(r, "cpu", "{\"period\":100000,\"quota\":50000}");
        assert_json(r, "pids", "{\"limit\":-1}");
        engine_spec_free(s);

        o = (struct engine_run_opts){.memory = "1g", .memory_swap = "3g"};
        s = build(&o);
        assert_json(s->config, "linux.resources.memory", "{\"limit\":1073741824,\"swap\":3221225472}");
        engine_spec_free(s);

        o = (struct engine_run_opts){.memory = "12q"};
        build_fails(&o, "--memory: invalid size `12q`");
        o = (struct engine_run_opts){.memory = "4m"};
        build_fails(&o, "--memory: minimum memory limit allowed is 6MB");
        o = (struct engine_run_opts){.memory = "64m", .memory_swap = "32m"};
        build_fails(&o, "--memory-swap: must be larger than or equal to --memory");
        o = (struct engine_run_opts){.memory_swap = "1g"};
        build_fails(&o, "--memory-swap: needs --memory");
        o = (struct engine_run_opts){.memory = "64m", .memory_reservation = "128m"};
        build_fails(&o, "--memory-reservation: must not be larger than --memory");
        o = (struct engine_run_opts){.cpus = "0"};
        build_fails(&o, "--cpus: must be > 0");
        o = (struct engine_run_opts){.cpus = "0.0000000001"};
        build_fails(&o, "--cpus: `0.0000000001` is too precise");
        o = (struct engine_run_opts){.cpus = "1,5"};
        build_fails(&o, "--cpus: invalid number `1,5`");
        o = (struct engine_run_opts){.cpus = "100000"};
        {
                struct engine_spec *f = NULL;
                struct berr *err = NULL;
                struct engine_image_config img = base_img();
                struct engine_spec_ctx ctx = base_ctx();
                assert_true(engine_spec_build(&img, &o, &ctx, &f, &err) < 0);
                assert_non_null(strstr(err->msg, "--cpus: range of CPUs is from 0.01 to"));
                berr_free(err);
        }
        o = (struct engine_run_opts){.cpus = "1", .cpu_period = "100000"};
        build_fails(&o, "conflicting options: --cpus and --cpu-period cannot both be set");
        o = (struct engine_run_opts){.cpu_period = "10"};
        build_fails(&o, "--cpu-period: can not be less than 1ms (1000) or larger than 1s (1000000)");
        o = (struct engine_run_opts){.cpu_quota = "999"};
        build_fails(&o, "--cpu-quota: can not be less than 1ms (1000)");
        o = (struct engine_run_opts){.cpu_shares = "-2"};
        build_fails(&o, "--cpu-shares: -2 is out of range (0 to 9223372036854775807)");
        o = (struct engine_run_opts){.cpuset_cpus = "0-"};
        build_fails(&o, "--cpuset-cpus: invalid list `0-`");
        o = (struct engine_run_opts){.cpuset_cpus = "4000"};
        {
                struct engine_spec *f = NULL;
                struct berr *err = NULL;
                struct engine_image_config img = base_img();
                struct engine_spec_ctx ctx = base_ctx();
                assert_true(engine_spec_build(&img, &o, &ctx, &f, &err) < 0);
                assert_non_null(strstr(err->msg, "--cpuset-cpus: requested 4000 are not available"));
                berr_free(err);
        }
        o = (struct engine_run_opts){.pids_limit = "many"};
        build_fails(&o, "--pids-limit: invalid number `many`");
        o = (struct engine_run_opts){.shm_size = "0"};
        build_fails(&o, "--shm-size: must be greater than 0");
        o = (struct engine_run_opts){.shm_size = "1x"};
        build_fails(&o, "--shm-size: invalid size `1x`");
        o = (struct engine_run_opts){.shm_size = "128m"};
        s = build(&o);
        assert_true(strv_json_has(jget(mount_at(s->config, "/dev/shm"), "options"), "size=134217728"));
        engine_spec_free(s);
}

static void test_devices(void **state)
{
        struct engine_run_opts o = {.devices = L("/dev/null:/dev/mynull:rw", "/dev/zero")};
        struct engine_spec *s = build(&o);
        json_object *c = s->config;
        struct stat st;
        char want[256];

        assert_int_equal(stat("/dev/null", &st), 0);
        snprintf(want, sizeof(want),
                 "{\"path\":\"/dev/mynull\",\"type\":\"c\",\"major\":1,\"minor\":3,"
                 "\"fileMode\":%u,\"uid\":%u,\"gid\":%u}",
                 st.st_mode & 07777, st.st_uid, st.st_gid);
        assert_json(c, "linux.devices.0", want);
        assert_string_equal(jstr(c, "linux.devices.1.path"), "/dev/zero");
        assert_json(c, "linux.resources.devices.8",
                    "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,"
                    "\"access\":\"rw\"}");
        assert_json(c, "linux.resources.devices.9",
                    "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":5,"
                    "\"access\":\"rwm\"}");
        engine_spec_free(s);
        o.devices = L("/dev/null:/dev/x:rwx");
        build_fails(&o, "--device: bad mode `rwx` in `/dev/null:/dev/x:rwx`");
        o.devices = L("/dev/null:relative");
        build_fails(&o, "--device: `relative` is not an absolute path");
        o.devices = L("/etc/hostname");
        if (access("/etc/hostname", F_OK) == 0)
                build_fails(&o, "--device: `/etc/hostname` is not a device");
        o.devices = L("a:b:c:d");
        build_fails(&o, "--device: invalid device specification: a:b:c:d");
}

static void test_sysctls(void **state)
{
        struct engine_run_opts o = {
            .sysctls = L("net.ipv4.ip_forward=1", "kernel.shmmax=100", "fs.mqueue.msg_max=20")};
        struct engine_spec *s = build(&o);

        assert_string_equal(sysctl(s->config, "net.ipv4.ip_forward"), "1");
        assert_string_equal(sysctl(s->config, "kernel.shmmax"), "100");
        engine_spec_free(s);
        o.sysctls = L("kernel.hostname=x");
        build_fails(
            &o, "--sysctl: `kernel.hostname` is not a namespaced sysctl (allowed: kernel.msg*, kernel.sem, "
                "kernel.shm*, fs.mqueue.*, net.*)");
        o.sysctls = L("net.ipv4.ip_forward");
        build_fails(&o, "--sysctl: `net.ipv4.ip_forward` is not KEY=VALUE");
        o = (struct engine_run_opts){.sysctls = L("net.ipv4.ip_forward=1"), .network = "host"};
        build_fails(&o, "--sysctl: `net.ipv4.ip_forward` is not allowed when the network namespace is shared "
                        "(--network host)");
        o = (struct engine_run_opts){.sysctls = L("kernel.sem=1"), .ipc = "host"};
        build_fails(&o,
                    "--sysctl: `kernel.sem` is not allowed when the IPC namespace is shared (--ipc host)");
        /* no default network sysctls in the host's network namespace */
        o = (struct engine_run_opts){.network = "host"};
        s = build(&o);
        assert_json(s->config, "linux.sysctl", "{}");
        engine_spec_free(s);
}

/* ---- namespaces ----------------------------------------------------------- */

static void test_namespaces(void **state)
{
        struct engine_image_config img = base_img();
        struct engine_spec_ctx ctx = base_ctx();
        struct engine_run_opts o = {.network = "host", .pid = "host", .uts = "host", .ipc = "host"};
        struct engine_spec *s;
        char hn[256];

        s = build_ctx(&img, &o, &ctx);
        assert_json(s->config, "linux.namespaces", "[{\"type\":\"mount\"}]");
        assert_null(jget(s->config, "hostname"));
        assert_int_equal(gethostname(hn, sizeof(hn)), 0);
        assert_string_equal(s->hostname, hn);
        assert_json(mount_at(s->config, "/dev/shm"), "",
                    "{\"destination\":\"/dev/shm\",\"type\":\"bind\",\"source\":\"/dev/shm\","
                    "\"options\":[\"rbind\",\"rprivate\"]}");
        /* the host's /etc/hosts */
        assert_string_equal(s->hosts, "127.0.0.1 localhost\n10.1.1.1 hosty\n");
        engine_spec_free(s);

        o = (struct engine_run_opts){.network = "container:db", .pid = "container:db", .ipc = "container:db"};
        build_fails_ctx(&img, &o, &ctx,
                        "--network container:db: the namespace path of the container is not known");
        ctx.ns_paths[OCI_NS_NET] = "/proc/42/ns/net";
        ctx.ns_paths[OCI_NS_PID] = "/proc/42/ns/pid";
        ctx.ns_paths[OCI_NS_IPC] = "/proc/42/ns/ipc";
        ctx.shm_path = "/var/lib/berth/db/shm";
        ctx.hostname = "dbhost";
        s = build_ctx(&img, &o, &ctx);
        assert_json(
            s->config, "linux.namespaces",
            "[{\"type\":\"mount\"},{\"type\":\"network\",\"path\":\"/proc/42/ns/net\"},{\"type\":\"uts\"},"
            "{\"type\":\"pid\",\"path\":\"/proc/42/ns/pid\"},{\"type\":\"ipc\",\"path\":\"/proc/42/ns/"
            "ipc\"}]");
        assert_string_equal(jstr(s->config, "hostname"), "dbhost");
        assert_string_equal(jstr(mount_at(s->config, "/dev/shm"), "source"), "/var/lib/berth/db/shm");
        /* the other container's files: nothing of ours to write */
        assert_null(s->hosts);
        assert_null(s->resolv_conf);
        engine_spec_free(s);
        o.hostname = "x";
        build_fails_ctx(&img, &o, &ctx, "conflicting options: hostname and the network mode");
        o = (struct engine_run_opts){.network = "container:db", .add_hosts = L("a:1.1.1.1")};
        build_fails_ctx(&img, &o, &ctx,
                        "conflicting options: custom host-to-IP mapping and the network mode");
        o = (struct engine_run_opts){.network = "container:db", .dns = L("1.1.1.1")};
        build_fails_ctx(&img, &o, &ctx, "conflicting options: dns and the network mode");

        /* a bridge network's namespace, joined by path */
        ctx = base_ctx();
        ctx.ns_paths[OCI_NS_NET] = "/run/berth/netns/abc";
        o = (struct engine_run_opts){.network = "mynet", .ipc = "none"};
        s = build_ctx(&img, &o, &ctx);
        assert_json(s->config, "linux.namespaces.1",
                    "{\"type\":\"network\",\"path\":\"/run/berth/netns/abc\"}");
        assert_null(mount_at(s->config, "/dev/shm"));
        engine_spec_free(s);

        o = (struct engine_run_opts){.uts = "host", .hostname = "x"};
        build_fails(&o, "conflicting options: hostname and the UTS mode");
        o = (struct engine_run_opts){.userns = "private"};
        build_fails(&o, "--userns: `private` is not supported (only host)");
        o = (struct engine_run_opts){.pid = "bogus"};
        build_fails(&o, "--pid: invalid mode `bogus`");
        o = (struct engine_run_opts){.ipc = "container:"};
        build_fails(&o, "--ipc: `container:` names no container");
        o = (struct engine_run_opts){.cgroupns = "private"};
        s = build(&o);
        assert_string_equal(jstr(s->config, "linux.namespaces.5.type"), "cgroup");
        engine_spec_free(s);
        o = (struct engine_run_opts){
            .hostname = "this-name-is-far-too-long-for-a-linux-host-name-which-allows-64-bytes"};
        build_fails(
            &o, "--hostname: `this-name-is-far-too-long-for-a-linux-host-name-which-allows-64-bytes` is too "
                "long (maximum 64 bytes)");
        o = (struct engine_run_opts){.hostname = "bad name"};
        build_fails(&o, "--hostname: `bad name` is not a valid host name");
}

/* ---- mounts --------------------------------------------------------------- */

static void test_volume_parse(void **state)
{
        struct engine_mount m;
        struct berr *err = NULL;

        assert_int_equal(engine_mount_parse_volume("/host/dir:/data:ro,Z,rshared", &m, NULL), 0);
        assert_int_equal(m.type, ENGINE_MOUNT_BIND);
        assert_string_equal(m.source, "/host/dir");
        assert_string_equal(m.destination, "/data");
        assert_true(m.readonly);
        assert_string_equal(m.propagation, "rshared");
        assert_true(m.create_source);
        engine_mount_done(&m);
        assert_int_equal(engine_mount_parse_volume("cache:/var/cache/:nocopy", &m, NULL), 0);
        assert_int_equal(m.type, ENGINE_MOUNT_VOLUME);
        assert_string_equal(m.volume_name, "cache");
        assert_null(m.source);
        assert_string_equal(m.destination, "/var/cache");
        assert_true(m.nocopy);
        assert_false(m.readonly);
        engine_mount_done(&m);
        assert_int_equal(engine_mount_parse_volume("/anon", &m, NULL), 0);
        assert_int_equal(m.type, ENGINE_MOUNT_VOLUME);
        assert_null(m.volume_name);
        engine_mount_done(&m);

        assert_true(engine_mount_parse_volume("/a:/b:bogus", &m, &err) < 0);
        assert_string_equal(err->msg, "--volume: invalid mode: bogus");
        berr_freep(&err);
        assert_true(engine_mount_parse_volume("/a:/b:ro,rw", &m, &err) < 0);
        berr_freep(&err);
        assert_true(engine_mount_parse_volume(":/b", &m, &err) < 0);
        assert_string_equal(err->msg, "--volume: invalid volume specification: ':/b'");
        berr_freep(&err);
        assert_true(engine_mount_parse_volume("a:b:c:d", &m, &err) < 0);
        berr_freep(&err);
        assert_true(engine_mount_parse_volume("/a:rel", &m, &err) < 0);
        assert_string_equal(err->msg,
                            "--volume: invalid mount path `rel` in `/a:rel`: mount path must be absolute");
        berr_freep(&err);
        assert_true(engine_mount_parse_volume("/a:/", &m, &err) < 0);
        berr_freep(&err);
        assert_true(engine_mount_parse_volume("/a:/x/../..", &m, &err) < 0);
        assert_string_equal(err->msg,
                            "--volume: invalid specification `/a:/x/../..`: destination can't be '/'");
        berr_freep(&err);
        /* ".." at the root stays there, as Go's filepath.Clean: mounts are ordered by depth */
        assert_int_equal(engine_mount_parse_volume("/a:/../../x/./y/..//z/../../w/", &m, NULL), 0);
        assert_string_equal(m.destination, "/w");
        engine_mount_done(&m);
        assert_int_equal(engine_mount_parse_volume("/a:/a/b/c/../../..d/e", &m, NULL), 0);
        assert_string_equal(m.destination, "/a/..d/e");
        engine_mount_done(&m);
        assert_true(engine_mount_parse_volume("bad$name:/x", &m, &err) < 0);
        assert_non_null(strstr(err->msg, "includes invalid characters for a local volume name"));
        berr_freep(&err);
        assert_true(engine_mount_parse_volume("/a:/b:nocopy", &m, &err) < 0);
        berr_freep(&err);
}

static void test_mount_parse(void **state)
{
        struct engine_mount m;
        struct berr *err = NULL;

        assert_int_equal(
            engine_mount_parse_mount("type=bind,src=/tmp,dst=/x,readonly,bind-propagation=rslave", &m, NULL),
            0);
        assert_int_equal(m.type, ENGINE_MOUNT_BIND);
        assert_string_equal(m.source, "/tmp");
        assert_true(m.readonly);
        assert_false(m.create_source);
        assert_string_equal(m.propagation, "rslave");
        engine_mount_done(&m);
        assert_int_equal(engine_mount_parse_mount("target=/data,source=vol1,volume-nocopy=true", &m, NULL),
                         0);
        assert_int_equal(m.type, ENGINE_MOUNT_VOLUME);
        assert_string_equal(m.volume_name, "vol1");
        assert_true(m.nocopy);
        engine_mount_done(&m);
        assert_int_equal(
            engine_mount_parse_mount("type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770", &m, NULL), 0);
        assert_int_equal(m.tmpfs_size, 1048576);
        assert_int_equal(m.tmpfs_mode, 01770);
        engine_mount_done(&m);

        assert_true(engine_mount_parse_mount("type=bind,src=/tmp,dst=/x,color=red", &m, &err) < 0);
        assert_string_equal(err->msg,
                            "--mount: unexpected key 'color' in 'type=bind,src=/tmp,dst=/x,color=red'");
        berr_freep(&err);
        assert_true(engine_mount_parse_mount("type=bind,src=/nonexistent/xyz,dst=/x", &m, &err) < 0);
        assert_string_equal(err->msg, "--mount: bind source path does not exist: /nonexistent/xyz");
        berr_freep(&err);
        assert_true(engine_mount_parse_mount("type=bind,src=/tmp,dst=/x,volume-nocopy", &m, &err) < 0);
        assert_string_equal(
            err->msg,
            "--mount: volume-* options need type=volume: `type=bind,src=/tmp,dst=/x,volume-nocopy`");
        berr_freep(&err);
        assert_true(engine_mount_parse_mount("type=bind,src=/tmp", &m, &err) < 0);
        assert_string_equal(err->msg, "--mount: target is required in `type=bind,src=/tmp`");
        berr_freep(&err);
        assert_true(engine_mount_parse_mount("type=tmpfs,dst=/t,readonly=perhaps", &m, &err) < 0);
        berr_freep(&err);
        assert_true(engine_mount_parse_mount("type=nfs,dst=/t", &m, &err) < 0);
        assert_string_equal(err->msg, "--mount: unsupported mount type `nfs`");
        berr_freep(&err);
}

static void test_mounts_in_spec(void **state)
{
        struct engine_mount m[4];
        struct engine_run_opts o = {.tmpfs = L("/run:rw,size=64m,exec", "/tmp"), .read_only = true};
        struct engine_spec *s;
        json_object *c;
        char src[160];

        snprintf(src, sizeof(src), "%s/newdir", tmpdir);
        assert_int_equal(engine_mount_parse_volume("/srv/a/b:/a/b", &m[0], NULL), 0);
        assert_int_equal(engine_mount_parse_volume("/srv:/a:ro,shared", &m[1], NULL), 0);
        assert_int_equal(
            engine_mount_parse_mount("type=tmpfs,dst=/cache,tmpfs-size=1k,readonly", &m[2], NULL), 0);
        assert_int_equal(engine_mount_parse_volume("data:/etc/hosts", &m[3], NULL), 0);
        m[3].source = strdup("/var/lib/berth/volumes/data/_data");
        free(m[0].source);
        m[0].source = strdup(src);
        o.mounts = m;
        o.n_mounts = 4;
        s = build(&o);
        c = s->config;
        assert_json(c, "root.readonly", "true");
        assert_true(strv_json_has(jget(mount_at(c, "/sys/fs/cgroup"), "options"), "ro"));
        assert_true(strv_json_has(jget(mount_at(c, "/dev/mqueue"), "options"), "ro") == false);
        assert_true(strv_json_has(jget(mount_at(c, "/dev/shm"), "options"), "ro") == false);
        assert_json(mount_at(c, "/run"), "options",
                    "[\"nosuid\",\"nodev\",\"rprivate\",\"rw\",\"size=64m\",\"exec\"]");
        assert_json(mount_at(c, "/tmp"), "options", "[\"noexec\",\"nosuid\",\"nodev\",\"rprivate\"]");
        assert_json(mount_at(c, "/cache"), "options",
                    "[\"noexec\",\"nosuid\",\"nodev\",\"rprivate\",\"size=1024\",\"ro\"]");
        assert_json(mount_at(c, "/a"), "options", "[\"rbind\",\"rro\",\"shared\"]");
        assert_string_equal(jstr(c, "linux.rootfsPropagation"), "shared");
        /* the user's volume on /etc/hosts replaces berth's file */
        assert_string_equal(jstr(mount_at(c, "/etc/hosts"), "source"), "/var/lib/berth/volumes/data/_data");
        assert_json(mount_at(c, "/etc/resolv.conf"), "options", "[\"rbind\",\"rro\",\"rprivate\"]");
        /* parents before children: /a (depth 1) before /a/b (depth 2) */
        {
                json_object *ms = jget(c, "mounts");
                ssize_t ia = -1, iab = -1;
                for (size_t i = 0; i < json_object_array_length(ms); i++) {
                        const char *d = jstr(json_object_array_get_idx(ms, i), "destination");
                        if (streq(d, "/a"))
                                ia = (ssize_t)i;
                        if (streq(d, "/a/b"))
                                iab = (ssize_t)i;
                }
                assert_true(ia >= 0 && iab > ia);
        }
        assert_int_equal(strv_length(s->bind_sources_to_create), 1);
        assert_string_equal(s->bind_sources_to_create[0], src);
        engine_spec_free(s);

        o = (struct engine_run_opts){.tmpfs = L("/x", "/x/")};
        build_fails(&o, "duplicate mount point: /x");
        o = (struct engine_run_opts){.tmpfs = L("/x:bogus")};
        build_fails(&o, "--tmpfs: invalid tmpfs option `bogus`");
        o = (struct engine_run_opts){.tmpfs = L("rel")};
        build_fails(&o, "--tmpfs: invalid mount path `rel` in `rel`: mount path must be absolute");
        for (size_t i = 0; i < 4; i++)
                engine_mount_done(&m[i]);
        /* a user /dev replaces everything under it */
        assert_int_equal(engine_mount_parse_mount("type=tmpfs,dst=/dev", &m[0], NULL), 0);
        o = (struct engine_run_opts){.mounts = m, .n_mounts = 1};
        s = build(&o);
        assert_null(mount_at(s->config, "/dev/pts"));
        assert_null(mount_at(s->config, "/dev/shm"));
        assert_string_equal(jstr(mount_at(s->config, "/dev"), "type"), "tmpfs");
        engine_spec_free(s);
        engine_mount_done(&m[0]);
}

static void test_anonymous_volumes(void **state)
{
        static char *vols[] = {"/data", "/logs/", "/cache", "/../../../logs", "/../../srv/../cache", NULL};
        static char *bad[] = {"/ok", "/../..", NULL};
        struct engine_image_config bad_img = {.volumes = bad};
        struct berr *err = NULL;
        struct engine_image_config img = {.volumes = vols};
        struct engine_mount m;
        struct engine_run_opts o = {.tmpfs = L("/cache:size=1m")};
        _cleanup_strv_free_ char **out = NULL;

        assert_int_equal(engine_mount_parse_volume("/host:/data", &m, NULL), 0);
        o.mounts = &m;
        o.n_mounts = 1;
        assert_int_equal(engine_spec_anonymous_volumes(&img, &o, &out, NULL), 0);
        assert_int_equal(strv_length(out), 1);
        assert_string_equal(out[0], "/logs");
        strv_free(out);
        out = NULL;
        assert_true(engine_spec_anonymous_volumes(&bad_img, &o, &out, &err) < 0);
        assert_string_equal(err->msg,
                            "image volume: invalid specification `/../..`: destination can't be '/'");
        berr_freep(&err);
        engine_mount_done(&m);
}

/* ---- the rest ------------------------------------------------------------- */

static void test_misc_flags(void **state)
{
        struct engine_image_config img = base_img();
        struct engine_spec_ctx ctx = base_ctx();
        struct engine_run_opts o = {.labels = L("a=flag", "only"),
                                    .annotations = L("org.x=1"),
                                    .init = true,
                                    .tty = true,
                                    .console_height = 24,
                                    .console_width = 80,
                                    .cgroup_parent = "/mine"};
        static char *labels[] = {"a", "image", "b", "image", NULL};
        struct engine_spec *s;
        char init[160];

        snprintf(init, sizeof(init), "%s/fake-init", tmpdir);
        put(tmpdir, "fake-init", "#!/bin/sh\n");
        assert_int_equal(chmod(init, 0755), 0);
        ctx.init_path = init;
        img.labels = labels;
        img.stop_signal = "SIGQUIT";
        s = build_ctx(&img, &o, &ctx);
        assert_int_equal(s->stop_signal, SIGQUIT);
        assert_int_equal(strv_length(s->labels), 6);
        assert_string_equal(s->labels[1], "flag");
        assert_string_equal(s->labels[3], "image");
        assert_string_equal(s->labels[4], "only");
        assert_string_equal(s->labels[5], "");
        assert_json(s->config, "annotations", "{\"org.x\":\"1\"}");
        assert_json(s->config, "process.args", "[\"/sbin/berth-init\",\"--\",\"sh\"]");
        assert_string_equal(jstr(mount_at(s->config, "/sbin/berth-init"), "source"), init);
        assert_json(s->config, "process.terminal", "true");
        assert_json(s->config, "process.consoleSize", "{\"height\":24,\"width\":80}");
        assert_true(strv_json_has(jget(s->config, "process.env"), "TERM=xterm"));
        assert_string_equal(jstr(s->config, "linux.cgroupsPath"), "/mine/0123456789abcdef0123");
        engine_spec_free(s);

        /* --init is for a PID namespace of the container's own only */
        o = (struct engine_run_opts){.init = true, .pid = "host", .stop_signal = "9"};
        s = build_ctx(&img, &o, &ctx);
        assert_json(s->config, "process.args", "[\"sh\"]");
        assert_int_equal(s->stop_signal, SIGKILL);
        engine_spec_free(s);
        o = (struct engine_run_opts){.stop_signal = "term"};
        s = build(&o);
        assert_int_equal(s->stop_signal, SIGTERM);
        engine_spec_free(s);

        o = (struct engine_run_opts){.stop_signal = "SIGNOPE"};
        build_fails(&o, "--stop-signal: invalid signal `SIGNOPE`");
        o = (struct engine_run_opts){.annotations = L("novalue")};
        build_fails(&o, "--annotation: `novalue` is not KEY=VALUE");
        o = (struct engine_run_opts){.labels = L("=x")};
        build_fails(&o, "--label: `=x` is not KEY=VALUE");
        o = (struct engine_run_opts){.init = true};
        ctx.init_path = "/nonexistent/init";
        build_fails_ctx(&img, &o, &ctx, "--init: `/nonexistent/init`: No such file or directory");
        o = (struct engine_run_opts){.cgroup_parent = "../up"};
        build_fails(&o, "--cgroup-parent: `../up` must be an absolute path without ..");
}

static void test_tmpfs_options(void **state)
{
        _cleanup_strv_free_ char **o = NULL;
        struct berr *err = NULL;

        assert_int_equal(engine_tmpfs_options("--tmpfs", "size=1m,mode=700,size=2m,defaults,ro", &o, NULL),
                         0);
        assert_int_equal(strv_length(o), 7);
        assert_string_equal(o[4], "mode=700");
        assert_string_equal(o[5], "size=2m");
        assert_string_equal(o[6], "ro");
        assert_true(engine_tmpfs_options("--tmpfs", "tmpcopyup", &o, &err) < 0);
        assert_string_equal(err->msg, "--tmpfs: invalid tmpfs option `tmpcopyup`");
        berr_free(err);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_defaults_match_docker),
            cmocka_unit_test(test_rlimits_clamped),
            cmocka_unit_test(test_ulimit_errors),
            cmocka_unit_test(test_caps),
            cmocka_unit_test(test_privileged),
            cmocka_unit_test(test_security_opts),
            cmocka_unit_test(test_user_resolution),
            cmocka_unit_test(test_user_in_root_only),
            cmocka_unit_test(test_user_from_image),
            cmocka_unit_test(test_env_merge),
            cmocka_unit_test(test_args),
            cmocka_unit_test(test_hosts),
            cmocka_unit_test(test_resolv_conf),
            cmocka_unit_test(test_prepare_writes_files),
            cmocka_unit_test(test_sizes),
            cmocka_unit_test(test_resources),
            cmocka_unit_test(test_devices),
            cmocka_unit_test(test_sysctls),
            cmocka_unit_test(test_namespaces),
            cmocka_unit_test(test_volume_parse),
            cmocka_unit_test(test_mount_parse),
            cmocka_unit_test(test_mounts_in_spec),
            cmocka_unit_test(test_anonymous_volumes),
            cmocka_unit_test(test_misc_flags),
            cmocka_unit_test(test_tmpfs_options),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
