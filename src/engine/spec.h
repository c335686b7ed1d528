/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * From an image's config and what `berth run`/`create` parsed to the OCI
 * runtime-spec config.json, with docker's defaults and docker's semantics for
 * every flag (docs/engine-spec.md lists the choices where berth differs).
 *
 * engine_spec_build() is pure apart from reading the image's /etc/passwd and
 * /etc/group (inside the rootfs), the host's resolv.conf/hosts and a few
 * /proc and /sys files; engine_spec_prepare() and engine_spec_write_bundle()
 * write what it computed.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "oci/spec.h"

/* The image's config (image-spec "config" object). Same field names and types
 * as struct image_config of src/image so the engine converts by copying pointers. */
struct engine_image_config {
        char *user;
        char *working_dir;
        char *stop_signal;
        char **entrypoint; /* NULL when unset */
        char **cmd;
        char **env;
        char **exposed_ports; /* "80/tcp" ... */
        char **volumes;
        char **labels; /* key, value, key, value ... */
};

enum engine_mount_type {
        ENGINE_MOUNT_BIND,
        ENGINE_MOUNT_VOLUME,
        ENGINE_MOUNT_TMPFS,
};

/* One -v or --mount. */
struct engine_mount {
        enum engine_mount_type type;
        /* bind: host path; volume: host path of the volume's data, filled in by
         * the engine once it has looked up or created the volume; tmpfs: NULL. */
        char *source;
        char *volume_name; /* volume: NULL for an anonymous volume */
        char *destination;
        bool readonly;
        char *propagation;  /* bind: NULL (rprivate) or [r]private, [r]shared, [r]slave */
        bool nocopy;        /* volume: do not copy the image's content into a new volume */
        bool non_recursive; /* bind: bind-nonrecursive=true */
        bool create_source; /* bind from -v: a missing host directory is created (docker) */
        int64_t tmpfs_size; /* bytes, 0: unset */
        int tmpfs_mode;     /* -1: unset */
};
/* -v [SOURCE:]DEST[:OPTIONS]: SOURCE absolute is a bind, else a volume name;
 * OPTIONS ro, rw, z, Z, nocopy, [r]shared, [r]slave, [r]private. */
int engine_mount_parse_volume(const char *spec, struct engine_mount *out, struct berr **err);
/* --mount type=bind|volume|tmpfs,source=...,target=...,readonly,... (docker's keys). */
int engine_mount_parse_mount(const char *spec, struct engine_mount *out, struct berr **err);
void engine_mount_done(struct engine_mount *m);

/*
 * What the command line said, as given: every value is validated by
 * engine_spec_build(), whose errors name the flag. NULL (or a NULL list) means
 * the flag was not given. Lists are NULL-terminated.
 */
struct engine_run_opts {
        const char *entrypoint;        /* --entrypoint: "" clears the image's */
        const char *const *cmd;        /* arguments after the image: replace its Cmd */
        const char *const *env;        /* -e NAME=VALUE or NAME (value from the caller's environment) */
        const char *const *env_files;  /* --env-file, read before -e */
        const char *workdir;           /* -w */
        const char *user;              /* -u user[:group] */
        const char *const *group_add;  /* --group-add */
        const char *hostname;          /* --hostname */
        const char *const *add_hosts;  /* --add-host NAME:IP or NAME=IP */
        const char *const *dns;        /* --dns */
        const char *const *dns_search; /* --dns-search */
        const char *const *dns_options;
        const char *const *cap_add;
        const char *const *cap_drop;
        bool privileged;
        const char *const *security_opts; /* seccomp=, no-new-privileges, label=, apparmor= */
        bool read_only;
        const char *const *tmpfs; /* --tmpfs PATH[:OPTIONS] */
        bool init;
        const char *memory, *memory_reservation, *memory_swap;
        const char *cpus, *cpu_shares, *cpu_quota, *cpu_period, *cpuset_cpus, *cpuset_mems;
        const char *pids_limit;
        const char *const *ulimits; /* NAME=SOFT[:HARD] */
        const char *const *devices; /* HOST[:CONTAINER][:PERMISSIONS] */
        const char *shm_size;
        const char *const *sysctls;
        const char *const *labels;      /* KEY[=VALUE] */
        const char *const *annotations; /* KEY=VALUE */
        const char *stop_signal;
        bool tty, interactive;
        const char *ipc;           /* ""/private, shareable, none, host, container:X */
        const char *pid;           /* ""/private, host, container:X */
        const char *uts;           /* "", host */
        const char *network;       /* ""/bridge/NAME, none, host, container:X */
        const char *userns;        /* "", host */
        const char *cgroupns;      /* host, private; NULL: private on cgroup v2 hosts, else host (docker) */
        const char *cgroup_parent; /* NULL: "/berth" */
        const struct engine_mount *mounts; /* parsed -v and --mount, in command-line order */
        size_t n_mounts;
        unsigned console_height, console_width; /* with -t: the caller's terminal size, 0: unknown */
};

