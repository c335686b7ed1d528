/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/path.h"
#include "basic/socket.h"
#include "basic/strv.h"
#include "basic/timeutil.h"
#include "events.h"
#include "exec.h"
#include "launch.h"
#include "lifecycle.h"
#include "spec-internal.h"

extern char **environ;

#define RUNTIME_LOG "runtime.log"

void engine_exec_done(struct engine_exec *x)
{
        x->pty_master = safe_close(x->pty_master);
        x->console_fd = safe_close(x->console_fd);
        if (x->tmpdir[0]) {
                _cleanup_close_ int fd = open(x->tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd >= 0) {
                        unlinkat(fd, "process.json", 0);
                        unlinkat(fd, "console.sock", 0);
                        unlinkat(fd, RUNTIME_LOG, 0);
                        unlinkat(fd, "pid", 0);
                }
                rmdir(x->tmpdir);
                x->tmpdir[0] = '\0';
        }
}

/* The container's process with the exec's changes. */
static int process_json(struct engine *e, const struct container *c, const struct engine_exec_opts *o,
                        json_object **out, struct berr **err)
{
        _cleanup_free_ char *dir = engine_container_dir(e, c->id), *path = NULL, *buf = NULL, *rootfs = NULL;
        json_object *spec = NULL, *proc, *env, *args;
        size_t len;
        int r = -1;

        if (!dir || !(path = path_join(dir, "config.json")))
                return berr_make(err, ENOMEM, "exec");
        if (read_file_at(AT_FDCWD, path, 16 << 20, &buf, &len, err) < 0 ||
            json_parse_buf(buf, len, path, &spec, err) < 0)
                return -1;
        if (!json_object_object_get_ex(spec, "process", &proc) ||
            !json_object_is_type(proc, json_type_object)) {
                eng_err(err, EINVAL, "%s has no process", path);
                goto out;
        }
        args = engine_json_strv(o->cmd);
        json_object_object_add(proc, "args", args);
        json_object_object_add(proc, "terminal", json_object_new_boolean(o->tty));
        json_object_object_del(proc, "consoleSize");
        if (o->tty && o->rows && o->cols) {
                json_object *cs = json_object_new_object();
                json_object_object_add(cs, "height", json_object_new_int((int)o->rows));
                json_object_object_add(cs, "width", json_object_new_int((int)o->cols));
                json_object_object_add(proc, "consoleSize", cs);
        }
        if (o->workdir) {
                if (!path_is_absolute(o->workdir)) {
                        eng_err(err, EINVAL, "--workdir: `%s` is not an absolute path", o->workdir);
                        goto out;
                }
                json_object_object_add(proc, "cwd", json_object_new_string(o->workdir));
        }
        env = json_object_object_get(proc, "env");
        if (!json_object_is_type(env, json_type_array)) {
                env = json_object_new_array();
                json_object_object_add(proc, "env", env);
        }
        for (const char *const *v = o->env; v && *v; v++) {
                const char *eq = strchr(*v, '=');
                size_t klen = eq ? (size_t)(eq - *v) : strlen(*v);
                _cleanup_free_ char *entry = NULL;
                if (!eq) {
                        const char *val = getenv(*v);
                        if (!val)
                                continue;
                        if (asprintf(&entry, "%s=%s", *v, val) < 0)
                                entry = NULL;
                } else {
                        entry = strdup(*v);
                }
                if (!entry || klen == 0) {
                        eng_err(err, EINVAL, "--env: invalid entry `%s`", *v);
                        goto out;
                }
                for (size_t i = 0; i < json_object_array_length(env); i++) {
                        const char *have = json_object_get_string(json_object_array_get_idx(env, i));
                        if (strneq(have, entry, klen + 1)) {
                                json_object_array_del_idx(env, i, 1);
                                break;
                        }
                }
                json_object_array_add(env, json_object_new_string(entry));
        }
        if (o->user) {
                struct engine_user u = {0};
                _cleanup_close_ int rootfd = -1;
                json_object *user = json_object_new_object(), *gids = json_object_new_array();
                if (asprintf(&rootfs, "%s/rw/%s/merged", e->store->root, c->id) < 0) {
                        json_object_put(user);
                        json_object_put(gids);
                        berr_make(err, ENOMEM, "exec");
                        goto out;
                }
                rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (rootfd < 0 || engine_user_resolve(rootfd, o->user, NULL, &u, err) < 0) {
                        json_object_put(user);
                        json_object_put(gids);
                        if (rootfd < 0)
                                berr_errno(err, "open `%s`", rootfs);
                        goto out;
                }
                json_object_object_add(user, "uid", json_object_new_int64(u.uid));
                json_object_object_add(user, "gid", json_object_new_int64(u.gid));
                for (size_t i = 0; i < u.n_gids; i++)
                        json_object_array_add(gids, json_object_new_int64(u.gids[i]));
                json_object_object_add(user, "additionalGids", gids);
                json_object_object_add(proc, "user", user);
                engine_user_done(&u);
        }
        *out = json_object_get(proc);
        r = 0;
out:
        json_object_put(spec);
        return r;
}

