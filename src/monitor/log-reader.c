/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <json-c/json.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctrlog.h"
#include "internal.h"

#define READ_CHUNK (64 * 1024)
/* How often a follower with nothing to read asks whether the writer is gone. */
#define FOLLOW_POLL_MS 250

static int parse_k8s(char *line, size_t len, struct ctrlog_record *rec, struct berr **err)
{
        char *end = line + len, *sp1, *sp2, *tag, *tag_end;

        sp1 = memchr(line, ' ', len);
        if (!sp1)
                return berr_plain(err, EINVAL, "k8s-file record has no stream field");
        if (ctrlog_parse_rfc3339(line, (size_t)(sp1 - line), &rec->time_ns) < 0)
                return berr_plain(err, EINVAL, "k8s-file record has a bad time `%.*s`",
                                  (int)MIN(sp1 - line, 64), line);
        sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
        if (!sp2)
                return berr_plain(err, EINVAL, "k8s-file record has no tag field");
        if (sp2 - sp1 - 1 == 6 && strneq(sp1 + 1, "stdout", 6))
                rec->stream = CTRLOG_STDOUT;
        else if (sp2 - sp1 - 1 == 6 && strneq(sp1 + 1, "stderr", 6))
                rec->stream = CTRLOG_STDERR;
        else
                return berr_plain(err, EINVAL, "k8s-file record has a bad stream `%.*s`",
                                  (int)MIN(sp2 - sp1 - 1, 64), sp1 + 1);
        tag = sp2 + 1;
        tag_end = memchr(tag, ' ', (size_t)(end - tag));
        if (!tag_end)
                tag_end = end;
        /* The kubelet allows more tags after the first, separated by ':'. */
        if (tag < tag_end && (tag + 1 == tag_end || tag[1] == ':') && (tag[0] == 'P' || tag[0] == 'F'))
                rec->partial = tag[0] == 'P';
        else
                return berr_plain(err, EINVAL, "k8s-file record has a bad tag `%.*s`",
                                  (int)MIN(tag_end - tag, 64), tag);
        rec->msg = tag_end < end ? tag_end + 1 : end;
        rec->len = (size_t)(end - rec->msg);
        return 0;
}

static int parse_json(char *line, size_t len, struct ctrlog_record *rec, struct berr **err)
{
        json_tokener *tok;
        json_object *obj, *log = NULL, *stream = NULL, *tm = NULL;
        const char *s;
        size_t n;
        int r = 0;

        tok = json_tokener_new_ex(16);
        if (!tok)
                return berr_make(err, ENOMEM, "json-file record");
        obj = json_tokener_parse_ex(tok, line, (int)len);
        if (json_tokener_get_error(tok) != json_tokener_success ||
            !json_object_is_type(obj, json_type_object)) {
                r = berr_plain(err, EINVAL, "json-file record is not a JSON object");
                goto out;
        }
        if (!json_object_object_get_ex(obj, "log", &log) || !json_object_is_type(log, json_type_string)) {
                r = berr_plain(err, EINVAL, "json-file record has no \"log\" string");
                goto out;
        }
        if (!json_object_object_get_ex(obj, "stream", &stream) ||
            !json_object_is_type(stream, json_type_string)) {
                r = berr_plain(err, EINVAL, "json-file record has no \"stream\" string");
                goto out;
        }
        s = json_object_get_string(stream);
        if (streq(s, "stdout")) {
                rec->stream = CTRLOG_STDOUT;
        } else if (streq(s, "stderr")) {
                rec->stream = CTRLOG_STDERR;
        } else {
                r = berr_plain(err, EINVAL, "json-file record has a bad stream \"%.64s\"", s);
                goto out;
        }
        if (!json_object_object_get_ex(obj, "time", &tm) || !json_object_is_type(tm, json_type_string) ||
            ctrlog_parse_rfc3339(json_object_get_string(tm), (size_t)json_object_get_string_len(tm),
                                 &rec->time_ns) < 0) {
                r = berr_plain(err, EINVAL, "json-file record has no valid \"time\"");
                goto out;
        }
        /* The decoded text is never longer than its JSON form, so it fits in place. */
        n = (size_t)json_object_get_string_len(log);
        memcpy(line, json_object_get_string(log), n);
        rec->partial = n == 0 || line[n - 1] != '\n';
        rec->len = rec->partial ? n : n - 1;
        rec->msg = line;
out:
        json_object_put(obj);
        json_tokener_free(tok);
        return r;
}

