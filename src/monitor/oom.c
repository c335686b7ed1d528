/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "internal.h"

#define PROC_FILE_MAX (256 * 1024)

/* The path of pid's cgroup for the v1 memory controller (v2: false) or in the unified hierarchy. */
static int find_cgroup(pid_t pid, bool v2, char *out, size_t size)
{
        _cleanup_free_ char *text = NULL;
        char path[64], *line, *save = NULL;

        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
        if (read_file_at(AT_FDCWD, path, PROC_FILE_MAX, &text, NULL, NULL) < 0)
                return -ENOENT;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *ctrls = strchr(line, ':'), *cg;
                bool match = false;
                if (!ctrls || !(cg = strchr(ctrls + 1, ':')))
                        continue;
                *cg++ = '\0';
                ctrls++;
                if (v2) {
                        match = streq(line, "0") && *ctrls == '\0';
                } else {
                        char *c, *s2 = NULL;
                        for (c = strtok_r(ctrls, ",", &s2); c && !match; c = strtok_r(NULL, ",", &s2))
                                match = streq(c, "memory");
                }
                if (match && (size_t)snprintf(out, size, "%s", cg) < size)
                        return 0;
        }
        return -ENOENT;
}

/* Where the hierarchy is mounted, and the cgroup path of the mount's root. */
static int find_mount(bool v2, char *mnt, size_t mnt_size, char *root, size_t root_size)
{
        _cleanup_free_ char *text = NULL;
        char *line, *save = NULL;

        if (read_file_at(AT_FDCWD, "/proc/self/mountinfo", PROC_FILE_MAX, &text, NULL, NULL) < 0)
                return -ENOENT;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                /* id parent major:minor root mountpoint options [optional...] - fstype source superopts */
                char *f[5], *sep = strstr(line, " - "), *p = line, *fstype, *opts;
                size_t i;
                if (!sep)
                        continue;
                *sep = '\0';
                for (i = 0; i < 5 && p; i++) {
                        f[i] = p;
                        p = strchr(p, ' ');
                        if (p)
                                *p++ = '\0';
                }
                if (i < 5)
                        continue;
                fstype = sep + 3;
                opts = strchr(fstype, ' ');
                if (!opts)
                        continue;
                *opts++ = '\0';
                opts = strchr(opts, ' '); /* past the source */
                if (v2) {
                        if (!streq(fstype, "cgroup2"))
                                continue;
                } else {
                        char *o, *s2 = NULL;
                        bool mem = false;
                        if (!streq(fstype, "cgroup") || !opts)
                                continue;
                        for (o = strtok_r(opts + 1, ",", &s2); o && !mem; o = strtok_r(NULL, ",", &s2))
                                mem = streq(o, "memory");
                        if (!mem)
                                continue;
                }
                /* Octal escapes in mountinfo only appear for odd names; such mounts are not ours to use. */
                if (strchr(f[4], '\\') || (size_t)snprintf(mnt, mnt_size, "%s", f[4]) >= mnt_size ||
                    (size_t)snprintf(root, root_size, "%s", f[3]) >= root_size)
                        continue;
                return 0;
        }
        return -ENOENT;
}

static int read_oom_kills(const struct oom_watch *w, uint64_t *out)
{
        _cleanup_close_ int fd = -1;
        char buf[1024], *p;
        ssize_t n;

        fd = openat(w->dirfd, w->v2 ? "memory.events" : "memory.oom_control", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read_full(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return (int)n;
        buf[n] = '\0';
        for (p = buf; p; p = strchr(p, '\n')) {
                if (*p == '\n')
                        p++;
                if (strneq(p, "oom_kill ", 9)) {
                        *out = strtoull(p + 9, NULL, 10);
                        return 0;
                }
        }
        return -ENOENT;
}

static int open_hierarchy(pid_t pid, bool v2, struct oom_watch *w)
{
        char cg[PATH_MAX], mnt[PATH_MAX], root[PATH_MAX], full[PATH_MAX * 2];
        const char *rel;
        size_t rlen;

        if (find_cgroup(pid, v2, cg, sizeof(cg)) < 0 ||
            find_mount(v2, mnt, sizeof(mnt), root, sizeof(root)) < 0)
                return -ENOENT;
        /* The mount may show a subtree (a cgroup namespace); the path is then relative to it. */
        rlen = strlen(root);
        rel = cg;
        if (!streq(root, "/")) {
                if (!strneq(cg, root, rlen) || (cg[rlen] != '/' && cg[rlen] != '\0'))
                        return -ENOENT;
                rel = cg + rlen;
        }
        snprintf(full, sizeof(full), "%s/%s", mnt, rel);
        w->dirfd = open(full, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (w->dirfd < 0)
                return -errno;
        w->v2 = v2;
        if (read_oom_kills(w, &w->base) < 0) {
                w->dirfd = safe_close(w->dirfd);
                return -ENOENT;
        }
        return 0;
}

bool oom_watch_open(pid_t pid, struct oom_watch *w)
{
        *w = (struct oom_watch){.dirfd = -1};
        /* Hybrid hosts: the v1 memory controller, when mounted, is the one that limits. */
        return open_hierarchy(pid, false, w) == 0 || open_hierarchy(pid, true, w) == 0;
}

bool oom_watch_fired(const struct oom_watch *w)
{
        uint64_t now;

        return w->dirfd >= 0 && read_oom_kills(w, &now) == 0 && now > w->base;
}

void oom_watch_close(struct oom_watch *w)
{
        w->dirfd = safe_close(w->dirfd);
}
