/* SPDX-License-Identifier: Apache-2.0 */
/* OOM notifications: v1 memory.oom_control + cgroup.event_control eventfd, v2 memory.events + inotify. */
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>

#include "cgroup-internal.h"

struct cgroup_oom_watch {
        bool v2;
        int fd;     /* eventfd (v1) or inotify (v2) */
        int dirfd;  /* the memory cgroup */
        char *full; /* its path, for messages */
        uint64_t last_kills;
};

void cgroup_oom_watch_free(struct cgroup_oom_watch *w)
{
        if (!w)
                return;
        safe_close(w->fd);
        safe_close(w->dirfd);
        free(w->full);
        free(w);
}

int cgroup_oom_watch_fd(const struct cgroup_oom_watch *w)
{
        return w->fd;
}

static int read_kills(struct cgroup_oom_watch *w, uint64_t *out, struct berr **err)
{
        int r = cg_read_key_u64(w->dirfd, w->full, "memory.events", "oom_kill", out, err);

        if (r == 0)
                *out = 0;
        return r < 0 ? r : 0;
}

static int watch_v1(struct cgroup_oom_watch *w, struct berr **err)
{
        _cleanup_close_ int ctl = openat(w->dirfd, "memory.oom_control", O_RDONLY | O_CLOEXEC);

        if (ctl < 0)
                return berr_errno(err, "open %s/memory.oom_control", w->full);
        w->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->fd < 0)
                return berr_errno(err, "eventfd");
        return cg_writef(w->dirfd, w->full, "cgroup.event_control", err, "%d %d", w->fd, ctl);
}

static int watch_v2(struct cgroup_oom_watch *w, struct berr **err)
{
        _cleanup_free_ char *events = NULL, *cgevents = NULL;

        if (asprintf(&events, "%s/memory.events", w->full) < 0 ||
            asprintf(&cgevents, "%s/cgroup.events", w->full) < 0)
                return berr_make(err, ENOMEM, "oom watch");
        w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (w->fd < 0)
                return berr_errno(err, "inotify");
        if (inotify_add_watch(w->fd, events, IN_MODIFY) < 0)
                return berr_errno(err, "watch %s", events);
        if (inotify_add_watch(w->fd, cgevents, IN_MODIFY) < 0)
                return berr_errno(err, "watch %s", cgevents);
        return read_kills(w, &w->last_kills, err);
}

int cgroup_oom_watch_new(struct cgroup *cg, struct cgroup_oom_watch **out, struct berr **err)
{
        struct cgroup_dir *d = cgroup_dir_for(cg, "memory");
        struct cgroup_oom_watch *w;
        int r;

        if (!d)
                return berr_make(err, ENOTSUP,
                                 "no OOM notifications: the memory controller is not available");
        if (cgroup_dir_open(cg, d, err) < 0)
                return -1;
        w = calloc(1, sizeof(*w));
        if (!w)
                return berr_make(err, ENOMEM, "oom watch");
        w->fd = -1;
        w->v2 = cgroup_dir_is_v2(cg, d);
        w->dirfd = fcntl(d->fd, F_DUPFD_CLOEXEC, 3);
        w->full = strdup(d->full);
        if (w->dirfd < 0 || !w->full) {
                cgroup_oom_watch_free(w);
                return berr_errno(err, "oom watch");
        }
        r = w->v2 ? watch_v2(w, err) : watch_v1(w, err);
        if (r < 0) {
                cgroup_oom_watch_free(w);
                return r;
        }
        *out = w;
        return 0;
}

int cgroup_oom_watch_read(struct cgroup_oom_watch *w, uint64_t *events, bool *gone, struct berr **err)
{
        *events = 0;
        *gone = false;
        if (!w->v2) {
                uint64_t n;
                ssize_t r = read(w->fd, &n, sizeof(n));

                if (r == sizeof(n))
                        *events = n;
                else if (r < 0 && errno != EAGAIN && errno != EINTR)
                        return berr_errno(err, "read the OOM eventfd of %s", w->full);
                /* The eventfd also fires when the cgroup goes away. */
                *gone = !cg_exists(w->dirfd, "memory.oom_control");
                if (*gone)
                        *events = 0;
                return 0;
        }
        {
                char buf[4096];
                uint64_t kills, populated = 1;
                int r;

                while (read(w->fd, buf, sizeof(buf)) > 0)
                        ;
                if (!cg_exists(w->dirfd, "memory.events")) {
                        *gone = true;
                        return 0;
                }
                if (read_kills(w, &kills, err) < 0)
                        return -1;
                if (kills > w->last_kills)
                        *events = kills - w->last_kills;
                w->last_kills = kills;
                r = cg_read_key_u64(w->dirfd, w->full, "cgroup.events", "populated", &populated, NULL);
                *gone = r > 0 && populated == 0;
        }
        return 0;
}