int ctrlog_parse_record(enum ctrlog_driver driver, char *line, size_t len, struct ctrlog_record *rec,
                        struct berr **err)
{
        switch (driver) {
        case CTRLOG_K8S_FILE:
                return parse_k8s(line, len, rec, err);
        case CTRLOG_JSON_FILE:
                return parse_json(line, len, rec, err);
        default:
                return berr_plain(err, EINVAL, "log driver `%s` has no records", ctrlog_driver_name(driver));
        }
}

/* A log file being read: complete lines are handed out, an incomplete tail waits. */
struct source {
        int fd;
        char *buf;
        size_t cap, start, end;
};

struct reader {
        const char *path;
        const struct ctrlog_read_opts *opts;
        ctrlog_record_fn fn;
        void *userdata;
        size_t n_files;
        int fds[CTRLOG_MAX_FILES]; /* oldest first; the last one is `path` itself */
        struct source src;
};

static int emit_lines(struct reader *rd, struct berr **err)
{
        struct source *s = &rd->src;
        char *nl;

        while ((nl = memchr(s->buf + s->start, '\n', s->end - s->start))) {
                char *line = s->buf + s->start;
                size_t len = (size_t)(nl - line);
                struct ctrlog_record rec;
                int r;

                s->start += len + 1;
                /* Lines that are not records (a torn write) are skipped, as the kubelet does. */
                if (ctrlog_parse_record(rd->opts->driver, line, len, &rec, NULL) < 0)
                        continue;
                if (rd->opts->since_ns && rec.time_ns < rd->opts->since_ns)
                        continue;
                if (rd->opts->until_ns && rec.time_ns > rd->opts->until_ns)
                        continue;
                r = rd->fn(&rec, rd->userdata, err);
                if (r != 0)
                        return r;
        }
        return 0;
}

/* Reads fd to its current end, handing out complete lines. Returns > 0 when fn asked to stop. */
static int drain(struct reader *rd, struct berr **err)
{
        struct source *s = &rd->src;

        for (;;) {
                ssize_t n;
                int r = emit_lines(rd, err);

                if (r != 0)
                        return r;
                if (s->start > 0) {
                        memmove(s->buf, s->buf + s->start, s->end - s->start);
                        s->end -= s->start;
                        s->start = 0;
                }
                if (s->end == s->cap) {
                        char *nb;
                        if (s->cap >= CTRLOG_MAX_RECORD)
                                return berr_make(err, EFBIG, "log `%s` has a record longer than %d bytes",
                                                 rd->path, CTRLOG_MAX_RECORD);
                        nb = realloc(s->buf, MIN(s->cap * 2, (size_t)CTRLOG_MAX_RECORD));
                        if (!nb)
                                return berr_make(err, ENOMEM, "read log `%s`", rd->path);
                        s->buf = nb;
                        s->cap = MIN(s->cap * 2, (size_t)CTRLOG_MAX_RECORD);
                }
                n = read(s->fd, s->buf + s->end, s->cap - s->end);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return berr_errno(err, "read log `%s`", rd->path);
                }
                if (n == 0)
                        return 0;
                s->end += (size_t)n;
        }
}

static void source_switch(struct reader *rd, int fd)
{
        /* An incomplete last line of a finished file was a torn write. */
        rd->src.start = rd->src.end = 0;
        rd->src.fd = fd;
}

/* Finds where the last `tail` complete lines begin: sets *file (index into
 * fds) and positions that file's offset there. Older files end with a
 * newline (rotation happens between records), so a file's first line starts
 * right after the previous file's last newline, as if they were one. */
static int seek_tail(struct reader *rd, long tail, size_t *file, struct berr **err)
{
        char block[8192];
        long need = tail + 1; /* newlines to pass, counting the one that ends the last line */

        for (size_t f = rd->n_files; f-- > 0;) {
                struct stat st;
                off_t pos;

                if (fstat(rd->fds[f], &st) < 0)
                        return berr_errno(err, "stat log `%s`", rd->path);
                pos = st.st_size;
                while (pos > 0) {
                        size_t n = (size_t)MIN((off_t)sizeof(block), pos);
                        ssize_t got = pread(rd->fds[f], block, n, pos - (off_t)n);
                        if (got != (ssize_t)n)
                                return berr_make(err, got < 0 ? errno : EIO, "read log `%s`", rd->path);
                        pos -= (off_t)n;
                        for (size_t i = n; i-- > 0;) {
                                if (block[i] != '\n' || --need > 0)
                                        continue;
                                *file = f;
                                if (lseek(rd->fds[f], pos + (off_t)i + 1, SEEK_SET) < 0)
                                        return berr_errno(err, "seek log `%s`", rd->path);
                                return 0;
                        }
                }
        }
        *file = 0;
        return 0;
}

