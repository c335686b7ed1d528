/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/path.h"
#include "basic/timeutil.h"
#include "ctrlog.h"
#include "status.h"
#include "internal.h"

#define STATE_MAX (64 * 1024)

static const char *const status_names[] = {
    [MONITOR_RUNNING] = "running",
    [MONITOR_RESTARTING] = "restarting",
    [MONITOR_EXITED] = "exited",
};

const char *monitor_status_name(enum monitor_status s)
{
        return (size_t)s < ARRAY_SIZE(status_names) ? status_names[s] : "?";
}

static int add_time(json_object *o, const char *key, int64_t ns)
{
        char buf[64];
        json_object *v;

        if (!ns)
                return 0;
        v = json_object_new_string(time_format_rfc3339(ns, buf, sizeof(buf)));
        return v ? json_object_object_add(o, key, v) : -1;
}

int monitor_state_write(int dirfd, const struct monitor_state *st, struct berr **err)
{
        json_object *o = json_object_new_object();
        const char *text;
        int r = 0;

        if (!o)
                return berr_make(err, ENOMEM, "write %s", MONITOR_STATE_FILE);
        r |= json_object_object_add(o, "status", json_object_new_string(monitor_status_name(st->status)));
        r |= json_object_object_add(o, "pid", json_object_new_int(st->pid));
        r |= json_object_object_add(o, "monitorPid", json_object_new_int(st->monitor_pid));
        r |= json_object_object_add(o, "monitorStartTime", json_object_new_uint64(st->monitor_start_time));
        r |= add_time(o, "startedAt", st->started_ns);
        r |= json_object_object_add(o, "restartCount", json_object_new_int64(st->restart_count));
        if (st->has_exit) {
                r |= json_object_object_add(o, "exitCode", json_object_new_int(st->exit_code));
                if (st->exit_signal)
                        r |= json_object_object_add(o, "signal", json_object_new_int(st->exit_signal));
                r |= json_object_object_add(o, "oomKilled", json_object_new_boolean(st->oom_killed));
                r |= add_time(o, "exitedAt", st->exited_ns);
        }
        if (st->error)
                r |= json_object_object_add(o, "error", json_object_new_string(st->error));
        text = r == 0 ? json_to_string(o, false) : NULL;
        if (!text) {
                json_object_put(o);
                return berr_make(err, ENOMEM, "write %s", MONITOR_STATE_FILE);
        }
        r = write_file_atomic_at(dirfd, MONITOR_STATE_FILE, text, strlen(text), 0600, err);
        json_object_put(o);
        return r;
}

static int get_time(json_object *o, const char *key, int64_t *out, struct berr **err)
{
        _cleanup_free_ char *s = NULL;
        int r = json_get_str(o, MONITOR_STATE_FILE, key, false, &s, err);

        if (r <= 0)
                return r;
        if (ctrlog_parse_rfc3339(s, strlen(s), out) < 0)
                return berr_plain(err, EINVAL, "%s: %s `%s` is not an RFC 3339 time", MONITOR_STATE_FILE, key,
                                  s);
        return 0;
}

/* Absent integers read as 0. */
static int get_int(json_object *o, const char *key, int64_t min, int64_t max, int64_t *out, struct berr **err)
{
        *out = 0;
        return json_get_int64(o, MONITOR_STATE_FILE, key, min, max, out, err);
}

int monitor_state_read(const char *state_dir, struct monitor_state *st, struct berr **err)
{
        _cleanup_free_ char *path = path_join(state_dir, MONITOR_STATE_FILE), *text = NULL, *status = NULL;
        json_object *o = NULL;
        int64_t v;
        size_t len;
        int r;

        *st = (struct monitor_state){0};
        if (!path)
                return berr_make(err, ENOMEM, "read %s", MONITOR_STATE_FILE);
        r = read_file_at(AT_FDCWD, path, STATE_MAX, &text, &len, err);
        if (r < 0)
                return r;
        r = json_parse_buf(text, len, path, &o, err);
        if (r < 0)
                return r;
        r = json_get_str(o, MONITOR_STATE_FILE, "status", true, &status, err);
        if (r >= 0) {
                r = -1;
                for (size_t i = 0; i < ARRAY_SIZE(status_names); i++)
                        if (streq(status, status_names[i])) {
                                st->status = (enum monitor_status)i;
                                r = 0;
                        }
                if (r < 0)
                        r = berr_plain(err, EINVAL, "%s: unknown status `%s`", path, status);
        }
        if (r >= 0 && (r = get_int(o, "pid", 0, INT32_MAX, &v, err)) >= 0)
                st->pid = (pid_t)v;
        if (r >= 0 && (r = get_int(o, "monitorPid", 0, INT32_MAX, &v, err)) >= 0)
                st->monitor_pid = (pid_t)v;
        if (r >= 0)
                r = json_get_uint64(o, MONITOR_STATE_FILE, "monitorStartTime", &st->monitor_start_time, err);
        if (r >= 0)
                r = get_time(o, "startedAt", &st->started_ns, err);
        if (r >= 0 && (r = get_int(o, "restartCount", 0, UINT32_MAX, &v, err)) >= 0)
                st->restart_count = (unsigned)v;
        if (r >= 0 && (r = get_int(o, "exitCode", INT32_MIN, INT32_MAX, &v, err)) >= 0) {
                st->has_exit = r > 0;
                st->exit_code = (int)v;
        }
        if (r >= 0 && (r = get_int(o, "signal", 0, 128, &v, err)) >= 0)
                st->exit_signal = (int)v;
        if (r >= 0)
                r = json_get_bool(o, MONITOR_STATE_FILE, "oomKilled", &st->oom_killed, err);
        if (r >= 0)
                r = get_time(o, "exitedAt", &st->exited_ns, err);
        if (r >= 0)
                r = json_get_str(o, MONITOR_STATE_FILE, "error", false, &st->error, err);
        json_object_put(o);
        if (r < 0) {
                monitor_state_clear(st);
                return r;
        }
        return 0;
}

