/* SPDX-License-Identifier: Apache-2.0 */
/* The last steps before the container's process runs, shared by init and exec. */
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "internal.h"
#include "sync.h"

void process_reset_signals(void)
{
        struct sigaction sa = {.sa_handler = SIG_DFL};
        sigset_t none;

        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        sigaction(sig, &sa, NULL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
}

static const char *env_get(char *const *env, const char *key)
{
        ssize_t i = strv_env_find(env, key, strlen(key));

        return i < 0 ? NULL : env[i] + strlen(key) + 1;
}

static int check_executable(const char *path)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
                return -EACCES;
        return 0;
}

int process_lookup(const struct oci_process *p, char **out, struct berr **err)
{
        const char *name = p->args[0], *path;
        int r;

        if (strchr(name, '/')) {
                r = check_executable(name);
                if (r < 0)
                        return berr_make(err, -r, "exec: \"%s\"", name);
                *out = strdup(name);
                return *out ? 0 : berr_make(err, ENOMEM, "exec");
        }
        path = env_get(p->env, "PATH");
        if (!path)
                path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        r = -ENOENT;
        for (const char *s = path; ; s++) {
                const char *e = strchrnul(s, ':');
                _cleanup_free_ char *cand = NULL;
                if (asprintf(&cand, "%.*s/%s", (int)(e - s), e == s ? "." : s, name) < 0)
                        return berr_make(err, ENOMEM, "exec");
                if (check_executable(cand) == 0) {
                        *out = TAKE_PTR(cand);
                        return 0;
                }
                if (!*e)
                        break;
                s = e;
        }
        /* podman maps this exact wording to exit status 127. */
        return berr_make(err, 0, "exec: \"%s\": executable file not found in $PATH", name);
}

struct sched_attr_ {
        uint32_t size, policy;
        uint64_t flags;
        int32_t nice;
        uint32_t priority;
        uint64_t runtime, deadline, period;
};

static int parse_cpuset(const char *s, cpu_set_t *set)
{
        CPU_ZERO(set);
        while (*s) {
                char *end;
                unsigned long a = strtoul(s, &end, 10), b = a;
                if (end == s)
                        return -EINVAL;
                if (*end == '-') {
                        s = end + 1;
                        b = strtoul(s, &end, 10);
                        if (end == s || b < a)
                                return -EINVAL;
                }
                if (b >= CPU_SETSIZE)
                        return -EINVAL;
                for (unsigned long i = a; i <= b; i++)
                        CPU_SET(i, set);
                if (*end == ',')
                        end++;
                else if (*end)
                        return -EINVAL;
                s = end;
        }
        return 0;
}

int process_apply_limits(const struct oci_process *p, struct berr **err)
{
        for (size_t i = 0; i < p->n_rlimits; i++) {
                struct rlimit rl = {.rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard};
                if (setrlimit(p->rlimits[i].resource, &rl) < 0)
                        return berr_errno(err, "setrlimit %s", oci_rlimit_name(p->rlimits[i].resource));
        }
        if (p->has_io_priority &&
            syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (p->io_priority_class << 13) | p->io_priority) < 0)
                return berr_errno(err, "process.ioPriority");
        if (p->scheduler.present) {
                struct sched_attr_ a = {
                        .size = sizeof(a),
                        .policy = p->scheduler.policy,
                        .flags = p->scheduler.flags,
                        .nice = p->scheduler.nice,
                        .priority = (uint32_t)p->scheduler.priority,
                        .runtime = p->scheduler.runtime,
                        .deadline = p->scheduler.deadline,
                        .period = p->scheduler.period,
                };
                if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
                        return berr_errno(err, "process.scheduler");
        }
        if (p->cpu_affinity_initial) {
                cpu_set_t set;
                if (parse_cpuset(p->cpu_affinity_initial, &set) < 0)
                        return berr_make(err, EINVAL, "process.execCPUAffinity.initial: invalid CPU list `%s`",
                                         p->cpu_affinity_initial);
                if (sched_setaffinity(0, sizeof(set), &set) < 0)
                        return berr_errno(err, "process.execCPUAffinity.initial");
        }
        return 0;
}

