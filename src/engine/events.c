/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/log.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "basic/timeutil.h"
#include "events.h"
#include "lifecycle.h"
#include "spec-internal.h"

#define EVENTS_DIR "events"
#define EVENTS_LOG "events.log"
#define EVENTS_OLD "events.log.1"

static char *events_dir(const struct engine *e)
{
        return path_join(e->runroot, EVENTS_DIR);
}

static int open_log_for_append(const char *dir)
{
        _cleanup_free_ char *p = path_join(dir, EVENTS_LOG);
        int fd;

        if (!p)
                return -ENOMEM;
        fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0 && errno == ENOENT) {
                _cleanup_berr_ struct berr *err = NULL;
                if (mkdir_p(dir, 0700, &err) < 0)
                        return -err->code;
                fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        }
        return fd < 0 ? -errno : fd;
}

/* The writer that finds the log too big renames it, under an exclusive lock so
 * that two writers noticing at once do not rotate twice. */
static int rotate_if_big(const char *dir, int fd)
{
        _cleanup_free_ char *cur = path_join(dir, EVENTS_LOG), *old = path_join(dir, EVENTS_OLD);
        struct stat a, b;

        if (!cur || !old || fstat(fd, &a) < 0 || a.st_size < (off_t)ENGINE_EVENTS_LOG_MAX)
                return fd;
        if (flock(fd, LOCK_EX) < 0)
                return fd;
        /* Someone else may have rotated while we waited: only rename the file we hold. */
        if (stat(cur, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev && rename(cur, old) < 0)
                log_debug("events: rotate `%s`: %m", cur);
        close(fd);
        return open_log_for_append(dir);
}

static void add_attr(json_object *attrs, const char *k, const char *v)
{
        if (k && v)
                json_object_object_add(attrs, k, json_object_new_string(v));
}

void engine_event_emit(struct engine *e, const char *type, const char *action, const char *id,
                       const char *const *attrs)
{
        _cleanup_free_ char *dir = events_dir(e), *line = NULL;
        json_object *ev = json_object_new_object(), *actor = json_object_new_object(),
                    *at = json_object_new_object();
        int64_t now = time_now_ns();
        const char *image = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        if (!dir || !ev || !actor || !at) {
                json_object_put(ev);
                json_object_put(actor);
                json_object_put(at);
                return;
        }
        for (const char *const *a = attrs; a && a[0] && a[1]; a += 2) {
                add_attr(at, a[0], a[1]);
                if (streq(a[0], "image"))
                        image = a[1];
        }
        /* docker's legacy fields first, then the current ones. */
        if (streq(type, "container") || streq(type, "image")) {
                json_object_object_add(ev, "status", json_object_new_string(action));
                json_object_object_add(ev, "id", json_object_new_string(id));
                if (image)
                        json_object_object_add(ev, "from", json_object_new_string(image));
        }
        json_object_object_add(ev, "Type", json_object_new_string(type));
        json_object_object_add(ev, "Action", json_object_new_string(action));
        json_object_object_add(actor, "ID", json_object_new_string(id));
        json_object_object_add(actor, "Attributes", at);
        json_object_object_add(ev, "Actor", actor);
        json_object_object_add(ev, "scope", json_object_new_string("local"));
        json_object_object_add(ev, "time", json_object_new_int64(now / 1000000000LL));
        json_object_object_add(ev, "timeNano", json_object_new_int64(now));
        r = asprintf(&line, "%s\n", json_to_string(ev, false));
        json_object_put(ev);
        if (r < 0 || (size_t)r > ENGINE_EVENT_LINE_MAX)
                return;
        fd = open_log_for_append(dir);
        if (fd >= 0)
                fd = rotate_if_big(dir, fd);
        if (fd < 0) {
                log_debug("events: open `%s/" EVENTS_LOG "`: %s", dir, strerror(-fd));
                return;
        }
        /* One write: O_APPEND places it whole at the end, whoever else appends. */
        r = write_all(fd, line, (size_t)r);
        if (r < 0)
                log_debug("events: write `%s/" EVENTS_LOG "`: %s", dir, strerror(-r));
}

void engine_event_container(struct engine *e, const struct container *c, const char *action,
                            const char *const *extra)
{
        _cleanup_strv_free_ char **attrs = NULL;
        json_object *labels = container_cfg(c, "labels");
        int r = 0;

        r |= strv_extend(&attrs, "image");
        r |= strv_extend(&attrs, c->image_name);
        r |= strv_extend(&attrs, "name");
        r |= strv_extend(&attrs, c->name);
        if (json_object_is_type(labels, json_type_object)) {
                json_object_object_foreach (labels, k, v) {
                        /* docker: attributes image and name win over labels of the same name */
                        if (streq(k, "image") || streq(k, "name"))
                                continue;
                        r |= strv_extend(&attrs, k);
                        r |= strv_extend(&attrs, json_object_get_string(v));
                }
        }
        for (const char *const *a = extra; a && a[0] && a[1]; a += 2) {
                r |= strv_extend(&attrs, a[0]);
                r |= strv_extend(&attrs, a[1]);
        }
        if (r < 0)
                return;
        engine_event_emit(e, "container", action, c->id, (const char *const *)attrs);
}

/* ---- filters -------------------------------------------------------------------- */

int engine_events_filter_add(struct engine_events_filter *f, const char *spec, struct berr **err)
{
        static const struct {
                const char *key;
                size_t off;
        } keys[] = {
            {"type", offsetof(struct engine_events_filter, types)},
            {"event", offsetof(struct engine_events_filter, events)},
            {"container", offsetof(struct engine_events_filter, containers)},
            {"image", offsetof(struct engine_events_filter, images)},
            {"label", offsetof(struct engine_events_filter, labels)},
            {"volume", offsetof(struct engine_events_filter, volumes)},
            {"network", offsetof(struct engine_events_filter, networks)},
        };
        const char *eq = strchr(spec, '=');

        if (!eq || eq == spec || !eq[1])
                return eng_err(err, EINVAL, "bad format of filter (expected name=value): `%s`", spec);
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
                if (strlen(keys[i].key) == (size_t)(eq - spec) &&
                    strneq(spec, keys[i].key, (size_t)(eq - spec))) {
                        char ***l = (char ***)((char *)f + keys[i].off);
                        if (strv_extend(l, eq + 1) < 0)
                                return berr_make(err, ENOMEM, "filter");
                        return 0;
                }
        return eng_err(err, EINVAL,
                       "invalid filter `%.*s` (type, event, container, image, volume, network, label)",
                       (int)(eq - spec), spec);
}

void engine_events_filter_done(struct engine_events_filter *f)
{
        strv_free(f->types);
        strv_free(f->events);
        strv_free(f->containers);
        strv_free(f->images);
        strv_free(f->labels);
        strv_free(f->volumes);
        strv_free(f->networks);
        *f = (struct engine_events_filter){0};
}

static const char *ev_str(json_object *ev, const char *k1, const char *k2)
{
        json_object *v = json_object_object_get(ev, k1);

        if (k2)
                v = json_object_object_get(v, k2);
        return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static const char *ev_attr(json_object *ev, const char *key)
{
        json_object *a = json_object_object_get(json_object_object_get(ev, "Actor"), "Attributes");
        json_object *v = json_object_object_get(a, key);

        return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static bool any(char *const *alts, bool (*match)(const char *alt, json_object *ev), json_object *ev)
{
        if (!alts)
                return true;
        STRV_FOREACH (a, alts)
                if (match(*a, ev))
                        return true;
        return false;
}

static bool match_type(const char *alt, json_object *ev)
{
        const char *t = ev_str(ev, "Type", NULL);
        return t && streq(t, alt);
}

/* docker's exec actions carry the command ("exec_start: sh -c ..."): the name before ':' counts. */
static bool match_event(const char *alt, json_object *ev)
{
        const char *a = ev_str(ev, "Action", NULL);
        size_t n = a ? strcspn(a, ":") : 0;
        return a && strlen(alt) == n && strneq(a, alt, n);
}

static bool match_container(const char *alt, json_object *ev)
{
        const char *id = ev_str(ev, "Actor", "ID"), *name = ev_attr(ev, "name");
        const char *t = ev_str(ev, "Type", NULL);

        if (!t || !streq(t, "container"))
                return false;
        if (name && streq(name, alt[0] == '/' ? alt + 1 : alt))
                return true;
        return id && *alt && strneq(id, alt, strlen(alt));
}

static bool match_image(const char *alt, json_object *ev)
{
        const char *image = ev_attr(ev, "image"), *t = ev_str(ev, "Type", NULL),
                   *id = ev_str(ev, "Actor", "ID");

        if (image && streq(image, alt))
                return true;
        return t && streq(t, "image") && id &&
               (streq(id, alt) || (ev_attr(ev, "name") && streq(ev_attr(ev, "name"), alt)));
}

/* volume=NAME, network=NAME|ID: events of that object (a network's id prefix matches). */
static bool match_object(const char *type, const char *alt, json_object *ev)
{
        const char *t = ev_str(ev, "Type", NULL), *id = ev_str(ev, "Actor", "ID"),
                   *name = ev_attr(ev, "name");

        if (!t || !streq(t, type))
                return false;
        if ((id && streq(id, alt)) || (name && streq(name, alt)))
                return true;
        return streq(type, "network") && id && *alt && strneq(id, alt, strlen(alt));
}

static bool match_volume(const char *alt, json_object *ev)
{
        return match_object("volume", alt, ev);
}

static bool match_network(const char *alt, json_object *ev)
{
        return match_object("network", alt, ev);
}

static bool match_label(const char *alt, json_object *ev)
{
        const char *eq = strchr(alt, '=');
        _cleanup_free_ char *key = eq ? strndup(alt, (size_t)(eq - alt)) : strdup(alt);
        const char *v = key ? ev_attr(ev, key) : NULL;

        return v && (!eq || streq(v, eq + 1));
}

bool engine_events_match(const struct engine_events_filter *f, json_object *ev)
{
        if (!f)
                return true;
        return any(f->types, match_type, ev) && any(f->events, match_event, ev) &&
               any(f->containers, match_container, ev) && any(f->images, match_image, ev) &&
               any(f->labels, match_label, ev) && any(f->volumes, match_volume, ev) &&
               any(f->networks, match_network, ev);
}

/* ---- reading -------------------------------------------------------------------- */

struct reader {
        const struct engine_events_query *q;
        engine_event_cb cb;
        void *userdata;
        char *buf; /* a partial line */
        size_t len;
        bool overlong; /* skipping the rest of an overlong line */
};

/* 1: past until (stop), 0: go on, else the callback's value or -1. */
static int handle_line(struct reader *r, const char *line, size_t len, struct berr **err)
{
        json_object *ev = NULL;
        int64_t t;
        int ret = 0;

        if (len == 0 || json_parse_buf(line, len, "event", &ev, NULL) < 0)
                return 0;
        t = json_object_get_int64(json_object_object_get(ev, "timeNano"));
        if (r->q->until_ns && t > r->q->until_ns)
                ret = 1;
        else if (t >= r->q->since_ns && engine_events_match(r->q->filter, ev))
                ret = r->cb(r->userdata, ev, err);
        json_object_put(ev);
        return ret;
}

/* Reads fd to its current end, handing complete lines over. */
static int drain(struct reader *r, int fd, struct berr **err)
{
        char chunk[16384];

        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));
                size_t start = 0;
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berr_errno(err, "read the event log");
                if (n == 0)
                        return 0;
                for (size_t i = 0; i < (size_t)n; i++) {
                        int ret;
                        if (chunk[i] != '\n')
                                continue;
                        if (r->overlong) {
                                r->overlong = false;
                                start = i + 1;
                                continue;
                        }
                        if (r->len) {
                                char *nb = realloc(r->buf, r->len + (i - start) + 1);
                                if (!nb)
                                        return berr_make(err, ENOMEM, "events");
                                r->buf = nb;
                                memcpy(r->buf + r->len, chunk + start, i - start);
                                ret = handle_line(r, r->buf, r->len + (i - start), err);
                                r->len = 0;
                        } else {
                                ret = handle_line(r, chunk + start, i - start, err);
                        }
                        if (ret != 0)
                                return ret;
                        start = i + 1;
                }
                if (start < (size_t)n && !r->overlong) {
                        size_t rest = (size_t)n - start;
                        if (r->len + rest > ENGINE_EVENT_LINE_MAX) {
                                r->overlong = true;
                                r->len = 0;
                        } else {
                                char *nb = realloc(r->buf, r->len + rest + 1);
                                if (!nb)
                                        return berr_make(err, ENOMEM, "events");
                                r->buf = nb;
                                memcpy(r->buf + r->len, chunk + start, rest);
                                r->len += rest;
                        }
                }
        }
}