static bool same_file(int fd, const char *path)
{
        struct stat a, b;

        if (fstat(fd, &a) < 0 || stat(path, &b) < 0)
                return true; /* not there (yet): keep reading what we have */
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

struct file_id {
        dev_t dev;
        ino_t ino; /* 0: no such file */
};

static void rotation_name(const struct reader *rd, int idx, char *buf, size_t size)
{
        if (idx == 0)
                snprintf(buf, size, "%s", rd->path);
        else
                snprintf(buf, size, "%s.%d", rd->path, idx);
}

static void scan_files(const struct reader *rd, struct file_id ids[CTRLOG_MAX_FILES])
{
        char name[PATH_MAX];
        struct stat st;

        for (int i = 0; i < CTRLOG_MAX_FILES; i++) {
                rotation_name(rd, i, name, sizeof(name));
                ids[i] = stat(name, &st) == 0 ? (struct file_id){st.st_dev, st.st_ino} : (struct file_id){0};
        }
}

/* Two equal scans in a row: a view of the names the writer was not shifting. */
static void scan_stable(const struct reader *rd, struct file_id ids[CTRLOG_MAX_FILES])
{
        struct file_id again[CTRLOG_MAX_FILES];

        scan_files(rd, ids);
        for (int attempt = 0; attempt < 100; attempt++) {
                scan_files(rd, again);
                if (memcmp(ids, again, sizeof(again)) == 0)
                        return;
                memcpy(ids, again, sizeof(again));
        }
}

/* Opens the file at index idx if it still is the one scanned. */
static int open_scanned(const struct reader *rd, const struct file_id ids[CTRLOG_MAX_FILES], int idx)
{
        char name[PATH_MAX];
        struct stat st;
        int fd;

        rotation_name(rd, idx, name, sizeof(name));
        fd = open(name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -EAGAIN;
        if (fstat(fd, &st) == 0 && st.st_ino == ids[idx].ino && st.st_dev == ids[idx].dev)
                return fd;
        close(fd);
        return -EAGAIN;
}

/*
 * The file written after the one open at fd: the nearest one below its
 * current index (0 is the live file). When it was rotated out of existence,
 * all files left are newer: the oldest. Works on a stable scan and checks
 * that the file opened is the one scanned, since the names shift while the
 * writer rotates. Returns an fd, -EALREADY when fd is the live file itself,
 * or -EAGAIN to try later (between a rename and the new live file).
 */
static int open_next(const struct reader *rd, int fd)
{
        struct file_id ids[CTRLOG_MAX_FILES];
        struct stat cur;

        if (fstat(fd, &cur) < 0)
                return -errno;
        for (int attempt = 0; attempt < 100; attempt++) {
                int self = -1, next = -1, r;

                scan_stable(rd, ids);
                for (int i = 0; i < CTRLOG_MAX_FILES && self < 0; i++)
                        if (ids[i].ino == cur.st_ino && ids[i].dev == cur.st_dev)
                                self = i;
                if (self == 0)
                        return -EALREADY;
                for (int i = (self < 0 ? CTRLOG_MAX_FILES : self) - 1; i >= 0 && next < 0; i--)
                        if (ids[i].ino)
                                next = i;
                if (next < 0)
                        return -EAGAIN;
                r = open_scanned(rd, ids, next);
                if (r >= 0)
                        return r;
        }
        return -EAGAIN;
}

/*
 * Opens the rotated files and the live one, oldest first; they stay open so
 * a rotation while reading cannot pull a file away. Each file is found as the
 * successor of the one before it, not by name: the writer may rotate many
 * times while this runs, and a name opened later would hold a newer file.
 */
static int open_files(struct reader *rd, struct berr **err)
{
        struct file_id ids[CTRLOG_MAX_FILES];
        int fd = -EAGAIN;

        /* The live file can be missing for a moment only while rotated files exist. */
        for (int tries = 0; fd < 0 && tries < 200; tries++) {
                int oldest = -1;

                if (tries)
                        usleep(5000);
                scan_stable(rd, ids);
                for (int i = CTRLOG_MAX_FILES - 1; i >= 0 && oldest < 0; i--)
                        if (ids[i].ino)
                                oldest = i;
                if (oldest < 0)
                        break;
                fd = open_scanned(rd, ids, oldest);
        }
        if (fd < 0) {
                errno = ENOENT;
                return berr_errno(err, "open log `%s`", rd->path);
        }
        rd->fds[rd->n_files++] = fd;
        for (int tries = 0; rd->n_files < CTRLOG_MAX_FILES && tries < 200;) {
                fd = open_next(rd, rd->fds[rd->n_files - 1]);
                if (fd == -EALREADY)
                        break;
                if (fd >= 0) {
                        rd->fds[rd->n_files++] = fd;
                        continue;
                }
                if (fd != -EAGAIN) {
                        errno = -fd;
                        return berr_errno(err, "stat log `%s`", rd->path);
                }
                usleep(5000);
                tries++;
        }
        return 0;
}

static int follow(struct reader *rd, struct berr **err)
{
        _cleanup_close_ int ino = -1;
        _cleanup_free_ char *dir = strdup(rd->path);
        int r;

        if (!dir)
                return berr_make(err, ENOMEM, "follow log `%s`", rd->path);
        ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (ino < 0)
                return berr_errno(err, "inotify");
        if (inotify_add_watch(ino, dirname(dir), IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
                return berr_errno(err, "watch log directory of `%s`", rd->path);
        for (;;) {
                struct pollfd pfd = {.fd = ino, .events = POLLIN};
                char evbuf[4096];
                struct stat st;
                bool done;

                r = drain(rd, err);
                if (r != 0)
                        return r < 0 ? r : 0;
                /* Asked before looking for a rotation: once the writer is gone,
                 * whatever it rotated to is already on disk. */
                done = rd->opts->done && rd->opts->done(rd->userdata);
                if (!same_file(rd->src.fd, rd->path)) {
                        int fd;
                        r = drain(rd, err);
                        if (r != 0)
                                return r < 0 ? r : 0;
                        fd = open_next(rd, rd->src.fd);
                        if (fd >= 0) {
                                close(rd->src.fd);
                                rd->fds[rd->n_files - 1] = fd;
                                source_switch(rd, fd);
                                continue;
                        }
                }
                if (fstat(rd->src.fd, &st) == 0 && lseek(rd->src.fd, 0, SEEK_CUR) > st.st_size) {
                        /* Truncated in place (a single rotating file): start over. */
                        lseek(rd->src.fd, 0, SEEK_SET);
                        source_switch(rd, rd->src.fd);
                        continue;
                }
                if (done)
                        return 0;
                if (poll(&pfd, 1, FOLLOW_POLL_MS) < 0 && errno != EINTR)
                        return berr_errno(err, "poll");
                while (read(ino, evbuf, sizeof(evbuf)) > 0)
                        ;
        }
}

int ctrlog_read(const char *path, const struct ctrlog_read_opts *opts, ctrlog_record_fn fn, void *userdata,
                struct berr **err)
{
        struct reader rd = {.path = path, .opts = opts, .fn = fn, .userdata = userdata};
        size_t first = 0;
        int r;

        if (opts->driver != CTRLOG_K8S_FILE && opts->driver != CTRLOG_JSON_FILE)
                return berr_plain(err, EINVAL, "log driver `%s` keeps no log to read",
                                  ctrlog_driver_name(opts->driver));
        rd.src.cap = READ_CHUNK;
        rd.src.buf = malloc(rd.src.cap);
        if (!rd.src.buf)
                return berr_make(err, ENOMEM, "read log `%s`", path);
        r = open_files(&rd, err);
        if (r >= 0 && opts->tail >= 0)
                r = seek_tail(&rd, opts->tail, &first, err);
        for (size_t f = first; r >= 0 && f < rd.n_files; f++) {
                source_switch(&rd, rd.fds[f]);
                r = drain(&rd, err);
                if (r > 0)
                        break;
        }
        if (r == 0 && opts->follow)
                r = follow(&rd, err);
        for (size_t f = 0; f < rd.n_files; f++)
                close(rd.fds[f]);
        free(rd.src.buf);
        return r < 0 ? r : 0;
}
