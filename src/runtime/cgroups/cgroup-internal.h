/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Shared by the files of src/runtime/cgroups and by tests/unit/test-cgroups.c:
 * the host layout, the parsed resources and the backends, each taking its
 * mount roots as parameters so tests can point them at a fake tree.
 */
#include <stdint.h>

#include "cgroup.h"

/* Caps on what a config may ask for: entries per resources list, bytes per string. */
#define CGROUP_LIST_MAX   1024
#define CGROUP_STRING_MAX 4096
/* Control files and cgroup.procs lists read back. */
#define CGROUP_READ_MAX (4u << 20)

enum cgroup_mode {
        CGROUP_MODE_V1 = 1,
        CGROUP_MODE_V2,
        CGROUP_MODE_HYBRID,
};

const char *cgroup_mode_name(enum cgroup_mode m);
int cgroup_mode_from_name(const char *s);

/* One mounted hierarchy. */
struct cgroup_hier {
        bool v2;
        char *mount_point; /* host path of the mount */
        char *mount_root;  /* mountinfo "root": the cgroup shown at mount_point */
        /* v1: the mount's controllers ("cpu", "cpuacct", "name=systemd");
         * v2: the root's cgroup.controllers */
        char **controllers;
        char *own_path; /* the caller's cgroup in this hierarchy (/proc/self/cgroup) */
};

struct cgroup_host {
        enum cgroup_mode mode;
        struct cgroup_hier *h;
        size_t n;
        /* A test tree in a plain directory: no fstatfs check, no eBPF attach,
         * no kernel-populated control files. */
        bool fake;
};

void cgroup_host_done(struct cgroup_host *host);
/* Parses /proc/self/mountinfo text into hierarchies and the mode. v2
 * controllers are not read (see cgroup_host_read_v2_controllers). */
int cgroup_host_parse_mountinfo(const char *text, struct cgroup_host *host, struct berr **err);
/* Fills own_path of each hierarchy from /proc/self/cgroup text. */
int cgroup_host_parse_self(struct cgroup_host *host, const char *text, struct berr **err);
int cgroup_host_read_v2_controllers(struct cgroup_host *host, struct berr **err);
/* The running host: mountinfo, own cgroups, v2 controllers, fs types. */
int cgroup_host_detect(struct cgroup_host *host, struct berr **err);
/* Index of the hierarchy holding controller (v1 first), or -1. */
ssize_t cgroup_host_find(const struct cgroup_host *host, const char *controller, bool v2);
ssize_t cgroup_host_v2(const struct cgroup_host *host);

/*
 * linux.cgroupsPath for the cgroupfs driver: NULL or "" gives
 * /berth-runtime/<id>; absolute paths are relative to each mount point;
 * relative ones to the caller's own cgroup. ".." may not leave the base.
 * Returns in out[i] the path of hierarchy i relative to its mount point
 * (no leading slash).
 */
#define CGROUP_DEFAULT_PARENT "berth-runtime"
int cgroup_resolve_paths(const struct cgroup_host *host, const char *cgroups_path, const char *id,
                         char ***out, struct berr **err);
/* "slice:prefix:name" of --systemd-cgroup. */
int cgroup_parse_systemd_path(const char *p, char **slice, char **prefix, char **name, struct berr **err);

/* ---- resources ---- */

enum {
        CGROUP_DEV_MKNOD = 1, /* the bits of BPF_DEVCG_ACC_* */
        CGROUP_DEV_READ = 2,
        CGROUP_DEV_WRITE = 4,
        CGROUP_DEV_ALL = 7,
};

struct cgroup_device_rule {
        bool allow;
        char type;            /* 'a', 'b', 'c' */
        int64_t major, minor; /* -1: any */
        unsigned access;      /* CGROUP_DEV_* */
};

struct cgroup_weight_device {
        int64_t major, minor;
        bool has_weight, has_leaf_weight;
        uint16_t weight, leaf_weight;
};

struct cgroup_throttle_device {
        int64_t major, minor;
        uint64_t rate;
};