/* Other containers' names for /etc/hosts. */
struct engine_host_entry {
        const char *ip;
        const char *const *names;
};

/* Derives the seccomp filter for a container from a profile in docker's format
 * and the capability bounding set (a bit per capability). */
typedef int (*engine_seccomp_resolve_fn)(json_object *profile, uint64_t caps, json_object **out,
                                         struct berr **err);

/* What the engine knows about the container beyond the command line. */
struct engine_spec_ctx {
        const char *id;        /* hex id: the default hostname is its first 12 characters */
        const char *name;      /* container name, an /etc/hosts alias */
        const char *rootfs;    /* host path of its root filesystem; users and groups are read there */
        const char *files_dir; /* host dir holding its hosts, hostname and resolv.conf */
        /* Hostname when --hostname is not given; NULL: docker's (the short id, the
         * host's with --network host). With --network container:X, X's. */
        const char *hostname;
        const char *const *ips;                /* its addresses, for its own /etc/hosts line */
        const struct engine_host_entry *hosts; /* other containers on its networks */
        size_t n_hosts;
        const char *host_gateway; /* address behind --add-host NAME:host-gateway */
        /* Namespaces to join: the CNI netns for bridge networks and X's for
         * container:X (required for those modes), indexed by enum oci_ns_type. */
        const char *ns_paths[OCI_NS_COUNT];
        const char *shm_path; /* --ipc container:X: X's /dev/shm directory on the host */
        /* The default seccomp profile (docker's format); NULL: SECCOMP_DEFAULT_PROFILE,
         * data/seccomp/default.json as installed. */
        const char *seccomp_profile;
        /* Turns a profile into linux.seccomp for the container's capabilities;
         * NULL: engine_seccomp_resolve(). */
        engine_seccomp_resolve_fn seccomp_resolve;
        const char *init_path; /* --init binary on the host; NULL: ENGINE_INIT_PATH */
        /* Host files behind the defaults; NULL: the real ones. */
        const char *host_resolv_conf;  /* NULL: /etc/resolv.conf */
        const char *host_hosts;        /* NULL: /etc/hosts (copied with --network host) */
        const char *const *caller_env; /* for -e NAME and --env-file lines without '=': NULL: environ */
};

/* podman's init (Debian package catatonit), bound into the container at ENGINE_INIT_TARGET. */
#define ENGINE_INIT_PATH     "/usr/bin/catatonit"
#define ENGINE_INIT_TARGET   "/sbin/berth-init"
#define ENGINE_SHM_DEFAULT   (64 * 1024 * 1024)
#define ENGINE_CGROUP_PARENT "/berth"

struct engine_spec {
        json_object *config; /* config.json */
        char *hostname;
        char **labels;   /* the image's labels overridden by --label: key, value pairs */
        int stop_signal; /* --stop-signal, else the image's, else SIGTERM */
        char *workdir;   /* created in the rootfs by engine_spec_prepare() */
        /* Content of the per-container files; NULL when they are shared with
         * another container (--network container:X) and not ours to write. */
        char *hosts, *hostname_file, *resolv_conf;
        char **bind_sources_to_create; /* -v bind sources that do not exist yet */
};

