/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/log.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "basic/timeutil.h"
#include "network-internal.h"

/* What a failing plugin printed on stderr is kept for the message, up to this much. */
#define STDERR_KEEP 4096

extern char **environ;

void cni_result_free(struct cni_result *r)
{
        if (!r)
                return;
        free(r->cni_version);
        for (size_t i = 0; i < r->n_interfaces; i++) {
                free(r->interfaces[i].name);
                free(r->interfaces[i].mac);
                free(r->interfaces[i].sandbox);
        }
        free(r->interfaces);
        for (size_t i = 0; i < r->n_ips; i++) {
                free(r->ips[i].address);
                free(r->ips[i].gateway);
        }
        free(r->ips);
        free(r);
}

static void cni_result_freep(struct cni_result **r)
{
        cni_result_free(*r);
}

static int parse_interfaces(struct cni_result *res, json_object *obj, struct berr **err)
{
        json_object *arr;
        int r = json_get(obj, "result", "interfaces", json_type_array, false, &arr, err);

        if (r <= 0)
                return r;
        res->n_interfaces = json_object_array_length(arr);
        res->interfaces = calloc(res->n_interfaces + 1, sizeof(*res->interfaces));
        if (!res->interfaces)
                return berr_make(err, ENOMEM, "result");
        for (size_t i = 0; i < res->n_interfaces; i++) {
                json_object *e = json_object_array_get_idx(arr, i);
                _cleanup_free_ char *p = json_path_idx("result.interfaces", i);
                struct cni_interface *it = &res->interfaces[i];

                if (!p)
                        return berr_make(err, ENOMEM, "result");
                if (!json_object_is_type(e, json_type_object))
                        return net_err(err, EINVAL, "%s: expected an object", p);
                if (json_get_str(e, p, "name", true, &it->name, err) < 0 ||
                    json_get_str(e, p, "mac", false, &it->mac, err) < 0 ||
                    json_get_str(e, p, "sandbox", false, &it->sandbox, err) < 0)
                        return -EINVAL;
        }
        return 0;
}

static int parse_ips(struct cni_result *res, json_object *obj, bool has_version, struct berr **err)
{
        json_object *arr;
        int r = json_get(obj, "result", "ips", json_type_array, false, &arr, err);

        if (r <= 0)
                return r;
        res->n_ips = json_object_array_length(arr);
        res->ips = calloc(res->n_ips + 1, sizeof(*res->ips));
        if (!res->ips)
                return berr_make(err, ENOMEM, "result");
        for (size_t i = 0; i < res->n_ips; i++) {
                json_object *e = json_object_array_get_idx(arr, i);
                _cleanup_free_ char *p = json_path_idx("result.ips", i), *version = NULL;
                struct cni_ip *ip = &res->ips[i];
                struct ip_addr a;
                struct ip_prefix net;
                int64_t idx = -1;

                if (!p)
                        return berr_make(err, ENOMEM, "result");
                if (!json_object_is_type(e, json_type_object))
                        return net_err(err, EINVAL, "%s: expected an object", p);
                if (json_get_str(e, p, "address", true, &ip->address, err) < 0 ||
                    json_get_str(e, p, "gateway", false, &ip->gateway, err) < 0 ||
                    json_get_int64(e, p, "interface", 0, (int64_t)res->n_interfaces - 1, &idx, err) < 0)
                        return -EINVAL;
                ip->interface = (int)idx;
                if (ip_cidr_parse(ip->address, &a, &net) < 0)
                        return net_err(err, EINVAL, "%s.address: `%s` is not an address in CIDR notation", p,
                                       ip->address);
                if (ip->gateway && ip_addr_parse(ip->gateway, &a) < 0)
                        return net_err(err, EINVAL, "%s.gateway: `%s` is not an IP address", p, ip->gateway);
                if (!has_version)
                        continue;
                /* 0.3.x/0.4.0 name the family of each address. */
                if (json_get_str(e, p, "version", true, &version, err) < 0)
                        return -EINVAL;
                if (!streq(version, a.family == AF_INET ? "4" : "6"))
                        return net_err(err, EINVAL, "%s.version: `%s` does not match address %s", p, version,
                                       ip->address);
        }
        return 0;
}

