/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/timeutil.h"
#include "ctrlog.h"
#include "internal.h"

/* Records are assembled here and written with one write() per batch, so a
 * reader never sees a record cut by rotation; a line that does not fit is
 * continued in the next (partial) record. */
#define OUT_SIZE (16 * 1024)
/* Worst case of one step of the json escaper: three held-back bytes turned
 * into \ufffd each plus the current byte escaped. */
#define ESC_STEP 32
/* Bytes a record needs besides its message (json-file: `\n","stream":"stderr","time":"<35>"}` + newline). */
#define TRAILER_MAX 96
#define RECORD_ROOM 256

/* A UTF-8 sequence whose end has not been seen yet (json-file only). */
struct utf8_hold {
        uint8_t buf[4];
        uint8_t len;
        uint8_t need; /* continuation bytes the lead byte announced */
};

struct ctrlog_writer {
        enum ctrlog_driver driver;
        int fd;
        char *path;
        uint64_t size_max;
        uint64_t file_size;
        unsigned max_files;
        struct utf8_hold hold[2];
        size_t out_len;
        char out[OUT_SIZE];
};

static const char *const driver_names[] = {
    [CTRLOG_NONE] = "none",
    [CTRLOG_K8S_FILE] = "k8s-file",
    [CTRLOG_JSON_FILE] = "json-file",
};

int ctrlog_parse_driver(const char *s, enum ctrlog_driver *out)
{
        for (size_t i = 0; i < ARRAY_SIZE(driver_names); i++)
                if (streq(s, driver_names[i])) {
                        *out = (enum ctrlog_driver)i;
                        return 0;
                }
        return -EINVAL;
}

const char *ctrlog_driver_name(enum ctrlog_driver d)
{
        return (size_t)d < ARRAY_SIZE(driver_names) ? driver_names[d] : "?";
}

const char *ctrlog_stream_name(enum ctrlog_stream s)
{
        return s == CTRLOG_STDERR ? "stderr" : "stdout";
}

int ctrlog_writer_open(const char *path, enum ctrlog_driver driver, uint64_t size_max, unsigned max_files,
                       struct ctrlog_writer **out, struct berr **err)
{
        _cleanup_ctrlog_writer_ struct ctrlog_writer *w = NULL;
        struct stat st;

        if (driver != CTRLOG_K8S_FILE && driver != CTRLOG_JSON_FILE)
                return berr_plain(err, EINVAL, "log driver `%s` writes no file", ctrlog_driver_name(driver));
        if (strlen(path) + 8 >= PATH_MAX)
                return berr_make(err, ENAMETOOLONG, "log path `%s`", path);
        if (max_files > CTRLOG_MAX_FILES)
                return berr_plain(err, EINVAL, "%u log files are more than the limit of %d", max_files,
                                  CTRLOG_MAX_FILES);
        w = calloc(1, sizeof(*w));
        if (!w)
                return berr_make(err, ENOMEM, "log writer");
        w->fd = -1;
        w->driver = driver;
        w->size_max = size_max;
        w->max_files = max_files ? max_files : 1;
        w->path = strdup(path);
        if (!w->path)
                return berr_make(err, ENOMEM, "log writer");
        w->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
        if (w->fd < 0)
                return berr_errno(err, "open log file `%s`", path);
        if (fstat(w->fd, &st) < 0)
                return berr_errno(err, "stat log file `%s`", path);
        if (!S_ISREG(st.st_mode))
                return berr_plain(err, EINVAL, "log file `%s` is not a regular file", path);
        w->file_size = (uint64_t)st.st_size;
        *out = TAKE_PTR(w);
        return 0;
}

void ctrlog_writer_free(struct ctrlog_writer *w)
{
        if (!w)
                return;
        safe_close(w->fd);
        free(w->path);
        free(w);
}

static int write_out(struct ctrlog_writer *w, size_t len, struct berr **err)
{
        int r;

        if (len == 0)
                return 0;
        r = write_all(w->fd, w->out, len);
        if (r < 0) {
                struct stat st;
                /* Part of it may have landed; keep the size right for rotation. */
                if (fstat(w->fd, &st) == 0)
                        w->file_size = (uint64_t)st.st_size;
                return berr_make(err, -r, "write log file `%s`", w->path);
        }
        w->file_size += len;
        return 0;
}

