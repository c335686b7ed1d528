/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/path.h"
#include "copy.h"
#include "events.h"
#include "image/compress.h"
#include "image/snapshot.h"
#include "image/tar.h"
#include "image/unpack.h"
#include "lifecycle.h"
#include "spec-internal.h"

#define COPY_CHUNK     (256 * 1024)
#define COPY_MAX_DEPTH 512
/* Symlinks followed while resolving a destination, as the kernel allows. */
#define COPY_MAX_LINKS 40

/* ---- the root filesystem ------------------------------------------------------------ */

static bool is_active(enum container_status s)
{
        return s == CONTAINER_RUNNING || s == CONTAINER_PAUSED;
}

static char *layer_path(struct engine *e, const char *id, const char *sub)
{
        char *p;

        return asprintf(&p, "%s/rw/%s%s", e->store->root, id, sub) < 0 ? NULL : p;
}

/* The overlay is mounted when rw/<id>/merged is on another device than rw/<id>. */
static bool layer_mounted(struct engine *e, const char *id)
{
        _cleanup_free_ char *layer = layer_path(e, id, ""), *merged = layer_path(e, id, "/merged");
        struct stat a, b;

        return layer && merged && stat(layer, &a) == 0 && stat(merged, &b) == 0 && a.st_dev != b.st_dev;
}

