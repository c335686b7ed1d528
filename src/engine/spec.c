/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.json for `berth run`: moby's DefaultLinuxSpec() and the changes its
 * daemon/oci_linux.go makes for each HostConfig field, rebuilt from the same
 * flags. Every value is validated before anything is built.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <linux/magic.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "runtime/seccomp-default.h"
#include "spec-internal.h"

/* docker's linuxMinMemory */
#define MIN_MEMORY (6 * 1024 * 1024)
/* podman's RLimitDefaultValue, for RLIMIT_NOFILE and RLIMIT_NPROC */
#define RLIMIT_DEFAULT   1048576
#define HOST_DEVICES_MAX 4096
#define HOSTNAME_MAX     64

enum ns_kind { NS_PRIVATE, NS_HOST, NS_CONTAINER };

struct build {
        const struct engine_image_config *img;
        const struct engine_run_opts *opts;
        const struct engine_spec_ctx *ctx;
        struct engine_spec *out;
        enum ns_kind net, ipc, pid, uts, cgroupns;
        bool ipc_none;
        uint64_t caps;
        bool no_new_privs, seccomp_unconfined, writable_cgroups, writable_cgroups_set;
        const char *seccomp_path;
        const char *apparmor;
        json_object *mounts_default, *mounts_user, *dev_rules, *devices;
        char **user_dests; /* destinations of -v/--mount/--tmpfs */
        char *rootfs_propagation;
};

static const char *const default_caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE",
};