static int apply_caps(const struct oci_caps *c, struct berr **err)
{
        struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct data[2];
        int last = oci_cap_last();

        memset(data, 0, sizeof(data));
        for (int i = 0; i < 2; i++) {
                data[i].effective = (uint32_t)(c->effective >> (32 * i));
                data[i].permitted = (uint32_t)(c->permitted >> (32 * i));
                data[i].inheritable = (uint32_t)(c->inheritable >> (32 * i));
        }
        if (syscall(SYS_capset, &hdr, data) < 0)
                return berr_errno(err, "capset");
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return berr_errno(err, "clear ambient capabilities");
        for (int cap = 0; cap <= last; cap++) {
                if (!(c->ambient & (UINT64_C(1) << cap)))
                        continue;
                /* As runc: an ambient capability needs to be permitted and
                 * inheritable; one that is not is not granted. */
                if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
                        log_debug("ambient capability %s not raised: %s", oci_cap_name(cap), strerror(errno));
        }
        return 0;
}

static int drop_bounding(uint64_t keep, struct berr **err)
{
        int last = oci_cap_last();

        for (int cap = 0; cap <= last; cap++) {
                if (keep & (UINT64_C(1) << cap))
                        continue;
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                        return berr_errno(err, "drop %s from the bounding set", oci_cap_name(cap));
        }
        return 0;
}

static int set_identity(const struct oci_user *u, bool userns, struct berr **err)
{
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return berr_errno(err, "keep capabilities");
        if (setgroups(u->n_additional_gids, u->additional_gids) < 0) {
                /* In a user namespace with setgroups denied only an empty list is possible. */
                if (!(userns && errno == EPERM && u->n_additional_gids == 0))
                        return berr_errno(err, "setgroups");
        }
        if (setresgid(u->gid, u->gid, u->gid) < 0)
                return berr_errno(err, "setgid %u", u->gid);
        if (setresuid(u->uid, u->uid, u->uid) < 0)
                return berr_errno(err, "setuid %u", u->uid);
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return berr_errno(err, "clear keep-capabilities");
        return 0;
}

/* Every fd but stdio and the preserved ones is closed by execve, and none
 * is left where a cwd or path could reach it (CVE-2024-21626). */