static int open_merged(struct engine *e, const char *id, struct berr **err)
{
        _cleanup_free_ char *merged = layer_path(e, id, "/merged");
        int fd;

        if (!merged)
                return berr_make(err, ENOMEM, "root filesystem");
        fd = open(merged, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? berr_errno(err, "open `%s`", merged) : fd;
}

static int current_state(struct engine *e, const char *id, struct container_state *st, struct berr **err)
{
        _cleanup_container_ struct container *c = NULL;
        int r = container_get(e->db, id, &c, err);

        if (r == 0)
                return eng_err(err, ENOENT, "no such container: %.12s", id);
        if (r < 0 || container_state_derive(e, c, st, err) < 0)
                return -1;
        return 0;
}

/* The root of a running container through its init; 0 with *fd, 1 when it is not running (any more). */
static int open_live(struct engine *e, const char *id, const struct container_state *st, int *fd,
                     struct berr **err)
{
        struct container_state again;
        char path[64];
        int r;

        snprintf(path, sizeof(path), "/proc/%d/root", (int)st->pid);
        *fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (*fd < 0)
                return 1;
        /* The pid was the container's when we looked: it still is if the container still runs. */
        if (current_state(e, id, &again, err) < 0) {
                *fd = safe_close(*fd);
                return -1;
        }
        r = is_active(again.status) && again.pid == st->pid ? 0 : 1;
        container_state_done(&again);
        if (r)
                *fd = safe_close(*fd);
        return r;
}

int engine_rootfs_open(struct engine *e, const struct container *c, bool live, struct engine_rootfs *out,
                       struct berr **err)
{
        struct container_state st;
        int r;

        *out = (struct engine_rootfs){.fd = -1, .lock = -1};
        snprintf(out->id, sizeof(out->id), "%s", c->id);
        for (int attempt = 0;; attempt++) {
                if (current_state(e, c->id, &st, err) < 0)
                        goto fail;
                r = st.status;
                if (is_active(r) && live) {
                        r = open_live(e, c->id, &st, &out->fd, err);
                        container_state_done(&st);
                        if (r < 0)
                                goto fail;
                        if (r == 0) {
                                out->live = true;
                                /* Nothing to guard: the container's own mounts keep its root. */
                                out->lock = safe_close(out->lock);
                                return 0;
                        }
                        continue;
                }
                container_state_done(&st);
                if (is_active(r) && layer_mounted(e, c->id)) {
                        out->fd = open_merged(e, c->id, err);
                        if (out->fd < 0)
                                goto fail;
                        out->lock = safe_close(out->lock);
                        return 0;
                }
                if (r == CONTAINER_REMOVING) {
                        eng_err(err, EBUSY, "container %s is being removed", c->name);
                        goto fail;
                }
                if (out->lock >= 0 && !is_active(r))
                        break;
                if (attempt > 2) {
                        eng_err(err, EBUSY, "container %s keeps changing state", c->name);
                        goto fail;
                }
                if (out->lock < 0) {
                        /* Start and rm wait while the layer is mounted here. */
                        out->lock = engine_container_lock(e, c->id, true, err);
                        if (out->lock < 0)
                                goto fail;
                }
        }
        if (!layer_mounted(e, c->id)) {
                if (snapshot_rw_mount(e->store, c->id, NULL, false, NULL, err) < 0)
                        goto fail;
                out->mounted = true;
        }
        out->fd = open_merged(e, c->id, err);
        if (out->fd < 0)
                goto fail;
        return 0;
fail:
        engine_rootfs_close(e, out);
        return -1;
}

void engine_rootfs_close(struct engine *e, struct engine_rootfs *r)
{
        _cleanup_berr_ struct berr *err = NULL;

        r->fd = safe_close(r->fd);
        if (r->mounted)
                snapshot_rw_unmount(e->store, r->id, NULL, &err);
        r->mounted = false;
        r->lock = safe_close(r->lock);
}

/* ---- tar streams -------------------------------------------------------------------- */

typedef int (*sink_fn)(void *userdata, const void *buf, size_t len, struct berr **err);

struct emitter {
        sink_fn sink;
        void *userdata;
        char *buf;
        char name[PATH_MAX + 2]; /* the current entry's tar name */
};

static int emit_header(struct emitter *m, const struct tar_entry *e, struct berr **err)
{
        _cleanup_free_ char *h = NULL;
        size_t len;

        if (tar_header_format(e, &h, &len, err) < 0)
                return -1;
        return m->sink(m->userdata, h, len, err);
}

static void entry_from_stat(struct tar_entry *e, const struct stat *st, const char *name)
{
        *e = (struct tar_entry){
            .name = (char *)name,
            .linkname = (char *)"",
            .mode = st->st_mode & 07777,
            .uid = st->st_uid,
            .gid = st->st_gid,
            .mtime = st->st_mtim.tv_sec,
        };
}

/* Exactly st_size bytes: a file that shrinks meanwhile is padded, one that grows is cut. */
static int emit_file(struct emitter *m, int fd, const struct stat *st, struct berr **err)
{
        static const char zeros[TAR_BLOCK_SIZE];
        struct tar_entry e;
        uint64_t left = (uint64_t)st->st_size;
        bool eof = false;

        entry_from_stat(&e, st, m->name);
        e.type = TAR_REG;
        e.size = left;
        if (emit_header(m, &e, err) < 0)
                return -1;
        while (left > 0) {
                size_t want = (size_t)MIN(left, (uint64_t)COPY_CHUNK);
                ssize_t n = 0;
                if (!eof) {
                        n = read(fd, m->buf, want);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                return berr_errno(err, "read `%s`", m->name);
                        if (n == 0)
                                eof = true;
                }
                if (eof) {
                        memset(m->buf, 0, want);
                        n = (ssize_t)want;
                }
                if (m->sink(m->userdata, m->buf, (size_t)n, err) < 0)
                        return -1;
                left -= (uint64_t)n;
        }
        return m->sink(m->userdata, zeros, tar_padding((uint64_t)st->st_size), err);
}

static int emit_special(struct emitter *m, const struct stat *st, const char *target, struct berr **err)
{
        struct tar_entry e;

        entry_from_stat(&e, st, m->name);
        if (S_ISLNK(st->st_mode)) {
                e.type = TAR_SYMLINK;
                e.linkname = (char *)target;
        } else if (S_ISFIFO(st->st_mode)) {
                e.type = TAR_FIFO;
        } else {
                e.type = S_ISCHR(st->st_mode) ? TAR_CHAR : TAR_BLOCK;
                e.devmajor = major(st->st_rdev);
                e.devminor = minor(st->st_rdev);
        }
        return emit_header(m, &e, err);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int emit_tree(struct emitter *m, int dfd, size_t nlen, int depth, struct berr **err);

/* dfd/base, stat'ed as st, named m->name[0..nlen) in the tar. */
static int emit_child(struct emitter *m, int dfd, const char *base, const struct stat *st, size_t nlen,
                      int depth, struct berr **err)
{
        switch (st->st_mode & S_IFMT) {
        case S_IFREG: {
                /* O_NONBLOCK: a FIFO swapped in since the stat must not block us. */
                _cleanup_close_ int fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
                struct stat now;
                if (fd < 0)
                        return berr_errno(err, "open `%s`", m->name);
                if (fstat(fd, &now) < 0 || !S_ISREG(now.st_mode) || now.st_ino != st->st_ino)
                        return eng_err(err, EAGAIN, "`%s` changed while being copied", m->name);
                return emit_file(m, fd, st, err);
        }
        case S_IFLNK: {
                char target[PATH_MAX];
                ssize_t n = readlinkat(dfd, base, target, sizeof(target) - 1);
                if (n < 0)
                        return berr_errno(err, "readlink `%s`", m->name);
                target[n] = '\0';
                return emit_special(m, st, target, err);
        }
        case S_IFDIR: {
                _cleanup_close_ int cfd = -1;
                struct tar_entry e;
                if (depth >= COPY_MAX_DEPTH)
                        return eng_err(err, ELOOP, "`%s`: directories nested too deep", m->name);
                cfd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (cfd < 0)
                        return berr_errno(err, "open directory `%s`", m->name);
                if (nlen + 2 >= sizeof(m->name))
                        return eng_err(err, ENAMETOOLONG, "`%s`: path too long", m->name);
                m->name[nlen++] = '/';
                m->name[nlen] = '\0';
                entry_from_stat(&e, st, m->name);
                e.type = TAR_DIR;
                if (emit_header(m, &e, err) < 0)
                        return -1;
                return emit_tree(m, cfd, nlen, depth + 1, err);
        }
        case S_IFCHR:
        case S_IFBLK:
        case S_IFIFO:
                return emit_special(m, st, NULL, err);
        default:
                return 0; /* sockets: tar has no type for them */
        }
}

/* The entries of directory dfd, named m->name[0..nlen) + their names, in byte order. */
static int emit_tree(struct emitter *m, int dfd, size_t nlen, int depth, struct berr **err)
{
        int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = NULL;
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        int r = 0;

        if (fd < 0 || !(d = fdopendir(fd))) {
                safe_close(fd);
                return berr_errno(err, "open directory `%s`", nlen ? m->name : ".");
        }
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (n == cap) {
                        char **nv = realloc(names, (cap = cap ? cap * 2 : 32) * sizeof(char *));
                        if (!nv) {
                                r = berr_make(err, ENOMEM, "copy");
                                break;
                        }
                        names = nv;
                }
                if (!(names[n] = strdup(de->d_name))) {
                        r = berr_make(err, ENOMEM, "copy");
                        break;
                }
                n++;
        }
        if (r == 0 && errno)
                r = berr_errno(err, "read directory `%s`", nlen ? m->name : ".");
        if (r == 0 && n)
                qsort(names, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n && r == 0; i++) {
                size_t len = strlen(names[i]);
                struct stat st;
                if (nlen + len + 2 >= sizeof(m->name)) {
                        r = eng_err(err, ENAMETOOLONG, "`%s%s`: path too long", m->name, names[i]);
                        break;
                }
                memcpy(m->name + nlen, names[i], len + 1);
                if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        /* Removed meanwhile (a running container): nothing to copy. */
                        if (errno != ENOENT)
                                r = berr_errno(err, "stat `%s`", m->name);
                } else {
                        r = emit_child(m, dirfd(d), names[i], &st, nlen + len, depth, err);
                }
                m->name[nlen] = '\0';
        }
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
}