void monitor_state_clear(struct monitor_state *st)
{
        free(st->error);
        st->error = NULL;
}

int proc_start_time(pid_t pid, uint64_t *out)
{
        char path[64], buf[1024], *p;
        int n, field;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        n = read_line_at(AT_FDCWD, path, buf, sizeof(buf));
        if (n < 0)
                return n;
        /* The command name may hold spaces and parentheses: count from the last ')'. */
        p = strrchr(buf, ')');
        if (!p)
                return -EINVAL;
        for (field = 2; field < 22 && p; field++)
                p = strchr(p + 1, ' ');
        if (!p)
                return -EINVAL;
        *out = strtoull(p + 1, NULL, 10);
        return 0;
}

int monitor_lock(int dirfd, struct berr **err)
{
        _cleanup_close_ int fd =
            openat(dirfd, MONITOR_LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

        if (fd < 0)
                return berr_errno(err, "open %s", MONITOR_LOCK_FILE);
        if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
                if (errno == EAGAIN || errno == EACCES)
                        return berr_plain(err, EBUSY, "another monitor holds %s", MONITOR_LOCK_FILE);
                return berr_errno(err, "lock %s", MONITOR_LOCK_FILE);
        }
        return TAKE_FD(fd);
}

int monitor_probe(const char *state_dir, struct berr **err)
{
        _cleanup_close_ int dirfd = open(state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC), fd = -1;
        struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};

        if (dirfd < 0)
                return errno == ENOENT ? 0 : berr_errno(err, "open state directory `%s`", state_dir);
        fd = openat(dirfd, MONITOR_LOCK_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : berr_errno(err, "open `%s/%s`", state_dir, MONITOR_LOCK_FILE);
        /* F_OFD_GETLK only asks: probing never gets in the way of a starting monitor. */
        if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
                return berr_errno(err, "test lock `%s/%s`", state_dir, MONITOR_LOCK_FILE);
        return fl.l_type != F_UNLCK;
}

int monitor_signal(const char *state_dir, int sig, struct berr **err)
{
        struct monitor_state st;
        uint64_t start;
        int r;

        r = monitor_probe(state_dir, err);
        if (r <= 0)
                return r < 0 ? r : berr_plain(err, ESRCH, "no monitor is running for `%s`", state_dir);
        r = monitor_state_read(state_dir, &st, err);
        if (r < 0)
                return r;
        monitor_state_clear(&st);
        if (st.monitor_pid <= 0 || proc_start_time(st.monitor_pid, &start) < 0 ||
            start != st.monitor_start_time)
                return berr_plain(err, ESRCH, "monitor pid %d of `%s` is gone", (int)st.monitor_pid,
                                  state_dir);
        if (kill(st.monitor_pid, sig) < 0)
                return berr_errno(err, "signal monitor pid %d", (int)st.monitor_pid);
        return 0;
}

int monitor_request_stop(const char *state_dir, struct berr **err)
{
        _cleanup_close_ int dirfd = open(state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC), fd = -1;

        if (dirfd < 0)
                return errno == ENOENT ? 0 : berr_errno(err, "open state directory `%s`", state_dir);
        fd = openat(dirfd, MONITOR_STOP_FILE, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return berr_errno(err, "create `%s/%s`", state_dir, MONITOR_STOP_FILE);
        if (monitor_signal(state_dir, SIGUSR1, err) < 0 && (*err)->code == ESRCH)
                berr_freep(err);
        return *err ? -1 : 0;
}