int engine_spec_build(const struct engine_image_config *img, const struct engine_run_opts *opts,
                      const struct engine_spec_ctx *ctx, struct engine_spec **out, struct berr **err);
/* Writes hosts, hostname and resolv.conf into ctx->files_dir, creates the
 * working directory in the rootfs and missing -v bind sources on the host. */
int engine_spec_prepare(const struct engine_spec *spec, const struct engine_spec_ctx *ctx, struct berr **err);
/* Writes <bundle_dir>/config.json (atomically, mode 0600). */
int engine_spec_write_bundle(const struct engine_spec *spec, const char *bundle_dir, struct berr **err);
void engine_spec_free(struct engine_spec *spec);
static inline void engine_spec_freep(struct engine_spec **s)
{
        engine_spec_free(*s);
}
#define _cleanup_engine_spec_ _cleanup_(engine_spec_freep)

/* The seccomp filter of a profile in docker's format for a bounding set
 * (runtime/seccomp-default's resolution for the host's architecture and kernel). */
int engine_seccomp_resolve(json_object *profile, uint64_t caps, json_object **out, struct berr **err);

/* The memory, cpu and pids parts of linux.resources from the resource flags
 * of opts (--memory*, --cpus, --cpu-*, --cpuset-*, --pids-limit), validated
 * as run validates them; `berth update` reuses them. */
int engine_spec_resources(const struct engine_run_opts *opts, json_object *res, struct berr **err);

/* Image volumes (VOLUME) that no -v/--mount covers: the engine creates an
 * anonymous volume for each, as docker does. */
int engine_spec_anonymous_volumes(const struct engine_image_config *img, const struct engine_run_opts *opts,
                                  char ***out, struct berr **err);

/* ---- pieces, exposed for the CLI and tests --------------------------------- */

/* Sizes as docker parses them: a number with an optional b, k, m, g, t, p
 * suffix (binary multiples, case-insensitive, optional trailing "b"/"ib"). */
int engine_parse_size(const char *flag, const char *s, int64_t *out, struct berr **err);
/* "SIGTERM", "TERM", "term" or "15". */
int engine_parse_signal(const char *flag, const char *s, int *out, struct berr **err);

/* Resolves user[:group] as docker does, from <rootfs>/etc/passwd and
 * /etc/group read inside the rootfs. NULL or "" is root. */
struct engine_user {
        uint32_t uid, gid;
        uint32_t *gids; /* additional groups: the primary gid first, then memberships, then --group-add */
        size_t n_gids;
        char *home; /* from passwd, else "/" */
};
int engine_user_resolve(int rootfd, const char *spec, const char *const *group_add, struct engine_user *out,
                        struct berr **err);
void engine_user_done(struct engine_user *u);

/* The environment: PATH, HOSTNAME, TERM (with -t), then -e/--env-file, then
 * the image's Env not overridden; HOME is added last when missing. */
int engine_env_build(const struct engine_image_config *img, const struct engine_run_opts *opts,
                     const struct engine_spec_ctx *ctx, const char *hostname, const char *home, char ***out,
                     struct berr **err);
/* --env-file as docker reads it (appends to *out). */
int engine_env_file_read(const char *path, const char *const *caller_env, char ***out, struct berr **err);

/* process.args from Entrypoint/Cmd and --entrypoint/arguments. */
int engine_args_build(const struct engine_image_config *img, const struct engine_run_opts *opts, char ***out,
                      struct berr **err);

/* File contents (the caller frees them). */
int engine_hosts_render(const struct engine_run_opts *opts, const struct engine_spec_ctx *ctx,
                        const char *hostname, bool host_network, char **out, struct berr **err);
int engine_resolv_conf_render(const struct engine_run_opts *opts, const struct engine_spec_ctx *ctx,
                              bool host_network, char **out, struct berr **err);