/*
 * The object behind obj (an O_PATH descriptor, of the symlink itself unless
 * it was followed) named `name` in the tar, or only its entries when name is
 * NULL (a directory's contents), then the end-of-archive blocks.
 */
static int emit_archive(struct emitter *m, int obj, const struct stat *st, const char *name,
                        struct berr **err)
{
        static const char end[2 * TAR_BLOCK_SIZE];
        size_t nlen = name ? strlen(name) : 0;
        int r;

        m->buf = malloc(COPY_CHUNK);
        if (!m->buf)
                return berr_make(err, ENOMEM, "copy");
        if (nlen + 2 >= sizeof(m->name)) {
                r = eng_err(err, ENAMETOOLONG, "`%s`: name too long", name);
                goto out;
        }
        memcpy(m->name, name ? name : "", nlen + 1);
        if (S_ISDIR(st->st_mode)) {
                _cleanup_close_ int dfd = openat(obj, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                struct tar_entry e;
                if (dfd < 0) {
                        r = berr_errno(err, "open directory `%s`", name ? name : ".");
                        goto out;
                }
                if (name) {
                        m->name[nlen++] = '/';
                        m->name[nlen] = '\0';
                        entry_from_stat(&e, st, m->name);
                        e.type = TAR_DIR;
                        if ((r = emit_header(m, &e, err)) < 0)
                                goto out;
                }
                r = emit_tree(m, dfd, nlen, 1, err);
        } else if (S_ISREG(st->st_mode)) {
                char p[32];
                _cleanup_close_ int fd = open(fd_path(obj, p), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
                struct stat now;
                if (fd < 0) {
                        r = berr_errno(err, "open `%s`", name);
                        goto out;
                }
                if (fstat(fd, &now) < 0 || now.st_ino != st->st_ino) {
                        r = eng_err(err, EAGAIN, "`%s` changed while being copied", name);
                        goto out;
                }
                r = emit_file(m, fd, st, err);
        } else if (S_ISLNK(st->st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(obj, "", target, sizeof(target) - 1);
                if (n < 0) {
                        r = berr_errno(err, "readlink `%s`", name);
                        goto out;
                }
                target[n] = '\0';
                r = emit_special(m, st, target, err);
        } else if (S_ISSOCK(st->st_mode)) {
                r = eng_err(err, EINVAL, "`%s` is a socket: it cannot be copied", name);
        } else {
                r = emit_special(m, st, NULL, err);
        }
        if (r == 0)
                r = m->sink(m->userdata, end, sizeof(end), err);
out:
        free(m->buf);
        m->buf = NULL;
        return r;
}

static int fd_sink(void *userdata, const void *buf, size_t len, struct berr **err)
{
        int r = write_all(*(int *)userdata, buf, len);
        return r < 0 ? berr_make(err, -r, "write the archive") : 0;
}

static int unpack_sink(void *userdata, const void *buf, size_t len, struct berr **err)
{
        return layer_unpacker_write(userdata, buf, len, err);
}

/* Extracts what emit_archive() produces into dest_dir (a descriptor of a directory). */
static int copy_into(int dest_dir, bool keep_owner, int obj, const struct stat *st, const char *name,
                     struct berr **err)
{
        struct unpack_opts uo = {.plain = true, .no_chown = !keep_owner};
        struct layer_unpacker *u = NULL;
        struct unpack_result res;
        struct emitter m = {.sink = unpack_sink};
        int r;

        if (layer_unpacker_new(dest_dir, LAYER_UNCOMPRESSED, &uo, &u, err) < 0)
                return -1;
        m.userdata = u;
        r = emit_archive(&m, obj, st, name, err);
        if (r == 0)
                r = layer_unpacker_finish(u, &res, err);
        layer_unpacker_free(u);
        return r;
}

/* ---- paths --------------------------------------------------------------------------- */

/* What the user's spelling of a source says beyond the path itself. */
struct path_spec {
        char *clean;        /* absolute, cleaned */
        bool contents_only; /* ends in "/.": a directory's entries, not the directory */
        bool want_dir;      /* ends in "/" */
};

static void path_spec_done(struct path_spec *p)
{
        free(p->clean);
}

static bool ends_with(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && streq(s + a - b, suffix);
}

static int path_spec_parse(const char *raw, const char *cwd, struct path_spec *out, struct berr **err)
{
        _cleanup_free_ char *abs = NULL;

        *out = (struct path_spec){0};
        if (!*raw)
                return eng_err(err, EINVAL, "empty path");
        out->contents_only = streq(raw, ".") || ends_with(raw, "/.");
        out->want_dir = ends_with(raw, "/");
        abs = raw[0] == '/' ? strdup(raw) : path_join(cwd ? cwd : "/", raw);
        out->clean = abs ? path_clean(abs) : NULL;
        if (!out->clean)
                return berr_make(err, ENOMEM, "copy");
        if (path_has_dotdot(out->clean)) {
                /* ".." above "/" stays at "/", as it would in the container. */
                _cleanup_free_ char *resolved = NULL;
                char *parts = strdup(out->clean), *save = NULL;
                size_t len = 0;
                if (!parts || !(resolved = calloc(1, strlen(out->clean) + 2))) {
                        free(parts);
                        return berr_make(err, ENOMEM, "copy");
                }
                for (char *t = strtok_r(parts, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
                        if (streq(t, "..")) {
                                while (len > 0 && resolved[len - 1] != '/')
                                        len--;
                                if (len > 0)
                                        len--;
                        } else {
                                len += (size_t)sprintf(resolved + len, "/%s", t);
                        }
                        resolved[len] = '\0';
                }
                free(parts);
                free(out->clean);
                out->clean = strdup(len ? resolved : "/");
                if (!out->clean)
                        return berr_make(err, ENOMEM, "copy");
        }
        if (streq(out->clean, "/"))
                out->contents_only = true;
        return 0;
}

static const char *base_of(const char *clean)
{
        const char *s = strrchr(clean, '/');
        return s ? s + 1 : clean;
}

static char *dir_of(const char *clean)
{
        const char *s = strrchr(clean, '/');
        return s == clean ? strdup("/") : strndup(clean, (size_t)(s - clean));
}

/* The container's working directory (relative paths start there, as in docker cp). */
static char *container_cwd(struct engine *e, const struct container *c)
{
        _cleanup_free_ char *dir = engine_container_dir(e, c->id), *buf = NULL;
        json_object *spec = NULL, *cwd = NULL;
        char *out = NULL;
        size_t len;

        if (dir && asprintf(&out, "%s/config.json", dir) >= 0 &&
            read_file_at(AT_FDCWD, out, 4u << 20, &buf, &len, NULL) == 0 &&
            json_parse_buf(buf, len, "config.json", &spec, NULL) == 0 &&
            json_object_object_get_ex(json_object_object_get(spec, "process"), "cwd", &cwd) &&
            json_object_is_type(cwd, json_type_string)) {
                free(out);
                out = strdup(json_object_get_string(cwd));
        } else {
                free(out);
                out = strdup("/");
        }
        if (spec)
                json_object_put(spec);
        return out;
}

/* Follows symlinks at the end of path inside root (docker cp writes through them);
 * *out gets the final path, which may not exist. */
static int resolve_dest(int root, const char *path, char **out, struct berr **err)
{
        _cleanup_free_ char *cur = strdup(path);

        if (!cur)
                return berr_make(err, ENOMEM, "copy");
        for (int hops = 0;; hops++) {
                _cleanup_free_ char *dir = dir_of(cur);
                _cleanup_close_ int pfd = -1;
                char target[PATH_MAX];
                struct stat st;
                ssize_t n;

                if (!dir)
                        return berr_make(err, ENOMEM, "copy");
                if (streq(cur, "/"))
                        break;
                pfd = openat_in_root(root, dir, O_PATH | O_DIRECTORY, 0);
                if (pfd < 0 || fstatat(pfd, base_of(cur), &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISLNK(st.st_mode))
                        break;
                if (hops >= COPY_MAX_LINKS)
                        return eng_err(err, ELOOP, "`%s`: too many levels of symbolic links", path);
                n = readlinkat(pfd, base_of(cur), target, sizeof(target) - 1);
                if (n < 0)
                        return berr_errno(err, "readlink `%s`", cur);
                target[n] = '\0';
                {
                        _cleanup_free_ char *joined =
                            target[0] == '/' ? strdup(target) : path_join(dir, target);
                        struct path_spec ps;
                        if (!joined)
                                return berr_make(err, ENOMEM, "copy");
                        if (path_spec_parse(joined, "/", &ps, err) < 0)
                                return -1;
                        free(cur);
                        cur = TAKE_PTR(ps.clean);
                }
        }
        *out = TAKE_PTR(cur);
        return 0;
}

/*
 * Where a source named src_name (a directory or not; only its entries with
 * contents_only) lands for a destination (resolved, cleaned) by docker's
 * rules: *dir_out gets the directory to extract into (opened with open_dir),
 * *name_out the name its top entry gets there (NULL: its entries go straight
 * into the directory).
 */
typedef int (*open_dir_fn)(void *ctx, const char *path);

static int place(open_dir_fn open_dir, void *ctx, const char *dest_raw, const char *dest, bool src_is_dir,
                 bool contents_only, const char *src_name, int *dir_out, const char **name_out,
                 struct berr **err)
{
        _cleanup_free_ char *parent = NULL;
        int fd = open_dir(ctx, dest);

        if (fd >= 0) {
                *dir_out = fd;
                *name_out = contents_only ? NULL : src_name;
                return 0;
        }
        if (fd == -ENOTDIR) {
                /* An existing non-directory: a file replaces it. */
                if (ends_with(dest_raw, "/"))
                        return eng_err(err, ENOTDIR, "destination `%s` is not a directory", dest_raw);
                if (src_is_dir)
                        return eng_err(err, EISDIR, "cannot copy a directory to a non-directory: `%s`",
                                       dest_raw);
        } else if (fd != -ENOENT) {
                return berr_make(err, -fd, "destination `%s`", dest_raw);
        } else if (ends_with(dest_raw, "/") && !src_is_dir) {
                return eng_err(err, ENOENT, "destination directory `%s` does not exist", dest_raw);
        }
        parent = dir_of(dest);
        if (!parent)
                return berr_make(err, ENOMEM, "copy");
        fd = open_dir(ctx, parent);
        if (fd < 0)
                return berr_make(err, -fd, "destination `%s`: its directory `%s`", dest_raw, parent);
        *dir_out = fd;
        *name_out = base_of(dest);
        return 0;
}

static int open_host_dir(void *ctx, const char *path)
{
        int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

        (void)ctx;
        return fd >= 0 ? fd : -errno;
}

static int open_root_dir(void *ctx, const char *path)
{
        return openat_in_root(*(int *)ctx, path, O_PATH | O_DIRECTORY, 0);
}

/* ---- cp ------------------------------------------------------------------------------ */

int engine_copy_from_container(struct engine *e, const struct container *c, const char *src, const char *dest,
                               int out_fd, const struct engine_copy_opts *o, struct berr **err)
{
        _cleanup_(path_spec_done) struct path_spec sp = {0};
        _cleanup_free_ char *cwd = container_cwd(e, c);
        _cleanup_close_ int obj = -1, dir = -1;
        struct engine_rootfs rf;
        const char *name;
        struct stat st;
        bool follow;
        int r = -1;

        if (path_spec_parse(src, cwd, &sp, err) < 0)
                return -1;
        if (engine_rootfs_open(e, c, true, &rf, err) < 0)
                return -1;
        /* A trailing "/" or "/." names the directory a symlink points to. */
        follow = o->follow_link || sp.want_dir || sp.contents_only;
        obj = openat_in_root(rf.fd, sp.clean, O_PATH | (follow ? 0 : O_NOFOLLOW), 0);
        if (obj < 0) {
                if (obj == -ENOENT || obj == -ENOTDIR)
                        eng_err(err, ENOENT, "could not find the file %s in container %s", src, c->name);
                else
                        berr_make(err, -obj, "%s in container %s", src, c->name);
                goto out;
        }
        if (fstat(obj, &st) < 0) {
                berr_errno(err, "stat %s in container %s", src, c->name);
                goto out;
        }
        if ((sp.want_dir || sp.contents_only) && !S_ISDIR(st.st_mode)) {
                eng_err(err, ENOTDIR, "%s in container %s is not a directory", src, c->name);
                goto out;
        }
        name = streq(sp.clean, "/") ? NULL : base_of(sp.clean);
        if (!dest) {
                struct emitter m = {.sink = fd_sink, .userdata = &out_fd};
                r = emit_archive(&m, obj, &st, sp.contents_only ? NULL : name, err);
        } else {
                _cleanup_free_ char *dclean = NULL;
                const char *top = NULL;
                struct path_spec dp;
                char cwdbuf[PATH_MAX];
                if (path_spec_parse(dest, getcwd(cwdbuf, sizeof(cwdbuf)), &dp, err) < 0)
                        goto out;
                dclean = TAKE_PTR(dp.clean);
                if (place(open_host_dir, NULL, dest, dclean, S_ISDIR(st.st_mode), sp.contents_only, name,
                          &dir, &top, err) < 0)
                        goto out;
                /* Copied out, files belong to the caller, as docker's client leaves them. */
                r = copy_into(dir, false, obj, &st, top, err);
                if (r < 0)
                        berr_wrap(err, "copy to `%s`", dest);
        }
out:
        engine_rootfs_close(e, &rf);
        if (r == 0)
                engine_event_container(e, c, "archive-path", NULL);
        return r;
}

static int extract_stream(int dest_dir, bool keep_owner, int in_fd, struct berr **err)
{
        struct unpack_opts uo = {.plain = true, .no_chown = !keep_owner};
        _cleanup_free_ char *buf = malloc(COPY_CHUNK);
        struct layer_unpacker *u = NULL;
        struct unpack_result res;
        ssize_t n;
        int r = -1;

        if (!buf)
                return berr_make(err, ENOMEM, "copy");
        n = read_full(in_fd, buf, COPY_CHUNK);
        if (n < 0)
                return berr_make(err, (int)-n, "read the archive");
        if (layer_unpacker_new(dest_dir, layer_compression_sniff(buf, (size_t)n), &uo, &u, err) < 0)
                return -1;
        while (n > 0) {
                if (layer_unpacker_write(u, buf, (size_t)n, err) < 0)
                        goto out;
                n = read_full(in_fd, buf, COPY_CHUNK);
                if (n < 0) {
                        berr_make(err, (int)-n, "read the archive");
                        goto out;
                }
        }
        r = layer_unpacker_finish(u, &res, err);
out:
        layer_unpacker_free(u);
        return r;
}

int engine_copy_to_container(struct engine *e, const struct container *c, const char *src, int in_fd,
                             const char *dest, const struct engine_copy_opts *o, struct berr **err)
{
        _cleanup_(path_spec_done) struct path_spec dp = {0};
        _cleanup_free_ char *cwd = container_cwd(e, c), *resolved = NULL;
        _cleanup_close_ int obj = -1, dir = -1;
        struct engine_rootfs rf;
        int r = -1;

        if (path_spec_parse(dest, cwd, &dp, err) < 0)
                return -1;
        if (engine_rootfs_open(e, c, true, &rf, err) < 0)
                return -1;
        if (resolve_dest(rf.fd, dp.clean, &resolved, err) < 0)
                goto out;
        if (!src) {
                dir = openat_in_root(rf.fd, resolved, O_PATH | O_DIRECTORY, 0);
                if (dir < 0) {
                        if (dir == -ENOENT || dir == -ENOTDIR)
                                eng_err(err, ENOTDIR,
                                        "destination %s in container %s must be an existing directory", dest,
                                        c->name);
                        else
                                berr_make(err, -dir, "%s in container %s", dest, c->name);
                        goto out;
                }
                r = extract_stream(dir, o->archive, in_fd, err);
        } else {
                _cleanup_(path_spec_done) struct path_spec sp = {0};
                const char *name, *top = NULL;
                struct stat st;
                char cwdbuf[PATH_MAX];
                bool follow;

                if (path_spec_parse(src, getcwd(cwdbuf, sizeof(cwdbuf)), &sp, err) < 0)
                        goto out;
                follow = o->follow_link || sp.want_dir || sp.contents_only;
                obj = open(sp.clean, O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
                if (obj < 0 || fstat(obj, &st) < 0) {
                        berr_errno(err, "`%s`", src);
                        goto out;
                }
                if ((sp.want_dir || sp.contents_only) && !S_ISDIR(st.st_mode)) {
                        eng_err(err, ENOTDIR, "`%s` is not a directory", src);
                        goto out;
                }
                name = streq(sp.clean, "/") ? NULL : base_of(sp.clean);
                if (place(open_root_dir, &rf.fd, dest, resolved, S_ISDIR(st.st_mode), sp.contents_only, name,
                          &dir, &top, err) < 0)
                        goto out;
                r = copy_into(dir, o->archive, obj, &st, top, err);
        }
        if (r < 0)
                berr_wrap(err, "copy to %s in container %s", dest, c->name);
out:
        engine_rootfs_close(e, &rf);
        if (r == 0)
                engine_event_container(e, c, "extract-to-dir", NULL);
        return r;
}

/* ---- export -------------------------------------------------------------------------- */

int engine_container_export(struct engine *e, const struct container *c, int out_fd, struct berr **err)
{
        struct engine_rootfs rf;
        _cleanup_close_ int dfd = -1;
        int r;

        if (engine_rootfs_open(e, c, false, &rf, err) < 0)
                return -1;
        dfd = openat(rf.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                r = berr_errno(err, "export %s", c->name);
        else
                r = layer_pack_dir(dfd, out_fd, LAYER_UNCOMPRESSED, NULL, NULL, err);
        engine_rootfs_close(e, &rf);
        if (r == 0)
                engine_event_container(e, c, "export", NULL);
        return r;
}