int cni_result_parse(json_object *obj, struct cni_result **out, struct berr **err)
{
        _cleanup_(cni_result_freep) struct cni_result *res = calloc(1, sizeof(*res));

        if (!res)
                return berr_make(err, ENOMEM, "result");
        if (!json_object_is_type(obj, json_type_object))
                return net_err(err, EINVAL, "result: expected a JSON object");
        if (json_get_str(obj, "result", "cniVersion", true, &res->cni_version, err) < 0)
                return -EINVAL;
        if (!cni_version_supported(res->cni_version))
                return net_err(err, EINVAL, "result: cniVersion %s is not supported (0.3.0 to 1.0.0)",
                               res->cni_version);
        if (parse_interfaces(res, obj, err) < 0 ||
            parse_ips(res, obj, cni_version_cmp(res->cni_version, "1.0.0") < 0, err) < 0)
                return -EINVAL;
        *out = TAKE_PTR(res);
        return 0;
}

int cni_plugin_find(const char *cni_path, const char *type, char **path, struct berr **err)
{
        _cleanup_free_ char *dirs = strdup(cni_path);
        char *save = NULL;

        if (!dirs)
                return berr_make(err, ENOMEM, "find plugin");
        if (!*type || strchr(type, '/') || streq(type, ".") || streq(type, ".."))
                return net_err(err, EINVAL, "`%s` is not a CNI plugin name", type);
        for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *p = path_join(d, type);
                struct stat st;

                if (!p)
                        return berr_make(err, ENOMEM, "find plugin");
                if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0) {
                        *path = TAKE_PTR(p);
                        return 0;
                }
        }
        return net_err(err, ENOENT, "CNI plugin `%s` not found in %s", type, cni_path);
}

