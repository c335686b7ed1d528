/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Streaming tar reader and header writer.
 *
 * The reader is a state machine over arbitrary input chunks: headers are
 * gathered into a 512-byte buffer, file data is handed to the caller straight
 * from the input buffer. Format notes:
 *  - Header-only types (hardlink, symlink, char, block, dir, fifo) carry no
 *    data whatever their size field says, as Go's archive/tar reads them.
 *  - One zero block followed by EOF is accepted (a "lone zero block");
 *    anything after the end-of-archive blocks is ignored (but hashed by the
 *    caller, who sees every byte).
 *  - Unknown entry types, multi-volume ('M') and old GNU long-name ('N')
 *    entries are errors; volume labels ('V') are skipped, GNU dumpdirs ('D')
 *    are directories.
 *  - pax records that do not matter for extraction (atime, ctime, uname,
 *    gname, comment, ACLs, LIBARCHIVE.*) are ignored.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "tar.h"

/* pax and GNU long name/link payloads are buffered whole. */
#define META_MAX    (1024 * 1024)
#define EXTENTS_MAX (1024 * 1024)

enum rstate {
        R_HEADER,
        R_META,       /* payload of a pax / GNU long-name header */
        R_SPARSE_EXT, /* old GNU sparse extension blocks */
        R_SPARSE_MAP, /* GNU sparse 1.0 map at the start of the data */
        R_DATA,
        R_SKIP,
        R_END,
        R_FAILED,
};

struct pax_record {
        char *key;
        char *value;
        size_t len;
};

struct pax_list {
        struct pax_record *v;
        size_t n;
};

struct tar_reader {
        const struct tar_reader_ops *ops;
        void *userdata;
        enum rstate st;
        uint64_t offset; /* archive offset of the next byte fed */
        uint64_t entries;
        unsigned zero_blocks;

        unsigned char hdr[TAR_BLOCK_SIZE];
        size_t hdr_fill;
        uint64_t hdr_offset; /* archive offset of the current header */

        char meta_type;
        char *meta;
        size_t meta_len, meta_want;

        uint64_t remaining; /* bytes of data left in the current entry */
        uint64_t skip;      /* bytes to discard before the next header */

        /* Pending from metadata headers that precede the next entry. */
        char *long_name, *long_link;
        struct pax_list pax_local, pax_global;

        /* Sparse data delivery: current extent and bytes left in it. */
        size_t ext_idx;
        uint64_t ext_left;
        uint64_t stored_size;
        bool sparse;

        /* GNU sparse 1.0 map parser. */
        uint64_t map_bytes, map_count, map_need, map_num;
        size_t map_digits;

        struct tar_entry e;
};

static void entry_clear(struct tar_entry *e)
{
        free(e->name);
        free(e->linkname);
        for (size_t i = 0; i < e->n_xattrs; i++) {
                free(e->xattrs[i].name);
                free(e->xattrs[i].value);
        }
        free(e->xattrs);
        free(e->extents);
        *e = (struct tar_entry){0};
}

static void pax_list_clear(struct pax_list *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].key);
                free(l->v[i].value);
        }
        free(l->v);
        *l = (struct pax_list){0};
}

int tar_reader_new(const struct tar_reader_ops *ops, void *userdata, struct tar_reader **out, struct berr **err)
{
        struct tar_reader *r = calloc(1, sizeof(*r));

        if (!r)
                return berr_make(err, ENOMEM, "tar reader");
        r->ops = ops;
        r->userdata = userdata;
        *out = r;
        return 0;
}

void tar_reader_free(struct tar_reader *r)
{
        if (!r)
                return;
        entry_clear(&r->e);
        free(r->meta);
        free(r->long_name);
        free(r->long_link);
        pax_list_clear(&r->pax_local);
        pax_list_clear(&r->pax_global);
        free(r);
}

uint64_t tar_reader_entries(const struct tar_reader *r)
{
        return r->entries;
}

static const char *entry_label(const struct tar_reader *r)
{
        return r->e.name ? r->e.name : "";
}

/* Octal (with leading/trailing spaces and NULs) or base-256 (high bit set,
 * 0xff lead byte for negative numbers). */
static int parse_number(const unsigned char *f, size_t n, bool allow_negative, int64_t *out)
{
        if (f[0] & 0x80) {
                bool neg = f[0] == 0xff;
                uint64_t v = neg ? 0 : (f[0] & 0x7f);
                if (!neg && f[0] != 0x80)
                        return -ERANGE;
                for (size_t i = 1; i < n; i++) {
                        unsigned char b = neg ? (unsigned char)~f[i] : f[i];
                        if (v > (UINT64_MAX >> 8))
                                return -ERANGE;
                        v = (v << 8) | b;
                }
                if (v > INT64_MAX)
                        return -ERANGE;
                if (neg) {
                        if (!allow_negative)
                                return -ERANGE;
                        *out = -(int64_t)v - 1;
                } else {
                        *out = (int64_t)v;
                }
                return 0;
        }
        size_t i = 0;
        uint64_t v = 0;
        while (i < n && (f[i] == ' ' || f[i] == '\0'))
                i++;
        for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
                if (v > (UINT64_MAX >> 3))
                        return -ERANGE;
                v = (v << 3) | (uint64_t)(f[i] - '0');
        }
        for (; i < n; i++)
                if (f[i] != ' ' && f[i] != '\0')
                        return -EINVAL;
        if (v > INT64_MAX)
                return -ERANGE;
        *out = (int64_t)v;
        return 0;
}