static const char *const default_masked[] = {
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

static const char *const default_readonly[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

void engine_spec_free(struct engine_spec *s)
{
        if (!s)
                return;
        json_object_put(s->config);
        free(s->hostname);
        strv_free(s->labels);
        free(s->workdir);
        free(s->hosts);
        free(s->hostname_file);
        free(s->resolv_conf);
        strv_free(s->bind_sources_to_create);
        free(s);
}

static void build_done(struct build *b)
{
        json_object_put(b->mounts_default);
        json_object_put(b->mounts_user);
        json_object_put(b->dev_rules);
        json_object_put(b->devices);
        strv_free(b->user_dests);
        free(b->rootfs_propagation);
}

/* ---- namespaces ---------------------------------------------------------- */

static int ns_mode(const char *flag, const char *v, bool allow_container, bool allow_private_names,
                   enum ns_kind *out, struct berr **err)
{
        if (!v || !*v || streq(v, "private") || (allow_private_names && (streq(v, "shareable")))) {
                *out = NS_PRIVATE;
                return 0;
        }
        if (streq(v, "host")) {
                *out = NS_HOST;
                return 0;
        }
        if (allow_container && strneq(v, "container:", 10)) {
                if (!v[10])
                        return eng_err(err, EINVAL, "%s: `%s` names no container", flag, v);
                *out = NS_CONTAINER;
                return 0;
        }
        return eng_err(err, EINVAL, "%s: invalid mode `%s`", flag, v);
}

static bool cgroup_unified(void)
{
        struct statfs st;

        return statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

static int parse_namespaces(struct build *b, struct berr **err)
{
        const struct engine_run_opts *o = b->opts;
        const char *net = o->network;

        if (net && (streq(net, "none") || streq(net, "bridge") || streq(net, "default")))
                net = NULL;
        /* Any other name is a network: a private namespace the engine attaches. */
        if (net && !streq(net, "host") && !strneq(net, "container:", 10))
                net = NULL;
        if (ns_mode("--network", net, true, false, &b->net, err) < 0 ||
            ns_mode("--pid", o->pid, true, false, &b->pid, err) < 0 ||
            ns_mode("--uts", o->uts, false, false, &b->uts, err) < 0)
                return -EINVAL;
        if (o->ipc && streq(o->ipc, "none")) {
                b->ipc = NS_PRIVATE;
                b->ipc_none = true;
        } else if (ns_mode("--ipc", o->ipc, true, true, &b->ipc, err) < 0) {
                return -EINVAL;
        }
        if (o->userns && *o->userns && !streq(o->userns, "host"))
                return eng_err(err, ENOTSUP, "--userns: `%s` is not supported (only host)", o->userns);
        /* docker: private on cgroup v2 (even when privileged), the host's on v1 and hybrid hosts */
        if (!o->cgroupns)
                b->cgroupns = cgroup_unified() ? NS_PRIVATE : NS_HOST;
        else if (streq(o->cgroupns, "host"))
                b->cgroupns = NS_HOST;
        else if (streq(o->cgroupns, "private"))
                b->cgroupns = NS_PRIVATE;
        else
                return eng_err(err, EINVAL, "--cgroupns: invalid mode `%s`", o->cgroupns);

        if (b->net == NS_CONTAINER) {
                if (o->hostname)
                        return eng_err(err, EINVAL, "conflicting options: hostname and the network mode");
                if (o->add_hosts && *o->add_hosts)
                        return eng_err(err, EINVAL,
                                       "conflicting options: custom host-to-IP mapping and the network mode");
                if ((o->dns && *o->dns) || (o->dns_search && *o->dns_search) ||
                    (o->dns_options && *o->dns_options))
                        return eng_err(err, EINVAL, "conflicting options: dns and the network mode");
        }
        if (b->uts == NS_HOST && o->hostname)
                return eng_err(err, EINVAL, "conflicting options: hostname and the UTS mode");
        if (b->net == NS_CONTAINER && !b->ctx->ns_paths[OCI_NS_NET])
                return eng_err(err, EINVAL, "--network %s: the namespace path of the container is not known",
                               o->network);
        if (b->pid == NS_CONTAINER && !b->ctx->ns_paths[OCI_NS_PID])
                return eng_err(err, EINVAL, "--pid %s: the namespace path of the container is not known",
                               o->pid);
        if (b->ipc == NS_CONTAINER && !b->ctx->ns_paths[OCI_NS_IPC])
                return eng_err(err, EINVAL, "--ipc %s: the namespace path of the container is not known",
                               o->ipc);
        return 0;
}

static json_object *namespaces_json(struct build *b)
{
        json_object *a = json_object_new_array();
        const struct {
                enum oci_ns_type type;
                enum ns_kind kind;
        } order[] = {
            /* moby's DefaultLinuxSpec order (without time, see docs/engine-spec.md) */
            {OCI_NS_MNT, NS_PRIVATE}, {OCI_NS_NET, b->net}, {OCI_NS_UTS, b->uts},
            {OCI_NS_PID, b->pid},     {OCI_NS_IPC, b->ipc}, {OCI_NS_CGROUP, b->cgroupns},
        };

        for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
                const char *path = b->ctx->ns_paths[order[i].type];
                json_object *n;

                if (order[i].kind == NS_HOST)
                        continue;
                /* A private netns may also be joined: the one the engine attached to a network. */
                if (order[i].kind == NS_PRIVATE && order[i].type != OCI_NS_NET)
                        path = NULL;
                n = json_object_new_object();
                json_object_object_add(n, "type", json_object_new_string(oci_ns_name(order[i].type)));
                if (path)
                        json_object_object_add(n, "path", json_object_new_string(path));
                json_object_array_add(a, n);
        }
        return a;
}

/* ---- capabilities and security options ------------------------------------ */

/* "ALL" is what this process holds (moby: the capabilities of the current
 * environment): the runtime cannot grant a container more. */
static uint64_t all_caps(void)
{
        _cleanup_free_ char *buf = NULL;
        int last = oci_cap_last();
        uint64_t known = last >= 63 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1;
        const char *p;

        if (read_file_at(AT_FDCWD, "/proc/self/status", 1 << 16, &buf, NULL, NULL) < 0)
                return known;
        p = strstr(buf, "\nCapEff:");
        return p ? strtoull(p + 8, NULL, 16) & known : known;
}

static int cap_parse(const char *flag, const char *name, int *out, struct berr **err)
{
        _cleanup_free_ char *norm = NULL;
        int cap;

        if (strcasecmp(name, "ALL") == 0) {
                *out = -1;
                return 0;
        }
        if (asprintf(&norm, "%s%s", strncasecmp(name, "CAP_", 4) == 0 ? "" : "CAP_", name) < 0)
                return berr_make(err, ENOMEM, "%s", flag);
        for (char *p = norm; *p; p++)
                *p = (char)toupper((unsigned char)*p);
        cap = oci_cap_from_name(norm);
        if (cap < 0)
                return eng_err(err, EINVAL, "%s: unknown capability `%s`", flag, norm);
        if (!((all_caps() >> cap) & 1))
                return eng_err(err, EINVAL,
                               "%s: capability `%s` is not supported by the kernel or not available to berth",
                               flag, norm);
        *out = cap;
        return 0;
}

/* moby's TweakCapabilities. */
static int compute_caps(struct build *b, struct berr **err)
{
        const struct engine_run_opts *o = b->opts;
        uint64_t add = 0, drop = 0, basics = 0;
        bool add_all = false, drop_all = false;
        int cap;

        for (size_t i = 0; i < ARRAY_SIZE(default_caps); i++)
                basics |= UINT64_C(1) << oci_cap_from_name(default_caps[i]);
        /* Names are checked even when --privileged makes them moot, as docker does. */
        for (const char *const *c = o->cap_add; c && *c; c++) {
                if (cap_parse("--cap-add", *c, &cap, err) < 0)
                        return -EINVAL;
                if (cap < 0)
                        add_all = true;
                else
                        add |= UINT64_C(1) << cap;
        }
        for (const char *const *c = o->cap_drop; c && *c; c++) {
                if (cap_parse("--cap-drop", *c, &cap, err) < 0)
                        return -EINVAL;
                if (cap < 0)
                        drop_all = true;
                else
                        drop |= UINT64_C(1) << cap;
        }
        if (o->privileged)
                b->caps = all_caps();
        else if (add_all)
                b->caps = all_caps() & ~drop;
        else if (drop_all)
                b->caps = add;
        else
                b->caps = (basics & ~drop) | add;
        return 0;
}

static json_object *caps_json(uint64_t caps)
{
        json_object *a = json_object_new_array();

        for (int c = 0; c < 64; c++)
                if ((caps >> c) & 1)
                        json_object_array_add(a, json_object_new_string(oci_cap_name(c)));
        return a;
}

static bool apparmor_enabled(void)
{
        char buf[8];

        return read_line_at(AT_FDCWD, "/sys/module/apparmor/parameters/enabled", buf, sizeof(buf)) > 0 &&
               buf[0] == 'Y';
}

static int label_opt_ok(const char *v)
{
        static const char *const prefixes[] = {"user:", "role:", "type:", "level:", "filetype:"};

        if (streq(v, "disable") || streq(v, "nested"))
                return 1;
        for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
                if (strneq(v, prefixes[i], strlen(prefixes[i])))
                        return 1;
        return 0;
}

static int parse_security_opts(struct build *b, struct berr **err)
{
        for (const char *const *s = b->opts->security_opts; s && *s; s++) {
                const char *opt = *s, *sep;
                _cleanup_free_ char *key = NULL;
                const char *val;
                bool v;

                if (streq(opt, "no-new-privileges")) {
                        b->no_new_privs = true;
                        continue;
                }
                if (streq(opt, "disable"))
                        continue; /* label disable, docker's short form */
                /* "key:value" is docker's deprecated spelling of "key=value". */
                sep = strchr(opt, '=');
                if (!sep)
                        sep = strchr(opt, ':');
                if (!sep)
                        return eng_err(err, EINVAL, "--security-opt: invalid option `%s`", opt);
                key = strndup(opt, (size_t)(sep - opt));
                if (!key)
                        return berr_make(err, ENOMEM, "--security-opt");
                val = sep + 1;
                if (streq(key, "seccomp")) {
                        if (!*val)
                                return eng_err(err, EINVAL, "--security-opt: seccomp needs a profile path");
                        b->seccomp_unconfined = streq(val, "unconfined");
                        b->seccomp_path =
                            streq(val, "unconfined") || streq(val, "builtin") || streq(val, "default") ? NULL
                                                                                                       : val;
                } else if (streq(key, "no-new-privileges")) {
                        if (engine_parse_bool(val, &v) < 0)
                                return eng_err(err, EINVAL, "--security-opt: invalid value in `%s`", opt);
                        b->no_new_privs = v;
                } else if (streq(key, "label")) {
                        /* No SELinux on berth's hosts: labels are accepted and have no effect, as with
                         * docker. */
                        if (!label_opt_ok(val))
                                return eng_err(err, EINVAL, "--security-opt: invalid label option `%s`", val);
                } else if (streq(key, "apparmor")) {
                        if (!*val)
                                return eng_err(err, EINVAL, "--security-opt: apparmor needs a profile name");
                        b->apparmor = val;
                } else if (streq(key, "writable-cgroups")) {
                        if (engine_parse_bool(val, &v) < 0)
                                return eng_err(err, EINVAL, "--security-opt: invalid value in `%s`", opt);
                        b->writable_cgroups = v;
                        b->writable_cgroups_set = true;
                } else {
                        return eng_err(err, EINVAL, "--security-opt: invalid option `%s`", opt);
                }
        }
        if (!b->writable_cgroups_set)
                b->writable_cgroups = b->opts->privileged;
        return 0;
}

static int seccomp_json(struct build *b, json_object **out, struct berr **err)
{
        const char *path = b->seccomp_path           ? b->seccomp_path
                           : b->ctx->seccomp_profile ? b->ctx->seccomp_profile
                                                     : SECCOMP_DEFAULT_PROFILE;
        engine_seccomp_resolve_fn resolve =
            b->ctx->seccomp_resolve ? b->ctx->seccomp_resolve : engine_seccomp_resolve;
        json_object *profile = NULL;
        int r;

        *out = NULL;
        /* --privileged runs without a filter whatever the profile (moby's WithSeccomp). */
        if (b->opts->privileged || b->seccomp_unconfined)
                return 0;
        if (seccomp_profile_load(path, &profile, err) < 0)
                return berr_wrap(err, "%s",
                                 b->seccomp_path ? "--security-opt seccomp" : "default seccomp profile");
        if (!json_object_is_type(profile, json_type_object)) {
                json_object_put(profile);
                return eng_err(err, EINVAL, "seccomp profile `%s`: not a JSON object", path);
        }
        r = resolve(profile, b->caps, out, err);
        json_object_put(profile);
        if (r < 0)
                return berr_wrap(err, "seccomp profile `%s`", path);
        return 0;
}

/* ---- resources ----------------------------------------------------------- */

static int host_cpus(void)
{
        cpu_set_t set;

        if (sched_getaffinity(0, sizeof(set), &set) == 0)
                return CPU_COUNT(&set);
        return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

static void add_u64(json_object *o, const char *key, uint64_t v)
{
        json_object_object_add(o, key, json_object_new_uint64(v));
}

static void add_i64(json_object *o, const char *key, int64_t v)
{
        json_object_object_add(o, key, json_object_new_int64(v));
}

int engine_spec_resources(const struct engine_run_opts *o, json_object *res, struct berr **err)
{
        int64_t memory = 0, reservation = 0, swap = 0, nano = 0, shares = 0, quota = 0, period = 0, pids;
        json_object *mem = NULL, *cpu = NULL;

        if (o->memory && engine_parse_size("--memory", o->memory, &memory, err) < 0)
                return -EINVAL;
        if (o->memory_reservation &&
            engine_parse_size("--memory-reservation", o->memory_reservation, &reservation, err) < 0)
                return -EINVAL;
        if (o->memory_swap) {
                if (streq(o->memory_swap, "-1"))
                        swap = -1;
                else if (engine_parse_size("--memory-swap", o->memory_swap, &swap, err) < 0)
                        return -EINVAL;
        }
        if (memory != 0 && memory < MIN_MEMORY)
                return eng_err(err, EINVAL, "--memory: minimum memory limit allowed is 6MB");
        if (reservation != 0 && reservation < MIN_MEMORY)
                return eng_err(err, EINVAL,
                               "--memory-reservation: minimum memory reservation allowed is 6MB");
        if (memory > 0 && reservation > memory)
                return eng_err(err, EINVAL, "--memory-reservation: must not be larger than --memory");
        if (memory > 0 && swap > 0 && swap < memory)
                return eng_err(err, EINVAL, "--memory-swap: must be larger than or equal to --memory");
        if (memory == 0 && swap > 0)
                return eng_err(err, EINVAL, "--memory-swap: needs --memory");
        if (memory > 0 && swap == 0)
                swap = memory * 2; /* docker's default: as much swap as memory */
        if (memory > 0 || reservation > 0 || swap > 0) {
                mem = json_object_new_object();
                if (memory > 0)
                        add_i64(mem, "limit", memory);
                if (reservation > 0)
                        add_i64(mem, "reservation", reservation);
                if (swap > 0)
                        add_i64(mem, "swap", swap);
                json_object_object_add(res, "memory", mem);
        }

        if (o->cpus && engine_parse_cpus(o->cpus, &nano, err) < 0)
                return -EINVAL;
        if (nano > (int64_t)host_cpus() * 1000000000)
                return eng_err(err, EINVAL,
                               "--cpus: range of CPUs is from 0.01 to %d.00, as there are only %d CPUs "
                               "available",
                               host_cpus(), host_cpus());
        if (o->cpu_shares && engine_parse_int("--cpu-shares", o->cpu_shares, 0, INT64_MAX, &shares, err) < 0)
                return -EINVAL;
        if (o->cpu_period && engine_parse_int("--cpu-period", o->cpu_period, 0, INT64_MAX, &period, err) < 0)
                return -EINVAL;
        if (o->cpu_quota && engine_parse_int("--cpu-quota", o->cpu_quota, -1, INT64_MAX, &quota, err) < 0)
                return -EINVAL;
        if (nano > 0 && period > 0)
                return eng_err(err, EINVAL,
                               "conflicting options: --cpus and --cpu-period cannot both be set");
        if (nano > 0 && quota > 0)
                return eng_err(err, EINVAL, "conflicting options: --cpus and --cpu-quota cannot both be set");
        if (period != 0 && (period < 1000 || period > 1000000))
                return eng_err(err, EINVAL,
                               "--cpu-period: can not be less than 1ms (1000) or larger than 1s "
                               "(1000000)");
        if (quota > 0 && quota < 1000)
                return eng_err(err, EINVAL, "--cpu-quota: can not be less than 1ms (1000)");
        if (o->cpuset_cpus &&
            engine_parse_cpuset("--cpuset-cpus", o->cpuset_cpus, "/sys/devices/system/cpu/online", err) < 0)
                return -EINVAL;
        if (o->cpuset_mems &&
            engine_parse_cpuset("--cpuset-mems", o->cpuset_mems, "/sys/devices/system/node/online", err) < 0)
                return -EINVAL;
        if (shares || nano || period || quota || o->cpuset_cpus || o->cpuset_mems) {
                cpu = json_object_new_object();
                if (shares)
                        add_u64(cpu, "shares", (uint64_t)shares);
                if (nano) {
                        /* moby: a 100ms period and the matching quota */
                        add_i64(cpu, "quota", nano * 100000 / 1000000000);
                        add_u64(cpu, "period", 100000);
                }
                if (period)
                        add_u64(cpu, "period", (uint64_t)period);
                if (quota)
                        add_i64(cpu, "quota", quota);
                if (o->cpuset_cpus)
                        json_object_object_add(cpu, "cpus", json_object_new_string(o->cpuset_cpus));
                if (o->cpuset_mems)
                        json_object_object_add(cpu, "mems", json_object_new_string(o->cpuset_mems));
                json_object_object_add(res, "cpu", cpu);
        }

        if (o->pids_limit) {
                json_object *p = json_object_new_object();
                if (engine_parse_int("--pids-limit", o->pids_limit, INT64_MIN, INT64_MAX, &pids, err) < 0) {
                        json_object_put(p);
                        return -EINVAL;
                }
                /* 0 and negative values mean unlimited (moby's getPidsLimit). */
                add_i64(p, "limit", pids > 0 ? pids : -1);
                json_object_object_add(res, "pids", p);
        }
        return 0;
}

static json_object *dev_rule(bool allow, const char *type, int64_t major, int64_t minor, const char *access)
{
        json_object *r = json_object_new_object();

        json_object_object_add(r, "allow", json_object_new_boolean(allow));
        if (type)
                json_object_object_add(r, "type", json_object_new_string(type));
        if (major != -2)
                add_i64(r, "major", major);
        if (minor != -2)
                add_i64(r, "minor", minor);
        json_object_object_add(r, "access", json_object_new_string(access));
        return r;
}

/* moby's DefaultLinuxSpec() devices cgroup rules. */
static void default_dev_rules(json_object *a)
{
        json_object_array_add(a, dev_rule(false, NULL, -2, -2, "rwm"));
        json_object_array_add(a, dev_rule(true, "c", 1, 5, "rwm"));     /* /dev/zero */
        json_object_array_add(a, dev_rule(true, "c", 1, 3, "rwm"));     /* /dev/null */
        json_object_array_add(a, dev_rule(true, "c", 1, 9, "rwm"));     /* /dev/urandom */
        json_object_array_add(a, dev_rule(true, "c", 1, 8, "rwm"));     /* /dev/random */
        json_object_array_add(a, dev_rule(true, "c", 5, 0, "rwm"));     /* /dev/tty */
        json_object_array_add(a, dev_rule(true, "c", 5, 1, "rwm"));     /* /dev/console */
        json_object_array_add(a, dev_rule(false, "c", 10, 229, "rwm")); /* /dev/fuse */
}

/* ---- devices ------------------------------------------------------------- */

static bool device_mode_valid(const char *m)
{
        bool seen[3] = {false};

        if (!*m)
                return false;
        for (; *m; m++) {
                const char *p = strchr("rwm", *m);
                if (!p || seen[p - "rwm"])
                        return false;
                seen[p - "rwm"] = true;
        }
        return true;
}

static int device_add(struct build *b, const char *host, const char *ctr, const struct stat *st,
                      const char *perms, bool rule)
{
        json_object *d = json_object_new_object();
        const char *type = S_ISBLK(st->st_mode) ? "b" : "c";

        if (json_object_array_length(b->devices) >= HOST_DEVICES_MAX) {
                json_object_put(d);
                return -E2BIG;
        }
        json_object_object_add(d, "path", json_object_new_string(ctr));
        json_object_object_add(d, "type", json_object_new_string(type));
        add_i64(d, "major", major(st->st_rdev));
        add_i64(d, "minor", minor(st->st_rdev));
        add_u64(d, "fileMode", st->st_mode & 07777);
        add_u64(d, "uid", st->st_uid);
        add_u64(d, "gid", st->st_gid);
        json_object_array_add(b->devices, d);
        if (rule)
                json_object_array_add(b->dev_rules,
                                      dev_rule(true, type, major(st->st_rdev), minor(st->st_rdev), perms));
        return 0;
}

/* Adds the device nodes under host (a directory) as under ctr, like containerd's getDevices(). */
static int devices_walk(struct build *b, const char *host, const char *ctr, const char *perms, bool rule,
                        bool skip_special, int depth, struct berr **err)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (depth > 16)
                return 0;
        d = opendir(host);
        if (!d)
                return berr_errno(err, "--device: open `%s`", host);
        while ((de = readdir(d))) {
                _cleanup_free_ char *hp = NULL, *cp = NULL;
                struct stat st;
                int r;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                hp = path_join(host, de->d_name);
                cp = path_join(ctr, de->d_name);
                if (!hp || !cp)
                        return berr_make(err, ENOMEM, "devices");
                if (lstat(hp, &st) < 0)
                        continue; /* gone meanwhile */
                if (S_ISDIR(st.st_mode)) {
                        static const char *const skip[] = {"pts",  "shm",         "fd",   "mqueue",
                                                           ".lxc", ".lxd-mounts", ".udev"};
                        bool skipped = false;
                        for (size_t i = 0; skip_special && i < ARRAY_SIZE(skip); i++)
                                skipped |= streq(de->d_name, skip[i]);
                        if (!skipped &&
                            devices_walk(b, hp, cp, perms, rule, skip_special, depth + 1, err) < 0)
                                return -EIO;
                        continue;
                }
                if ((!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) ||
                    (skip_special && streq(de->d_name, "console")))
                        continue;
                r = device_add(b, hp, cp, &st, perms, rule);
                if (r < 0)
                        return eng_err(err, E2BIG, "devices: more than %d device nodes", HOST_DEVICES_MAX);
        }
        return 0;
}

/* --device HOST[:CONTAINER][:PERMISSIONS] (docker's parseLinuxDevice). */
static int devices_add_user(struct build *b, struct berr **err)
{
        for (const char *const *dv = b->opts->devices; dv && *dv; dv++) {
                _cleanup_free_ char *copy = strdup(*dv), *resolved = NULL, *dst = NULL;
                char *parts[4] = {NULL};
                const char *perms = "rwm", *src;
                size_t n = 0;
                struct stat st;

                if (!copy)
                        return berr_make(err, ENOMEM, "--device");
                for (char *p = copy; p && n < 4; n++) {
                        char *c = n < 3 ? strchr(p, ':') : NULL;
                        parts[n] = p;
                        if (c)
                                *c = '\0';
                        p = c ? c + 1 : NULL;
                }
                if (n > 3 || !*parts[0])
                        return eng_err(err, EINVAL, "--device: invalid device specification: %s", *dv);
                src = parts[0];
                if (n == 3) {
                        if (!device_mode_valid(parts[2]))
                                return eng_err(err, EINVAL, "--device: bad mode `%s` in `%s`", parts[2], *dv);
                        perms = parts[2];
                        dst = strdup(parts[1]);
                } else if (n == 2) {
                        if (device_mode_valid(parts[1]))
                                perms = parts[1];
                        else
                                dst = strdup(parts[1]);
                }
                if (!dst)
                        dst = strdup(src);
                if (!dst)
                        return berr_make(err, ENOMEM, "--device");
                if (!path_is_absolute(dst))
                        return eng_err(err, EINVAL, "--device: `%s` is not an absolute path", dst);
                if (!path_is_absolute(src))
                        return eng_err(err, EINVAL, "--device: `%s` is not an absolute path", src);
                resolved = realpath(src, NULL);
                if (!resolved)
                        return berr_errno(err,
                                          "--device: error gathering device information while adding custom "
                                          "device \"%s\"",
                                          src);
                if (stat(resolved, &st) < 0)
                        return berr_errno(err, "--device: stat `%s`", resolved);
                if (b->opts->privileged && streq(src, dst))
                        continue; /* all of the host's /dev is there already */
                if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
                        if (device_add(b, resolved, dst, &st, perms, !b->opts->privileged) < 0)
                                return eng_err(err, E2BIG, "--device: too many devices");
                } else if (S_ISDIR(st.st_mode)) {
                        size_t before = json_object_array_length(b->devices);
                        if (devices_walk(b, resolved, dst, perms, !b->opts->privileged, false, 0, err) < 0)
                                return -EIO;
                        if (json_object_array_length(b->devices) == before)
                                return eng_err(err, EINVAL, "--device: no device nodes under `%s`", src);
                } else {
                        return eng_err(err, EINVAL, "--device: `%s` is not a device", src);
                }
        }
        return 0;
}

/* ---- mounts -------------------------------------------------------------- */

static json_object *mount_json(const char *dest, const char *type, const char *source, char *const *opts)
{
        json_object *m = json_object_new_object();

        json_object_object_add(m, "destination", json_object_new_string(dest));
        json_object_object_add(m, "type", json_object_new_string(type));
        json_object_object_add(m, "source", json_object_new_string(source));
        if (opts)
                json_object_object_add(m, "options", engine_json_strv((const char *const *)opts));
        return m;
}

static json_object *mount_jsonv(const char *dest, const char *type, const char *source,
                                const char *const *opts)
{
        return mount_json(dest, type, source, (char *const *)opts);
}

static bool user_mounted(struct build *b, const char *dest)
{
        return strv_contains(b->user_dests, dest);
}

static int user_dest_add(struct build *b, const char *dest, struct berr **err)
{
        if (user_mounted(b, dest))
                return eng_err(err, EINVAL, "duplicate mount point: %s", dest);
        if (strv_extend(&b->user_dests, dest) < 0)
                return berr_make(err, ENOMEM, "mounts");
        return 0;
}

static void set_rootfs_propagation(struct build *b, const char *prop)
{
        const char *cur = b->rootfs_propagation;
        bool shared = prop && strstr(prop, "shared");
        bool slave = prop && strstr(prop, "slave");

        /* moby: shared binds need a shared root, slave binds a shared or slave one. */
        if (shared && !(cur && strstr(cur, "shared"))) {
                free(b->rootfs_propagation);
                b->rootfs_propagation = strdup("shared");
        } else if (slave && !(cur && (strstr(cur, "shared") || strstr(cur, "slave")))) {
                free(b->rootfs_propagation);
                b->rootfs_propagation = strdup("rslave");
        }
}

static int bind_json(struct build *b, const char *dest, const char *source, bool ro, bool non_recursive,
                     const char *prop, json_object **out, struct berr **err)
{
        _cleanup_strv_free_ char **o = NULL;

        if (strv_extend(&o, non_recursive ? "bind" : "rbind") < 0 ||
            (ro && strv_extend(&o, non_recursive ? "ro" : "rro") < 0) ||
            strv_extend(&o, prop ? prop : "rprivate") < 0)
                return berr_make(err, ENOMEM, "mounts");
        set_rootfs_propagation(b, prop);
        *out = mount_json(dest, "bind", source, o);
        return 0;
}

static int tmpfs_json(const char *flag, const char *dest, const char *data, bool ro, json_object **out,
                      struct berr **err)
{
        _cleanup_strv_free_ char **o = NULL;
        _cleanup_free_ char *d = NULL;

        if (ro && asprintf(&d, "%s%sro", data ? data : "", data && *data ? "," : "") < 0)
                return berr_make(err, ENOMEM, "%s", flag);
        if (engine_tmpfs_options(flag, d ? d : data, &o, err) < 0)
                return -EINVAL;
        *out = mount_json(dest, "tmpfs", "tmpfs", o);
        return 0;
}

static int user_mounts(struct build *b, struct berr **err)
{
        const struct engine_run_opts *o = b->opts;
        json_object *m;

        for (size_t i = 0; i < o->n_mounts; i++) {
                const struct engine_mount *um = &o->mounts[i];

                if (!um->destination)
                        return eng_err(err, EINVAL, "mount %zu has no destination", i);
                if (user_dest_add(b, um->destination, err) < 0)
                        return -EINVAL;
                switch (um->type) {
                case ENGINE_MOUNT_TMPFS: {
                        _cleanup_free_ char *data = NULL;
                        FILE *f = open_memstream(&data, &(size_t){0});
                        if (!f)
                                return berr_make(err, ENOMEM, "mounts");
                        if (um->tmpfs_size > 0)
                                fprintf(f, "size=%" PRId64, um->tmpfs_size);
                        if (um->tmpfs_mode >= 0)
                                fprintf(f, "%smode=%o", um->tmpfs_size > 0 ? "," : "",
                                        (unsigned)um->tmpfs_mode);
                        if (fclose(f) != 0)
                                return berr_make(err, ENOMEM, "mounts");
                        if (tmpfs_json("--mount", um->destination, data, um->readonly, &m, err) < 0)
                                return -EINVAL;
                        break;
                }
                case ENGINE_MOUNT_VOLUME:
                        if (!um->source)
                                return eng_err(err, EINVAL, "volume %s for %s: its host path is not known",
                                               um->volume_name ? um->volume_name : "(anonymous)",
                                               um->destination);
                        __attribute__((fallthrough));
                case ENGINE_MOUNT_BIND:
                        if (um->type == ENGINE_MOUNT_BIND && um->create_source &&
                            access(um->source, F_OK) < 0 &&
                            strv_extend(&b->out->bind_sources_to_create, um->source) < 0)
                                return berr_make(err, ENOMEM, "mounts");
                        if (bind_json(b, um->destination, um->source, um->readonly, um->non_recursive,
                                      um->propagation, &m, err) < 0)
                                return -ENOMEM;
                        break;
                default:
                        return eng_err(err, EINVAL, "mount %zu: unknown type", i);
                }
                json_object_array_add(b->mounts_user, m);
        }
        for (const char *const *t = o->tmpfs; t && *t; t++) {
                const char *colon = strchr(*t, ':');
                _cleanup_free_ char *dest = colon ? strndup(*t, (size_t)(colon - *t)) : strdup(*t),
                                    *clean = NULL;

                if (!dest)
                        return berr_make(err, ENOMEM, "--tmpfs");
                if (engine_clean_destination("--tmpfs", *t, dest, &clean, err) < 0)
                        return -EINVAL;
                if (user_dest_add(b, clean, err) < 0)
                        return -EINVAL;
                if (tmpfs_json("--tmpfs", clean, colon ? colon + 1 : NULL, false, &m, err) < 0)
                        return -EINVAL;
                json_object_array_add(b->mounts_user, m);
        }
        return 0;
}

static size_t path_depth(const char *p)
{
        size_t n = 0;

        for (; *p; p++)
                if (*p == '/' && p[1] && p[1] != '/')
                        n++;
        return n;
}

static int by_depth(const void *a, const void *b)
{
        json_object *const *ma = a, *const *mb = b;
        json_object *da, *db;
        size_t x, y;

        json_object_object_get_ex(*ma, "destination", &da);
        json_object_object_get_ex(*mb, "destination", &db);
        x = path_depth(json_object_get_string(da));
        y = path_depth(json_object_get_string(db));
        return x < y ? -1 : x > y;
}

static void sort_mounts(json_object *a)
{
        size_t n = json_object_array_length(a);
        json_object **v = n ? calloc(n, sizeof(*v)) : NULL;

        if (!v)
                return;
        for (size_t i = 0; i < n; i++)
                v[i] = json_object_get(json_object_array_get_idx(a, i));
        /* Insertion sort: stable, so mounts at one depth keep the command-line order. */
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && by_depth(&v[j - 1], &v[j]) > 0; j--) {
                        json_object *t = v[j];
                        v[j] = v[j - 1];
                        v[j - 1] = t;
                }
        json_object_array_del_idx(a, 0, n);
        for (size_t i = 0; i < n; i++)
                json_object_array_add(a, v[i]);
        free(v);
}

