/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Container records (table `containers` of the shared database) and the
 * container's state, which is derived and never trusted from a stored copy:
 * the record says how far the engine got (created, started, stopped,
 * removing); once started, the monitor's state.json and its lock say the rest.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "engine.h"
#include "monitor/status.h"

/* What the engine did last, as stored. */
enum container_phase {
        CONTAINER_PHASE_CREATED,  /* record, writable layer and bundle exist; never started since */
        CONTAINER_PHASE_STARTED,  /* a monitor was launched: its state directory tells the rest */
        CONTAINER_PHASE_STOPPED,  /* cleaned up after an exit: the last run is in the record */
        CONTAINER_PHASE_REMOVING, /* rm began: anything may be half gone */
};

struct container {
        char *id;   /* 64 hex */
        char *name; /* without docker's leading "/" */
        char *image_id;
        char *image_name; /* as the user gave it */
        char *runtime;    /* name */
        char *runtime_path;
        int64_t created_ns;
        json_object *config; /* what create decided, see lifecycle.h; owned */
        enum container_phase phase;
        /* The last run, copied from the monitor by cleanup. */
        int64_t started_ns, finished_ns;
        int exit_code;
        bool oom_killed;
        unsigned restart_count;
        char *error; /* why it failed to start or the monitor gave up; NULL: none */
};

void container_free(struct container *c);
void container_freev(struct container **v, size_t n);
static inline void container_freep(struct container **c)
{
        container_free(*c);
}
#define _cleanup_container_ _cleanup_(container_freep)

const char *container_phase_name(enum container_phase p);

/* Inserts a new record; a taken name fails with EEXIST and docker's message. */
int container_insert(sqlite3 *db, const struct container *c, struct berr **err);
/* By exact id. Returns 1 with *out, 0 when there is none. */
int container_get(sqlite3 *db, const char *id, struct container **out, struct berr **err);
/*
 * What a user typed -> record, as docker resolves it: the full id, else an
 * exact name (a leading "/" allowed), else a unique id prefix. Returns 1, or
 * 0 when nothing matches; an ambiguous prefix is an error.
 */
int container_lookup(sqlite3 *db, const char *input, struct container **out, struct berr **err);
/* All records, newest first. */
int container_list(sqlite3 *db, struct container ***out, size_t *n, struct berr **err);
/* Writes phase and the last run's fields. */
int container_update_state(sqlite3 *db, const struct container *c, struct berr **err);
int container_set_phase(sqlite3 *db, const char *id, enum container_phase p, struct berr **err);
/* Replaces the stored config document. */
int container_update_config(sqlite3 *db, const char *id, json_object *config, struct berr **err);
/* Renames; a taken name fails with EEXIST. */
int container_rename(sqlite3 *db, const char *id, const char *name, struct berr **err);
/* Deletes the record (and its exec sessions). Missing is not an error. */
int container_delete(sqlite3 *db, const char *id, struct berr **err);

/* 64 random hex digits. */
int container_id_new(char out[65], struct berr **err);
/* docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]* */
bool container_name_valid(const char *name);
/* "adjective_noun" (seeded by the caller's random value); attempt > 0 appends a digit, as docker does. */
void container_name_generate(uint64_t rnd, unsigned attempt, char *out, size_t size);
/* A generated name not yet taken in db. */
int container_name_new(sqlite3 *db, char **out, struct berr **err);

/* Exec sessions (table `exec_sessions`). */
struct exec_session {
        char *id;
        char *container_id;
        json_object *command; /* args array */
        bool tty;
        pid_t pid;
        int64_t started_ns, finished_ns;
        bool exited;
        int exit_code;
};
int exec_session_insert(sqlite3 *db, const struct exec_session *s, struct berr **err);
int exec_session_finish(sqlite3 *db, const char *id, int exit_code, struct berr **err);
/* Ids of the sessions of a container not known to have finished. */
int exec_session_ids(sqlite3 *db, const char *container_id, char ***out, struct berr **err);

/* ---- state ------------------------------------------------------------------ */

enum container_status {
        CONTAINER_CREATED,
        CONTAINER_RUNNING,
        CONTAINER_PAUSED,
        CONTAINER_RESTARTING,
        CONTAINER_EXITED,
        CONTAINER_DEAD, /* the monitor died while the container ran: its fate is unknown */
        CONTAINER_REMOVING,
};
/* docker's words: created, running, paused, restarting, exited, dead, removing. */
const char *container_status_name(enum container_status s);
int container_status_parse(const char *s, enum container_status *out);

struct container_state {
        enum container_status status;
        pid_t pid;         /* container init while it runs, else 0 */
        pid_t monitor_pid; /* while the monitor lives, else 0 */
        int64_t started_ns, finished_ns;
        int exit_code;
        bool oom_killed;
        unsigned restart_count;
        char *error;
};
void container_state_done(struct container_state *s);

/*
 * The rules, with no I/O: the record, the monitor's state file (NULL when
 * there is none), whether a monitor holds its lock, and whether the
 * container's cgroup is frozen.
 */
int container_state_compute(const struct container *c, const struct monitor_state *ms, bool monitor_alive,
                            bool frozen, struct container_state *out, struct berr **err);
/* Reads state.json and probes the monitor in state_dir, checks the freezer, then computes. */
int container_state_derive(const struct engine *e, const struct container *c, struct container_state *out,
                           struct berr **err);
/* Whether the cgroup (the config's cgroupsPath) is frozen, on v1 or v2. */
bool container_cgroup_frozen(const char *cgroup_path);