enum {
        CGROUP_THROTTLE_READ_BPS,
        CGROUP_THROTTLE_WRITE_BPS,
        CGROUP_THROTTLE_READ_IOPS,
        CGROUP_THROTTLE_WRITE_IOPS,
        CGROUP_THROTTLE_N
};

struct cgroup_hugepage_limit {
        char *pagesize; /* "2MB" */
        uint64_t limit;
};

struct cgroup_ifprio {
        char *name;
        uint32_t priority;
};

struct cgroup_rdma_limit {
        char *device;
        bool has_handles, has_objects;
        uint32_t handles, objects;
};

/* linux.resources with presence flags; 0/unset follow runc (0 = leave alone). */
struct cgroup_resources {
        struct {
                bool has_limit, has_reservation, has_swap, has_kernel, has_kernel_tcp, has_swappiness,
                    has_disable_oom_killer, has_use_hierarchy, has_check_before_update;
                int64_t limit, reservation, swap, kernel, kernel_tcp; /* -1: unlimited */
                uint64_t swappiness;
                bool disable_oom_killer, use_hierarchy, check_before_update;
        } memory;
        struct {
                bool has_shares, has_quota, has_period, has_burst, has_rt_runtime, has_rt_period, has_idle;
                uint64_t shares, period, burst, rt_period;
                int64_t quota, rt_runtime, idle;
                char *cpus, *mems;
        } cpu;
        struct {
                bool has_limit;
                int64_t limit; /* -1: unlimited; 0 is written as 1 */
        } pids;
        struct {
                bool has_weight, has_leaf_weight;
                uint16_t weight, leaf_weight;
                struct cgroup_weight_device *weight_devices;
                size_t n_weight_devices;
                struct cgroup_throttle_device *throttle[CGROUP_THROTTLE_N];
                size_t n_throttle[CGROUP_THROTTLE_N];
        } blkio;
        struct cgroup_hugepage_limit *hugepages;
        size_t n_hugepages;
        struct {
                bool has_class_id;
                uint32_t class_id;
                struct cgroup_ifprio *priorities;
                size_t n_priorities;
        } network;
        struct cgroup_rdma_limit *rdma;
        size_t n_rdma;
        char **unified; /* key, value pairs */
        bool has_devices;
        struct cgroup_device_rule *devices;
        size_t n_devices;
};

/* path names the object in messages ("linux.resources"). obj may be NULL. */
int cgroup_resources_parse(json_object *obj, const char *path, struct cgroup_resources *res,
                           struct berr **err);
void cgroup_resources_done(struct cgroup_resources *res);

/* Controllers the resources need ("memory", "cpu", "cpuset", "pids", "blkio",
 * "hugetlb", "net_cls", "net_prio", "rdma", "devices"), in v1 names. */
bool cgroup_resources_uses(const struct cgroup_resources *res, const char *controller);
/* Refuses what the host cannot do before anything is created: missing
 * controllers, keys v2 does not have, unified keys without a cgroup2 home. */
int cgroup_resources_check(const struct cgroup_resources *res, const struct cgroup_host *host,
                           const char *path, struct berr **err);

/* v1 -> v2 value translations (as runc and crun do). */
uint64_t cgroup_shares_to_weight(uint64_t shares);
uint64_t cgroup_blkio_weight_to_io_weight(uint64_t weight);
/* memory.swap.max from spec swap (memory+swap) and limit; -1 means "max".
 * Returns 0, or a negative error when the pair is inconsistent. */
int cgroup_swap_to_v2(int64_t swap, int64_t limit, int64_t *out, struct berr **err);

/* Default device rules appended after the config's (as runc and crun do). */
extern const struct cgroup_device_rule cgroup_default_devices[];
extern const size_t cgroup_n_default_devices;
/* "c 1:3 rwm" for devices.allow/deny. */
int cgroup_device_rule_format(const struct cgroup_device_rule *r, char *buf, size_t size);

/* ---- the cgroup of one container ---- */