static int build_env(const struct cni_call *call, char ***out)
{
        _cleanup_strv_free_ char **env = NULL;
        bool have_path = false;
        char *s;

        for (char **e = environ; e && *e; e++) {
                if (strneq(*e, "CNI_", 4))
                        continue;
                if (strneq(*e, "PATH=", 5))
                        have_path = true;
                if (strv_extend(&env, *e) < 0)
                        return -ENOMEM;
        }
        /* Plugins run iptables, ip6tables and friends. */
        if (!have_path &&
            strv_extend(&env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") < 0)
                return -ENOMEM;
#define PUSH(fmt, val)                                                                                       \
        do {                                                                                                 \
                if (asprintf(&s, fmt, val) < 0 || strv_push(&env, s) < 0)                                    \
                        return -ENOMEM;                                                                      \
        } while (0)
        PUSH("CNI_COMMAND=%s", call->command);
        PUSH("CNI_CONTAINERID=%s", call->container_id);
        PUSH("CNI_NETNS=%s", call->netns ? call->netns : "");
        PUSH("CNI_IFNAME=%s", call->ifname);
        PUSH("CNI_ARGS=%s", call->args ? call->args : "");
        PUSH("CNI_PATH=%s", call->cni_path);
#undef PUSH
        *out = TAKE_PTR(env);
        return 0;
}

/* The plugin reads its configuration from a memfd: no pipe to keep fed, no SIGPIPE. */
static int config_memfd(const char *data, struct berr **err)
{
        _cleanup_close_ int fd = memfd_create("cni-config", MFD_CLOEXEC);
        int r;

        if (fd < 0)
                return berr_errno(err, "memfd_create");
        r = write_all(fd, data, strlen(data));
        if (r < 0)
                return berr_make(err, -r, "write plugin configuration");
        if (lseek(fd, 0, SEEK_SET) < 0)
                return berr_errno(err, "lseek");
        return TAKE_FD(fd);
}

_noreturn_ static void child_exec(const char *plugin, int in, int out, int errfd, int status, char **env)
{
        char *argv[] = {(char *)plugin, NULL};
        int fds[3] = {in, out, errfd}, e = 0;
        sigset_t all;

        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        signal(SIGPIPE, SIG_DFL);
        /* Lift every fd above 2 first so that the dup2() calls cannot clobber one another. */
        status = fcntl(status, F_DUPFD_CLOEXEC, 3);
        for (int i = 0; i < 3 && !e; i++)
                if ((fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) < 0)
                        e = errno;
        for (int i = 0; i < 3 && !e; i++)
                if (dup2(fds[i], i) < 0)
                        e = errno;
        if (!e) {
                execve(plugin, argv, env);
                e = errno;
        }
        (void)!write(status, &e, sizeof(e));
        _exit(127);
}

struct capture {
        char *buf;
        size_t len, max;
        bool overflow;
        bool keep_tail;
};

/* Reads what is available; returns 1 at EOF. */
static int capture_read(int fd, struct capture *c)
{
        char tmp[16384];
        ssize_t n = read(fd, tmp, sizeof(tmp));

        if (n < 0)
                return errno == EINTR || errno == EAGAIN ? 0 : -errno;
        if (n == 0)
                return 1;
        if (c->len + (size_t)n > c->max) {
                c->overflow = true;
                if (!c->keep_tail)
                        return 0;
                /* Keep the last STDERR_KEEP bytes: the reason is usually at the end. */
                if ((size_t)n >= c->max) {
                        memcpy(c->buf, tmp + (size_t)n - c->max, c->max);
                        c->len = c->max;
                        return 0;
                }
                memmove(c->buf, c->buf + (c->len + (size_t)n - c->max), c->max - (size_t)n);
                c->len = c->max - (size_t)n;
        }
        memcpy(c->buf + c->len, tmp, (size_t)n);
        c->len += (size_t)n;
        c->buf[c->len] = '\0';
        return 0;
}

static int wait_child(pid_t pid, int *status)
{
        while (waitpid(pid, status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return 0;
}

static void trim(char *s)
{
        size_t n = strlen(s);

        while (n > 0 && strchr(" \t\r\n", s[n - 1]))
                s[--n] = '\0';
}

/* A failing plugin prints {"code": N, "msg": "...", "details": "..."}. */
static int plugin_failure(const struct cni_call *call, const char *type, int status, struct capture *out,
                          struct capture *errc, struct berr **err)
{
        json_object *obj = NULL;
        int r = -1;

        if (out->len > 0 && !out->overflow && json_parse_buf(out->buf, out->len, "error", &obj, NULL) == 0 &&
            json_object_is_type(obj, json_type_object)) {
                _cleanup_free_ char *msg = NULL, *details = NULL;
                int64_t code = 0;

                if (json_get_str(obj, "", "msg", false, &msg, NULL) >= 0 &&
                    json_get_str(obj, "", "details", false, &details, NULL) >= 0 &&
                    json_get_int64(obj, "", "code", INT32_MIN, INT32_MAX, &code, NULL) >= 0 && msg) {
                        r = berr_make(err, 0, "plugin `%s` %s failed: %s%s%s (CNI error code %" PRId64 ")",
                                      type, call->command, msg, strempty(details) ? "" : ": ",
                                      strempty(details) ? "" : details, code);
                }
        }
        json_object_put(obj);
        if (r < 0 && !(err && *err)) {
                const char *why = errc->len > 0 ? errc->buf : out->len > 0 ? out->buf : "no output";
                trim(errc->buf);
                trim(out->buf);
                if (WIFSIGNALED(status))
                        r = berr_make(err, 0, "plugin `%s` %s was killed by signal %d: %s", type,
                                      call->command, WTERMSIG(status), why);
                else
                        r = berr_make(err, 0, "plugin `%s` %s exited with status %d: %s", type, call->command,
                                      WEXITSTATUS(status), why);
        }
        return r;
}

int cni_exec(const struct cni_call *call, const char *plugin, json_object *netconf, json_object **result,
             struct berr **err)
{
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_close_ int in = -1, out_r = -1, out_w = -1, err_r = -1, err_w = -1, st_r = -1, st_w = -1;
        _cleanup_free_ char *obuf = malloc(CNI_RESULT_MAX + 1), *ebuf = malloc(STDERR_KEEP + 1);
        struct capture out = {.buf = obuf, .max = CNI_RESULT_MAX},
                       errc = {.buf = ebuf, .max = STDERR_KEEP, .keep_tail = true};
        const char *type = strrchr(plugin, '/') ? strrchr(plugin, '/') + 1 : plugin;
        int64_t deadline = time_mono_ns() + (int64_t)call->timeout * 1000000000LL;
        bool out_eof = false, err_eof = false, exited = false, timed_out = false;
        _cleanup_close_ int pidfd = -1;
        int pipes[2], status = 0, exec_errno = 0, r;
        pid_t pid;

        if (!obuf || !ebuf || build_env(call, &env) < 0)
                return berr_make(err, ENOMEM, "run plugin `%s`", type);
        obuf[0] = ebuf[0] = '\0';
        in = config_memfd(json_to_string(netconf, false), err);
        if (in < 0)
                return in;
        if (pipe2(pipes, O_CLOEXEC) < 0)
                return berr_errno(err, "pipe");
        out_r = pipes[0], out_w = pipes[1];
        if (pipe2(pipes, O_CLOEXEC) < 0)
                return berr_errno(err, "pipe");
        err_r = pipes[0], err_w = pipes[1];
        if (pipe2(pipes, O_CLOEXEC) < 0)
                return berr_errno(err, "pipe");
        st_r = pipes[0], st_w = pipes[1];

        log_debug("cni: %s %s container=%s netns=%s ifname=%s", type, call->command, call->container_id,
                  call->netns ? call->netns : "", call->ifname);
        pid = fork();
        if (pid < 0)
                return berr_errno(err, "fork for plugin `%s`", type);
        if (pid == 0)
                child_exec(plugin, in, out_w, err_w, st_w, env);
        out_w = safe_close(out_w);
        err_w = safe_close(err_w);
        st_w = safe_close(st_w);
        in = safe_close(in);

        /* The child is polled too, so one that closes its output and lingers still meets the deadline. */
        pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        while (!out_eof || !err_eof || (!exited && pidfd >= 0)) {
                struct pollfd pfd[3] = {{.fd = out_eof ? -1 : out_r, .events = POLLIN},
                                        {.fd = err_eof ? -1 : err_r, .events = POLLIN},
                                        {.fd = exited ? -1 : pidfd, .events = POLLIN}};
                int64_t left = deadline - time_mono_ns();

                if (left <= 0) {
                        timed_out = true;
                        break;
                }
                r = poll(pfd, 3, (int)MIN(left / 1000000 + 1, 60000));
                if (r < 0 && errno != EINTR) {
                        r = -errno;
                        kill(pid, SIGKILL);
                        wait_child(pid, &status);
                        return berr_make(err, -r, "poll plugin `%s` output", type);
                }
                if (r <= 0)
                        continue;
                if (pfd[0].revents) {
                        if (capture_read(out_r, &out) != 0)
                                out_eof = true;
                        if (out.overflow)
                                break;
                }
                if (pfd[1].revents && capture_read(err_r, &errc) != 0)
                        err_eof = true;
                if (pfd[2].revents)
                        exited = true;
        }
        if (timed_out || out.overflow)
                kill(pid, SIGKILL);
        r = wait_child(pid, &status);
        if (r < 0)
                return berr_make(err, -r, "wait for plugin `%s`", type);
        if (read(st_r, &exec_errno, sizeof(exec_errno)) == (ssize_t)sizeof(exec_errno))
                return berr_make(err, exec_errno, "exec CNI plugin `%s`", plugin);
        if (timed_out)
                return net_err(err, ETIMEDOUT, "plugin `%s` %s did not finish within %u s", type,
                               call->command, call->timeout);
        if (out.overflow)
                return net_err(err, EFBIG, "plugin `%s` %s printed more than %u bytes", type, call->command,
                               CNI_RESULT_MAX);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return plugin_failure(call, type, status, &out, &errc, err);
        if (!result)
                return 0;
        if (out.len == 0)
                return net_err(err, EINVAL, "plugin `%s` %s printed no result", type, call->command);
        r = json_parse_buf(out.buf, out.len, "result", result, err);
        if (r < 0)
                return berr_wrap(err, "plugin `%s` %s", type, call->command);
        return 0;
}

int cni_plugin_conf(json_object *conflist, size_t idx, json_object *runtime_config, json_object *prev_result,
                    json_object **out, struct berr **err)
{
        json_object *plugins, *plugin, *copy = NULL, *caps, *rc = NULL, *v;

        if (!json_object_object_get_ex(conflist, "plugins", &plugins) ||
            !(plugin = json_object_array_get_idx(plugins, idx)))
                return net_err(err, EINVAL, "plugins[%zu]: missing", idx);
        if (json_object_deep_copy(plugin, &copy, NULL) < 0)
                return berr_make(err, ENOMEM, "plugin configuration");
        json_object_object_del(copy, "runtimeConfig");
        json_object_object_del(copy, "prevResult");
        if (json_object_object_get_ex(conflist, "name", &v))
                json_object_object_add(copy, "name", json_object_get(v));
        if (json_object_object_get_ex(conflist, "cniVersion", &v))
                json_object_object_add(copy, "cniVersion", json_object_get(v));
        /* A plugin sees only the runtime settings it declares it understands. */
        if (runtime_config && json_object_object_get_ex(plugin, "capabilities", &caps) &&
            json_object_is_type(caps, json_type_object)) {
                json_object_object_foreach (caps, key, enabled) {
                        if (!json_object_is_type(enabled, json_type_boolean) ||
                            !json_object_get_boolean(enabled) ||
                            !json_object_object_get_ex(runtime_config, key, &v))
                                continue;
                        if (!rc && !(rc = json_object_new_object())) {
                                json_object_put(copy);
                                return berr_make(err, ENOMEM, "plugin configuration");
                        }
                        json_object_object_add(rc, key, json_object_get(v));
                }
        }
        if (rc)
                json_object_object_add(copy, "runtimeConfig", rc);
        if (prev_result)
                json_object_object_add(copy, "prevResult", json_object_get(prev_result));
        *out = copy;
        return 0;
}

static const char *plugin_type(json_object *conflist, size_t idx)
{
        json_object *plugins, *t;

        if (!json_object_object_get_ex(conflist, "plugins", &plugins) ||
            !json_object_object_get_ex(json_object_array_get_idx(plugins, idx), "type", &t))
                return NULL;
        return json_object_get_string(t);
}

static size_t plugin_count(json_object *conflist)
{
        json_object *plugins;

        if (!json_object_object_get_ex(conflist, "plugins", &plugins) ||
            !json_object_is_type(plugins, json_type_array))
                return 0;
        return json_object_array_length(plugins);
}

int cni_list_check_plugins(json_object *conflist, const char *cni_path, struct berr **err)
{
        size_t n = plugin_count(conflist);

        if (n == 0)
                return net_err(err, EINVAL, "the configuration list has no plugins");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL;
                const char *type = plugin_type(conflist, i);
                if (!type)
                        return net_err(err, EINVAL, "plugins[%zu].type: missing", i);
                if (cni_plugin_find(cni_path, type, &path, err) < 0)
                        return -ENOENT;
        }
        return 0;
}

static int run_one(const struct cni_call *call, json_object *conflist, size_t idx,
                   json_object *runtime_config, json_object *prev, json_object **result, struct berr **err)
{
        _cleanup_free_ char *path = NULL;
        json_object *conf = NULL;
        const char *type = plugin_type(conflist, idx);
        int r;

        if (!type)
                return net_err(err, EINVAL, "plugins[%zu].type: missing", idx);
        r = cni_plugin_find(call->cni_path, type, &path, err);
        if (r < 0)
                return r;
        r = cni_plugin_conf(conflist, idx, runtime_config, prev, &conf, err);
        if (r < 0)
                return r;
        r = cni_exec(call, path, conf, result, err);
        json_object_put(conf);
        return r;
}

int cni_list_run(const struct cni_call *call, json_object *conflist, json_object *runtime_config,
                 json_object *prev_result, json_object **result, struct berr **err)
{
        size_t n = plugin_count(conflist);
        json_object *prev = NULL;
        int ret = 0;

        if (streq(call->command, "DEL")) {
                for (size_t i = n; i-- > 0;) {
                        struct berr *e = NULL;
                        if (run_one(call, conflist, i, runtime_config, prev_result, NULL, &e) < 0) {
                                if (ret == 0)
                                        ret = -1;
                                if (err && !*err)
                                        berr_move(err, &e);
                                berr_free(e);
                        }
                }
                return ret;
        }
        if (streq(call->command, "CHECK")) {
                for (size_t i = 0; i < n; i++) {
                        int r = run_one(call, conflist, i, runtime_config, prev_result, NULL, err);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        prev = prev_result ? json_object_get(prev_result) : NULL;
        for (size_t i = 0; i < n; i++) {
                json_object *res = NULL;
                struct cni_result *parsed = NULL;
                int r = run_one(call, conflist, i, runtime_config, prev, &res, err);

                if (r >= 0) {
                        r = cni_result_parse(res, &parsed, err);
                        if (r < 0)
                                berr_wrap(err, "plugin `%s` ADD", plugin_type(conflist, i));
                        cni_result_free(parsed);
                }
                if (r >= 0 && call->progress)
                        r = call->progress(res, call->userdata, err);
                if (r < 0) {
                        json_object_put(res);
                        *result = prev;
                        return r;
                }
                json_object_put(prev);
                prev = res;
        }
        *result = prev;
        return 0;
}
