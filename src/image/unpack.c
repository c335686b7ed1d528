/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layer extraction: decompressor -> sha256 (diff_id) -> tar reader -> files.
 *
 * Every entry name is cleaned lexically against the layer root, its parent
 * directory is opened with openat2(RESOLVE_IN_ROOT) (cached while consecutive
 * entries share it) and the entry itself is created relative to that fd with
 * a single-component name, so nothing can land outside dest. Directory modes
 * and mtimes are applied after all content is in place.
 *
 * Two threads: the caller's decompresses and hashes, a worker parses the tar
 * and writes files; a small ring of buffers between them lets decompression
 * overlap the extraction syscalls (as `gzip -dc | tar -x` overlaps them).
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "basic/digest.h"
#include "basic/fileio.h"
#include "basic/path.h"
#include "tar.h"
#include "unpack.h"

/* Paths kept for deferred directory fixups and whiteout bookkeeping. */
#define BOOKKEEPING_MAX (256ULL << 20)

#define WH      ".wh."
#define WH_OPQ  ".wh..wh..opq"
#define WH_META ".wh..wh."

struct dir_fixup {
        char *path;
        uint32_t mode;
        struct timespec mtime;
};

/* Set of paths this layer created (flattening only: whiteouts and opaque
 * markers must not remove entries of their own layer). */
struct pathset {
        char **slots;
        size_t cap, n;
};

#define RING_SLOTS 4
#define RING_SLOT  (1024 * 1024)

struct layer_unpacker {
        int dest;
        struct unpack_opts o;
        struct decompressor *dec;
        struct tar_reader *tar;
        struct digester *dig;
        uint64_t total;
        bool failed;

        /* Ring of uncompressed buffers: slots [tail, tail + count) are ready
         * for the worker; the producer fills slot `cur` (fill bytes so far). */
        pthread_t worker;
        bool worker_running;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        unsigned char *slots[RING_SLOTS];
        size_t slot_len[RING_SLOTS];
        size_t tail, count, cur, fill;
        bool have_cur, eof, cancel, worker_failed;
        struct berr *worker_err;

        /* current regular file */
        int fd;
        uint64_t pos;
        bool discard;

        char *parent_path;
        int parent_fd;

        struct dir_fixup *fixups;
        size_t n_fixups, cap_fixups;
        struct pathset created;
        uint64_t bookkeeping;
        uint64_t skipped;

        char rel[PATH_MAX];
};

static uint64_t hash_str(const char *s)
{
        uint64_t h = 1469598103934665603ULL;
        while (*s)
                h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
        return h;
}

static bool pathset_has(const struct pathset *s, const char *p)
{
        if (!s->cap)
                return false;
        for (size_t i = hash_str(p) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
                if (!s->slots[i])
                        return false;
                if (streq(s->slots[i], p))
                        return true;
        }
}

/* Returns 1 if added, 0 if present, -ENOMEM. */
static int pathset_add(struct pathset *s, const char *p, size_t len)
{
        if (pathset_has(s, p))
                return 0;
        if ((s->n + 1) * 2 > s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 1024;
                char **slots = calloc(cap, sizeof(char *));
                if (!slots)
                        return -ENOMEM;
                for (size_t i = 0; i < s->cap; i++) {
                        if (!s->slots[i])
                                continue;
                        size_t j = hash_str(s->slots[i]) & (cap - 1);
                        while (slots[j])
                                j = (j + 1) & (cap - 1);
                        slots[j] = s->slots[i];
                }
                free(s->slots);
                s->slots = slots;
                s->cap = cap;
        }
        size_t i = hash_str(p) & (s->cap - 1);
        while (s->slots[i])
                i = (i + 1) & (s->cap - 1);
        s->slots[i] = strndup(p, len);
        if (!s->slots[i])
                return -ENOMEM;
        s->n++;
        return 1;
}

static void pathset_free(struct pathset *s)
{
        for (size_t i = 0; i < s->cap; i++)
                free(s->slots[i]);
        free(s->slots);
}

/* Lexical clean relative to the layer root: "", "." and empty components
 * vanish, ".." pops (never above the root), leading "/" is dropped. */
