/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <string.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "container.h"
#include "spec-internal.h"

static const char *const status_names[] = {
    [CONTAINER_CREATED] = "created",       [CONTAINER_RUNNING] = "running", [CONTAINER_PAUSED] = "paused",
    [CONTAINER_RESTARTING] = "restarting", [CONTAINER_EXITED] = "exited",   [CONTAINER_DEAD] = "dead",
    [CONTAINER_REMOVING] = "removing",
};

const char *container_status_name(enum container_status s)
{
        return (size_t)s < ARRAY_SIZE(status_names) ? status_names[s] : "?";
}

int container_status_parse(const char *s, enum container_status *out)
{
        for (size_t i = 0; i < ARRAY_SIZE(status_names); i++)
                if (streq(s, status_names[i])) {
                        *out = (enum container_status)i;
                        return 0;
                }
        return -EINVAL;
}

void container_state_done(struct container_state *s)
{
        free(s->error);
        s->error = NULL;
}

static int set_error(struct container_state *s, const char *msg, struct berr **err)
{
        if (!msg)
                return 0;
        free(s->error);
        s->error = strdup(msg);
        return s->error ? 0 : berr_make(err, ENOMEM, "container state");
}

int container_state_compute(const struct container *c, const struct monitor_state *ms, bool monitor_alive,
                            bool frozen, struct container_state *out, struct berr **err)
{
        *out = (struct container_state){
            .status = CONTAINER_EXITED,
            .started_ns = c->started_ns,
            .finished_ns = c->finished_ns,
            .exit_code = c->exit_code,
            .oom_killed = c->oom_killed,
            .restart_count = c->restart_count,
        };
        switch (c->phase) {
        case CONTAINER_PHASE_REMOVING:
                out->status = CONTAINER_REMOVING;
                return set_error(out, c->error, err);
        case CONTAINER_PHASE_CREATED:
                out->status = CONTAINER_CREATED;
                return set_error(out, c->error, err);
        case CONTAINER_PHASE_STOPPED:
                return set_error(out, c->error, err);
        case CONTAINER_PHASE_STARTED:
                break;
        }
        if (!ms) {
                /* The monitor reports (and writes state.json) once the container exists. */
                if (monitor_alive) {
                        out->status = CONTAINER_CREATED;
                        return 0;
                }
                out->status = CONTAINER_DEAD;
                return set_error(out, "the monitor exited before the container was created", err);
        }
        out->started_ns = ms->started_ns;
        out->restart_count = ms->restart_count;
        if (ms->has_exit) {
                out->exit_code = ms->exit_code;
                out->oom_killed = ms->oom_killed;
                out->finished_ns = ms->exited_ns;
        }
        if (set_error(out, ms->error, err) < 0)
                return -1;
        if (ms->status == MONITOR_EXITED)
                return 0;
        if (!monitor_alive) {
                char msg[160];
                snprintf(msg, sizeof(msg),
                         "the monitor (pid %d) is gone while the container was %s: its fate is unknown",
                         (int)ms->monitor_pid, ms->status == MONITOR_RUNNING ? "running" : "restarting");
                out->status = CONTAINER_DEAD;
                return set_error(out, msg, err);
        }
        out->monitor_pid = ms->monitor_pid;
        if (ms->status == MONITOR_RESTARTING) {
                out->status = CONTAINER_RESTARTING;
                return 0;
        }
        out->status = frozen ? CONTAINER_PAUSED : CONTAINER_RUNNING;
        out->pid = ms->pid;
        return 0;
}

static bool read_is(const char *path, const char *want)
{
        char buf[64];

        return read_line_at(AT_FDCWD, path, buf, sizeof(buf)) >= 0 && streq(buf, want);
}

bool container_cgroup_frozen(const char *cgroup_path)
{
        _cleanup_free_ char *v1 = NULL, *v2 = NULL;

        if (!cgroup_path || cgroup_path[0] != '/' || strstr(cgroup_path, ".."))
                return false;
        if (asprintf(&v1, "/sys/fs/cgroup/freezer%s/freezer.state", cgroup_path) < 0 ||
            asprintf(&v2, "/sys/fs/cgroup%s/cgroup.freeze", cgroup_path) < 0)
                return false;
        return read_is(v1, "FROZEN") || read_is(v2, "1");
}

int container_state_derive(const struct engine *e, const struct container *c, struct container_state *out,
                           struct berr **err)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_berr_ struct berr *rerr = NULL;
        struct monitor_state ms;
        bool have_ms = false, frozen = false;
        int alive, r;

        if (c->phase != CONTAINER_PHASE_STARTED)
                return container_state_compute(c, NULL, false, false, out, err);
        dir = engine_state_dir(e, c->id);
        if (!dir)
                return berr_make(err, ENOMEM, "container state");
        /* Probe first: a monitor that exits between the two reads leaves its final state.json. */
        alive = monitor_probe(dir, err);
        if (alive < 0)
                return alive;
        r = monitor_state_read(dir, &ms, &rerr);
        if (r < 0) {
                if (r != -ENOENT) {
                        berr_move(err, &rerr);
                        return berr_wrap(err, "container %.12s", c->id);
                }
        } else {
                have_ms = true;
        }
        if (have_ms && alive && ms.status == MONITOR_RUNNING) {
                json_object *cg = json_object_object_get(c->config, "cgroupsPath");
                frozen = container_cgroup_frozen(cg ? json_object_get_string(cg) : NULL);
        }
        r = container_state_compute(c, have_ms ? &ms : NULL, alive > 0, frozen, out, err);
        if (have_ms)
                monitor_state_clear(&ms);
        return r;
}