static int spawn_runtime(char *const *argv, bool tty, bool detach, pid_t *pid, struct berr **err)
{
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, def;
        int r;

        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);
        sigemptyset(&none);
        sigemptyset(&def);
        sigaddset(&def, SIGPIPE);
        sigaddset(&def, SIGINT);
        sigaddset(&def, SIGTERM);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &def);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        /* A terminal's data goes through the pty; a detached process keeps no link to ours. */
        if (tty || detach) {
                posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0);
                if (detach)
                        posix_spawn_file_actions_adddup2(&fa, 0, 1);
        }
        r = posix_spawn(pid, argv[0], &fa, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        return r ? berr_make(err, r, "run `%s`", argv[0]) : 0;
}

/* docker's exec_create and exec_start, whose actions carry the command line. */
static void exec_events(struct engine *e, const struct container *c, const char *const *cmd,
                        const char *session)
{
        _cleanup_free_ char *line = NULL, *create = NULL, *start = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&line, &len);

        if (!f)
                return;
        for (const char *const *a = cmd; *a; a++)
                fprintf(f, "%s%s", a == cmd ? "" : " ", *a);
        if (fclose(f) != 0 || !line || asprintf(&create, "exec_create: %s", line) < 0 ||
            asprintf(&start, "exec_start: %s", line) < 0)
                return;
        engine_event_container(e, c, create, (const char *const[]){"execID", session, NULL});
        engine_event_container(e, c, start, (const char *const[]){"execID", session, NULL});
}

int engine_exec_start(struct engine *e, const struct container *c, const struct engine_exec_opts *o,
                      struct engine_exec *x, struct berr **err)
{
        const char *tmp = getenv("TMPDIR");
        _cleanup_strv_free_ char **argv = NULL, **cmd = NULL;
        _cleanup_close_ int dirfd = -1;
        json_object *proc = NULL, *cmdj;
        struct container_state st;
        struct exec_session s;
        char path[128], sock[128], log[128], pidf[128];
        int r;