static int clean_rel(const char *in, char *out, size_t size)
{
        size_t o = 0;
        const char *p = in;

        while (*p) {
                const char *e;
                size_t n;
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                e = strchrnul(p, '/');
                n = (size_t)(e - p);
                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        while (o > 0 && out[o - 1] != '/')
                                o--;
                        if (o > 0)
                                o--;
                } else if (!(n == 1 && p[0] == '.')) {
                        if (o + 1 + n + 1 > size)
                                return -ENAMETOOLONG;
                        if (o)
                                out[o++] = '/';
                        memcpy(out + o, p, n);
                        o += n;
                }
                p = e;
        }
        out[o] = '\0';
        return (int)o;
}

static void invalidate_parent(struct layer_unpacker *u)
{
        free(u->parent_path);
        u->parent_path = NULL;
        u->parent_fd = safe_close(u->parent_fd);
}

static int account(struct layer_unpacker *u, size_t n, const char *name, struct berr **err)
{
        u->bookkeeping += n + 32;
        if (u->bookkeeping > BOOKKEEPING_MAX)
                return berr_make(err, E2BIG, "layer entry `%s`: layer has too many paths to track", name);
        return 0;
}

/* Records this layer's entry and its ancestors (flattening only). */
static int mark_created(struct layer_unpacker *u, const char *rel, const char *name, struct berr **err)
{
        _cleanup_free_ char *tmp = NULL;
        size_t len = strlen(rel);

        if (u->o.overlay_whiteouts || u->o.plain)
                return 0;
        tmp = strdup(rel);
        if (!tmp)
                return berr_make(err, ENOMEM, "layer entry `%s`", name);
        while (len > 0) {
                int r;
                tmp[len] = '\0';
                r = pathset_add(&u->created, tmp, len);
                if (r < 0)
                        return berr_make(err, ENOMEM, "layer entry `%s`", name);
                if (r == 0)
                        break;
                if (account(u, len, name, err) < 0)
                        return -E2BIG;
                while (len > 0 && tmp[len - 1] != '/')
                        len--;
                if (len > 0)
                        len--;
        }
        return 0;
}

/* O_PATH fd of the directory `parent` (relative to dest), created if missing. */
static int get_parent(struct layer_unpacker *u, const char *parent, const char *name, struct berr **err)
{
        int fd;

        if (u->parent_path && streq(u->parent_path, parent))
                return u->parent_fd;
        invalidate_parent(u);
        fd = openat_in_root(u->dest, parent, O_PATH | O_DIRECTORY, 0);
        if (fd == -ENOENT) {
                _cleanup_berr_ struct berr *e = NULL;
                fd = mkdir_p_in_root(u->dest, parent, 0755, &e);
                if (fd < 0)
                        return berr_make(err, e ? e->code : EIO, "layer entry `%s`: %s", name,
                                         e && e->msg ? e->msg : "cannot create parent directory");
        } else if (fd < 0) {
                return berr_make(err, -fd, "layer entry `%s`: open parent directory `%s`", name, parent);
        }
        u->parent_path = strdup(parent);
        if (!u->parent_path) {
                close(fd);
                return berr_make(err, ENOMEM, "layer entry `%s`", name);
        }
        u->parent_fd = fd;
        return fd;
}

/* An entry exists where a new one goes: keep it if both are directories
 * (returns 1), otherwise remove it (returns 0) so the caller retries. */
static int clear_slot(struct layer_unpacker *u, int pfd, const char *base, bool new_is_dir, const char *name,
                      struct berr **err)
{
        struct stat st;

        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : berr_errno(err, "layer entry `%s`: stat existing entry", name);
        if (S_ISDIR(st.st_mode)) {
                if (new_is_dir)
                        return 1;
                if (u->o.plain)
                        return berr_make(err, EISDIR, "`%s`: cannot overwrite a directory with a non-directory",
                                         name);
                /* pfd itself stays valid: it is the parent, not the removed dir. */
                _cleanup_berr_ struct berr *e = NULL;
                if (rm_rf_at(pfd, base, &e) < 0)
                        return berr_make(err, e->code, "layer entry `%s`: replace directory: %s", name, e->msg);
                return 0;
        }
        if (unlinkat(pfd, base, 0) < 0 && errno != ENOENT)
                return berr_errno(err, "layer entry `%s`: replace existing entry", name);
        return 0;
}

