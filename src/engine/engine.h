/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The engine: containers on top of the image store, the OCI runtime, the
 * monitor and CNI networking, with no daemon. Every `berth` process opens its
 * own struct engine; what the processes share lives on disk (docs/ENGINE.md):
 *
 *   <root>/berth.db                 SQLite, shared with the image store
 *   <root>/containers/<id>/         bundle (config.json), userdata/ (hosts, hostname,
 *                                   resolv.conf), ctr.log; its fd is the container's lock
 *   <root>/network/                 CNI results and leases (src/network)
 *   <runroot>/containers/<id>/      the monitor's state directory (state.json, attach, lock)
 *   <runroot>/runtime/<runtime>/    the OCI runtime's --root
 *   <runroot>/netns/                network namespaces
 *
 * Functions take a struct engine and never use globals, so that berthd can
 * share them.
 */

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "image/store.h"
#include "network/network.h"

#define ENGINE_DEFAULT_ROOT    "/var/lib/berth"
#define ENGINE_DEFAULT_RUNROOT "/run/berth"
#define ENGINE_DEFAULT_CONFIG  "/etc/berth/berth.conf"
#define ENGINE_DEFAULT_RUNTIME "berth-runtime"
#define ENGINE_MONITOR_NAME    "berth-monitor"
/* Caps on what the configuration file may hold. */
#define ENGINE_CONFIG_MAX   (256 * 1024)
#define ENGINE_RUNTIMES_MAX 64

/* One entry of the runtimes table (podman's `runtimes`). */
struct engine_runtime {
        char *name;
        char **paths; /* candidates, first that exists wins: absolute, or a name looked up in $PATH */
        char **args;  /* global options put before every runtime command */
};

struct engine_config {
        char *default_runtime;
        struct engine_runtime *runtimes;
        size_t n_runtimes;
        char *monitor_path;    /* NULL: berth-monitor beside the berth binary, else in $PATH */
        char *log_driver;      /* k8s-file, json-file or none */
        uint64_t log_size_max; /* bytes, 0: no rotation */
        unsigned stop_timeout; /* seconds, docker's 10 */
        unsigned db_busy_timeout_ms;
        char *seccomp_profile; /* default profile; NULL: the installed data/seccomp/default.json */
        char *init_path;       /* --init binary; NULL: catatonit */
        char *cgroup_parent;   /* default --cgroup-parent; NULL: /berth */
        /* Networking (src/network); NULL: its defaults. */
        char *network_config_dir;
        char *cni_path;
        char *default_network, *default_bridge, *default_subnet;
};

struct engine_open_opts {
        const char *root;    /* NULL: ENGINE_DEFAULT_ROOT */
        const char *runroot; /* NULL: ENGINE_DEFAULT_RUNROOT */
        /* NULL: ENGINE_DEFAULT_CONFIG when it exists; given, it must exist. */
        const char *config;
        /* An image store already open at root (the CLI's), kept by the caller; NULL: opened here. */
        struct image_store *store;
        /* The berth binary the monitor runs as the exit command; NULL: /proc/self/exe. */
        const char *self_exe;
};

struct engine {
        char *root, *runroot, *config_path;
        struct image_store *store;
        bool own_store;
        sqlite3 *db; /* the store's */
        struct engine_config cfg;
        struct network_env net;
        char *net_state_dir;
        char *self_exe;
        int containers_fd; /* <root>/containers */
};

int engine_open(const struct engine_open_opts *o, struct engine **out, struct berr **err);
void engine_close(struct engine *e);
static inline void engine_closep(struct engine **e)
{
        engine_close(*e);
}
#define _cleanup_engine_ _cleanup_(engine_closep)

/* The engine's tables in the shared database (component "engine"). */
int engine_db_migrate(sqlite3 *db, struct berr **err);
/* How many migration steps the engine knows (for tests and `system check`). */
size_t engine_db_version_latest(void);

/* The configuration file (docs/ENGINE.md). A missing file with required false is the defaults. */
int engine_config_load(const char *path, bool required, struct engine_config *cfg, struct berr **err);
int engine_config_parse(const char *buf, size_t len, const char *what, struct engine_config *cfg,
                        struct berr **err);
void engine_config_done(struct engine_config *cfg);

/* A runtime chosen by --runtime: a name of the table or a path. */
struct engine_runtime_choice {
        char *name; /* table name, or the basename of a path */
        char *path; /* absolute */
        char **args;
};
void engine_runtime_choice_done(struct engine_runtime_choice *c);
/* arg NULL: the configured default. */
int engine_runtime_resolve(const struct engine *e, const char *arg, struct engine_runtime_choice *out,
                           struct berr **err);
/* First match of a command name in $PATH (or the name itself when it has a slash), NULL if none. */
char *engine_find_program(const char *name);

/* Per-container paths; NULL on ENOMEM. */
char *engine_container_dir(const struct engine *e, const char *id);
char *engine_state_dir(const struct engine *e, const char *id);
char *engine_runtime_root(const struct engine *e, const char *runtime_name);
char *engine_netns_name(const char *id);

/*
 * The container's lock: an exclusive flock on <root>/containers/<id>. Held by
 * everything that changes a container's resources (start, cleanup, remove),
 * so the exit command and a concurrent `rm` never tear down the same thing
 * twice. Returns the fd; ENOENT (a plain error) when the directory is gone.
 */
int engine_container_lock(const struct engine *e, const char *id, bool wait, struct berr **err);

/*
 * `berth system check`: the database's own consistency (SQLite quick_check)
 * and containers against their directories and writable layers. With
 * repair, records without their files are removed and directories without a
 * record deleted. Findings are appended to *problems and *repairs.
 */
int engine_check(struct engine *e, bool repair, char ***problems, char ***repairs, struct berr **err);