static bool has_opt(json_object *m, const char *opt)
{
        json_object *o;

        if (!json_object_object_get_ex(m, "options", &o))
                return false;
        for (size_t i = 0; i < json_object_array_length(o); i++)
                if (streq(json_object_get_string(json_object_array_get_idx(o, i)), opt))
                        return true;
        return false;
}

static void set_ro(json_object *m, bool ro)
{
        json_object *o, *n;

        if (!json_object_object_get_ex(m, "options", &o)) {
                if (!ro)
                        return;
                o = json_object_new_array();
                json_object_object_add(m, "options", o);
        }
        if (ro) {
                if (!has_opt(m, "ro"))
                        json_object_array_add(o, json_object_new_string("ro"));
                return;
        }
        n = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(o); i++) {
                json_object *v = json_object_array_get_idx(o, i);
                if (!streq(json_object_get_string(v), "ro"))
                        json_object_array_add(n, json_object_get(v));
        }
        json_object_object_add(m, "options", n);
}

static int default_mounts(struct build *b, int64_t shm_size, struct berr **err)
{
        const struct engine_run_opts *o = b->opts;
        bool dev_mounted = user_mounted(b, "/dev");
        char shm_opt[48];
        struct {
                const char *dest, *type, *source;
                const char *const *opts;
        } defs[] = {
            {"/proc", "proc", "proc", (const char *const[]){"nosuid", "noexec", "nodev", NULL}},
            {"/dev", "tmpfs", "tmpfs",
             (const char *const[]){"nosuid", "strictatime", "mode=755", "size=65536k", NULL}},
            {"/dev/pts", "devpts", "devpts",
             (const char *const[]){"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5",
                                   NULL}},
            {"/sys", "sysfs", "sysfs", (const char *const[]){"nosuid", "noexec", "nodev", "ro", NULL}},
            {"/sys/fs/cgroup", "cgroup", "cgroup",
             (const char *const[]){"ro", "nosuid", "noexec", "nodev", NULL}},
            {"/dev/mqueue", "mqueue", "mqueue", (const char *const[]){"nosuid", "noexec", "nodev", NULL}},
            {"/dev/shm", "tmpfs", "shm",
             (const char *const[]){"nosuid", "noexec", "nodev", "mode=1777", shm_opt, NULL}},
        };

        snprintf(shm_opt, sizeof(shm_opt), "size=%" PRId64, shm_size);
        for (size_t i = 0; i < ARRAY_SIZE(defs); i++) {
                json_object *m;
                bool under_dev = strneq(defs[i].dest, "/dev/", 5);

                if (user_mounted(b, defs[i].dest) || (dev_mounted && under_dev))
                        continue;
                if (streq(defs[i].dest, "/dev/shm")) {
                        const char *shm_src = b->ipc == NS_HOST        ? "/dev/shm"
                                              : b->ipc == NS_CONTAINER ? b->ctx->shm_path
                                                                       : NULL;
                        if (b->ipc_none)
                                continue;
                        if (shm_src) {
                                /* The shared /dev/shm of the host or of the other container. */
                                if (bind_json(b, "/dev/shm", shm_src, false, false, NULL, &m, err) < 0)
                                        return -ENOMEM;
                                json_object_array_add(b->mounts_default, m);
                                continue;
                        }
                }
                m = mount_jsonv(defs[i].dest, defs[i].type, defs[i].source, defs[i].opts);
                if (o->read_only && !streq(defs[i].dest, "/proc") && !under_dev &&
                    !streq(defs[i].dest, "/dev"))
                        set_ro(m, true);
                if (o->privileged && streq(defs[i].dest, "/sys"))
                        set_ro(m, false);
                if (b->writable_cgroups && streq(defs[i].type, "cgroup"))
                        set_ro(m, false);
                json_object_array_add(b->mounts_default, m);
        }
        return 0;
}