static bool same_file(int fd, const struct stat *b)
{
        struct stat a;
        return fstat(fd, &a) == 0 && a.st_ino == b->st_ino && a.st_dev == b->st_dev;
}

int engine_events_read(struct engine *e, const struct engine_events_query *q, engine_event_cb cb,
                       void *userdata, struct berr **err)
{
        _cleanup_free_ char *dir = events_dir(e), *cur = NULL, *old = NULL;
        _cleanup_close_ int ino = -1, fd = -1;
        struct reader r = {.q = q, .cb = cb, .userdata = userdata};
        struct stat st;
        int ret = 0;

        if (!dir || !(cur = path_join(dir, EVENTS_LOG)) || !(old = path_join(dir, EVENTS_OLD)))
                return berr_make(err, ENOMEM, "events");
        if (q->follow) {
                if (mkdir_p(dir, 0700, err) < 0)
                        return -1;
                /* Watch first: nothing appended after the reads below is missed. */
                ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
                if (ino < 0 || inotify_add_watch(ino, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0)
                        return berr_errno(err, "watch `%s`", dir);
        }
        fd = open(cur, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno != ENOENT)
                return berr_errno(err, "open `%s`", cur);
        if (q->since_ns) {
                _cleanup_close_ int ofd = open(old, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                /* A rotation since we opened the log made ours the old one: read it once. */
                if (ofd >= 0 && !(fd >= 0 && fstat(ofd, &st) == 0 && same_file(fd, &st)))
                        ret = drain(&r, ofd, err);
                r.len = 0;
                r.overlong = false;
        } else if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
                ret = berr_errno(err, "seek `%s`", cur);
        }
        if (ret == 0 && fd >= 0)
                ret = drain(&r, fd, err);
        while (ret == 0 && q->follow) {
                struct pollfd p = {ino, POLLIN, 0};
                int timeout = -1;
                char evbuf[4096];

                if (q->until_ns) {
                        int64_t left = q->until_ns - time_now_ns();
                        if (left <= 0)
                                break;
                        timeout = (int)MIN(left / 1000000 + 1, (int64_t)60000);
                }
                if (poll(&p, 1, timeout) < 0 && errno != EINTR) {
                        ret = berr_errno(err, "wait for events");
                        break;
                }
                while (read(ino, evbuf, sizeof(evbuf)) > 0)
                        ;
                if (fd >= 0 && (ret = drain(&r, fd, err)) != 0)
                        break;
                /* Rotated or created: what we hold is complete, continue in the new file. */
                if (stat(cur, &st) == 0 && !(fd >= 0 && same_file(fd, &st))) {
                        safe_close(fd);
                        r.len = 0;
                        r.overlong = false;
                        fd = open(cur, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                        if (fd >= 0)
                                ret = drain(&r, fd, err);
                }
        }
        free(r.buf);
        return ret < 0 ? -1 : 0;
}
