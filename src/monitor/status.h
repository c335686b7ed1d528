/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"

/*
 * What a monitor leaves in its state directory for the engine (docs/MONITOR.md):
 *   state.json     this struct, rewritten atomically at every change
 *   monitor.lock   locked (OFD write lock) for as long as the monitor lives
 *   monitor.pid    the monitor's pid
 *   pid            the container's pid (the runtime's --pid-file)
 *   attach         the attach socket while the container runs
 *   monitor.log    the monitor's own warnings
 */
#define MONITOR_STATE_FILE "state.json"
#define MONITOR_LOCK_FILE  "monitor.lock"
#define MONITOR_PID_FILE   "monitor.pid"
#define MONITOR_CTR_PID    "pid"
#define MONITOR_LOG_FILE   "monitor.log"
#define MONITOR_STOP_FILE  "stop" /* the engine stops the container: no more restarts */

enum monitor_status {
        MONITOR_RUNNING,    /* the container's init process exists (created or started) */
        MONITOR_RESTARTING, /* exited; the restart policy starts it again after a delay */
        MONITOR_EXITED,     /* exited for good */
};

struct monitor_state {
        enum monitor_status status;
        pid_t pid; /* container init, 0 when there is none */
        pid_t monitor_pid;
        uint64_t monitor_start_time; /* field 22 of /proc/<monitor_pid>/stat */
        int64_t started_ns;          /* when the monitor created (and started) the container last */
        bool has_exit;               /* the fields below describe the last exit */
        int exit_code;               /* docker's convention: 128 + signal when killed */
        int exit_signal;             /* 0 unless killed by a signal */
        bool oom_killed;
        int64_t exited_ns;
        unsigned restart_count;
        char *error; /* why the monitor gave up (a failed restart), or NULL */
};

const char *monitor_status_name(enum monitor_status s);
int monitor_state_write(int dirfd, const struct monitor_state *st, struct berr **err);
int monitor_state_read(const char *state_dir, struct monitor_state *st, struct berr **err);
void monitor_state_clear(struct monitor_state *st);

/* Start time of a process in clock ticks since boot (tells a pid's reuse apart). */
int proc_start_time(pid_t pid, uint64_t *out);

/* Takes the monitor lock in dirfd; fails with EBUSY when a live monitor has it. */
int monitor_lock(int dirfd, struct berr **err);
/* 1 when a monitor is alive for state_dir (its lock is held), 0 when not; never takes the lock. */
int monitor_probe(const char *state_dir, struct berr **err);
/* Signals the live monitor of state_dir, after checking that its pid was not reused. */
int monitor_signal(const char *state_dir, int sig, struct berr **err);
/* The engine is stopping the container: records that no restart may follow
 * (a file the monitor checks before every restart, so the intent is never
 * lost to the order in which signals arrive) and wakes the monitor. */
int monitor_request_stop(const char *state_dir, struct berr **err);