static int files_mounts(struct build *b, struct berr **err)
{
        static const char *const files[][2] = {
            {"resolv.conf", "/etc/resolv.conf"},
            {"hostname", "/etc/hostname"},
            {"hosts", "/etc/hosts"},
        };

        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                _cleanup_free_ char *src = NULL;
                json_object *m;

                /* A user's mount on the same path wins (docker). */
                if (user_mounted(b, files[i][1]))
                        continue;
                src = path_join(b->ctx->files_dir, files[i][0]);
                if (!src)
                        return berr_make(err, ENOMEM, "mounts");
                if (bind_json(b, files[i][1], src, b->opts->read_only, false, NULL, &m, err) < 0)
                        return -ENOMEM;
                json_object_array_add(b->mounts_user, m);
        }
        return 0;
}

/* ---- the rest of linux and process --------------------------------------- */

static bool sysctl_exists(const char *key)
{
        _cleanup_free_ char *p = NULL;

        if (asprintf(&p, "/proc/sys/%s", key) < 0)
                return false;
        for (char *c = p + 10; *c; c++)
                if (*c == '.')
                        *c = '/';
        return access(p, F_OK) == 0;
}

static int sysctls_json(struct build *b, json_object *lin, struct berr **err)
{
        static const char *const ipc_keys[] = {"kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
                                               "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
                                               "kernel.shmmni", "kernel.shm_rmid_forced"};
        json_object *s = json_object_new_object();

        json_object_object_add(lin, "sysctl", s);
        /* moby: ping sockets and low ports without capabilities, in a network namespace of its own. */
        if (b->net == NS_PRIVATE) {
                if (sysctl_exists("net.ipv4.ping_group_range"))
                        json_object_object_add(s, "net.ipv4.ping_group_range",
                                               json_object_new_string("0 2147483647"));
                if (sysctl_exists("net.ipv4.ip_unprivileged_port_start"))
                        json_object_object_add(s, "net.ipv4.ip_unprivileged_port_start",
                                               json_object_new_string("0"));
        }
        for (const char *const *kv = b->opts->sysctls; kv && *kv; kv++) {
                const char *eq = strchr(*kv, '=');
                _cleanup_free_ char *key = NULL;
                bool ipc = false, net;

                if (!eq || eq == *kv)
                        return eng_err(err, EINVAL, "--sysctl: `%s` is not KEY=VALUE", *kv);
                key = strndup(*kv, (size_t)(eq - *kv));
                if (!key)
                        return berr_make(err, ENOMEM, "--sysctl");
                for (size_t i = 0; i < ARRAY_SIZE(ipc_keys); i++)
                        ipc |= streq(key, ipc_keys[i]);
                ipc |= strneq(key, "fs.mqueue.", 10);
                net = strneq(key, "net.", 4);
                if (!ipc && !net)
                        return eng_err(err, EINVAL,
                                       "--sysctl: `%s` is not a namespaced sysctl (allowed: kernel.msg*, "
                                       "kernel.sem, kernel.shm*, fs.mqueue.*, net.*)",
                                       key);
                if (ipc && b->ipc != NS_PRIVATE)
                        return eng_err(err, EINVAL,
                                       "--sysctl: `%s` is not allowed when the IPC namespace is shared "
                                       "(--ipc %s)",
                                       key, b->opts->ipc);
                if (net && b->net != NS_PRIVATE)
                        return eng_err(err, EINVAL,
                                       "--sysctl: `%s` is not allowed when the network namespace is "
                                       "shared (--network %s)",
                                       key, b->opts->network);
                json_object_object_add(s, key, json_object_new_string(eq + 1));
        }
        return 0;
}