static int mark_fds_cloexec(int extra_fds, struct berr **err)
{
        for (int fd = 3; fd < 3 + extra_fds; fd++)
                if (fcntl(fd, F_SETFD, 0) < 0)
                        return berr_errno(err, "preserve fd %d", fd);
        if (syscall(SYS_close_range, 3 + extra_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                return berr_errno(err, "close_range");
        return 0;
}

/* Returns 0 or -errno. */
static int change_dir(const char *cwd)
{
        _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), fd = -1;

        if (root < 0)
                return -errno;
        fd = openat_in_root(root, cwd, O_PATH | O_DIRECTORY, 0);
        if (fd < 0)
                return fd;
        return fchdir(fd) < 0 ? -errno : 0;
}

static char **build_env(const struct oci_process *p, char **extra)
{
        char **env = NULL;

        STRV_FOREACH (e, p->env)
                if (strv_extend(&env, *e) < 0)
                        goto fail;
        STRV_FOREACH (e, extra)
                if (strv_extend(&env, *e) < 0)
                        goto fail;
        if (!env)
                env = calloc(1, sizeof(char *));
        return env;
fail:
        strv_free(env);
        return NULL;
}

int process_seccomp_listener(struct seccomp_prog *seccomp, int sync_fd, struct berr **err)
{
        _cleanup_close_ int nfd = -1;
        struct sync_msg msg = {.type = SYNC_SECCOMP_FD};

        if (seccomp_install(seccomp, &nfd, err) < 0)
                return -1;
        /* Until the runtime answers only this write and the read run: any
         * other syscall could be a notified one, with no agent yet. */
        msg.value = nfd;
        if (write(sync_fd, &msg, offsetof(struct sync_msg, text)) < 0)
                return berr_errno(err, "report the seccomp notify fd");
        return sync_expect(sync_fd, SYNC_SECCOMP_DONE, &msg, err);
}

int process_exec(const struct oci_process *p, const char *exec_path, struct seccomp_prog *seccomp, bool userns,
                 int extra_fds, char **extra_env, struct berr **err)
{
        const struct oci_caps *c = &p->caps;
        _cleanup_strv_free_ char **env = build_env(p, extra_env);
        int notify_fd = -1, cd;
        bool cwd_pending;

        if (!env)
                return berr_make(err, ENOMEM, "environment");
        if (p->apparmor_profile && *p->apparmor_profile) {
                _cleanup_free_ char *cmd = NULL;
                int fd = open("/proc/self/attr/apparmor/exec", O_WRONLY | O_CLOEXEC);
                if (fd < 0)
                        fd = open("/proc/self/attr/exec", O_WRONLY | O_CLOEXEC);
                if (fd < 0 || asprintf(&cmd, "exec %s", p->apparmor_profile) < 0 ||
                    write(fd, cmd, strlen(cmd)) < 0) {
                        int r = berr_errno(err, "apply AppArmor profile `%s`", p->apparmor_profile);
                        safe_close(fd);
                        return r;
                }
                close(fd);
        }
        if (p->selinux_label && *p->selinux_label) {
                int fd = open("/proc/self/attr/exec", O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, p->selinux_label, strlen(p->selinux_label)) < 0) {
                        int r = berr_errno(err, "set SELinux label `%s`", p->selinux_label);
                        safe_close(fd);
                        return r;
                }
                close(fd);
        }
        /* As runc, the cwd is entered while still root and the fds are
         * settled before a filter is loaded: a profile that predates openat2
         * and close_range must not break them. Only a cwd that root may not
         * enter is tried again as the container's user. */
        cd = change_dir(p->cwd);
        if (cd < 0 && cd != -EACCES && cd != -EPERM)
                return berr_make(err, -cd, "chdir to cwd (\"%s\") set in config.json failed", p->cwd);
        cwd_pending = cd < 0;
        if (mark_fds_cloexec(extra_fds, err) < 0)
                return -1;
        /* Without no_new_privs a filter can only be installed with CAP_SYS_ADMIN. */
        if (seccomp && !p->no_new_privileges && seccomp_install(seccomp, &notify_fd, err) < 0)
                return -1;
        if (c->present && drop_bounding(c->bounding, err) < 0)
                return -1;
        if (set_identity(&p->user, userns, err) < 0)
                return -1;
        if (c->present && apply_caps(c, err) < 0)
                return -1;
        if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return berr_errno(err, "set no_new_privs");
        if (cwd_pending && (cd = change_dir(p->cwd)) < 0)
                return berr_make(err, -cd, "chdir to cwd (\"%s\") set in config.json failed", p->cwd);
        if (p->user.has_umask)
                umask(p->user.umask);
        if (p->cpu_affinity_final) {
                cpu_set_t set;
                if (parse_cpuset(p->cpu_affinity_final, &set) < 0 || sched_setaffinity(0, sizeof(set), &set) < 0)
                        return berr_make(err, EINVAL, "process.execCPUAffinity.final: cannot apply `%s`",
                                         p->cpu_affinity_final);
        }
        if (seccomp && p->no_new_privileges && seccomp_install(seccomp, &notify_fd, err) < 0)
                return -1;
        execve(exec_path, p->args, env);
        return berr_errno(err, "exec: \"%s\"", p->args[0]);
}