struct cgroup_dir {
        size_t hier;      /* index in host.h */
        char *path;       /* relative to the mount point */
        char *full;       /* mount point + path, for messages */
        int fd;           /* the cgroup directory, opened lazily (-1) */
        int mount_fd;     /* the mount point, opened lazily (-1) */
        size_t n_created; /* trailing components this process created */
};

struct cgroup {
        struct cgroup_host host;
        struct cgroup_dir *dirs;
        size_t n_dirs;
};

/* cgroup_create/from_json on a given host layout (tests pass fake trees). */
int cgroup_create_on(struct cgroup_host *host, const struct cgroup_config *cfg, struct cgroup **out,
                     struct berr **err);
int cgroup_from_json_fake(json_object *o, bool fake, struct cgroup **out, struct berr **err);

int cgroup_dir_open(struct cgroup *cg, struct cgroup_dir *d, struct berr **err);
/* The directory that holds controller: the v1 hierarchy when mounted there,
 * else the v2 one when the controller is enabled there ("devices", "freezer"
 * and core files are always on v2). NULL when none. */
struct cgroup_dir *cgroup_dir_for(struct cgroup *cg, const char *controller);
struct cgroup_dir *cgroup_dir_v2(struct cgroup *cg);
static inline bool cgroup_dir_is_v2(const struct cgroup *cg, const struct cgroup_dir *d)
{
        return cg->host.h[d->hier].v2;
}

/* Control file I/O on a cgroup directory fd; messages name dirpath/file and the value. */
int cg_write(int dirfd, const char *dirpath, const char *file, const char *value, struct berr **err);
int cg_writef(int dirfd, const char *dirpath, const char *file, struct berr **err, const char *fmt, ...)
    _printf_(5, 6);
int cg_read(int dirfd, const char *dirpath, const char *file, char **out, struct berr **err);
/* A single number; "max" reads as UINT64_MAX. */
int cg_read_u64(int dirfd, const char *dirpath, const char *file, uint64_t *out, struct berr **err);
/* The value of "key N" in a flat keyed file (memory.events, cpu.stat): 1 when found, 0 when absent. */
int cg_read_key_u64(int dirfd, const char *dirpath, const char *file, const char *key, uint64_t *out,
                    struct berr **err);
bool cg_exists(int dirfd, const char *file);
/* Value of "key" in "key value\n..." text. */
bool cg_text_key_u64(const char *text, const char *key, uint64_t *out);

/* Backends: apply the resources to one directory. update: skip what only
 * creation sets (devices) and order memory/swap writes against current values. */
int cgroup_v1_apply(struct cgroup *cg, const struct cgroup_resources *res, bool update, struct berr **err);
int cgroup_v2_apply(struct cgroup *cg, const struct cgroup_resources *res, bool update, struct berr **err);

/* Controllers whose files are the same on v1 and v2 (hugetlb differs only in names). */
int cgroup_pids_apply(int fd, const char *full, const struct cgroup_resources *res, struct berr **err);
int cgroup_hugetlb_apply(int fd, const char *full, bool v2, const struct cgroup_resources *res,
                         struct berr **err);
int cgroup_rdma_apply(int fd, const char *full, const struct cgroup_resources *res, struct berr **err);

/* Devices: the eBPF program for cgroup v2 (last matching rule wins, default
 * deny). Returns the number of instructions in *out (malloc'ed). */
struct bpf_insn;
int cgroup_devices_bpf_build(const struct cgroup_device_rule *rules, size_t n, struct bpf_insn **out,
                             size_t *n_insns, struct berr **err);
/* Loads the program and attaches it to the cgroup dir fd with
 * BPF_F_ALLOW_MULTI, replacing programs attached there before. */
int cgroup_devices_bpf_attach(int dirfd, const char *dirpath, const struct bpf_insn *insns, size_t n,
                              struct berr **err);
/* The config's rules followed by the defaults, as a single list. */
int cgroup_devices_rules(const struct cgroup_resources *res, struct cgroup_device_rule **out, size_t *n,
                         struct berr **err);