/* Capabilities of this process: without CAP_SYS_RESOURCE the runtime cannot raise a hard limit. */
static bool have_sys_resource(void)
{
        _cleanup_free_ char *buf = NULL;
        const char *p;

        if (read_file_at(AT_FDCWD, "/proc/self/status", 1 << 16, &buf, NULL, NULL) < 0)
                return false;
        p = strstr(buf, "\nCapEff:");
        return p && (strtoull(p + 8, NULL, 16) >> 24) & 1; /* CAP_SYS_RESOURCE is 24 */
}

static uint64_t rlimit_ceiling(int resource, bool sys_resource)
{
        uint64_t ceiling = UINT64_MAX;
        struct rlimit rl;
        char buf[32];

        if (resource == RLIMIT_NOFILE && read_line_at(AT_FDCWD, "/proc/sys/fs/nr_open", buf, sizeof(buf)) > 0)
                ceiling = strtoull(buf, NULL, 10);
        if (!sys_resource && getrlimit(resource, &rl) == 0 && rl.rlim_max != RLIM_INFINITY)
                ceiling = MIN(ceiling, (uint64_t)rl.rlim_max);
        return ceiling;
}

static int rlimits_json(struct build *b, json_object *proc, struct berr **err)
{
        const int defaults[] = {RLIMIT_NOFILE, RLIMIT_NPROC};
        struct {
                int res;
                uint64_t soft, hard;
        } v[32];
        size_t n = 0;
        bool sys_resource = have_sys_resource();
        json_object *a;

        for (const char *const *u = b->opts->ulimits; u && *u; u++) {
                int res;
                uint64_t soft, hard, ceiling;
                size_t i;

                if (engine_parse_ulimit(*u, &res, &soft, &hard, err) < 0)
                        return -EINVAL;
                ceiling = rlimit_ceiling(res, sys_resource);
                if (hard > ceiling)
                        return eng_err(err, EPERM,
                                       "--ulimit: %s: hard limit %s exceeds %" PRIu64 ", the most this "
                                       "host allows%s",
                                       *u, hard == RLIM_INFINITY ? "unlimited" : "", ceiling,
                                       sys_resource ? "" : " (raising it needs CAP_SYS_RESOURCE)");
                for (i = 0; i < n && v[i].res != res; i++)
                        ;
                if (i == n) {
                        if (n == ARRAY_SIZE(v))
                                return eng_err(err, E2BIG, "--ulimit: too many limits");
                        n++;
                }
                v[i].res = res;
                v[i].soft = soft;
                v[i].hard = hard;
        }
        /* podman's defaults, clamped to what the host lets the runtime set (docs/engine-spec.md). */
        for (size_t d = 0; d < ARRAY_SIZE(defaults); d++) {
                size_t i;
                uint64_t val = MIN((uint64_t)RLIMIT_DEFAULT, rlimit_ceiling(defaults[d], sys_resource));
                for (i = 0; i < n && v[i].res != defaults[d]; i++)
                        ;
                if (i < n)
                        continue;
                v[n].res = defaults[d];
                v[n].soft = v[n].hard = val;
                n++;
        }
        a = json_object_new_array();
        for (size_t i = 0; i < n; i++) {
                json_object *r = json_object_new_object();
                json_object_object_add(r, "type", json_object_new_string(oci_rlimit_name(v[i].res)));
                add_u64(r, "hard", v[i].hard);
                add_u64(r, "soft", v[i].soft);
                json_object_array_add(a, r);
        }
        json_object_object_add(proc, "rlimits", a);
        return 0;
}