static bool xattr_allowed(const struct layer_unpacker *u, const char *name)
{
        if (strneq(name, "trusted.overlay.", 16) || strneq(name, "user.overlay.", 13))
                return false;
        if (strneq(name, "user.", 5))
                return true;
        if (strneq(name, "trusted.", 8))
                return !u->o.no_chown;
        return streq(name, "security.capability");
}

/* fd >= 0: set on it; else on pfd/base without following a symlink. */
static int apply_xattrs(struct layer_unpacker *u, const struct tar_entry *e, int fd, int pfd, const char *base,
                        struct berr **err)
{
        char path[PATH_MAX + 32];

        for (size_t i = 0; i < e->n_xattrs; i++) {
                const struct tar_xattr *x = &e->xattrs[i];
                int r;
                if (!xattr_allowed(u, x->name)) {
                        u->skipped++;
                        continue;
                }
                if (fd >= 0) {
                        r = fsetxattr(fd, x->name, x->value, x->len, 0);
                } else {
                        snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", pfd, base);
                        r = lsetxattr(path, x->name, x->value, x->len, 0);
                }
                if (r < 0) {
                        /* Filesystems without xattrs, user.* on symlinks, capabilities when rootless. */
                        if (errno == EOPNOTSUPP || errno == EPERM) {
                                u->skipped++;
                                continue;
                        }
                        return berr_errno(err, "layer entry `%s`: set xattr %s", e->name, x->name);
                }
        }
        return 0;
}

static int add_fixup(struct layer_unpacker *u, const char *rel, const struct tar_entry *e, struct berr **err)
{
        struct dir_fixup *f;
        size_t len = strlen(rel);

        if (account(u, len, e->name, err) < 0)
                return -E2BIG;
        if (u->n_fixups == u->cap_fixups) {
                size_t cap = u->cap_fixups ? u->cap_fixups * 2 : 256;
                f = realloc(u->fixups, cap * sizeof(*f));
                if (!f)
                        return berr_make(err, ENOMEM, "layer entry `%s`", e->name);
                u->fixups = f;
                u->cap_fixups = cap;
        }
        f = &u->fixups[u->n_fixups];
        f->path = strndup(len ? rel : ".", len ? len : 1);
        if (!f->path)
                return berr_make(err, ENOMEM, "layer entry `%s`", e->name);
        f->mode = e->mode;
        f->mtime = (struct timespec){.tv_sec = e->mtime, .tv_nsec = e->mtime_nsec};
        u->n_fixups++;
        return 0;
}

static int do_chown(struct layer_unpacker *u, const struct tar_entry *e, int fd, int pfd, const char *base,
                    struct berr **err)
{
        int r;

        if (u->o.no_chown)
                return 0;
        if (fd >= 0)
                r = fchown(fd, e->uid, e->gid);
        else
                r = fchownat(pfd, base, e->uid, e->gid, AT_SYMLINK_NOFOLLOW);
        if (r < 0)
                return berr_errno(err, "layer entry `%s`: chown %u:%u", e->name, e->uid, e->gid);
        return 0;
}

static int set_times_at(const struct tar_entry *e, int pfd, const char *base, struct berr **err)
{
        struct timespec ts[2] = {{e->mtime, e->mtime_nsec}, {e->mtime, e->mtime_nsec}};

        if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return berr_errno(err, "layer entry `%s`: set mtime", e->name);
        return 0;
}

/* Removes everything in directory fd that this layer did not create; dirs this
 * layer created are descended into, since an opaque parent hides their lower
 * content too. */
static int opaque_flatten(struct layer_unpacker *u, int dfd, char *rel, size_t rel_len, const char *name,
                          struct berr **err)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 || !(d = fdopendir(fd))) {
                safe_close(fd);
                return berr_errno(err, "layer entry `%s`: open directory", name);
        }
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name);
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (rel_len + 1 + n + 1 > PATH_MAX)
                        return berr_make(err, ENAMETOOLONG, "layer entry `%s`", name);
                size_t l = rel_len;
                if (l)
                        rel[l++] = '/';
                memcpy(rel + l, de->d_name, n + 1);
                if (!pathset_has(&u->created, rel)) {
                        _cleanup_berr_ struct berr *e = NULL;
                        if (rm_rf_at(dirfd(d), de->d_name, &e) < 0)
                                return berr_make(err, e->code, "layer entry `%s`: %s", name, e->msg);
                } else if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) {
                        _cleanup_close_ int cfd =
                                openat(dirfd(d), de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (cfd < 0 && (errno == ENOTDIR || errno == ELOOP)) {
                                rel[rel_len] = '\0';
                                continue;
                        }
                        if (cfd < 0)
                                return berr_errno(err, "layer entry `%s`: open `%s`", name, rel);
                        if (opaque_flatten(u, cfd, rel, l + n, name, err) < 0)
                                return -1;
                }
                rel[rel_len] = '\0';
        }
        return 0;
}