        *x = (struct engine_exec){.pty_master = -1, .console_fd = -1, .detach = o->detach};
        if (!o->cmd || !o->cmd[0])
                return eng_err(err, EINVAL, "no command given");
        if (container_state_derive(e, c, &st, err) < 0)
                return -1;
        r = st.status;
        container_state_done(&st);
        if (r == CONTAINER_PAUSED)
                return eng_err(err, EINVAL, "container %s is paused, unpause it first", c->name);
        if (r != CONTAINER_RUNNING)
                return eng_err(err, EINVAL, "container %s is not running", c->name);
        if (process_json(e, c, o, &proc, err) < 0)
                return -1;
        /* The console socket's path must fit in sun_path: a short directory of our own,
         * in $TMPDIR when that is short enough (tmpdir's size), else in /tmp. */
        if (!tmp || tmp[0] != '/' ||
            snprintf(x->tmpdir, sizeof(x->tmpdir), "%s/berth-exec-XXXXXX", tmp) >= (int)sizeof(x->tmpdir))
                snprintf(x->tmpdir, sizeof(x->tmpdir), "/tmp/berth-exec-XXXXXX");
        if (!mkdtemp(x->tmpdir)) {
                x->tmpdir[0] = '\0';
                json_object_put(proc);
                return berr_errno(err, "create a directory for exec");
        }
        dirfd = open(x->tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        r = dirfd < 0 ? berr_errno(err, "open `%s`", x->tmpdir) : 0;
        if (r == 0) {
                const char *text = json_to_string(proc, false);
                r = write_file_at(dirfd, "process.json", text, strlen(text), O_CREAT | O_EXCL, 0600, err);
        }
        json_object_put(proc);
        if (r < 0)
                return -1;
        snprintf(path, sizeof(path), "%s/process.json", x->tmpdir);
        snprintf(sock, sizeof(sock), "%s/console.sock", x->tmpdir);
        snprintf(log, sizeof(log), "%s/" RUNTIME_LOG, x->tmpdir);
        snprintf(pidf, sizeof(pidf), "%s/pid", x->tmpdir);
        if (o->tty) {
                x->console_fd = unix_listen_at(dirfd, "console.sock", SOCK_STREAM, 1);
                if (x->console_fd < 0)
                        return berr_make(err, -x->console_fd, "listen on `%s`", sock);
        }
        r = 0;
        r |= strv_extend(&cmd, "--log");
        r |= strv_extend(&cmd, log);
        r |= strv_extend(&cmd, "exec");
        r |= strv_extend(&cmd, "--process");
        r |= strv_extend(&cmd, path);
        if (o->tty) {
                r |= strv_extend(&cmd, "--console-socket");
                r |= strv_extend(&cmd, sock);
        }
        if (o->detach) {
                r |= strv_extend(&cmd, "--detach");
                r |= strv_extend(&cmd, "--pid-file");
                r |= strv_extend(&cmd, pidf);
        }
        r |= strv_extend(&cmd, c->id);
        if (r < 0 || !(argv = launch_runtime_argv(e, c, (const char *const *)cmd)))
                return berr_make(err, ENOMEM, "exec");
        if (container_id_new(x->session_id, err) < 0 ||
            spawn_runtime(argv, o->tty, o->detach, &x->runtime_pid, err) < 0)
                return -1;
        cmdj = engine_json_strv(o->cmd);
        s = (struct exec_session){.id = x->session_id,
                                  .container_id = c->id,
                                  .command = cmdj,
                                  .tty = o->tty,
                                  .pid = x->runtime_pid,
                                  .started_ns = time_now_ns()};
        r = exec_session_insert(e->db, &s, NULL);
        json_object_put(cmdj);
        (void)r;
        snprintf(x->container_id, sizeof(x->container_id), "%s", c->id);
        exec_events(e, c, o->cmd, x->session_id);
        return 0;
}

int engine_exec_take_terminal(struct engine_exec *x, struct berr **err)
{
        _cleanup_close_ int conn = -1;
        char name[256];
        size_t n_fds = 1;
        int fd = -1;
        ssize_t n;

        for (;;) {
                struct pollfd p = {x->console_fd, POLLIN, 0};
                int status;
                if (poll(&p, 1, 100) > 0)
                        break;
                /* A runtime that failed before connecting must not leave us waiting. */
                if (waitpid(x->runtime_pid, &status, WNOHANG | WNOWAIT) == x->runtime_pid)
                        return eng_err(err, EIO, "the runtime exited without sending the terminal");
        }
        conn = accept4(x->console_fd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0)
                return berr_errno(err, "accept on the console socket");
        n = socket_recv_fds(conn, &fd, &n_fds, name, sizeof(name));
        if (n < 0 || n_fds != 1)
                return eng_err(err, EPROTO, "the runtime sent no terminal");
        x->pty_master = fd;
        return 0;
}

/* The runtime's own error, from its log, when it failed to run the process. */
static bool runtime_error(const struct engine_exec *x, char *msg, size_t size)
{
        _cleanup_free_ char *path = NULL, *buf = NULL;
        size_t len;
        char *line, *last = NULL, *save = NULL;

        if (asprintf(&path, "%s/" RUNTIME_LOG, x->tmpdir) < 0 ||
            read_file_at(AT_FDCWD, path, 1 << 20, &buf, &len, NULL) < 0 || len == 0)
                return false;
        for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                last = line;
        if (!last)
                return false;
        snprintf(msg, size, "%s", last);
        return true;
}

int engine_exec_wait(struct engine *e, struct engine_exec *x, int *exit_code, struct berr **err)
{
        int status;
        char msg[1024];

        while (waitpid(x->runtime_pid, &status, 0) < 0)
                if (errno != EINTR)
                        return berr_errno(err, "wait for the runtime");
        *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (*exit_code != 0 && runtime_error(x, msg, sizeof(msg))) {
                *exit_code = engine_exit_code_for(msg);
                eng_err(err, EIO, "%s", msg);
        }
        if (!x->detach) {
                _cleanup_container_ struct container *c = NULL;
                char code[16];

                exec_session_finish(e->db, x->session_id, *exit_code, NULL);
                snprintf(code, sizeof(code), "%d", *exit_code);
                if (container_get(e->db, x->container_id, &c, NULL) > 0)
                        engine_event_container(
                            e, c, "exec_die",
                            (const char *const[]){"execID", x->session_id, "exitCode", code, NULL});
        }
        return 0;
}