static int kv_list(const char *flag, const char *const *l, bool value_required, json_object *obj,
                   char ***strv, struct berr **err)
{
        for (; l && *l; l++) {
                const char *eq = strchr(*l, '=');
                _cleanup_free_ char *k = eq ? strndup(*l, (size_t)(eq - *l)) : strdup(*l);

                if (!k)
                        return berr_make(err, ENOMEM, "%s", flag);
                if (!*k || (value_required && !eq))
                        return eng_err(err, EINVAL, "%s: `%s` is not KEY=VALUE", flag, *l);
                if (obj)
                        json_object_object_add(obj, k, json_object_new_string(eq ? eq + 1 : ""));
                if (strv) {
                        size_t n = strv_length(*strv);
                        size_t i;
                        for (i = 0; i + 1 < n; i += 2)
                                if (streq((*strv)[i], k))
                                        break;
                        if (i + 1 < n) {
                                char *nv = strdup(eq ? eq + 1 : "");
                                if (!nv)
                                        return berr_make(err, ENOMEM, "%s", flag);
                                free((*strv)[i + 1]);
                                (*strv)[i + 1] = nv;
                        } else if (strv_extend(strv, k) < 0 || strv_extend(strv, eq ? eq + 1 : "") < 0) {
                                return berr_make(err, ENOMEM, "%s", flag);
                        }
                }
        }
        return 0;
}

static int hostname_pick(struct build *b, struct berr **err)
{
        const struct engine_run_opts *o = b->opts;
        char host[HOST_NAME_MAX + 1];
        const char *h;

        if (o->hostname) {
                h = o->hostname;
                if (strlen(h) > HOSTNAME_MAX)
                        return eng_err(err, EINVAL, "--hostname: `%s` is too long (maximum %d bytes)", h,
                                       HOSTNAME_MAX);
                for (const char *p = h; *p; p++)
                        if (!isalnum((unsigned char)*p) && !strchr("-._", *p))
                                return eng_err(err, EINVAL, "--hostname: `%s` is not a valid host name", h);
                if (!*h)
                        return eng_err(err, EINVAL, "--hostname: empty host name");
        } else if (b->ctx->hostname) {
                h = b->ctx->hostname;
        } else if (b->net == NS_HOST) {
                if (gethostname(host, sizeof(host)) < 0)
                        return berr_errno(err, "gethostname");
                host[sizeof(host) - 1] = '\0';
                h = host;
        } else {
                snprintf(host, sizeof(host), "%.12s", b->ctx->id);
                h = host;
        }
        b->out->hostname = strdup(h);
        return b->out->hostname ? 0 : berr_make(err, ENOMEM, "hostname");
}