static int do_whiteout(struct layer_unpacker *u, const struct tar_entry *e, const char *parent, const char *base,
                       struct berr **err)
{
        int pfd;

        if (!streq(base, WH_OPQ) && strneq(base, WH_META, strlen(WH_META)))
                return 0; /* aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs) */

        if (u->o.overlay_whiteouts) {
                pfd = get_parent(u, parent, e->name, err);
                if (pfd < 0)
                        return pfd;
                if (streq(base, WH_OPQ)) {
                        _cleanup_close_ int dfd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        const char *x = u->o.overlay_userxattr ? "user.overlay.opaque" : "trusted.overlay.opaque";
                        if (dfd < 0 || fsetxattr(dfd, x, "y", 1, 0) < 0)
                                return berr_errno(err, "layer entry `%s`: mark directory opaque (%s)", e->name, x);
                        return 0;
                }
                base += strlen(WH);
                if (!*base || streq(base, ".") || streq(base, ".."))
                        return berr_make(err, EINVAL, "layer entry `%s`: invalid whiteout name", e->name);
                if (mknodat(pfd, base, S_IFCHR | 0000, makedev(0, 0)) < 0) {
                        /* The same layer created that name: whiteouts only hide lower layers. */
                        if (errno == EEXIST)
                                return 0;
                        return berr_errno(err, "layer entry `%s`: create overlay whiteout", e->name);
                }
                return 0;
        }

        /* Flattening: nothing to remove if the parent does not exist. */
        pfd = openat_in_root(u->dest, parent, O_PATH | O_DIRECTORY, 0);
        if (pfd == -ENOENT || pfd == -ENOTDIR)
                return 0;
        if (pfd < 0)
                return berr_make(err, -pfd, "layer entry `%s`: open parent directory", e->name);
        _cleanup_close_ int dfd = pfd;
        invalidate_parent(u);
        if (streq(base, WH_OPQ)) {
                char *rel = u->rel; /* parent is u->rel's prefix; rebuilt in place */
                size_t len = strlen(parent);
                memmove(rel, parent, len + 1);
                return opaque_flatten(u, dfd, rel, len, e->name, err);
        }
        base += strlen(WH);
        if (!*base || streq(base, ".") || streq(base, ".."))
                return berr_make(err, EINVAL, "layer entry `%s`: invalid whiteout name", e->name);
        {
                _cleanup_free_ char *victim = NULL;
                if (asprintf(&victim, "%s%s%s", parent, *parent ? "/" : "", base) < 0)
                        return berr_make(err, ENOMEM, "layer entry `%s`", e->name);
                if (pathset_has(&u->created, victim))
                        return 0;
        }
        _cleanup_berr_ struct berr *e2 = NULL;
        if (rm_rf_at(dfd, base, &e2) < 0)
                return berr_make(err, e2->code, "layer entry `%s`: apply whiteout: %s", e->name, e2->msg);
        return 0;
}

static int create_file(struct layer_unpacker *u, const struct tar_entry *e, int pfd, const char *base,
                       struct berr **err)
{
        for (int attempt = 0;; attempt++) {
                int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd >= 0) {
                        u->fd = fd;
                        u->pos = 0;
                        return 0;
                }
                if (errno != EEXIST || attempt > 0)
                        return berr_errno(err, "layer entry `%s`: create file", e->name);
                if (clear_slot(u, pfd, base, false, e->name, err) < 0)
                        return -1;
        }
}

