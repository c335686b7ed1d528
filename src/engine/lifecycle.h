/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The container lifecycle: create, start (through berth-monitor), stop, kill,
 * remove, wait, and the cleanup hook the monitor runs when a container is
 * done (`berth container cleanup ID`). Every step that changes a container's
 * resources holds the container's lock (engine_container_lock), and cleanup
 * is idempotent, so the exit command, `rm -f` and `start` may race.
 * docs/ENGINE.md describes the steps and what each leaves on disk.
 */

#include <json-c/json.h>
#include <stdbool.h>

#include "container.h"
#include "engine.h"
#include "image/pull.h"
#include "monitor/attach.h"
#include "spec.h"

/* What `berth create`/`run` asks for, as typed; validated by create. */
struct engine_create_opts {
        const char *image;
        const char *name;                  /* NULL: generated */
        const char *pull;                  /* missing (default), always, never, newer (as missing) */
        const struct pull_opts *pull_opts; /* registry options and progress for a pull; NULL: defaults */
        const char *platform;              /* os/arch[/variant] for a pull */
        const char *runtime;               /* --runtime NAME|PATH; NULL: the configured default */
        const char *restart;               /* no, on-failure[:N], always */
        bool rm;
        const char *log_driver;      /* NULL: the configured default */
        const char *const *log_opts; /* max-size=SIZE, max-file=N */
        const char *stop_timeout;    /* seconds */
        const char *const *publish;  /* -p [[IP:][HOST_PORT]:]PORT[/PROTO] */
        bool publish_all;            /* -P: every exposed port to a free host port */
        const char *const *expose;   /* --expose PORT[-END][/PROTO] */
        struct engine_run_opts run;  /* everything the OCI spec is built from */
};

/* Mode of --pull. */
enum engine_pull_policy { ENGINE_PULL_MISSING, ENGINE_PULL_ALWAYS, ENGINE_PULL_NEVER };
int engine_pull_policy_parse(const char *s, enum engine_pull_policy *out, struct berr **err);

/*
 * Resolves (and pulls) the image, records the container, creates its
 * writable layer and mounts it, builds and writes the bundle and the
 * per-container files. On failure nothing is left behind.
 */
int engine_container_create(struct engine *e, const struct engine_create_opts *o, struct container **out,
                            struct berr **err);

/*
 * Starts a created or exited container: mounts, attaches networks, launches
 * berth-monitor. With attach set, the monitor only creates the container,
 * *attach gets a connection to it, and then the container is started, so no
 * output is missed (run in the foreground, start -a). A running container is
 * left alone (*attach stays NULL).
 */
int engine_container_start(struct engine *e, const char *id, struct attach_conn **attach, struct berr **err);

/* The stop signal, then SIGKILL after timeout seconds (< 0: the container's own). */
int engine_container_stop(struct engine *e, const char *id, int timeout, struct berr **err);
int engine_container_kill(struct engine *e, const char *id, int sig, struct berr **err);
int engine_container_restart(struct engine *e, const char *id, int timeout, struct berr **err);

/*
 * Removes the container and everything it holds. force kills a running
 * one; also works on a dead monitor or a half-created container. volumes
 * (rm -v) also removes its anonymous volumes, which --rm containers always do.
 */
int engine_container_remove(struct engine *e, const char *id, bool force, bool volumes, struct berr **err);

/*
 * The exit command's work: once the monitor is gone, records the last run,
 * deletes the runtime's container, detaches networks, unmounts, and removes
 * the container when it was created with --rm. Safe to run twice and
 * concurrently with rm (it holds the container's lock).
 */
int engine_container_cleanup(struct engine *e, const char *id, struct berr **err);

/* Blocks until the container is not running (exited or dead); *exit_code gets its exit code. */
int engine_container_wait(struct engine *e, const char *id, int *exit_code, struct berr **err);
/* Blocks until the container's monitor has let go of it (bounded by timeout_ms; < 0: no bound). */
int engine_monitor_wait_gone(const char *state_dir, int timeout_ms, struct berr **err);

/* Runs `RUNTIME [args] --root R CMD...` for the container, quoting its stderr on failure. */
int engine_runtime_run(const struct engine *e, const struct container *c, const char *const *cmd,
                       struct berr **err);

/* The exit code docker/podman give a failed start: 127 not found, 126 not executable, else 125. */
int engine_exit_code_for(const char *msg);

/* A config value stored by create (NULL when absent). */
json_object *container_cfg(const struct container *c, const char *key);
const char *container_cfg_str(const struct container *c, const char *key);
bool container_cfg_bool(const struct container *c, const char *key);
int64_t container_cfg_int(const struct container *c, const char *key, int64_t def);

/* engine_run_opts <-> JSON, so that what was typed is kept for inspect and later starts. */
json_object *engine_run_opts_to_json(const struct engine_run_opts *o);
/* The strings stay owned by the holder (free with engine_run_opts_holder_done). */
struct engine_run_opts_holder {
        struct engine_run_opts opts;
        json_object *json;
        void **allocs;
        size_t n_allocs;
        struct engine_mount *mounts;
};
int engine_run_opts_from_json(json_object *j, struct engine_run_opts_holder *h, struct berr **err);
void engine_run_opts_holder_done(struct engine_run_opts_holder *h);

/* Network plumbing at start and cleanup (bridge/NAME networks; none and host need nothing). */
int engine_network_setup(struct engine *e, const struct container *c, struct berr **err);
int engine_network_teardown(struct engine *e, const struct container *c, struct berr **err);
/* create: -p, -P, --expose and the image's EXPOSE into the record's "ports"
 * and "exposedPorts"; mappings need a bridge network (mode names the other). */
int engine_ports_prepare(const struct engine_create_opts *o, const struct engine_image_config *img,
                         bool bridge, const char *mode, json_object *cfg, struct berr **err);
/* The host ports a running container got (from its attachment record); none when stopped. */
int engine_container_ports(struct engine *e, const struct container *c, struct network_port **out, size_t *n,
                           struct berr **err);

/* Volumes (volsetup.c). create: -v/--mount volumes and the image's VOLUMEs
 * looked up or created, uses recorded; *out gets run->mounts with volume
 * sources filled in plus the image's anonymous volumes, *vols the record's
 * "volumes" list. */
int engine_volumes_prepare(struct engine *e, const char *id, const struct engine_image_config *img,
                           const struct engine_run_opts *run, struct engine_mount **out, size_t *n_out,
                           json_object **vols, struct berr **err);
void engine_mounts_free(struct engine_mount *m, size_t n);
/* start: the drivers' filesystems mounted, new volumes filled from the image (copy-up). */
int engine_volumes_mount(struct engine *e, const struct container *c, struct berr **err);
/* cleanup: unmounted when no other running container uses them. */
int engine_volumes_unmount(struct engine *e, const struct container *c, struct berr **err);
