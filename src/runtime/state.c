/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "container.h"
#include "internal.h"

int proc_stat(pid_t pid, char *state, uint64_t *starttime)
{
        char path[64], buf[1024], *p;
        unsigned long long st = 0;
        int n;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        n = read_line_at(AT_FDCWD, path, buf, sizeof(buf));
        if (n < 0)
                return n;
        /* comm may contain spaces and parentheses: parse after the last ')'. */
        p = strrchr(buf, ')');
        if (!p || sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                         state, &st) != 2)
                return -EIO;
        *starttime = st;
        return 0;
}

int container_load(const struct runtime_ctx *ctx, const char *id, struct container **out, struct berr **err)
{
        _cleanup_container_ struct container *c = NULL;
        _cleanup_free_ char *dir = NULL, *buf = NULL;
        json_object *o = NULL, *cg;
        int64_t v;
        size_t len;
        int r;

        if (oci_validate_id(id, err) < 0)
                return -1;
        c = calloc(1, sizeof(*c));
        dir = path_join(ctx->root, id);
        if (!c || !dir || !(c->id = strdup(id)))
                return berr_make(err, ENOMEM, "load container");
        c->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c->dirfd < 0) {
                if (errno == ENOENT)
                        return berr_make(err, ENOENT, "container `%s` does not exist", id);
                return berr_errno(err, "open state directory `%s`", dir);
        }
        r = read_file_at(c->dirfd, "state.json", 1 << 20, &buf, &len, NULL);
        if (r < 0) {
                /* A create killed half-way leaves a directory without state: it counts as stopped. */
                struct stat st;
                if (fstat(c->dirfd, &st) == 0)
                        c->created_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
                c->bundle = strdup("");
                c->rootfs = strdup("");
                *out = TAKE_PTR(c);
                return 0;
        }
        if (json_parse_buf(buf, len, "state.json", &o, err) < 0)
                return berr_wrap(err, "container `%s`", id);
        r = -1;
        if (json_get_int64(o, "", "pid", 0, INT32_MAX, &v, err) < 0)
                goto out;
        c->pid = (pid_t)v;
        if (json_get_uint64(o, "", "pidStart", &c->pid_start, err) < 0 ||
            json_get_int64(o, "", "created", 0, INT64_MAX, &c->created_ns, err) < 0 ||
            json_get_str(o, "", "bundle", true, &c->bundle, err) < 0 ||
            json_get_str(o, "", "rootfs", true, &c->rootfs, err) < 0 ||
            json_get_str(o, "", "owner", false, &c->owner, err) < 0 ||
            json_get_str_map(o, "", "annotations", &c->annotations, err) < 0)
                goto out;
        if (json_object_object_get_ex(o, "cgroup", &cg) && cgroup_from_json(cg, &c->cg, err) < 0)
                goto out;
        if (json_object_object_get_ex(o, "rootfsMount", NULL) &&
            json_get_uint64(o, "", "rootfsMount", &c->rootfs_mnt, err) < 0)
                goto out;
        r = 0;
        *out = TAKE_PTR(c);
out:
        json_object_put(o);
        if (r < 0)
                berr_wrap(err, "container `%s`: state.json", id);
        return r;
}

int container_load_spec(struct container *c, struct berr **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;

        if (c->spec)
                return 0;
        if (read_file_at(c->dirfd, "config.json", OCI_CONFIG_MAX, &buf, &len, err) < 0)
                return berr_wrap(err, "container `%s`", c->id);
        return oci_spec_parse(buf, len, &c->spec, err);
}

enum oci_status container_status(struct container *c)
{
        uint64_t start;
        char st;
        bool frozen = false;

        if (c->pid <= 0 || proc_stat(c->pid, &st, &start) < 0 || st == 'Z' || st == 'X' || start != c->pid_start)
                return OCI_STATUS_STOPPED;
        if (faccessat(c->dirfd, START_SOCKET, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return OCI_STATUS_CREATED;
        if (c->cg && cgroup_is_frozen(c->cg, &frozen, NULL) == 0 && frozen)
                return OCI_STATUS_PAUSED;
        return OCI_STATUS_RUNNING;
}

json_object *container_state_json(struct container *c, enum oci_status status, bool full)
{
        struct oci_state st = {
                .id = c->id,
                .status = status,
                .pid = c->pid,
                .bundle = c->bundle,
                .annotations = c->annotations,
                .rootfs = c->rootfs,
                .created_ns = c->created_ns,
                .owner = c->owner,
        };

        return oci_state_to_json(&st, full);
}

void container_free(struct container *c)
{
        if (!c)
                return;
        safe_close(c->dirfd);
        free(c->id);
        free(c->bundle);
        free(c->rootfs);
        free(c->owner);
        strv_free(c->annotations);
        cgroup_free(c->cg);
        oci_spec_free(c->spec);
        free(c);
}

int signal_parse(const char *s)
{
        static const struct {
                const char *name;
                int sig;
        } sigs[] = {
                {"HUP", SIGHUP},     {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},
                {"TRAP", SIGTRAP},   {"ABRT", SIGABRT},     {"IOT", SIGIOT},     {"BUS", SIGBUS},
                {"FPE", SIGFPE},     {"KILL", SIGKILL},     {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},
                {"USR2", SIGUSR2},   {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},   {"TERM", SIGTERM},
                {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},    {"CONT", SIGCONT},
                {"STOP", SIGSTOP},   {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN},   {"TTOU", SIGTTOU},
                {"URG", SIGURG},     {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ},   {"VTALRM", SIGVTALRM},
                {"PROF", SIGPROF},   {"WINCH", SIGWINCH},   {"IO", SIGIO},       {"POLL", SIGPOLL},
                {"PWR", SIGPWR},     {"SYS", SIGSYS},
        };
        char *end;
        long n;

        if (!s || !*s)
                return -EINVAL;
        n = strtol(s, &end, 10);
        if (*end == '\0')
                return n > 0 && n < _NSIG ? (int)n : -EINVAL;
        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
                if (strcasecmp(s, sigs[i].name) == 0)
                        return sigs[i].sig;
        if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
                long off = 0;
                if (s[5] && ((off = strtol(s + 5, &end, 10)), *end != '\0'))
                        return -EINVAL;
                n = strncasecmp(s, "RTMIN", 5) == 0 ? SIGRTMIN + off : SIGRTMAX + off;
                return n >= SIGRTMIN && n <= SIGRTMAX ? (int)n : -EINVAL;
        }
        return -EINVAL;
}