static int on_entry(void *userdata, const struct tar_entry *e, struct berr **err)
{
        struct layer_unpacker *u = userdata;
        char *rel = u->rel, *slash, *base;
        const char *parent;
        int len, pfd, r = 0;

        if (tar_reader_entries(u->tar) > u->o.max_entries)
                return berr_make(err, E2BIG, "layer has more than %llu entries",
                                 (unsigned long long)u->o.max_entries);
        u->discard = false;
        len = clean_rel(e->name, rel, sizeof(u->rel));
        if (len < 0)
                return berr_make(err, ENAMETOOLONG, "layer entry `%.200s...`: name too long", e->name);
        if (len == 0) {
                /* "./": the layer root itself. */
                if (e->type != TAR_DIR)
                        return berr_make(err, EINVAL, "layer entry `%s`: would replace the layer root", e->name);
                if (!u->o.no_chown && fchownat(u->dest, "", e->uid, e->gid, AT_EMPTY_PATH) < 0)
                        return berr_errno(err, "layer entry `%s`: chown %u:%u", e->name, e->uid, e->gid);
                return add_fixup(u, "", e, err);
        }
        slash = strrchr(rel, '/');
        if (slash) {
                *slash = '\0';
                parent = rel;
                base = slash + 1;
        } else {
                parent = "";
                base = rel;
        }

        /* Whiteouts are leaves: anything below one would leave a .wh. name behind. */
        if (!u->o.plain && (strneq(parent, WH, strlen(WH)) || strstr(parent, "/" WH)))
                return berr_make(err, EINVAL, "layer entry `%s`: path goes through a whiteout", e->name);
        if (!u->o.plain && strneq(base, WH, strlen(WH))) {
                u->discard = true;
                return do_whiteout(u, e, parent, base, err);
        }

        pfd = get_parent(u, parent, e->name, err);
        if (pfd < 0)
                return pfd;

        switch (e->type) {
        case TAR_REG:
                r = create_file(u, e, pfd, base, err);
                break;
        case TAR_DIR:
                r = 0;
                for (int attempt = 0; r == 0; attempt++) {
                        if (mkdirat(pfd, base, 0700) == 0)
                                break;
                        if (errno != EEXIST || attempt > 0)
                                return berr_errno(err, "layer entry `%s`: mkdir", e->name);
                        r = clear_slot(u, pfd, base, true, e->name, err);
                }
                if (r < 0)
                        return r;
                if (do_chown(u, e, -1, pfd, base, err) < 0)
                        return -1;
                if (e->n_xattrs) {
                        _cleanup_close_ int dfd =
                                openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (dfd < 0)
                                return berr_errno(err, "layer entry `%s`: open directory", e->name);
                        if (apply_xattrs(u, e, dfd, -1, "", err) < 0)
                                return -1;
                }
                if (slash)
                        *slash = '/';
                if (add_fixup(u, rel, e, err) < 0)
                        return -1;
                break;
        case TAR_SYMLINK:
                for (int attempt = 0;; attempt++) {
                        if (symlinkat(e->linkname, pfd, base) == 0)
                                break;
                        if (errno != EEXIST || attempt > 0)
                                return berr_errno(err, "layer entry `%s`: symlink", e->name);
                        if (clear_slot(u, pfd, base, false, e->name, err) < 0)
                                return -1;
                }
                if (do_chown(u, e, -1, pfd, base, err) < 0 || apply_xattrs(u, e, -1, pfd, base, err) < 0 ||
                    set_times_at(e, pfd, base, err) < 0)
                        return -1;
                break;
        case TAR_HARDLINK: {
                char target[PATH_MAX];
                char *tslash, *tbase;
                const char *tparent;
                _cleanup_close_ int tfd = -1;
                struct stat a, b;

                if (clean_rel(e->linkname, target, sizeof(target)) <= 0)
                        return berr_make(err, EINVAL, "layer entry `%s`: invalid hardlink target `%s`", e->name,
                                         e->linkname);
                tslash = strrchr(target, '/');
                if (tslash) {
                        *tslash = '\0';
                        tparent = target;
                        tbase = tslash + 1;
                } else {
                        tparent = "";
                        tbase = target;
                }
                tfd = openat_in_root(u->dest, tparent, O_PATH | O_DIRECTORY, 0);
                if (tfd < 0)
                        return berr_make(err, -tfd, "layer entry `%s`: hardlink target `%s` is not in the layer",
                                         e->name, e->linkname);
                for (int attempt = 0;; attempt++) {
                        if (linkat(tfd, tbase, pfd, base, 0) == 0)
                                break;
                        if (errno == ENOENT)
                                return berr_errno(err, "layer entry `%s`: hardlink target `%s` is not in the layer",
                                                  e->name, e->linkname);
                        if (errno != EEXIST || attempt > 0)
                                return berr_errno(err, "layer entry `%s`: hardlink to `%s`", e->name, e->linkname);
                        /* Already the same file (a link to itself, or a repeated entry). */
                        if (fstatat(tfd, tbase, &a, AT_SYMLINK_NOFOLLOW) == 0 &&
                            fstatat(pfd, base, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev &&
                            a.st_ino == b.st_ino)
                                break;
                        if (clear_slot(u, pfd, base, false, e->name, err) < 0)
                                return -1;
                }
                break;
        }
        case TAR_CHAR:
        case TAR_BLOCK:
        case TAR_FIFO: {
                mode_t fmt = e->type == TAR_CHAR ? S_IFCHR : e->type == TAR_BLOCK ? S_IFBLK : S_IFIFO;
                dev_t dev = e->type == TAR_FIFO ? 0 : makedev(e->devmajor, e->devminor);
                bool made = false;
                for (int attempt = 0;; attempt++) {
                        if (mknodat(pfd, base, fmt | 0600, dev) == 0) {
                                made = true;
                                break;
                        }
                        if (errno == EPERM && u->o.no_chown && fmt != S_IFIFO) {
                                u->skipped++;
                                break;
                        }
                        if (errno != EEXIST || attempt > 0)
                                return berr_errno(err, "layer entry `%s`: mknod", e->name);
                        if (clear_slot(u, pfd, base, false, e->name, err) < 0)
                                return -1;
                }
                if (!made)
                        break;
                if (do_chown(u, e, -1, pfd, base, err) < 0)
                        return -1;
                /* A node just created by us in a directory only we write: no symlink can be there. */
                if (fchmodat(pfd, base, e->mode, 0) < 0)
                        return berr_errno(err, "layer entry `%s`: chmod", e->name);
                if (apply_xattrs(u, e, -1, pfd, base, err) < 0 || set_times_at(e, pfd, base, err) < 0)
                        return -1;
                break;
        }
        default:
                return berr_make(err, EINVAL, "layer entry `%s`: unknown type", e->name);
        }
        if (r < 0)
                return r;
        if (slash)
                *slash = '/';
        return mark_created(u, rel, e->name, err);
}

static int on_data(void *userdata, const struct tar_entry *e, uint64_t off, const void *buf, size_t len,
                   struct berr **err)
{
        struct layer_unpacker *u = userdata;
        int r;

        if (u->discard || u->fd < 0)
                return 0;
        if (off != u->pos) {
                if (lseek(u->fd, (off_t)off, SEEK_SET) < 0)
                        return berr_errno(err, "layer entry `%s`: seek", e->name);
                u->pos = off;
        }
        r = write_all(u->fd, buf, len);
        if (r < 0)
                return berr_make(err, -r, "layer entry `%s`: write", e->name);
        u->pos += len;
        return 0;
}

static int on_entry_end(void *userdata, const struct tar_entry *e, struct berr **err)
{
        struct layer_unpacker *u = userdata;
        _cleanup_close_ int fd = TAKE_FD(u->fd);
        struct timespec ts[2] = {{e->mtime, e->mtime_nsec}, {e->mtime, e->mtime_nsec}};

        if (fd < 0)
                return 0;
        if (u->pos < e->size && ftruncate(fd, (off_t)e->size) < 0)
                return berr_errno(err, "layer entry `%s`: set size", e->name);
        if (do_chown(u, e, fd, -1, "", err) < 0)
                return -1;
        /* After chown, which clears setuid/setgid and file capabilities. */
        if (fchmod(fd, e->mode) < 0)
                return berr_errno(err, "layer entry `%s`: chmod", e->name);
        if (apply_xattrs(u, e, fd, -1, "", err) < 0)
                return -1;
        if (futimens(fd, ts) < 0)
                return berr_errno(err, "layer entry `%s`: set mtime", e->name);
        if (close(TAKE_FD(fd)) < 0)
                return berr_errno(err, "layer entry `%s`: close", e->name);
        return 0;
}

static const struct tar_reader_ops unpack_ops = {
        .entry = on_entry,
        .data = on_data,
        .entry_end = on_entry_end,
};

static void *worker_main(void *userdata)
{
        struct layer_unpacker *u = userdata;

        pthread_mutex_lock(&u->lock);
        for (;;) {
                size_t idx;
                int r;

                while (u->count == 0 && !u->eof && !u->cancel)
                        pthread_cond_wait(&u->cond, &u->lock);
                if (u->cancel || u->count == 0)
                        break;
                idx = u->tail;
                pthread_mutex_unlock(&u->lock);
                r = tar_reader_feed(u->tar, u->slots[idx], u->slot_len[idx], &u->worker_err);
                pthread_mutex_lock(&u->lock);
                if (r < 0) {
                        u->worker_failed = true;
                        pthread_cond_broadcast(&u->cond);
                        break;
                }
                u->tail = (u->tail + 1) % RING_SLOTS;
                u->count--;
                pthread_cond_broadcast(&u->cond);
        }
        pthread_mutex_unlock(&u->lock);
        return NULL;
}

/* Hands the filled slot to the worker. */
static int publish(struct layer_unpacker *u, struct berr **err)
{
        if (!u->have_cur || u->fill == 0)
                return 0;
        pthread_mutex_lock(&u->lock);
        u->slot_len[u->cur] = u->fill;
        u->count++;
        u->have_cur = false;
        pthread_cond_broadcast(&u->cond);
        pthread_mutex_unlock(&u->lock);
        return 0;
}

/* Waits for a free slot; fails once the worker has failed. */
static int acquire(struct layer_unpacker *u, struct berr **err)
{
        int r = 0;

        pthread_mutex_lock(&u->lock);
        while (u->count == RING_SLOTS && !u->worker_failed)
                pthread_cond_wait(&u->cond, &u->lock);
        if (u->worker_failed) {
                berr_move(err, &u->worker_err);
                r = -EIO;
        } else {
                u->cur = (u->tail + u->count) % RING_SLOTS;
                u->have_cur = true;
                u->fill = 0;
        }
        pthread_mutex_unlock(&u->lock);
        return r;
}

static int on_tar_bytes(void *userdata, const void *buf, size_t len, struct berr **err)
{
        struct layer_unpacker *u = userdata;
        const unsigned char *p = buf;

        u->total += len;
        if (u->total > u->o.max_uncompressed)
                return berr_make(err, EFBIG, "layer is larger than %llu bytes uncompressed",
                                 (unsigned long long)u->o.max_uncompressed);
        if (digester_update(u->dig, buf, len) < 0)
                return berr_make(err, EIO, "layer digest");
        while (len > 0) {
                size_t n;
                if (!u->have_cur && acquire(u, err) < 0)
                        return -EIO;
                n = MIN(len, RING_SLOT - u->fill);
                memcpy(u->slots[u->cur] + u->fill, p, n);
                u->fill += n;
                p += n;
                len -= n;
                if (u->fill == RING_SLOT)
                        publish(u, err);
        }
        return 0;
}

int layer_unpacker_new(int dest_dirfd, enum layer_compression c, const struct unpack_opts *o,
                       struct layer_unpacker **out, struct berr **err)
{
        _cleanup_layer_unpacker_ struct layer_unpacker *u = calloc(1, sizeof(*u));
        int r;

        if (!u)
                return berr_make(err, ENOMEM, "layer unpacker");
        pthread_mutex_init(&u->lock, NULL);
        pthread_cond_init(&u->cond, NULL);
        u->dest = dest_dirfd;
        u->fd = -1;
        u->parent_fd = -1;
        if (o)
                u->o = *o;
        if (!u->o.max_entries)
                u->o.max_entries = UNPACK_DEFAULT_MAX_ENTRIES;
        if (!u->o.max_uncompressed)
                u->o.max_uncompressed = UNPACK_DEFAULT_MAX_UNCOMPRESSED;
        if (digester_new(DIGEST_SHA256, &u->dig, err) < 0 || tar_reader_new(&unpack_ops, u, &u->tar, err) < 0 ||
            decompressor_new(c, on_tar_bytes, u, &u->dec, err) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < RING_SLOTS; i++)
                if (!(u->slots[i] = malloc(RING_SLOT)))
                        return berr_make(err, ENOMEM, "layer unpacker");
        r = pthread_create(&u->worker, NULL, worker_main, u);
        if (r != 0)
                return berr_make(err, r, "layer unpacker: start worker thread");
        u->worker_running = true;
        *out = TAKE_PTR(u);
        return 0;
}

int layer_unpacker_write(struct layer_unpacker *u, const void *buf, size_t len, struct berr **err)
{
        int r;

        if (u->failed)
                return berr_make(err, EINVAL, "layer unpacker used after an error");
        r = decompressor_write(u->dec, buf, len, err);
        if (r < 0)
                u->failed = true;
        return r;
}

/* Stops the worker: after it drained the ring (eof) or at once (cancel). */
static void stop_worker(struct layer_unpacker *u, bool cancel)
{
        if (!u->worker_running)
                return;
        pthread_mutex_lock(&u->lock);
        if (cancel)
                u->cancel = true;
        else
                u->eof = true;
        pthread_cond_broadcast(&u->cond);
        pthread_mutex_unlock(&u->lock);
        pthread_join(u->worker, NULL);
        u->worker_running = false;
}

static int apply_fixups(struct layer_unpacker *u, struct berr **err)
{
        for (size_t i = 0; i < u->n_fixups; i++) {
                const struct dir_fixup *f = &u->fixups[i];
                struct timespec ts[2] = {f->mtime, f->mtime};
                _cleanup_close_ int fd =
                        openat_in_root(u->dest, f->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
                /* A later entry replaced the directory with something else. */
                if (fd == -ENOTDIR || fd == -ELOOP || fd == -ENOENT)
                        continue;
                if (fd < 0)
                        return berr_make(err, -fd, "layer directory `%s`: open", f->path);
                if (fchmod(fd, f->mode) < 0)
                        return berr_errno(err, "layer directory `%s`: chmod", f->path);
                if (futimens(fd, ts) < 0)
                        return berr_errno(err, "layer directory `%s`: set mtime", f->path);
        }
        return 0;
}

int layer_unpacker_finish(struct layer_unpacker *u, struct unpack_result *res, struct berr **err)
{
        if (u->failed)
                return berr_make(err, EINVAL, "layer unpacker used after an error");
        u->failed = true;
        /* The worker's error comes first: it saw the data before the end did. */
        publish(u, err);
        stop_worker(u, false);
        if (u->worker_failed) {
                berr_move(err, &u->worker_err);
                return -EIO;
        }
        if (decompressor_finish(u->dec, err) < 0 || tar_reader_finish(u->tar, err) < 0)
                return -EPIPE;
        invalidate_parent(u);
        if (apply_fixups(u, err) < 0)
                return -1;
        if (res) {
                *res = (struct unpack_result){0};
                if (digester_final(u->dig, res->diff_id, sizeof(res->diff_id)) < 0)
                        return berr_make(err, EIO, "layer digest");
                res->uncompressed_size = u->total;
                res->entries = tar_reader_entries(u->tar);
                res->skipped = u->skipped;
        }
        return 0;
}

void layer_unpacker_free(struct layer_unpacker *u)
{
        if (!u)
                return;
        stop_worker(u, true);
        pthread_mutex_destroy(&u->lock);
        pthread_cond_destroy(&u->cond);
        for (size_t i = 0; i < RING_SLOTS; i++)
                free(u->slots[i]);
        berr_free(u->worker_err);
        safe_close(u->fd);
        invalidate_parent(u);
        for (size_t i = 0; i < u->n_fixups; i++)
                free(u->fixups[i].path);
        free(u->fixups);
        pathset_free(&u->created);
        decompressor_free(u->dec);
        tar_reader_free(u->tar);
        digester_free(u->dig);
        free(u);
}

#define READ_CHUNK (256 * 1024)

int layer_unpack_fd(int fd, int dest_dirfd, enum layer_compression c, const struct unpack_opts *o,
                    struct unpack_result *res, struct berr **err)
{
        _cleanup_layer_unpacker_ struct layer_unpacker *u = NULL;
        _cleanup_free_ char *buf = malloc(READ_CHUNK);

        if (!buf)
                return berr_make(err, ENOMEM, "layer unpack");
        if (layer_unpacker_new(dest_dirfd, c, o, &u, err) < 0)
                return -1;
        for (;;) {
                ssize_t n = read(fd, buf, READ_CHUNK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berr_errno(err, "read layer");
                if (n == 0)
                        break;
                if (layer_unpacker_write(u, buf, (size_t)n, err) < 0)
                        return -1;
        }
        return layer_unpacker_finish(u, res, err);
}
