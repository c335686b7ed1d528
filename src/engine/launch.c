/* SPDX-License-Identifier: Apache-2.0 */
/* Running the monitor and the OCI runtime's short commands. */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "launch.h"
#include "spec-internal.h"

extern char **environ;

#define CAPTURE_MAX 4096
#define SYNC_MAX    (64 * 1024)

static int spawn(const char *path, char *const *argv, int in, int out, int errfd, int extra, pid_t *pid,
                 struct berr **err)
{
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, def;
        int r;

        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);
        sigemptyset(&none);
        sigemptyset(&def);
        /* berth ignores SIGPIPE and may block signals it proxies; neither must reach the child. */
        sigaddset(&def, SIGPIPE);
        sigaddset(&def, SIGINT);
        sigaddset(&def, SIGTERM);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &def);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        posix_spawn_file_actions_adddup2(&fa, in, 0);
        posix_spawn_file_actions_adddup2(&fa, out, 1);
        posix_spawn_file_actions_adddup2(&fa, errfd, 2);
        if (extra >= 0)
                posix_spawn_file_actions_adddup2(&fa, extra, 3);
        r = posix_spawn(pid, path, &fa, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        if (r != 0)
                return berr_make(err, r, "run `%s`", path);
        return 0;
}

static int wait_pid(pid_t pid, int *status)
{
        while (waitpid(pid, status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return 0;
}

/* What a child said on stderr, on one line, for a message. */
static void read_capture(int fd, char *buf, size_t size)
{
        ssize_t n = pread(fd, buf, size - 1, 0);
        size_t len;

        if (n < 0)
                n = 0;
        buf[n] = '\0';
        len = (size_t)n;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
                buf[--len] = '\0';
        for (char *p = buf; *p; p++)
                if (*p == '\n')
                        *p = ' ';
}

static const char *status_text(int status, char *buf, size_t size)
{
        if (WIFSIGNALED(status))
                snprintf(buf, size, "was killed by signal %d", WTERMSIG(status));
        else
                snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
        return buf;
}

int launch_wait_capture(char *const *argv, int in_fd, int *status, char *msg, size_t msg_size,
                        struct berr **err)
{
        _cleanup_close_ int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        _cleanup_close_ int capture = memfd_create("berth-stderr", MFD_CLOEXEC);
        pid_t pid;

        if (null_fd < 0 || capture < 0)
                return berr_errno(err, "run `%s`", argv[0]);
        if (spawn(argv[0], argv, in_fd >= 0 ? in_fd : null_fd, null_fd, capture, -1, &pid, err) < 0)
                return -1;
        if (wait_pid(pid, status) < 0)
                return berr_errno(err, "wait for `%s`", argv[0]);
        if (msg)
                read_capture(capture, msg, msg_size);
        return 0;
}

char **launch_runtime_argv(const struct engine *e, const struct container *c, const char *const *cmd)
{
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *root = engine_runtime_root(e, c->runtime);
        json_object *args = json_object_object_get(c->config, "runtimeArgs");

        if (!root || strv_extend(&argv, c->runtime_path) < 0)
                return NULL;
        for (size_t i = 0; json_object_is_type(args, json_type_array) && i < json_object_array_length(args);
             i++)
                if (strv_extend(&argv, json_object_get_string(json_object_array_get_idx(args, i))) < 0)
                        return NULL;
        if (strv_extend(&argv, "--root") < 0 || strv_extend(&argv, root) < 0)
                return NULL;
        for (; *cmd; cmd++)
                if (strv_extend(&argv, *cmd) < 0)
                        return NULL;
        return TAKE_PTR(argv);
}

int engine_runtime_run(const struct engine *e, const struct container *c, const char *const *cmd,
                       struct berr **err)
{
        _cleanup_strv_free_ char **argv = launch_runtime_argv(e, c, cmd);
        char msg[CAPTURE_MAX], st[64];
        int status;

        if (!argv)
                return berr_make(err, ENOMEM, "runtime");
        if (launch_wait_capture(argv, -1, &status, msg, sizeof(msg), err) < 0)
                return -1;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        return eng_err(err, EIO, "`%s %s` %s%s%s", c->runtime, cmd[0], status_text(status, st, sizeof(st)),
                       *msg ? ": " : "", msg);
}

char *launch_monitor_path(const struct engine *e)
{
        _cleanup_free_ char *dir = NULL, *beside = NULL;
        char *slash;

        if (e->cfg.monitor_path)
                return strdup(e->cfg.monitor_path);
        /* An installed or built berth finds the monitor that came with it. */
        dir = strdup(e->self_exe);
        if (dir && (slash = strrchr(dir, '/'))) {
                *slash = '\0';
                beside = path_join(dir, ENGINE_MONITOR_NAME);
                if (beside && access(beside, X_OK) == 0)
                        return TAKE_PTR(beside);
        }
        return engine_find_program(ENGINE_MONITOR_NAME);
}

static int parse_report(const char *line, size_t len, struct launch_result *res, struct berr **err)
{
        json_object *o = NULL;
        _cleanup_free_ char *error = NULL;
        int64_t v;
        int r;

        if (json_parse_buf(line, len, "monitor report", &o, err) < 0)
                return -1;
        r = json_get_str(o, "report", "error", false, &error, err);
        if (r > 0) {
                json_object_put(o);
                return eng_err(err, EIO, "%s", error);
        }
        if (r == 0 && (r = json_get_int64(o, "report", "pid", 1, INT32_MAX, &v, err)) > 0) {
                res->pid = (pid_t)v;
                r = json_get_int64(o, "report", "monitorPid", 1, INT32_MAX, &v, err);
                if (r > 0)
                        res->monitor_pid = (pid_t)v;
        }
        json_object_put(o);
        if (r < 0)
                return -1;
        if (!res->pid || !res->monitor_pid)
                return eng_err(err, EPROTO, "the monitor's report `%.*s` has no pids", (int)MIN(len, 200),
                               line);
        return 0;
}

int launch_monitor(const struct engine *e, char *const *argv, struct launch_result *res, struct berr **err)
{
        _cleanup_close_ int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC), rd = -1, wr = -1;
        _cleanup_free_ char *buf = malloc(SYNC_MAX);
        size_t len = 0;
        int fds[2], status;
        char st[64];
        pid_t pid;

        (void)e;
        *res = (struct launch_result){0};
        if (null_fd < 0 || !buf)
                return berr_errno(err, "run the monitor");
        if (pipe2(fds, O_CLOEXEC) < 0)
                return berr_errno(err, "pipe");
        rd = fds[0];
        /* Keep the write end off fd 3, where a same-fd dup2 would keep its close-on-exec flag. */
        wr = fcntl(fds[1], F_DUPFD_CLOEXEC, 10);
        close(fds[1]);
        if (wr < 0)
                return berr_errno(err, "dup");
        if (spawn(argv[0], argv, null_fd, null_fd, null_fd, wr, &pid, err) < 0)
                return -1;
        wr = safe_close(wr);
        /* The report comes from the daemonized monitor, then the first process exits. */
        while (len < SYNC_MAX - 1) {
                ssize_t n = read(rd, buf + len, SYNC_MAX - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
                if (memchr(buf, '\n', len))
                        break;
        }
        if (wait_pid(pid, &status) < 0)
                return berr_errno(err, "wait for the monitor");
        if (len == 0)
                return eng_err(err, EIO, "`%s` %s without a report", argv[0],
                               status_text(status, st, sizeof(st)));
        buf[len] = '\0';
        return parse_report(buf, strcspn(buf, "\n"), res, err);
}
