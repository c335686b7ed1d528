/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/path.h"
#include "network-internal.h"

static char *netns_dir(const struct network_env *env)
{
        return path_join(env_run_dir(env), "netns");
}

char *network_netns_path(const struct network_env *env, const char *name)
{
        _cleanup_free_ char *dir = netns_dir(env);

        return dir ? path_join(dir, name) : NULL;
}

/* Like `ip netns`: the directory is a shared mount of itself, so unmounting a
 * namespace here also unmounts the copies that mount namespaces cloned
 * meanwhile (containers) hold, and the namespace can go away. */
static int netns_dir_prepare(const char *dir, struct berr **err)
{
        _cleanup_free_ char *lockp = NULL;
        _cleanup_close_ int lock = -1;
        int r;

        r = mkdir_p(dir, 0755, err);
        if (r < 0)
                return r;
        lockp = path_join(dir, ".lock");
        if (!lockp)
                return berr_make(err, ENOMEM, "netns");
        lock = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (lock < 0)
                return berr_errno(err, "open `%s`", lockp);
        while (flock(lock, LOCK_EX) < 0)
                if (errno != EINTR)
                        return berr_errno(err, "lock `%s`", lockp);
        if (mount(NULL, dir, NULL, MS_SHARED | MS_REC, NULL) == 0)
                return 0;
        if (errno != EINVAL)
                return berr_errno(err, "make `%s` a shared mount", dir);
        /* Not a mount point yet. */
        if (mount(dir, dir, NULL, MS_BIND | MS_REC, NULL) < 0)
                return berr_errno(err, "bind mount `%s` on itself", dir);
        if (mount(NULL, dir, NULL, MS_SHARED | MS_REC, NULL) < 0)
                return berr_errno(err, "make `%s` a shared mount", dir);
        return 0;
}

enum child_step { STEP_UNSHARE = 1, STEP_MOUNT, STEP_LOOPBACK };

struct child_status {
        int step;
        int err;
};

static int loopback_up(void)
{
        struct ifreq ifr = {.ifr_name = "lo"};
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

        if (fd < 0)
                return -errno;
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                r = -errno;
        ifr.ifr_flags |= IFF_UP;
        if (r == 0 && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                r = -errno;
        close(fd);
        return r;
}

/* Runs in a child so that the caller keeps its own network namespace. */
_noreturn_ static void child_create(const char *path, int status_fd)
{
        struct child_status st = {0};

        if (unshare(CLONE_NEWNET) < 0)
                st = (struct child_status){STEP_UNSHARE, errno};
        else if (mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0)
                st = (struct child_status){STEP_MOUNT, errno};
        else if ((st.err = -loopback_up()) != 0)
                st.step = STEP_LOOPBACK;
        (void)!write(status_fd, &st, sizeof(st));
        _exit(st.step ? 1 : 0);
}

int network_netns_create(const struct network_env *env, const char *name, char **path, struct berr **err)
{
        _cleanup_free_ char *dir = netns_dir(env), *p = NULL;
        _cleanup_close_ int fd = -1, st_r = -1, st_w = -1;
        struct child_status st = {0};
        int pipes[2], status, r;
        pid_t pid;

        r = name_check("network namespace name", name, err);
        if (r < 0)
                return r;
        if (!dir || !(p = path_join(dir, name)))
                return berr_make(err, ENOMEM, "netns");
        r = netns_dir_prepare(dir, err);
        if (r < 0)
                return r;
        fd = open(p, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
        if (fd < 0)
                return errno == EEXIST ? net_err(err, EEXIST, "network namespace `%s` already exists", p)
                                       : berr_errno(err, "create `%s`", p);
        fd = safe_close(fd);
        if (pipe2(pipes, O_CLOEXEC) < 0) {
                r = berr_errno(err, "pipe");
                goto fail;
        }
        st_r = pipes[0], st_w = pipes[1];
        pid = fork();
        if (pid < 0) {
                r = berr_errno(err, "fork");
                goto fail;
        }
        if (pid == 0)
                child_create(p, st_w);
        st_w = safe_close(st_w);
        if (read_full(st_r, &st, sizeof(st)) != (ssize_t)sizeof(st))
                st = (struct child_status){STEP_UNSHARE, EIO};
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        switch (st.step) {
        case 0:
                *path = TAKE_PTR(p);
                return 0;
        case STEP_UNSHARE:
                r = berr_make(err, st.err, "create network namespace: unshare(CLONE_NEWNET)");
                break;
        case STEP_MOUNT:
                r = berr_make(err, st.err, "bind mount network namespace on `%s`", p);
                break;
        default:
                r = berr_make(err, st.err, "bring up loopback in network namespace `%s`", name);
                break;
        }
fail:
        (void)umount2(p, MNT_DETACH);
        (void)unlink(p);
        return r;
}

int network_netns_remove(const struct network_env *env, const char *name, struct berr **err)
{
        _cleanup_free_ char *p = NULL;
        int r;

        r = name_check("network namespace name", name, err);
        if (r < 0)
                return r;
        p = network_netns_path(env, name);
        if (!p)
                return berr_make(err, ENOMEM, "netns");
        if (umount2(p, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
                return berr_errno(err, "unmount network namespace `%s`", p);
        if (unlink(p) < 0 && errno != ENOENT)
                return berr_errno(err, "remove `%s`", p);
        return 0;
}
