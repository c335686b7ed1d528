/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"

/* Model of the OCI runtime-spec 1.2 config.json (Linux). */

#define OCI_VERSION "1.2.0"
#define OCI_CONFIG_MAX (4u << 20)

enum oci_ns_type {
        OCI_NS_PID,
        OCI_NS_NET,
        OCI_NS_MNT,
        OCI_NS_IPC,
        OCI_NS_UTS,
        OCI_NS_USER,
        OCI_NS_CGROUP,
        OCI_NS_TIME,
        OCI_NS_COUNT,
};

struct oci_id_map {
        uint32_t container_id, host_id, size;
};

struct oci_rlimit {
        int resource;
        uint64_t soft, hard;
};

struct oci_caps {
        bool present;
        uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct oci_user {
        uint32_t uid, gid;
        bool has_umask;
        mode_t umask;
        gid_t *additional_gids;
        size_t n_additional_gids;
};

struct oci_sched {
        bool present;
        uint32_t policy;
        int32_t nice;
        int32_t priority;
        uint64_t flags;
        uint64_t runtime, deadline, period;
};

struct oci_process {
        bool terminal;
        bool has_console_size;
        uint32_t console_height, console_width;
        struct oci_user user;
        char **args;
        char **env;
        char *cwd;
        struct oci_caps caps;
        struct oci_rlimit *rlimits;
        size_t n_rlimits;
        bool no_new_privileges;
        char *apparmor_profile;
        char *selinux_label;
        bool has_oom_score_adj;
        int oom_score_adj;
        bool has_io_priority;
        int io_priority_class, io_priority;
        struct oci_sched scheduler;
        char *cpu_affinity_initial, *cpu_affinity_final;
};

struct oci_mount {
        char *destination;
        char *type;
        char *source;
        char **options;
        struct oci_id_map *uid_mappings, *gid_mappings;
        size_t n_uid_mappings, n_gid_mappings;
};

struct oci_hook {
        char *path;
        char **args;
        char **env;
        int timeout; /* seconds, 0 = none */
};

enum oci_hook_kind {
        OCI_HOOK_PRESTART,
        OCI_HOOK_CREATE_RUNTIME,
        OCI_HOOK_CREATE_CONTAINER,
        OCI_HOOK_START_CONTAINER,
        OCI_HOOK_POSTSTART,
        OCI_HOOK_POSTSTOP,
        OCI_HOOK_COUNT,
};

struct oci_namespace {
        enum oci_ns_type type;
        char *path;
};

struct oci_device {
        char *path;
        char type; /* 'c', 'b', 'u', 'p' */
        int64_t major, minor;
        bool has_mode, has_uid, has_gid;
        mode_t mode;
        uint32_t uid, gid;
};

struct oci_time_offset {
        int64_t secs;
        uint32_t nanosecs;
};

struct oci_linux {
        struct oci_namespace *namespaces;
        size_t n_namespaces;
        struct oci_id_map *uid_mappings, *gid_mappings;
        size_t n_uid_mappings, n_gid_mappings;
        bool has_time_offsets;
        struct oci_time_offset monotonic, boottime;
        struct oci_device *devices;
        size_t n_devices;
        char *cgroups_path;
        json_object *resources; /* parsed by runtime/cgroups */
        json_object *seccomp;   /* parsed by runtime/seccomp */
        json_object *intel_rdt;
        char *rootfs_propagation;
        char **masked_paths;
        char **readonly_paths;
        char *mount_label;
        char **sysctl; /* key, value pairs */
        bool has_personality;
        unsigned long personality;
};

struct oci_spec {
        char *oci_version;
        char *root_path;
        bool root_readonly;
        bool has_process;
        struct oci_process process;
        char *hostname;
        char *domainname;
        struct oci_mount *mounts;
        size_t n_mounts;
        struct oci_hook *hooks[OCI_HOOK_COUNT];
        size_t n_hooks[OCI_HOOK_COUNT];
        char **annotations; /* key, value pairs */
        struct oci_linux linux_;
        json_object *raw;
};

int oci_spec_parse(const char *buf, size_t len, struct oci_spec **out, struct berr **err);
/* Reads <bundle>/config.json. */
int oci_spec_load(const char *bundle, struct oci_spec **out, struct berr **err);
void oci_spec_free(struct oci_spec *spec);
static inline void oci_spec_freep(struct oci_spec **s)
{
        oci_spec_free(*s);
}
#define _cleanup_spec_ _cleanup_(oci_spec_freep)

/* Parses a process object (config.json's "process" or exec's --process file). */
int oci_process_parse(json_object *obj, const char *path, struct oci_process *out, struct berr **err);
void oci_process_done(struct oci_process *p);

const char *oci_ns_name(enum oci_ns_type t);
int oci_ns_from_name(const char *name);
int oci_ns_clone_flag(enum oci_ns_type t);
/* "/proc/<pid>/ns/<file>" file name for a namespace type. */
const char *oci_ns_proc_name(enum oci_ns_type t);
const struct oci_namespace *oci_spec_ns(const struct oci_spec *spec, enum oci_ns_type t);

const char *oci_hook_kind_name(enum oci_hook_kind k);

/* Capabilities: names as in the spec ("CAP_SYS_ADMIN"). */
int oci_cap_from_name(const char *name);
const char *oci_cap_name(int cap);
int oci_cap_last(void);

int oci_rlimit_from_name(const char *name);
const char *oci_rlimit_name(int resource);

/* `runc spec`'s default config (rootless variant with --rootless). */
json_object *oci_spec_default(bool rootless);

/* Container ids as runc accepts them: [A-Za-z0-9_+.-]+, not "." or "..". */
int oci_validate_id(const char *id, struct berr **err);