static json_object *masked_json(void)
{
        json_object *a = engine_json_strv((const char *const *)NULL);
        int cpus = (int)sysconf(_SC_NPROCESSORS_CONF);

        for (size_t i = 0; i < ARRAY_SIZE(default_masked); i++)
                json_object_array_add(a, json_object_new_string(default_masked[i]));
        /* moby masks each CPU's thermal_throttle directory that exists. */
        for (int c = 0; c < cpus && c < 4096; c++) {
                char p[80];
                snprintf(p, sizeof(p), "/sys/devices/system/cpu/cpu%d/thermal_throttle", c);
                if (access(p, F_OK) == 0)
                        json_object_array_add(a, json_object_new_string(p));
        }
        return a;
}

static int process_json(struct build *b, json_object *spec, const struct engine_user *u, struct berr **err)
{
        _cleanup_strv_free_ char **args = NULL, **env = NULL;
        json_object *proc = json_object_new_object(), *user, *gids, *caps;
        const char *wd;

        json_object_object_add(spec, "process", proc);
        if (engine_args_build(b->img, b->opts, &args, err) < 0)
                return -EINVAL;
        /* Only in a PID namespace of its own does the container need an init (docker). */
        if (b->opts->init && b->pid == NS_PRIVATE) {
                char **n = calloc(strv_length(args) + 3, sizeof(char *));
                if (!n)
                        return berr_make(err, ENOMEM, "args");
                n[0] = strdup(ENGINE_INIT_TARGET);
                n[1] = strdup("--");
                memcpy(n + 2, args, strv_length(args) * sizeof(char *));
                free(args);
                args = n;
                if (!n[0] || !n[1])
                        return berr_make(err, ENOMEM, "args");
        }
        if (engine_env_build(b->img, b->opts, b->ctx, b->out->hostname, u->home, &env, err) < 0)
                return -EINVAL;

        wd = b->opts->workdir                                        ? b->opts->workdir
             : b->img && b->img->working_dir && *b->img->working_dir ? b->img->working_dir
                                                                     : "/";
        if (!path_is_absolute(wd))
                return eng_err(err, EINVAL,
                               "%sthe working directory '%s' is invalid, it needs to be an absolute path",
                               b->opts->workdir ? "--workdir: " : "", wd);
        b->out->workdir = path_clean(wd);
        if (!b->out->workdir)
                return berr_make(err, ENOMEM, "workdir");

        json_object_object_add(proc, "terminal", json_object_new_boolean(b->opts->tty));
        if (b->opts->tty && b->opts->console_height && b->opts->console_width) {
                json_object *cs = json_object_new_object();
                add_u64(cs, "height", b->opts->console_height);
                add_u64(cs, "width", b->opts->console_width);
                json_object_object_add(proc, "consoleSize", cs);
        }
        user = json_object_new_object();
        add_u64(user, "uid", u->uid);
        add_u64(user, "gid", u->gid);
        gids = json_object_new_array();
        for (size_t i = 0; i < u->n_gids; i++)
                json_object_array_add(gids, json_object_new_uint64(u->gids[i]));
        json_object_object_add(user, "additionalGids", gids);
        json_object_object_add(proc, "user", user);
        json_object_object_add(proc, "args", engine_json_strv((const char *const *)args));
        json_object_object_add(proc, "env", engine_json_strv((const char *const *)env));
        json_object_object_add(proc, "cwd", json_object_new_string(b->out->workdir));
        /* docker sets no inheritable or ambient capabilities. */
        caps = json_object_new_object();
        json_object_object_add(caps, "bounding", caps_json(b->caps));
        json_object_object_add(caps, "effective", caps_json(b->caps));
        json_object_object_add(caps, "permitted", caps_json(b->caps));
        json_object_object_add(proc, "capabilities", caps);
        if (rlimits_json(b, proc, err) < 0)
                return -EINVAL;
        if (b->no_new_privs)
                json_object_object_add(proc, "noNewPrivileges", json_object_new_boolean(1));
        /* On hosts without AppArmor docker ignores the option; so does berth. */
        if (b->apparmor && apparmor_enabled())
                json_object_object_add(proc, "apparmorProfile", json_object_new_string(b->apparmor));
        return 0;
}

static int linux_json(struct build *b, json_object *spec, struct berr **err)
{
        json_object *lin = json_object_new_object(), *res = json_object_new_object(), *seccomp = NULL;
        _cleanup_free_ char *cg = NULL;
        const char *parent = b->opts->cgroup_parent ? b->opts->cgroup_parent : ENGINE_CGROUP_PARENT;

        json_object_object_add(spec, "linux", lin);
        json_object_object_add(lin, "resources", res);
        if (engine_spec_resources(b->opts, res, err) < 0)
                return -EINVAL;
        json_object_object_add(res, "devices", json_object_get(b->dev_rules));
        if (!path_is_absolute(parent) || path_has_dotdot(parent))
                return eng_err(err, EINVAL, "--cgroup-parent: `%s` must be an absolute path without ..",
                               parent);
        cg = path_join(parent, b->ctx->id);
        if (!cg)
                return berr_make(err, ENOMEM, "cgroupsPath");
        json_object_object_add(lin, "cgroupsPath", json_object_new_string(cg));
        if (sysctls_json(b, lin, err) < 0)
                return -EINVAL;
        json_object_object_add(lin, "namespaces", namespaces_json(b));
        json_object_object_add(lin, "devices", json_object_get(b->devices));
        if (!b->opts->privileged) {
                json_object_object_add(lin, "maskedPaths", masked_json());
                json_object_object_add(lin, "readonlyPaths", engine_json_strv(NULL));
                for (size_t i = 0; i < ARRAY_SIZE(default_readonly); i++)
                        json_object_array_add(json_object_object_get(lin, "readonlyPaths"),
                                              json_object_new_string(default_readonly[i]));
        }
        if (seccomp_json(b, &seccomp, err) < 0)
                return -EINVAL;
        if (seccomp)
                json_object_object_add(lin, "seccomp", seccomp);
        if (b->rootfs_propagation)
                json_object_object_add(lin, "rootfsPropagation",
                                       json_object_new_string(b->rootfs_propagation));
        return 0;
}

static int check_ctx(const struct engine_spec_ctx *ctx, struct berr **err)
{
        if (!ctx || !ctx->id || !*ctx->id)
                return eng_err(err, EINVAL, "container id missing");
        if (!ctx->rootfs || !path_is_absolute(ctx->rootfs))
                return eng_err(err, EINVAL, "container rootfs must be an absolute path");
        if (!ctx->files_dir || !path_is_absolute(ctx->files_dir))
                return eng_err(err, EINVAL, "container files directory must be an absolute path");
        return 0;
}

