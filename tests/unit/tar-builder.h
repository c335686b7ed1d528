/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Builds tar archives byte by byte for tests, independently of the library's
 * writer, so malformed and exotic headers can be produced on purpose.
 */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tb {
        unsigned char *buf;
        size_t len, cap;
        size_t last; /* offset of the last header written */
};

static inline void tb_put(struct tb *t, const void *p, size_t n)
{
        if (t->len + n > t->cap) {
                t->cap = (t->len + n) * 2 + 4096;
                t->buf = realloc(t->buf, t->cap);
                if (!t->buf)
                        abort();
        }
        if (p)
                memcpy(t->buf + t->len, p, n);
        else
                memset(t->buf + t->len, 0, n);
        t->len += n;
}

static inline void tb_pad(struct tb *t)
{
        tb_put(t, NULL, (512 - (t->len & 511)) & 511);
}

static inline void tb_checksum(unsigned char *h)
{
        unsigned sum = 0;
        memset(h + 148, ' ', 8);
        for (int i = 0; i < 512; i++)
                sum += h[i];
        snprintf((char *)h + 148, 8, "%06o", sum);
        h[155] = ' ';
}

static inline unsigned char *tb_last(struct tb *t)
{
        return t->buf + t->last;
}

/* A ustar (POSIX) header; name and link up to 100 bytes (not NUL-terminated at 100). */
static inline void tb_header(struct tb *t, const char *name, char type, unsigned mode, unsigned uid, unsigned gid,
                             uint64_t size, int64_t mtime, const char *link)
{
        unsigned char h[512] = {0};
        char tmp[16];

        memcpy(h, name, strnlen(name, 100));
        snprintf((char *)h + 100, 8, "%07o", mode);
        snprintf((char *)h + 108, 8, "%07o", uid);
        snprintf((char *)h + 116, 8, "%07o", gid);
        snprintf(tmp, sizeof(tmp), "%011llo", (unsigned long long)size);
        memcpy(h + 124, tmp, 12);
        snprintf(tmp, sizeof(tmp), "%011llo", (unsigned long long)mtime);
        memcpy(h + 136, tmp, 12);
        h[156] = (unsigned char)type;
        if (link)
                memcpy(h + 157, link, strnlen(link, 100));
        memcpy(h + 257, "ustar\0" "00", 8);
        snprintf((char *)h + 329, 8, "%07o", 0);
        snprintf((char *)h + 337, 8, "%07o", 0);
        tb_checksum(h);
        t->last = t->len;
        tb_put(t, h, 512);
}

static inline void tb_devnums(struct tb *t, unsigned major, unsigned minor)
{
        unsigned char *h = tb_last(t);
        snprintf((char *)h + 329, 8, "%07o", major);
        snprintf((char *)h + 337, 8, "%07o", minor);
        tb_checksum(h);
}

static inline void tb_data(struct tb *t, const void *p, size_t n)
{
        tb_put(t, p, n);
        tb_pad(t);
}

static inline void tb_file(struct tb *t, const char *name, const char *content, unsigned mode)
{
        size_t n = strlen(content);
        tb_header(t, name, '0', mode, 0, 0, n, 1700000000, NULL);
        tb_data(t, content, n);
}

static inline void tb_dir(struct tb *t, const char *name, unsigned mode)
{
        tb_header(t, name, '5', mode, 0, 0, 0, 1700000000, NULL);
}

static inline void tb_symlink(struct tb *t, const char *name, const char *target)
{
        tb_header(t, name, '2', 0777, 0, 0, 0, 1700000000, target);
}

static inline void tb_hardlink(struct tb *t, const char *name, const char *target)
{
        tb_header(t, name, '1', 0644, 0, 0, 0, 1700000000, target);
}

/* One pax record, its length prefix computed. */
static inline size_t tb_pax_record(char *out, const char *key, const char *value, size_t vlen)
{
        size_t body = strlen(key) + vlen + 3, total = body + 1;
        char num[24];
        while ((size_t)snprintf(num, sizeof(num), "%zu", total) + body != total)
                total = (size_t)snprintf(num, sizeof(num), "%zu", total) + body;
        size_t o = (size_t)sprintf(out, "%zu %s=", total, key);
        memcpy(out + o, value, vlen);
        out[o + vlen] = '\n';
        return o + vlen + 1;
}

/* A pax header ('x' or 'g') from NULL-terminated key, value pairs (C strings). */
static inline void tb_pax(struct tb *t, char type, const char *const *kv)
{
        char body[65536];
        size_t n = 0;
        for (; kv[0]; kv += 2)
                n += tb_pax_record(body + n, kv[0], kv[1], strlen(kv[1]));
        tb_header(t, "PaxHeaders/x", type, 0644, 0, 0, n, 0, NULL);
        tb_data(t, body, n);
}

/* GNU long name ('L') or long link ('K'). */
static inline void tb_gnu_long(struct tb *t, char type, const char *s)
{
        size_t n = strlen(s) + 1;
        tb_header(t, "././@LongLink", type, 0644, 0, 0, n, 0, NULL);
        memcpy(tb_last(t) + 257, "ustar  \0", 8);
        tb_checksum(tb_last(t));
        tb_data(t, s, n);
}

static inline void tb_end(struct tb *t)
{
        tb_put(t, NULL, 1024);
}

static inline void tb_free(struct tb *t)
{
        free(t->buf);
        *t = (struct tb){0};
}
