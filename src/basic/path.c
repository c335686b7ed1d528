/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "path.h"

char *path_join(const char *a, const char *b)
{
        size_t la = strlen(a);
        char *r;

        while (la > 1 && a[la - 1] == '/')
                la--;
        while (*b == '/')
                b++;
        if (asprintf(&r, "%.*s%s%s", (int)la, a, (la == 1 && a[0] == '/') || !*b ? "" : "/", b) < 0)
                return NULL;
        return r;
}

bool path_is_absolute(const char *p)
{
        return p && p[0] == '/';
}

bool path_has_dotdot(const char *p)
{
        const char *s = p;

        while ((s = strstr(s, ".."))) {
                if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
                        return true;
                s += 2;
        }
        return false;
}

char *path_clean(const char *p)
{
        char *r = malloc(strlen(p) + 2), *o = r;
        const char *s = p;

        if (!r)
                return NULL;
        if (*s == '/')
                *o++ = '/';
        while (*s) {
                const char *e;
                size_t n;
                while (*s == '/')
                        s++;
                e = strchrnul(s, '/');
                n = (size_t)(e - s);
                if (n == 0 || (n == 1 && s[0] == '.')) {
                        s = e;
                        continue;
                }
                if (o > r && o[-1] != '/')
                        *o++ = '/';
                memcpy(o, s, n);
                o += n;
                s = e;
        }
        if (o == r)
                *o++ = '.';
        *o = '\0';
        return r;
}

int openat_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
        struct open_how how = {
                .flags = (unsigned long long)(flags | O_CLOEXEC),
                .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd;

        while (*path == '/')
                path++;
        if (!*path)
                path = ".";
        do
                fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        while (fd < 0 && errno == EAGAIN);
        return fd < 0 ? -errno : fd;
}

/* Dangling symlinks along the path are followed (inside the root) and their
 * targets created, as runc does; at most 40 of them, like the kernel. */
int mkdir_p_in_root(int rootfd, const char *path, mode_t mode, struct berr **err)
{
        _cleanup_free_ char *clean = path_clean(path);
        _cleanup_close_ int cur = -1;
        int hops = 0;
        char *p;

        if (!clean)
                return berr_make(err, ENOMEM, "mkdir `%s`", path);
restart:
        safe_close(cur);
        cur = openat_in_root(rootfd, "/", O_PATH | O_DIRECTORY, 0);
        if (cur < 0)
                return berr_make(err, -cur, "open container root");
        for (p = clean; *p == '/'; p++)
                ;
        while (*p) {
                char *e = strchrnul(p, '/');
                char save = *e;
                int nfd;

                *e = '\0';
                /* mkdirat relative to the already-resolved parent cannot escape the root. */
                if (!streq(p, "..") && !streq(p, ".") && mkdirat(cur, p, mode) < 0 && errno != EEXIST)
                        return berr_errno(err, "mkdir `%s`", clean);
                nfd = openat_in_root(rootfd, clean, O_PATH | O_DIRECTORY, 0);
                if (nfd == -ENOENT) {
                        char target[PATH_MAX];
                        ssize_t n = readlinkat(cur, p, target, sizeof(target) - 1);
                        _cleanup_free_ char *next = NULL;
                        if (n <= 0 || ++hops > 40)
                                return berr_make(err, n > 0 ? ELOOP : ENOENT, "open `%s` in container root", clean);
                        target[n] = '\0';
                        *p = '\0';
                        if (asprintf(&next, "%s/%s%s%s", target[0] == '/' ? "" : clean, target, save ? "/" : "",
                                     save ? e + 1 : "") < 0)
                                return berr_make(err, ENOMEM, "mkdir `%s`", path);
                        free(clean);
                        clean = path_clean(next);
                        if (!clean)
                                return berr_make(err, ENOMEM, "mkdir `%s`", path);
                        goto restart;
                }
                if (nfd < 0)
                        return berr_make(err, -nfd, "open `%s` in container root", clean);
                close(cur);
                cur = nfd;
                *e = save;
                p = save ? e + 1 : e;
        }
        return TAKE_FD(cur);
}

int mkmount_target_in_root(int rootfd, const char *path, bool is_file, struct berr **err)
{
        _cleanup_free_ char *clean = path_clean(path);
        _cleanup_close_ int parent = -1;
        char *slash, *name;
        int fd;

        if (!clean)
                return berr_make(err, ENOMEM, "mount target `%s`", path);
        fd = openat_in_root(rootfd, clean, O_PATH, 0);
        if (fd >= 0)
                return fd;
        if (fd != -ENOENT)
                return berr_make(err, -fd, "open mount target `%s` in container root", path);

        slash = strrchr(clean, '/');
        if (slash && slash != clean) {
                *slash = '\0';
                name = slash + 1;
                parent = mkdir_p_in_root(rootfd, clean, 0755, err);
        } else {
                name = slash ? slash + 1 : clean;
                parent = openat_in_root(rootfd, "/", O_PATH | O_DIRECTORY, 0);
                if (parent < 0)
                        return berr_make(err, -parent, "open container root");
        }
        if (parent < 0)
                return parent;
        if (streq(name, "..") || streq(name, "."))
                return berr_make(err, EINVAL, "mount target `%s` is not a valid path", path);
        if (is_file) {
                int ffd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (ffd < 0 && errno != EEXIST)
                        return berr_errno(err, "create mount target `%s`", path);
                safe_close(ffd);
        } else if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST) {
                return berr_errno(err, "mkdir mount target `%s`", path);
        }
        /* Resolve again from the parent: the name may be a symlink created meanwhile. */
        fd = openat_in_root(rootfd, path, O_PATH, 0);
        if (fd < 0)
                return berr_make(err, -fd, "open mount target `%s` in container root", path);
        return fd;
}

const char *fd_path(int fd, char buf[static 32])
{
        snprintf(buf, 32, "/proc/self/fd/%d", fd);
        return buf;
}