static int parse_decimal(const char *s, size_t len, uint64_t *out)
{
        uint64_t v = 0;

        if (len == 0)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                if (v > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        *out = v;
        return 0;
}

/* "[-]sec[.frac]" as in pax mtime. */
static int parse_pax_time(const char *s, size_t len, int64_t *sec, uint32_t *nsec)
{
        bool neg = len > 0 && s[0] == '-';
        const char *dot;
        uint64_t v, frac = 0;
        size_t ilen, digits = 0;

        if (neg) {
                s++;
                len--;
        }
        dot = memchr(s, '.', len);
        ilen = dot ? (size_t)(dot - s) : len;
        if (parse_decimal(s, ilen, &v) < 0 || v > INT64_MAX)
                return -EINVAL;
        if (dot) {
                for (const char *p = dot + 1; p < s + len; p++) {
                        if (*p < '0' || *p > '9')
                                return -EINVAL;
                        if (digits < 9) {
                                frac = frac * 10 + (uint64_t)(*p - '0');
                                digits++;
                        }
                }
                for (; digits < 9; digits++)
                        frac *= 10;
        }
        if (neg) {
                /* -1.5 is 1.5 s before the epoch: sec -2, nsec 500000000. */
                *sec = -(int64_t)v - (frac ? 1 : 0);
                *nsec = frac ? (uint32_t)(1000000000 - frac) : 0;
        } else {
                *sec = (int64_t)v;
                *nsec = (uint32_t)frac;
        }
        return 0;
}

static int fail(struct tar_reader *r, int ret)
{
        r->st = R_FAILED;
        return ret;
}

static char *field_dup(const unsigned char *f, size_t n)
{
        return strndup((const char *)f, n);
}

static int pax_parse(struct tar_reader *r, struct pax_list *l, struct berr **err)
{
        const char *p = r->meta, *end = r->meta + r->meta_len;

        while (p < end) {
                const char *sp = memchr(p, ' ', (size_t)(end - p)), *eq, *rec_end;
                uint64_t rlen;
                struct pax_record *v;

                if (!sp || parse_decimal(p, (size_t)(sp - p), &rlen) < 0 || rlen > (uint64_t)(end - p) ||
                    rlen <= (uint64_t)(sp - p) + 1)
                        return berr_make(err, EINVAL, "malformed pax record at offset %llu",
                                         (unsigned long long)r->hdr_offset);
                rec_end = p + rlen;
                if (rec_end[-1] != '\n')
                        return berr_make(err, EINVAL, "pax record not ending in a newline at offset %llu",
                                         (unsigned long long)r->hdr_offset);
                eq = memchr(sp + 1, '=', (size_t)(rec_end - sp - 1));
                if (!eq || eq == sp + 1)
                        return berr_make(err, EINVAL, "pax record without a key at offset %llu",
                                         (unsigned long long)r->hdr_offset);
                v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
                if (!v)
                        return berr_make(err, ENOMEM, "pax header");
                l->v = v;
                v = &l->v[l->n];
                v->key = strndup(sp + 1, (size_t)(eq - sp - 1));
                v->len = (size_t)(rec_end - 1 - (eq + 1));
                v->value = malloc(v->len + 1);
                if (!v->key || !v->value) {
                        free(v->key);
                        free(v->value);
                        return berr_make(err, ENOMEM, "pax header");
                }
                memcpy(v->value, eq + 1, v->len);
                v->value[v->len] = '\0';
                l->n++;
                p = rec_end;
        }
        return 0;
}

/* Everything a pax header can say about an entry, collected before applying. */
struct pax_state {
        const struct pax_record *path, *linkpath, *sparse_name;
        bool has_size, has_uid, has_gid, has_mtime, has_major, has_minor;
        uint64_t size, uid, gid, major, minor;
        int64_t mtime;
        uint32_t mtime_nsec;
        /* GNU sparse */
        int sparse_major, sparse_minor; /* -1: not given */
        bool sparse;
        uint64_t sparse_size;
        uint64_t pending_off;
        bool have_pending_off;
};

static int add_extent(struct tar_entry *e, uint64_t off, uint64_t len)
{
        struct tar_extent *x;

        if (e->n_extents >= EXTENTS_MAX)
                return -E2BIG;
        x = realloc(e->extents, (e->n_extents + 1) * sizeof(*x));
        if (!x)
                return -ENOMEM;
        e->extents = x;
        x[e->n_extents++] = (struct tar_extent){off, len};
        return 0;
}

static int add_xattr(struct tar_entry *e, const char *name, const char *value, size_t len)
{
        struct tar_xattr *x;

        for (size_t i = 0; i < e->n_xattrs; i++)
                if (streq(e->xattrs[i].name, name)) {
                        char *v = malloc(len + 1);
                        if (!v)
                                return -ENOMEM;
                        memcpy(v, value, len);
                        v[len] = '\0';
                        free(e->xattrs[i].value);
                        e->xattrs[i].value = v;
                        e->xattrs[i].len = len;
                        return 0;
                }
        x = realloc(e->xattrs, (e->n_xattrs + 1) * sizeof(*x));
        if (!x)
                return -ENOMEM;
        e->xattrs = x;
        x = &x[e->n_xattrs];
        x->name = strdup(name);
        x->value = malloc(len + 1);
        if (!x->name || !x->value) {
                free(x->name);
                free(x->value);
                return -ENOMEM;
        }
        memcpy(x->value, value, len);
        x->value[len] = '\0';
        x->len = len;
        e->n_xattrs++;
        return 0;
}

static int parse_sparse_map(struct tar_entry *e, const struct pax_record *v)
{
        const char *p = v->value, *end = v->value + v->len;
        uint64_t pair[2];
        int n = 0;

        if (v->len == 0)
                return 0;
        for (;;) {
                const char *c = memchr(p, ',', (size_t)(end - p));
                const char *fe = c ? c : end;
                int q = parse_decimal(p, (size_t)(fe - p), &pair[n]);
                if (q < 0)
                        return q;
                if (++n == 2) {
                        q = add_extent(e, pair[0], pair[1]);
                        if (q < 0)
                                return q;
                        n = 0;
                }
                if (!c)
                        break;
                p = c + 1;
        }
        return n == 0 ? 0 : -EINVAL;
}

static int pax_apply(struct tar_reader *r, const struct pax_list *l, struct pax_state *ps, bool global,
                     struct berr **err)
{
        for (size_t i = 0; i < l->n; i++) {
                const struct pax_record *v = &l->v[i];
                const char *k = v->key;
                bool empty = v->len == 0;
                int q = 0;

#define PAX_NUM(field, flag)                                                                                 \
        do {                                                                                                 \
                ps->flag = !empty;                                                                           \
                if (!empty)                                                                                  \
                        q = parse_decimal(v->value, v->len, &ps->field);                                     \
        } while (0)

                if (streq(k, "path")) {
                        ps->path = empty ? NULL : v;
                } else if (streq(k, "linkpath")) {
                        ps->linkpath = empty ? NULL : v;
                } else if (streq(k, "size")) {
                        PAX_NUM(size, has_size);
                } else if (streq(k, "uid")) {
                        PAX_NUM(uid, has_uid);
                } else if (streq(k, "gid")) {
                        PAX_NUM(gid, has_gid);
                } else if (streq(k, "SCHILY.devmajor")) {
                        PAX_NUM(major, has_major);
                } else if (streq(k, "SCHILY.devminor")) {
                        PAX_NUM(minor, has_minor);
                } else if (streq(k, "mtime")) {
                        ps->has_mtime = !empty;
                        if (!empty)
                                q = parse_pax_time(v->value, v->len, &ps->mtime, &ps->mtime_nsec);
                } else if (strneq(k, "SCHILY.xattr.", 13) && !global) {
                        if (!k[13])
                                q = -EINVAL;
                        else
                                q = add_xattr(&r->e, k + 13, v->value, v->len);
                } else if (strneq(k, "GNU.sparse.", 11) && !global) {
                        const char *s = k + 11;
                        uint64_t n;
                        ps->sparse = true;
                        if (streq(s, "name")) {
                                ps->sparse_name = empty ? NULL : v;
                        } else if (streq(s, "major") || streq(s, "minor")) {
                                q = parse_decimal(v->value, v->len, &n);
                                if (q == 0 && n > 10)
                                        q = -ERANGE;
                                if (q == 0)
                                        *(s[1] == 'a' ? &ps->sparse_major : &ps->sparse_minor) = (int)n;
                        } else if (streq(s, "size") || streq(s, "realsize")) {
                                q = parse_decimal(v->value, v->len, &ps->sparse_size);
                        } else if (streq(s, "map")) {
                                q = parse_sparse_map(&r->e, v);
                        } else if (streq(s, "offset")) {
                                q = parse_decimal(v->value, v->len, &ps->pending_off);
                                ps->have_pending_off = q == 0;
                        } else if (streq(s, "numbytes")) {
                                q = parse_decimal(v->value, v->len, &n);
                                if (q == 0 && !ps->have_pending_off)
                                        q = -EINVAL;
                                if (q == 0)
                                        q = add_extent(&r->e, ps->pending_off, n);
                                ps->have_pending_off = false;
                        }
                }
#undef PAX_NUM
                if (q == -ENOMEM)
                        return berr_make(err, ENOMEM, "pax header");
                if (q == -E2BIG)
                        return berr_make(err, E2BIG, "pax header at offset %llu: more than %d sparse extents",
                                         (unsigned long long)r->hdr_offset, EXTENTS_MAX);
                if (q < 0)
                        return berr_make(err, EINVAL, "pax header at offset %llu: invalid value for `%s`",
                                         (unsigned long long)r->hdr_offset, k);
        }
        return 0;
}

/* Extents must be in order, not overlap, and lie within the file. */
static int check_extents(const struct tar_entry *e, uint64_t stored)
{
        uint64_t end = 0, sum = 0;

        for (size_t i = 0; i < e->n_extents; i++) {
                const struct tar_extent *x = &e->extents[i];
                if (x->off < end || x->len > e->size || x->off > e->size - x->len)
                        return -EINVAL;
                end = x->off + x->len;
                sum += x->len;
        }
        return sum == stored ? 0 : -EINVAL;
}

static int sparse_old_entries(struct tar_reader *r, const unsigned char *p, size_t count)
{
        for (size_t i = 0; i < count; i++, p += 24) {
                int64_t off, len;
                if (p[0] == '\0')
                        return 0;
                if (parse_number(p, 12, false, &off) < 0 || parse_number(p + 12, 12, false, &len) < 0)
                        return -EINVAL;
                int q = add_extent(&r->e, (uint64_t)off, (uint64_t)len);
                if (q < 0)
                        return q;
        }
        return 0;
}

static int start_data(struct tar_reader *r, struct berr **err);

static bool is_zero_block(const unsigned char *b)
{
        static const unsigned char zero[TAR_BLOCK_SIZE];
        return memcmp(b, zero, TAR_BLOCK_SIZE) == 0;
}

static int check_checksum(const unsigned char *h)
{
        int64_t stored;
        uint64_t usum = 0;
        int64_t ssum = 0;

        if (parse_number(h + 148, 8, false, &stored) < 0)
                return -EINVAL;
        for (size_t i = 0; i < TAR_BLOCK_SIZE; i++) {
                unsigned char c = (i >= 148 && i < 156) ? ' ' : h[i];
                usum += c;
                ssum += (signed char)c;
        }
        /* Some old writers summed signed chars. */
        return (uint64_t)stored == usum || stored == ssum ? 0 : -EINVAL;
}

static char *join_prefix(const unsigned char *h)
{
        size_t pl = strnlen((const char *)h + 345, 155), nl = strnlen((const char *)h, 100);
        char *s = malloc(pl + nl + 2);

        if (!s)
                return NULL;
        memcpy(s, h + 345, pl);
        s[pl] = '/';
        memcpy(s + pl + 1, h, nl);
        s[pl + 1 + nl] = '\0';
        return s;
}

static int header_error(struct tar_reader *r, struct berr **err, const char *what)
{
        return fail(r, berr_make(err, EINVAL, "tar header at offset %llu%s%s%s: %s",
                                 (unsigned long long)r->hdr_offset, r->e.name ? " (`" : "",
                                 r->e.name ? r->e.name : "", r->e.name ? "`)" : "", what));
}

static int process_header(struct tar_reader *r, struct berr **err)
{
        const unsigned char *h = r->hdr;
        bool posix = memcmp(h + 257, "ustar\0", 6) == 0;
        bool gnu = memcmp(h + 257, "ustar  \0", 8) == 0;
        struct pax_state ps = {.sparse_major = -1, .sparse_minor = -1};
        struct tar_entry *e = &r->e;
        int64_t mode, uid, gid, size, mtime, major = 0, minor = 0;
        char type = (char)h[156];
        bool gnu_sparse = false;

        if (is_zero_block(h)) {
                if (r->long_name || r->long_link || r->pax_local.n)
                        return header_error(r, err, "end of archive after a metadata header");
                if (++r->zero_blocks == 2)
                        r->st = R_END;
                return 0;
        }
        if (r->zero_blocks)
                return header_error(r, err, "data after a zero block");
        entry_clear(e);
        if (check_checksum(h) < 0)
                return header_error(r, err, "bad header checksum");
        if (parse_number(h + 124, 12, false, &size) < 0)
                return header_error(r, err, "invalid size field");

        switch (type) {
        case 'x':
        case 'X':
        case 'g':
        case 'L':
        case 'K':
                if ((uint64_t)size > META_MAX)
                        return header_error(r, err, "metadata header larger than 1 MiB");
                r->meta_type = type;
                r->meta_want = (size_t)size;
                r->meta_len = 0;
                free(r->meta);
                r->meta = malloc(r->meta_want + 1);
                if (!r->meta)
                        return fail(r, berr_make(err, ENOMEM, "tar metadata header"));
                r->skip = tar_padding((uint64_t)size);
                r->st = R_META;
                return 0;
        case 'V':
                r->skip = (uint64_t)size + tar_padding((uint64_t)size);
                r->st = r->skip ? R_SKIP : R_HEADER;
                return 0;
        case 'M':
        case 'N':
                return header_error(r, err, "multi-volume and old GNU long-name entries are not supported");
        default:
                break;
        }

        switch (type) {
        case '0':
        case '\0':
        case '7':
                e->type = TAR_REG;
                break;
        case 'S':
                if (!gnu)
                        return header_error(r, err, "sparse entry in a non-GNU header");
                e->type = TAR_REG;
                gnu_sparse = true;
                break;
        case '1':
                e->type = TAR_HARDLINK;
                break;
        case '2':
                e->type = TAR_SYMLINK;
                break;
        case '3':
                e->type = TAR_CHAR;
                break;
        case '4':
                e->type = TAR_BLOCK;
                break;
        case '5':
        case 'D':
                e->type = TAR_DIR;
                break;
        case '6':
                e->type = TAR_FIFO;
                break;
        default: {
                char what[64];
                snprintf(what, sizeof(what), "unsupported entry type '%c' (0x%02x)",
                         type >= 0x20 && type < 0x7f ? type : '?', (unsigned char)type);
                return header_error(r, err, what);
        }
        }

        if (parse_number(h + 100, 8, false, &mode) < 0)
                return header_error(r, err, "invalid mode field");
        if (parse_number(h + 108, 8, false, &uid) < 0 || parse_number(h + 116, 8, false, &gid) < 0)
                return header_error(r, err, "invalid uid/gid field");
        if (parse_number(h + 136, 12, true, &mtime) < 0)
                return header_error(r, err, "invalid mtime field");
        if ((e->type == TAR_CHAR || e->type == TAR_BLOCK) && (posix || gnu) &&
            (parse_number(h + 329, 8, false, &major) < 0 || parse_number(h + 337, 8, false, &minor) < 0))
                return header_error(r, err, "invalid device number field");

        if (pax_apply(r, &r->pax_global, &ps, true, err) < 0 || pax_apply(r, &r->pax_local, &ps, false, err) < 0)
                return fail(r, -EINVAL);

        /* Name: pax path > GNU long name > ustar prefix + name. */
        if (ps.sparse_name)
                e->name = strndup(ps.sparse_name->value, ps.sparse_name->len);
        else if (ps.path)
                e->name = strndup(ps.path->value, ps.path->len);
        else if (r->long_name)
                e->name = TAKE_PTR(r->long_name);
        else if (posix && h[345])
                e->name = join_prefix(h);
        else
                e->name = field_dup(h, 100);
        if (ps.linkpath)
                e->linkname = strndup(ps.linkpath->value, ps.linkpath->len);
        else if (r->long_link)
                e->linkname = TAKE_PTR(r->long_link);
        else
                e->linkname = field_dup(h + 157, 100);
        if (!e->name || !e->linkname)
                return fail(r, berr_make(err, ENOMEM, "tar entry"));
        if ((ps.sparse_name && strlen(e->name) != ps.sparse_name->len) ||
            (ps.path && !ps.sparse_name && strlen(e->name) != ps.path->len) ||
            (ps.linkpath && strlen(e->linkname) != ps.linkpath->len))
                return header_error(r, err, "name contains a NUL byte");
        if (!e->name[0])
                return header_error(r, err, "empty name");
        if ((e->type == TAR_HARDLINK || e->type == TAR_SYMLINK) && !e->linkname[0])
                return header_error(r, err, "link without a target");

        if (ps.has_uid)
                uid = ps.uid > INT64_MAX ? -1 : (int64_t)ps.uid;
        if (ps.has_gid)
                gid = ps.gid > INT64_MAX ? -1 : (int64_t)ps.gid;
        /* (uid_t)-1 would mean "leave unchanged" to chown. */
        if (uid < 0 || gid < 0 || uid >= UINT32_MAX || gid >= UINT32_MAX)
                return header_error(r, err, "uid/gid out of range");
        if (ps.has_size) {
                if (ps.size > INT64_MAX)
                        return header_error(r, err, "size out of range");
                size = (int64_t)ps.size;
        }
        if (ps.has_major)
                major = ps.major > UINT32_MAX ? -1 : (int64_t)ps.major;
        if (ps.has_minor)
                minor = ps.minor > UINT32_MAX ? -1 : (int64_t)ps.minor;
        if (major < 0 || minor < 0 || major > UINT32_MAX || minor > UINT32_MAX)
                return header_error(r, err, "device number out of range");
        e->mode = (uint32_t)(mode & 07777);
        e->uid = (uint32_t)uid;
        e->gid = (uint32_t)gid;
        e->mtime = ps.has_mtime ? ps.mtime : mtime;
        e->mtime_nsec = ps.has_mtime ? ps.mtime_nsec : 0;
        e->devmajor = (uint32_t)major;
        e->devminor = (uint32_t)minor;

        pax_list_clear(&r->pax_local);
        free(r->long_name);
        free(r->long_link);
        r->long_name = r->long_link = NULL;
        r->entries++;

        r->stored_size = e->type == TAR_REG || type == 'D' ? (uint64_t)size : 0;
        r->remaining = r->stored_size;
        e->size = type == 'D' ? 0 : r->stored_size;
        r->ext_idx = 0;
        r->ext_left = 0;
        r->sparse = gnu_sparse || (ps.sparse && e->type == TAR_REG);

        if (type == 'D') {
                /* The dumpdir listing is of no use for extraction. */
                int q = r->ops->entry(r->userdata, e, err);
                if (q == 0 && r->ops->entry_end)
                        q = r->ops->entry_end(r->userdata, e, err);
                if (q < 0)
                        return fail(r, q);
                r->skip = r->stored_size + tar_padding(r->stored_size);
                r->st = r->skip ? R_SKIP : R_HEADER;
                return 0;
        }

        if (gnu_sparse) {
                int64_t real;
                if (parse_number(h + 483, 12, false, &real) < 0)
                        return header_error(r, err, "invalid sparse real size");
                e->size = (uint64_t)real;
                if (sparse_old_entries(r, h + 386, 4) < 0)
                        return header_error(r, err, "invalid sparse map");
                if (h[482]) {
                        r->hdr_fill = 0;
                        r->st = R_SPARSE_EXT;
                        return 0;
                }
        } else if (ps.sparse && e->type == TAR_REG) {
                if (ps.sparse_major == 1 && ps.sparse_minor == 0) {
                        e->size = ps.sparse_size;
                        r->map_bytes = r->map_count = r->map_num = 0;
                        r->map_need = 1;
                        r->map_digits = 0;
                        free(e->extents);
                        e->extents = NULL;
                        e->n_extents = 0;
                        r->st = R_SPARSE_MAP;
                        return 0;
                }
                if (ps.sparse_major > 0)
                        return header_error(r, err, "unsupported GNU sparse format version");
                e->size = ps.sparse_size;
        }
        return start_data(r, err);
}

static int start_data(struct tar_reader *r, struct berr **err)
{
        struct tar_entry *e = &r->e;
        int q;

        /* A sparse file that is all hole still needs its size applied. */
        if (r->sparse && !e->extents && add_extent(e, e->size, 0) < 0)
                return fail(r, berr_make(err, ENOMEM, "tar entry"));
        if (e->extents) {
                if (check_extents(e, r->remaining) < 0)
                        return header_error(r, err, "sparse map does not match the data");
                r->ext_idx = 0;
                r->ext_left = e->extents[0].len;
        }
        q = r->ops->entry(r->userdata, e, err);
        if (q < 0)
                return fail(r, q);
        if (r->remaining == 0) {
                q = r->ops->entry_end ? r->ops->entry_end(r->userdata, e, err) : 0;
                if (q < 0)
                        return fail(r, q);
                r->skip = tar_padding(r->stored_size);
                r->st = r->skip ? R_SKIP : R_HEADER;
                return 0;
        }
        r->st = R_DATA;
        return 0;
}

static int process_meta(struct tar_reader *r, struct berr **err)
{
        r->meta[r->meta_len] = '\0';
        switch (r->meta_type) {
        case 'L':
        case 'K': {
                char **dst = r->meta_type == 'L' ? &r->long_name : &r->long_link;
                free(*dst);
                *dst = strndup(r->meta, r->meta_len);
                if (!*dst)
                        return fail(r, berr_make(err, ENOMEM, "GNU long name"));
                return 0;
        }
        case 'g':
                pax_list_clear(&r->pax_global);
                return pax_parse(r, &r->pax_global, err) < 0 ? fail(r, -EINVAL) : 0;
        default:
                return pax_parse(r, &r->pax_local, err) < 0 ? fail(r, -EINVAL) : 0;
        }
}

static int deliver(struct tar_reader *r, const unsigned char *p, size_t n, struct berr **err)
{
        struct tar_entry *e = &r->e;

        if (!e->extents)
                return r->ops->data(r->userdata, e, r->stored_size - r->remaining, p, n, err);
        while (n > 0) {
                while (r->ext_left == 0) {
                        if (++r->ext_idx >= e->n_extents)
                                return fail(r, berr_make(err, EINVAL, "`%s`: data beyond the sparse map",
                                                         entry_label(r)));
                        r->ext_left = e->extents[r->ext_idx].len;
                }
                const struct tar_extent *x = &e->extents[r->ext_idx];
                size_t k = (size_t)MIN((uint64_t)n, r->ext_left);
                int q = r->ops->data(r->userdata, e, x->off + (x->len - r->ext_left), p, k, err);
                if (q < 0)
                        return q;
                r->ext_left -= k;
                p += k;
                n -= k;
        }
        return 0;
}

/* GNU sparse 1.0: decimal numbers, one per line: count, then offset/length
 * pairs; padded to a block boundary; all inside the entry's data. */
static int sparse_map_byte(struct tar_reader *r, unsigned char c, struct berr **err)
{
        r->map_bytes++;
        if (r->map_count < r->map_need) {
                if (c == '\n') {
                        if (r->map_digits == 0)
                                return header_error(r, err, "empty number in the sparse map");
                        if (r->map_count == 0) {
                                if (r->map_num > EXTENTS_MAX)
                                        return header_error(r, err, "too many sparse extents");
                                r->map_need = 1 + 2 * r->map_num;
                        } else if (r->map_count % 2 == 1) {
                                if (add_extent(&r->e, r->map_num, 0) < 0)
                                        return fail(r, berr_make(err, ENOMEM, "sparse map"));
                        } else {
                                r->e.extents[r->e.n_extents - 1].len = r->map_num;
                        }
                        r->map_count++;
                        r->map_num = 0;
                        r->map_digits = 0;
                        return 0;
                }
                if (c < '0' || c > '9' || r->map_num > (UINT64_MAX - 9) / 10 || ++r->map_digits > 20)
                        return header_error(r, err, "invalid sparse map");
                r->map_num = r->map_num * 10 + (uint64_t)(c - '0');
        }
        return 0;
}

int tar_reader_feed(struct tar_reader *r, const void *buf, size_t len, struct berr **err)
{
        const unsigned char *p = buf;
        int q;

        while (len > 0 || (r->st == R_META && r->meta_len == r->meta_want)) {
                size_t n;

                switch (r->st) {
                case R_HEADER:
                        if (r->hdr_fill == 0)
                                r->hdr_offset = r->offset;
                        n = MIN(len, TAR_BLOCK_SIZE - r->hdr_fill);
                        memcpy(r->hdr + r->hdr_fill, p, n);
                        r->hdr_fill += n;
                        if (r->hdr_fill == TAR_BLOCK_SIZE) {
                                r->hdr_fill = 0;
                                q = process_header(r, err);
                                if (q < 0)
                                        return q;
                        }
                        break;
                case R_SPARSE_EXT:
                        n = MIN(len, TAR_BLOCK_SIZE - r->hdr_fill);
                        memcpy(r->hdr + r->hdr_fill, p, n);
                        r->hdr_fill += n;
                        if (r->hdr_fill == TAR_BLOCK_SIZE) {
                                r->hdr_fill = 0;
                                if (sparse_old_entries(r, r->hdr, 21) < 0)
                                        return header_error(r, err, "invalid sparse extension header");
                                if (!r->hdr[504]) {
                                        q = start_data(r, err);
                                        if (q < 0)
                                                return q;
                                }
                        }
                        break;
                case R_META:
                        n = MIN(len, r->meta_want - r->meta_len);
                        memcpy(r->meta + r->meta_len, p, n);
                        r->meta_len += n;
                        if (r->meta_len == r->meta_want) {
                                q = process_meta(r, err);
                                if (q < 0)
                                        return q;
                                r->st = r->skip ? R_SKIP : R_HEADER;
                        }
                        break;
                case R_SPARSE_MAP:
                        n = 0;
                        while (n < len && r->remaining > 0 &&
                               (r->map_count < r->map_need || (r->map_bytes & 511) != 0)) {
                                q = sparse_map_byte(r, p[n], err);
                                if (q < 0)
                                        return q;
                                n++;
                                r->remaining--;
                        }
                        if (r->map_count == r->map_need && (r->map_bytes & 511) == 0) {
                                r->offset += n;
                                p += n;
                                len -= n;
                                r->stored_size -= r->map_bytes;
                                q = start_data(r, err);
                                if (q < 0)
                                        return q;
                                continue;
                        }
                        if (r->remaining == 0)
                                return header_error(r, err, "sparse map longer than the entry");
                        break;
                case R_DATA:
                        n = (size_t)MIN((uint64_t)len, r->remaining);
                        q = deliver(r, p, n, err);
                        if (q < 0)
                                return fail(r, q);
                        r->remaining -= n;
                        if (r->remaining == 0) {
                                q = r->ops->entry_end ? r->ops->entry_end(r->userdata, &r->e, err) : 0;
                                if (q < 0)
                                        return fail(r, q);
                                r->skip = tar_padding(r->stored_size);
                                r->st = r->skip ? R_SKIP : R_HEADER;
                        }
                        break;
                case R_SKIP:
                        n = (size_t)MIN((uint64_t)len, r->skip);
                        r->skip -= n;
                        if (r->skip == 0)
                                r->st = R_HEADER;
                        break;
                case R_END:
                        r->offset += len;
                        return 0;
                case R_FAILED:
                default:
                        return berr_make(err, EINVAL, "tar reader used after an error");
                }
                r->offset += n;
                p += n;
                len -= n;
        }
        return 0;
}

int tar_reader_finish(struct tar_reader *r, struct berr **err)
{
        switch (r->st) {
        case R_END:
                return 0;
        case R_HEADER:
                if (r->zero_blocks == 1) {
                        /* A lone zero block, maybe followed by part of the second. */
                        bool zeros = true;
                        for (size_t i = 0; i < r->hdr_fill; i++)
                                zeros = zeros && r->hdr[i] == 0;
                        if (zeros)
                                return 0;
                }
                if (r->hdr_fill == 0 && !r->long_name && !r->long_link && !r->pax_local.n)
                        return berr_make(err, EPIPE, "tar archive truncated: no end-of-archive blocks after %llu bytes",
                                         (unsigned long long)r->offset);
                return berr_make(err, EPIPE, "tar archive truncated in a header at offset %llu",
                                 (unsigned long long)r->hdr_offset);
        case R_FAILED:
                return berr_make(err, EINVAL, "tar reader used after an error");
        default:
                return berr_make(err, EPIPE, "tar archive truncated in entry `%s` (%llu bytes missing)",
                                 entry_label(r), (unsigned long long)(r->remaining + r->skip));
        }
}

/* ---- writing ---- */

static void put_octal(char *f, size_t n, uint64_t v)
{
        /* n-1 digits and a NUL. */
        snprintf(f, n, "%0*llo", (int)(n - 1), (unsigned long long)v);
}

static bool fits_octal(uint64_t v, size_t n)
{
        return v < (1ULL << (3 * (n - 1)));
}

struct strbuf {
        char *s;
        size_t len, cap;
};

static int sb_add(struct strbuf *b, const void *p, size_t n)
{
        if (b->len + n + 1 > b->cap) {
                size_t cap = MAX(b->cap * 2, b->len + n + 1024);
                char *s = realloc(b->s, cap);
                if (!s)
                        return -ENOMEM;
                b->s = s;
                b->cap = cap;
        }
        memcpy(b->s + b->len, p, n);
        b->len += n;
        b->s[b->len] = '\0';
        return 0;
}

static int pax_add(struct strbuf *b, const char *key, const char *value, size_t vlen)
{
        size_t klen = strlen(key), body = 1 + klen + 1 + vlen + 1, total = body + 1, digits = 1;
        char num[24];

        /* The length counts its own digits. */
        for (;;) {
                total = body + digits;
                size_t d = (size_t)snprintf(num, sizeof(num), "%zu", total);
                if (d == digits)
                        break;
                digits = d;
        }
        if (sb_add(b, num, digits) < 0 || sb_add(b, " ", 1) < 0 || sb_add(b, key, klen) < 0 ||
            sb_add(b, "=", 1) < 0 || sb_add(b, value, vlen) < 0 || sb_add(b, "\n", 1) < 0)
                return -ENOMEM;
        return 0;
}

static int pax_add_num(struct strbuf *b, const char *key, uint64_t v)
{
        char num[24];
        int n = snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
        return pax_add(b, key, num, (size_t)n);
}

static void fill_header(char *h, const char *name, size_t nlen, const char *prefix, size_t plen, uint32_t mode,
                        uint64_t uid, uint64_t gid, uint64_t size, uint64_t mtime, char type, const char *link,
                        size_t llen, uint64_t major, uint64_t minor)
{
        unsigned sum = 0;

        memset(h, 0, TAR_BLOCK_SIZE);
        memcpy(h, name, nlen);
        put_octal(h + 100, 8, mode);
        put_octal(h + 108, 8, uid);
        put_octal(h + 116, 8, gid);
        put_octal(h + 124, 12, size);
        put_octal(h + 136, 12, mtime);
        h[156] = type;
        memcpy(h + 157, link, llen);
        memcpy(h + 257, "ustar\0" "00", 8);
        put_octal(h + 329, 8, major);
        put_octal(h + 337, 8, minor);
        memcpy(h + 345, prefix, plen);
        memset(h + 148, ' ', 8);
        for (size_t i = 0; i < TAR_BLOCK_SIZE; i++)
                sum += (unsigned char)h[i];
        snprintf(h + 148, 8, "%06o", sum);
        h[155] = ' ';
}

int tar_header_format(const struct tar_entry *e, char **out, size_t *len, struct berr **err)
{
        static const char types[] = {
                [TAR_REG] = '0', [TAR_HARDLINK] = '1', [TAR_SYMLINK] = '2', [TAR_CHAR] = '3',
                [TAR_BLOCK] = '4', [TAR_DIR] = '5',      [TAR_FIFO] = '6',
        };
        struct strbuf pax = {0};
        size_t nlen = strlen(e->name), llen = e->linkname ? strlen(e->linkname) : 0, plen = 0;
        const char *name = e->name, *prefix = "";
        uint64_t size = e->type == TAR_REG ? e->size : 0;
        bool mtime_fits = e->mtime >= 0 && fits_octal((uint64_t)e->mtime, 12) && e->mtime_nsec == 0;
        int q = 0;
        char *buf;
        size_t total, plen_pax;

        if (e->extents)
                return berr_make(err, EOPNOTSUPP, "`%s`: writing sparse entries is not supported", e->name);
        if (nlen > 100) {
                /* ustar split: prefix (<= 155) "/" name (<= 100). */
                const char *s = e->name + nlen;
                while ((s = memrchr(e->name, '/', (size_t)(s - e->name)))) {
                        size_t pl = (size_t)(s - e->name);
                        if (pl <= 155 && nlen - pl - 1 <= 100 && nlen - pl - 1 > 0) {
                                prefix = e->name;
                                plen = pl;
                                name = s + 1;
                                nlen = nlen - pl - 1;
                                break;
                        }
                        if (nlen - pl - 1 > 100)
                                break;
                }
                /* Otherwise the header keeps a truncated name for pax-unaware readers. */
                if (!plen)
                        q = pax_add(&pax, "path", e->name, nlen);
        }
        if (q == 0 && llen > 100)
                q = pax_add(&pax, "linkpath", e->linkname, llen);
        if (q == 0 && !fits_octal(e->uid, 8))
                q = pax_add_num(&pax, "uid", e->uid);
        if (q == 0 && !fits_octal(e->gid, 8))
                q = pax_add_num(&pax, "gid", e->gid);
        if (q == 0 && !fits_octal(size, 12))
                q = pax_add_num(&pax, "size", size);
        if (q == 0 && !fits_octal(e->devmajor, 8))
                q = pax_add_num(&pax, "SCHILY.devmajor", e->devmajor);
        if (q == 0 && !fits_octal(e->devminor, 8))
                q = pax_add_num(&pax, "SCHILY.devminor", e->devminor);
        if (q == 0 && !mtime_fits) {
                char t[48];
                int n;
                if (e->mtime_nsec)
                        n = snprintf(t, sizeof(t), "%s%llu.%09u", e->mtime < 0 ? "-" : "",
                                     (unsigned long long)(e->mtime < 0 ? -(e->mtime + 1) : e->mtime),
                                     e->mtime < 0 ? 1000000000 - e->mtime_nsec : e->mtime_nsec);
                else
                        n = snprintf(t, sizeof(t), "%lld", (long long)e->mtime);
                q = pax_add(&pax, "mtime", t, (size_t)n);
        }
        for (size_t i = 0; q == 0 && i < e->n_xattrs; i++) {
                _cleanup_free_ char *key = NULL;
                if (asprintf(&key, "SCHILY.xattr.%s", e->xattrs[i].name) < 0)
                        q = -ENOMEM;
                else
                        q = pax_add(&pax, key, e->xattrs[i].value, e->xattrs[i].len);
        }
        if (q < 0) {
                free(pax.s);
                return berr_make(err, ENOMEM, "tar header for `%s`", e->name);
        }

        plen_pax = pax.len ? TAR_BLOCK_SIZE + pax.len + tar_padding(pax.len) : 0;
        total = plen_pax + TAR_BLOCK_SIZE;
        buf = calloc(1, total);
        if (!buf) {
                free(pax.s);
                return berr_make(err, ENOMEM, "tar header for `%s`", e->name);
        }
        if (pax.len) {
                const char *base = strrchr(e->name, '/');
                char pname[101];
                /* A directory name ends in '/': name the header after its last component. */
                base = base && base[1] ? base + 1 : e->name;
                int pn = snprintf(pname, sizeof(pname), "PaxHeaders.0/%s", base);
                fill_header(buf, pname, (size_t)MIN(pn, 100), "", 0, 0644, 0, 0, pax.len,
                            mtime_fits ? (uint64_t)e->mtime : 0, 'x', "", 0, 0, 0);
                memcpy(buf + TAR_BLOCK_SIZE, pax.s, pax.len);
                free(pax.s);
        }
        fill_header(buf + plen_pax, name, MIN(nlen, (size_t)100), prefix, plen, e->mode & 07777,
                    fits_octal(e->uid, 8) ? e->uid : 0, fits_octal(e->gid, 8) ? e->gid : 0,
                    fits_octal(size, 12) ? size : 0, mtime_fits ? (uint64_t)e->mtime : 0, types[e->type],
                    e->linkname ? e->linkname : "", MIN(llen, (size_t)100), fits_octal(e->devmajor, 8) ? e->devmajor : 0,
                    fits_octal(e->devminor, 8) ? e->devminor : 0);
        *out = buf;
        *len = total;
        return 0;
}
