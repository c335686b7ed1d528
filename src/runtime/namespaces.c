/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "internal.h"

static int write_map(pid_t pid, const char *file, const struct oci_id_map *m, size_t n, struct berr **err)
{
        char path[64], buf[340 * 36];
        size_t len = 0;

        for (size_t i = 0; i < n; i++)
                len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n", m[i].container_id, m[i].host_id,
                                        m[i].size);
        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
        return write_file_at(AT_FDCWD, path, buf, len, 0, 0, err);
}

int userns_write_maps(pid_t pid, const struct oci_spec *s, struct berr **err)
{
        if (write_map(pid, "uid_map", s->linux_.uid_mappings, s->linux_.n_uid_mappings, err) < 0)
                return berr_wrap(err, "linux.uidMappings");
        if (write_map(pid, "gid_map", s->linux_.gid_mappings, s->linux_.n_gid_mappings, err) < 0)
                return berr_wrap(err, "linux.gidMappings");
        return 0;
}

int timens_write_offsets(pid_t pid, const struct oci_spec *s, struct berr **err)
{
        char path[64], buf[128];
        int n;

        if (!s->linux_.has_time_offsets)
                return 0;
        n = snprintf(buf, sizeof(buf), "monotonic %lld %u\nboottime %lld %u\n", (long long)s->linux_.monotonic.secs,
                     s->linux_.monotonic.nanosecs, (long long)s->linux_.boottime.secs, s->linux_.boottime.nanosecs);
        snprintf(path, sizeof(path), "/proc/%d/timens_offsets", (int)pid);
        if (write_file_at(AT_FDCWD, path, buf, (size_t)n, 0, 0, err) < 0)
                return berr_wrap(err, "linux.timeOffsets");
        return 0;
}

int ns_flags_new(const struct oci_spec *s)
{
        int flags = 0;

        for (size_t i = 0; i < s->linux_.n_namespaces; i++)
                if (!s->linux_.namespaces[i].path)
                        flags |= oci_ns_clone_flag(s->linux_.namespaces[i].type);
        return flags;
}

/* fork() with namespace flags, optionally straight into a cgroup (v2), and a pidfd. */
pid_t clone_fork(unsigned long flags, int cgroup_fd, int *pidfd)
{
        struct clone_args args = {
                .flags = flags | (pidfd ? CLONE_PIDFD : 0) | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
                .pidfd = (uint64_t)(uintptr_t)pidfd,
                .exit_signal = SIGCHLD,
                .cgroup = cgroup_fd >= 0 ? (uint64_t)cgroup_fd : 0,
        };
        long r = syscall(SYS_clone3, &args, sizeof(args));

        if (r < 0 && errno == ENOSYS && cgroup_fd < 0) {
                if (pidfd)
                        *pidfd = -1;
                r = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
        }
        return (pid_t)r;
}

int pidfd_open_checked(pid_t pid, uint64_t starttime)
{
        uint64_t st;
        char state;
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);

        if (fd < 0)
                return -errno;
        /* Checked after opening: the pidfd pins the process the start time names. */
        if (proc_stat(pid, &state, &st) < 0 || st != starttime || state == 'Z' || state == 'X') {
                close(fd);
                return -ESRCH;
        }
        return fd;
}