int engine_spec_build(const struct engine_image_config *img, const struct engine_run_opts *opts,
                      const struct engine_spec_ctx *ctx, struct engine_spec **out, struct berr **err)
{
        struct build b = {.img = img, .opts = opts, .ctx = ctx};
        struct engine_user user = {0};
        _cleanup_close_ int rootfd = -1;
        _cleanup_engine_spec_ struct engine_spec *s = NULL;
        json_object *spec = NULL, *root, *mounts, *ann;
        const char *sig;
        int64_t shm = ENGINE_SHM_DEFAULT;
        int r = -EINVAL;

        if (check_ctx(ctx, err) < 0)
                return -EINVAL;
        s = calloc(1, sizeof(*s));
        if (!s)
                return berr_make(err, ENOMEM, "spec");
        b.out = s;
        b.mounts_default = json_object_new_array();
        b.mounts_user = json_object_new_array();
        b.dev_rules = json_object_new_array();
        b.devices = json_object_new_array();
        spec = json_object_new_object();
        if (!b.mounts_default || !b.mounts_user || !b.dev_rules || !b.devices || !spec) {
                r = berr_make(err, ENOMEM, "spec");
                goto out;
        }

        if (parse_namespaces(&b, err) < 0 || compute_caps(&b, err) < 0 || parse_security_opts(&b, err) < 0 ||
            hostname_pick(&b, err) < 0)
                goto out;
        if (opts->shm_size) {
                if (engine_parse_size("--shm-size", opts->shm_size, &shm, err) < 0)
                        goto out;
                if (shm <= 0) {
                        eng_err(err, EINVAL, "--shm-size: must be greater than 0");
                        goto out;
                }
        }
        sig = opts->stop_signal                              ? opts->stop_signal
              : img && img->stop_signal && *img->stop_signal ? img->stop_signal
                                                             : "SIGTERM";
        if (engine_parse_signal(opts->stop_signal ? "--stop-signal" : "image StopSignal", sig,
                                &s->stop_signal, err) < 0)
                goto out;
        STRV_FOREACH (l, img ? img->labels : NULL)
                if (strv_extend(&s->labels, *l) < 0) {
                        r = berr_make(err, ENOMEM, "labels");
                        goto out;
                }
        if (kv_list("--label", opts->labels, false, NULL, &s->labels, err) < 0)
                goto out;

        rootfd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0) {
                r = berr_errno(err, "open container rootfs `%s`", ctx->rootfs);
                goto out;
        }
        if (engine_user_resolve(rootfd,
                                opts->user ? opts->user
                                : img      ? img->user
                                           : NULL,
                                opts->group_add, &user, err) < 0)
                goto out;

        /* Devices and their cgroup rules. */
        if (opts->privileged) {
                if (devices_walk(&b, "/dev", "/dev", "rwm", false, true, 0, err) < 0)
                        goto out;
                json_object_array_add(b.dev_rules, dev_rule(true, NULL, -2, -2, "rwm"));
        } else {
                default_dev_rules(b.dev_rules);
        }
        if (devices_add_user(&b, err) < 0)
                goto out;

        /* Mounts: the defaults, then the user's and the per-container files sorted by depth. */
        if (user_mounts(&b, err) < 0 || default_mounts(&b, shm, err) < 0)
                goto out;
        if (opts->init && b.pid == NS_PRIVATE) {
                const char *src = ctx->init_path ? ctx->init_path : ENGINE_INIT_PATH;
                if (access(src, X_OK) < 0) {
                        r = berr_errno(err, "--init: `%s`", src);
                        goto out;
                }
                json_object_array_add(
                    b.mounts_default,
                    mount_jsonv(ENGINE_INIT_TARGET, "bind", src, (const char *const[]){"bind", "ro", NULL}));
        }
        if (files_mounts(&b, err) < 0)
                goto out;
        sort_mounts(b.mounts_user);

        json_object_object_add(spec, "ociVersion", json_object_new_string(OCI_VERSION));
        if (process_json(&b, spec, &user, err) < 0)
                goto out;
        root = json_object_new_object();
        json_object_object_add(root, "path", json_object_new_string(ctx->rootfs));
        if (opts->read_only)
                json_object_object_add(root, "readonly", json_object_new_boolean(1));
        json_object_object_add(spec, "root", root);
        if (b.uts == NS_PRIVATE)
                json_object_object_add(spec, "hostname", json_object_new_string(s->hostname));
        mounts = json_object_get(b.mounts_default);
        for (size_t i = 0; i < json_object_array_length(b.mounts_user); i++)
                json_object_array_add(mounts, json_object_get(json_object_array_get_idx(b.mounts_user, i)));
        json_object_object_add(spec, "mounts", mounts);
        ann = json_object_new_object();
        json_object_object_add(spec, "annotations", ann);
        if (kv_list("--annotation", opts->annotations, true, ann, NULL, err) < 0)
                goto out;
        if (linux_json(&b, spec, err) < 0)
                goto out;

        /* The files a container joining another's network shares with it are not ours to write. */
        if (b.net != NS_CONTAINER) {
                if (engine_hosts_render(opts, ctx, s->hostname, b.net == NS_HOST, &s->hosts, err) < 0 ||
                    engine_resolv_conf_render(opts, ctx, b.net == NS_HOST, &s->resolv_conf, err) < 0)
                        goto out;
                if (asprintf(&s->hostname_file, "%s\n", s->hostname) < 0) {
                        r = berr_make(err, ENOMEM, "hostname");
                        goto out;
                }
        }
        s->config = TAKE_PTR(spec);
        *out = TAKE_PTR(s);
        r = 0;
out:
        json_object_put(spec);
        engine_user_done(&user);
        build_done(&b);
        return r;
}

int engine_spec_prepare(const struct engine_spec *spec, const struct engine_spec_ctx *ctx, struct berr **err)
{
        static const char *const names[] = {"hosts", "hostname", "resolv.conf"};
        const char *contents[] = {spec->hosts, spec->hostname_file, spec->resolv_conf};
        _cleanup_close_ int dirfd = -1, rootfd = -1, wd = -1;

        if (check_ctx(ctx, err) < 0)
                return -EINVAL;
        if (spec->hosts) {
                if (mkdir_p(ctx->files_dir, 0755, err) < 0)
                        return -EIO;
                dirfd = open(ctx->files_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (dirfd < 0)
                        return berr_errno(err, "open `%s`", ctx->files_dir);
                for (size_t i = 0; i < ARRAY_SIZE(names); i++)
                        if (write_file_atomic_at(dirfd, names[i], contents[i], strlen(contents[i]), 0644,
                                                 err) < 0)
                                return berr_wrap(err, "%s", ctx->files_dir);
        }
        /* docker creates the working directory (owned by root) when the image lacks it. */
        rootfd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return berr_errno(err, "open container rootfs `%s`", ctx->rootfs);
        wd = mkdir_p_in_root(rootfd, spec->workdir, 0755, err);
        if (wd < 0)
                return berr_wrap(err, "working directory");
        /* -v with a missing host directory creates it (docker's legacy behaviour). */
        STRV_FOREACH (p, spec->bind_sources_to_create)
                if (mkdir_p(*p, 0755, err) < 0)
                        return berr_wrap(err, "--volume");
        return 0;
}

int engine_spec_write_bundle(const struct engine_spec *spec, const char *bundle_dir, struct berr **err)
{
        _cleanup_close_ int dirfd = -1;
        const char *s;

        if (mkdir_p(bundle_dir, 0700, err) < 0)
                return -EIO;
        dirfd = open(bundle_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return berr_errno(err, "open bundle `%s`", bundle_dir);
        s = json_to_string(spec->config, true);
        if (!s)
                return berr_make(err, ENOMEM, "config.json");
        return write_file_atomic_at(dirfd, "config.json", s, strlen(s), 0600, err);
}

int engine_spec_anonymous_volumes(const struct engine_image_config *img, const struct engine_run_opts *opts,
                                  char ***out, struct berr **err)
{
        _cleanup_strv_free_ char **res = NULL;

        STRV_FOREACH (v, img ? img->volumes : NULL) {
                _cleanup_free_ char *clean = NULL;
                bool covered = false;

                /* The image's "/../../x" is its /x, as for docker: never a path outside. */
                if (engine_clean_destination("image volume", *v, *v, &clean, err) < 0)
                        return -EINVAL;
                for (size_t i = 0; i < opts->n_mounts; i++)
                        covered |= opts->mounts[i].destination && streq(opts->mounts[i].destination, clean);
                for (const char *const *t = opts->tmpfs; t && *t; t++) {
                        size_t n = strcspn(*t, ":");
                        _cleanup_free_ char *d = strndup(*t, n), *dc = NULL;
                        if (!d)
                                return berr_make(err, ENOMEM, "volumes");
                        /* A bad --tmpfs is reported where the mounts are made. */
                        if (engine_clean_destination("--tmpfs", *t, d, &dc, NULL) == 0)
                                covered |= streq(dc, clean);
                }
                if (!covered && !strv_contains(res, clean) && strv_extend(&res, clean) < 0)
                        return berr_make(err, ENOMEM, "volumes");
        }
        *out = TAKE_PTR(res);
        return 0;
}