static int rotate(struct ctrlog_writer *w, struct berr **err)
{
        char from[PATH_MAX], to[PATH_MAX];
        int fd;

        if (w->max_files <= 1) {
                if (ftruncate(w->fd, 0) < 0)
                        return berr_errno(err, "truncate log file `%s`", w->path);
                w->file_size = 0;
                return 0;
        }
        for (unsigned i = w->max_files - 1; i >= 1; i--) {
                if (i == 1)
                        snprintf(from, sizeof(from), "%s", w->path);
                else
                        snprintf(from, sizeof(from), "%s.%u", w->path, i - 1);
                snprintf(to, sizeof(to), "%s.%u", w->path, i);
                if (rename(from, to) < 0 && errno != ENOENT)
                        return berr_errno(err, "rotate log file `%s` to `%s`", from, to);
        }
        fd = open(w->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
                return berr_errno(err, "open log file `%s`", w->path);
        close(w->fd);
        w->fd = fd;
        w->file_size = 0;
        return 0;
}

/* The record at out[start..out_len) is complete: rotate first if it would
 * push the file past size_max (unless the file holds nothing yet). */
static int commit_record(struct ctrlog_writer *w, size_t start, struct berr **err)
{
        size_t rec_len = w->out_len - start;
        int r;

        if (!w->size_max || w->file_size + w->out_len <= w->size_max || w->file_size + start == 0)
                return 0;
        r = write_out(w, start, err);
        if (r >= 0)
                r = rotate(w, err);
        memmove(w->out, w->out + start, rec_len);
        w->out_len = rec_len;
        return r;
}

static int flush_out(struct ctrlog_writer *w, struct berr **err)
{
        size_t len = w->out_len;

        w->out_len = 0;
        return write_out(w, len, err);
}

static inline size_t room(const struct ctrlog_writer *w)
{
        return OUT_SIZE - w->out_len;
}

static inline void put(struct ctrlog_writer *w, const void *p, size_t n)
{
        memcpy(w->out + w->out_len, p, n);
        w->out_len += n;
}

static inline void put_str(struct ctrlog_writer *w, const char *s)
{
        put(w, s, strlen(s));
}

static void put_json_byte(struct ctrlog_writer *w, uint8_t c)
{
        static const char hex[] = "0123456789abcdef";
        char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

        switch (c) {
        case '"':
                put(w, "\\\"", 2);
                return;
        case '\\':
                put(w, "\\\\", 2);
                return;
        case '\n':
                put(w, "\\n", 2);
                return;
        case '\r':
                put(w, "\\r", 2);
                return;
        case '\t':
                put(w, "\\t", 2);
                return;
        }
        if (c < 0x20)
                put(w, e, 6);
        else
                w->out[w->out_len++] = (char)c;
}

/* Continuation bytes a UTF-8 lead byte announces, 0 if it cannot start a sequence. */
static unsigned utf8_need(uint8_t c)
{
        if (c >= 0xc2 && c <= 0xdf)
                return 1;
        if (c >= 0xe0 && c <= 0xef)
                return 2;
        if (c >= 0xf0 && c <= 0xf4)
                return 3;
        return 0;
}

/* Second bytes are restricted to exclude overlongs, surrogates and values past U+10FFFF. */
static bool utf8_continues(const struct utf8_hold *h, uint8_t c)
{
        uint8_t lo = 0x80, hi = 0xbf;

        if (h->len == 1) {
                switch (h->buf[0]) {
                case 0xe0:
                        lo = 0xa0;
                        break;
                case 0xed:
                        hi = 0x9f;
                        break;
                case 0xf0:
                        lo = 0x90;
                        break;
                case 0xf4:
                        hi = 0x8f;
                        break;
                }
        }
        return c >= lo && c <= hi;
}

/* Invalid bytes become U+FFFD, one per byte, as Go's encoder (and so docker) does. */
static void hold_reject(struct ctrlog_writer *w, struct utf8_hold *h)
{
        for (unsigned i = 0; i < h->len; i++)
                put(w, "\\ufffd", 6);
        h->len = 0;
}

/* Escapes as much of p[0..n) as fits while keeping room for the record's trailer; returns bytes taken. */
static size_t put_json_msg(struct ctrlog_writer *w, struct utf8_hold *h, const uint8_t *p, size_t n)
{
        size_t i = 0;

        while (i < n && room(w) >= TRAILER_MAX + ESC_STEP) {
                uint8_t c = p[i];
                if (h->len > 0) {
                        if (!utf8_continues(h, c)) {
                                hold_reject(w, h);
                                continue;
                        }
                        h->buf[h->len++] = c;
                        i++;
                        if (h->len == h->need + 1) {
                                put(w, h->buf, h->len);
                                h->len = 0;
                        }
                } else if (c < 0x80) {
                        put_json_byte(w, c);
                        i++;
                } else if ((h->need = (uint8_t)utf8_need(c))) {
                        h->buf[0] = c;
                        h->len = 1;
                        i++;
                } else {
                        put(w, "\\ufffd", 6);
                        i++;
                }
        }
        return i;
}

/* Closes the record begun at tag_pos (k8s-file: the tag's offset). */
static void end_record(struct ctrlog_writer *w, enum ctrlog_stream s, size_t tag_pos, bool full,
                       const char *ts)
{
        if (w->driver == CTRLOG_K8S_FILE) {
                if (!full)
                        w->out[tag_pos] = 'P';
                put(w, "\n", 1);
                return;
        }
        if (full)
                put(w, "\\n", 2);
        put_str(w, s == CTRLOG_STDERR ? "\",\"stream\":\"stderr\",\"time\":\""
                                      : "\",\"stream\":\"stdout\",\"time\":\"");
        put_str(w, ts);
        put(w, "\"}\n", 3);
}

/*
 * Writes p[0..n) as one or more records; the last is marked as ending a line
 * when line_end. Records are cut where the buffer is full.
 */
static int write_segment(struct ctrlog_writer *w, enum ctrlog_stream s, const uint8_t *p, size_t n,
                         bool line_end, const char *ts, struct berr **err)
{
        struct utf8_hold *h = &w->hold[s];
        int r;

        do {
                size_t start, msg_start, tag_pos = 0, took;
                bool full;

                if (room(w) < RECORD_ROOM) {
                        r = flush_out(w, err);
                        if (r < 0)
                                return r;
                }
                start = w->out_len;
                if (w->driver == CTRLOG_K8S_FILE) {
                        put_str(w, ts);
                        put_str(w, s == CTRLOG_STDERR ? " stderr " : " stdout ");
                        tag_pos = w->out_len;
                        put(w, "F ", 2);
                        msg_start = w->out_len;
                        took = MIN(n, room(w) - TRAILER_MAX);
                        put(w, p, took);
                } else {
                        put(w, "{\"log\":\"", 8);
                        msg_start = w->out_len;
                        took = put_json_msg(w, h, p, n);
                }
                p += took;
                n -= took;
                full = line_end && n == 0;
                if (full && h->len > 0)
                        hold_reject(w, h);
                if (!full && w->out_len == msg_start) {
                        /* Everything went into the UTF-8 hold: nothing to say yet. */
                        w->out_len = start;
                        continue;
                }
                end_record(w, s, tag_pos, full, ts);
                r = commit_record(w, start, err);
                if (r < 0)
                        return r;
        } while (n > 0);
        return 0;
}

int ctrlog_write(struct ctrlog_writer *w, enum ctrlog_stream stream, const void *buf, size_t len,
                 int64_t now_ns, struct berr **err)
{
        const uint8_t *p = buf, *end = p + len;
        char ts[64];
        int r = 0;

        time_format_rfc3339(now_ns, ts, sizeof(ts));
        while (p < end && r >= 0) {
                const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
                if (nl) {
                        r = write_segment(w, stream, p, (size_t)(nl - p), true, ts, err);
                        p = nl + 1;
                } else {
                        r = write_segment(w, stream, p, (size_t)(end - p), false, ts, err);
                        p = end;
                }
        }
        if (r < 0) {
                w->out_len = 0;
                return r;
        }
        return flush_out(w, err);
}

int ctrlog_flush(struct ctrlog_writer *w, int64_t now_ns, struct berr **err)
{
        char ts[64];
        int r;

        time_format_rfc3339(now_ns, ts, sizeof(ts));
        for (int s = CTRLOG_STDOUT; s <= CTRLOG_STDERR; s++) {
                size_t start;

                if (w->hold[s].len == 0)
                        continue;
                if (room(w) < RECORD_ROOM) {
                        r = flush_out(w, err);
                        if (r < 0)
                                return r;
                }
                start = w->out_len;
                put(w, "{\"log\":\"", 8);
                hold_reject(w, &w->hold[s]);
                end_record(w, (enum ctrlog_stream)s, 0, false, ts);
                r = commit_record(w, start, err);
                if (r < 0) {
                        w->out_len = 0;
                        return r;
                }
        }
        r = flush_out(w, err);
        if (r >= 0 && fdatasync(w->fd) < 0)
                return berr_errno(err, "sync log file `%s`", w->path);
        return r;
}
