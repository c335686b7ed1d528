/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layer packing: walks a directory without following symlinks, children in
 * byte order of their names, and writes a canonical tar through the
 * compressor. The root directory itself is not an entry (as in Docker and
 * containerd layers); sparse files are stored with their holes as data.
 */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "basic/digest.h"
#include "basic/fileio.h"
#include "tar.h"
#include "unpack.h"

#define PACK_CHUNK    (256 * 1024)
#define XATTR_LIST_MAX_BYTES (64 * 1024)

struct inode_name {
        dev_t dev;
        ino_t ino;
        char *name;
};

struct packer {
        int out_fd;
        bool overlay;
        int64_t mtime_clamp;
        bool (*skip)(void *userdata, const char *name);
        void *skip_userdata;
        struct compressor *comp;
        struct digester *dig_tar, *dig_blob;
        uint64_t size, usize, entries;
        unsigned char *buf;
        /* first name of each multiply-linked file, for hardlink entries */
        struct inode_name *links;
        size_t n_links, cap_links;
};

static int blob_sink(void *userdata, const void *buf, size_t len, struct berr **err)
{
        struct packer *p = userdata;
        int r;

        if (digester_update(p->dig_blob, buf, len) < 0)
                return berr_make(err, EIO, "layer digest");
        r = write_all(p->out_fd, buf, len);
        if (r < 0)
                return berr_make(err, -r, "write layer");
        p->size += len;
        return 0;
}

static int emit(struct packer *p, const void *buf, size_t len, struct berr **err)
{
        if (digester_update(p->dig_tar, buf, len) < 0)
                return berr_make(err, EIO, "layer digest");
        p->usize += len;
        return compressor_write(p->comp, buf, len, err);
}

static int emit_header(struct packer *p, const struct tar_entry *e, struct berr **err)
{
        _cleanup_free_ char *h = NULL;
        size_t len;

        if (tar_header_format(e, &h, &len, err) < 0)
                return -1;
        p->entries++;
        return emit(p, h, len, err);
}

static void entry_free_xattrs(struct tar_entry *e)
{
        for (size_t i = 0; i < e->n_xattrs; i++) {
                free(e->xattrs[i].name);
                free(e->xattrs[i].value);
        }
        free(e->xattrs);
        e->xattrs = NULL;
        e->n_xattrs = 0;
}

static bool xattr_packed(const char *name)
{
        if (strneq(name, "trusted.overlay.", 16) || strneq(name, "user.overlay.", 13))
                return false;
        return strneq(name, "user.", 5) || strneq(name, "trusted.", 8) || streq(name, "security.capability");
}

static ssize_t list_x(int fd, const char *path, char *buf, size_t size)
{
        return fd >= 0 ? flistxattr(fd, buf, size) : llistxattr(path, buf, size);
}

static ssize_t get_x(int fd, const char *path, const char *name, void *buf, size_t size)
{
        return fd >= 0 ? fgetxattr(fd, name, buf, size) : lgetxattr(path, name, buf, size);
}

/* Reads the xattrs worth packing from fd, or (fd < 0) from path without
 * following its last component; *opaque tells whether an overlay opaque
 * marker is set. */
static int read_xattrs(int fd, const char *path, const char *label, struct tar_entry *e, bool *opaque,
                       struct berr **err)
{
        _cleanup_free_ char *list = NULL;
        ssize_t n = list_x(fd, path, NULL, 0);

        if (n < 0 && (errno == EOPNOTSUPP || errno == ENODATA))
                return 0;
        if (n < 0)
                return berr_errno(err, "`%s`: list xattrs", label);
        if (n == 0)
                return 0;
        if (n > XATTR_LIST_MAX_BYTES)
                return berr_make(err, E2BIG, "`%s`: xattr list too long", label);
        list = malloc((size_t)n + 1);
        if (!list)
                return berr_make(err, ENOMEM, "`%s`", label);
        n = list_x(fd, path, list, (size_t)n);
        if (n < 0)
                return berr_errno(err, "`%s`: list xattrs", label);
        list[n] = '\0';
        for (char *k = list; k < list + n; k += strlen(k) + 1) {
                bool opq = streq(k, "trusted.overlay.opaque") || streq(k, "user.overlay.opaque");
                if (!opq && !xattr_packed(k))
                        continue;
                ssize_t vn = get_x(fd, path, k, NULL, 0);
                if (vn < 0 && errno == ENODATA)
                        continue;
                if (vn < 0)
                        return berr_errno(err, "`%s`: read xattr %s", label, k);
                _cleanup_free_ char *v = malloc((size_t)vn + 1);
                if (!v)
                        return berr_make(err, ENOMEM, "`%s`", label);
                vn = get_x(fd, path, k, v, (size_t)vn);
                if (vn < 0)
                        return berr_errno(err, "`%s`: read xattr %s", label, k);
                if (opq) {
                        if (opaque && vn == 1 && v[0] == 'y')
                                *opaque = true;
                        continue;
                }
                struct tar_xattr *x = realloc(e->xattrs, (e->n_xattrs + 1) * sizeof(*x));
                if (!x)
                        return berr_make(err, ENOMEM, "`%s`", label);
                e->xattrs = x;
                x[e->n_xattrs].name = strdup(k);
                x[e->n_xattrs].value = TAKE_PTR(v);
                x[e->n_xattrs].len = (size_t)vn;
                if (!x[e->n_xattrs].name) {
                        free(x[e->n_xattrs].value);
                        return berr_make(err, ENOMEM, "`%s`", label);
                }
                e->n_xattrs++;
        }
        return 0;
}

/* A directory's child as it will appear in the tar; sorting uses that name. */
struct child {
        char *out;  /* name in the tar: ".wh.NAME" for an overlay whiteout */
        char *name; /* name on disk; NULL for the opaque marker */
        bool whiteout;
};

static int cmp_child(const void *a, const void *b)
{
        return strcmp(((const struct child *)a)->out, ((const struct child *)b)->out);
}

static int find_link(struct packer *p, dev_t dev, ino_t ino, const char **name)
{
        for (size_t i = 0; i < p->n_links; i++)
                if (p->links[i].dev == dev && p->links[i].ino == ino) {
                        *name = p->links[i].name;
                        return 1;
                }
        return 0;
}

static int add_link(struct packer *p, dev_t dev, ino_t ino, const char *name)
{
        if (p->n_links == p->cap_links) {
                size_t cap = p->cap_links ? p->cap_links * 2 : 64;
                struct inode_name *l = realloc(p->links, cap * sizeof(*l));
                if (!l)
                        return -ENOMEM;
                p->links = l;
                p->cap_links = cap;
        }
        p->links[p->n_links].name = strdup(name);
        if (!p->links[p->n_links].name)
                return -ENOMEM;
        p->links[p->n_links].dev = dev;
        p->links[p->n_links].ino = ino;
        p->n_links++;
        return 0;
}

static void fill_common(struct packer *p, struct tar_entry *e, const struct stat *st)
{
        e->mode = st->st_mode & 07777;
        e->uid = st->st_uid;
        e->gid = st->st_gid;
        e->mtime = st->st_mtim.tv_sec;
        if (p->mtime_clamp >= 0 && e->mtime > p->mtime_clamp)
                e->mtime = p->mtime_clamp;
}

static int pack_file(struct packer *p, int dfd, const char *name, const char *path, const struct stat *st,
                     struct tar_entry *e, struct berr **err)
{
        /* O_NONBLOCK: a FIFO swapped in since the stat (a running container's tree) must not block. */
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        uint64_t left = (uint64_t)st->st_size;
        static const char zeros[TAR_BLOCK_SIZE];

        if (fd < 0)
                return berr_errno(err, "`%s`: open", path);
        if (read_xattrs(fd, NULL, path, e, NULL, err) < 0)
                return -1;
        e->type = TAR_REG;
        e->size = left;
        if (emit_header(p, e, err) < 0)
                return -1;
        while (left > 0) {
                ssize_t n = read(fd, p->buf, (size_t)MIN(left, (uint64_t)PACK_CHUNK));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berr_errno(err, "`%s`: read", path);
                if (n == 0)
                        return berr_make(err, EIO, "`%s`: file shrank while being packed", path);
                if (emit(p, p->buf, (size_t)n, err) < 0)
                        return -1;
                left -= (uint64_t)n;
        }
        return emit(p, zeros, tar_padding((uint64_t)st->st_size), err);
}

static int pack_tree(struct packer *p, int dfd, char *path, size_t plen, bool opaque, int depth,
                     struct berr **err);

static int pack_child(struct packer *p, int dfd, const struct child *c, char *path, size_t plen, int depth,
                      struct berr **err)
{
        struct tar_entry e = {0};
        struct stat st;
        char lpath[PATH_MAX + 64];
        size_t n = strlen(c->out);
        int r = 0;

        if (plen + n + 2 >= PATH_MAX)
                return berr_make(err, ENAMETOOLONG, "`%s%s`: path too long", path, c->out);
        memcpy(path + plen, c->out, n + 1);
        if (p->skip && p->skip(p->skip_userdata, path))
                return 0;
        e.name = path;
        e.linkname = "";
        if (!c->name) {
                e.type = TAR_REG;
                e.mode = 0644;
                return emit_header(p, &e, err);
        }
        if (fstatat(dfd, c->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return 0;
                return berr_errno(err, "`%s`: stat", path);
        }
        fill_common(p, &e, &st);
        if (c->whiteout) {
                e.type = TAR_REG;
                return emit_header(p, &e, err);
        }
        snprintf(lpath, sizeof(lpath), "/proc/self/fd/%d/%s", dfd, c->name);

        switch (st.st_mode & S_IFMT) {
        case S_IFREG: {
                const char *first;
                if (st.st_nlink > 1 && find_link(p, st.st_dev, st.st_ino, &first)) {
                        e.type = TAR_HARDLINK;
                        e.linkname = (char *)first;
                        r = emit_header(p, &e, err);
                        break;
                }
                if (st.st_nlink > 1 && add_link(p, st.st_dev, st.st_ino, path) < 0)
                        return berr_make(err, ENOMEM, "`%s`", path);
                r = pack_file(p, dfd, c->name, path, &st, &e, err);
                break;
        }
        case S_IFLNK: {
                char target[PATH_MAX];
                ssize_t tn = readlinkat(dfd, c->name, target, sizeof(target) - 1);
                if (tn < 0)
                        return berr_errno(err, "`%s`: readlink", path);
                target[tn] = '\0';
                e.type = TAR_SYMLINK;
                e.linkname = target;
                r = read_xattrs(-1, lpath, path, &e, NULL, err);
                if (r == 0)
                        r = emit_header(p, &e, err);
                break;
        }
        case S_IFCHR:
        case S_IFBLK:
        case S_IFIFO:
                e.type = S_ISCHR(st.st_mode) ? TAR_CHAR : S_ISBLK(st.st_mode) ? TAR_BLOCK : TAR_FIFO;
                e.devmajor = S_ISFIFO(st.st_mode) ? 0 : major(st.st_rdev);
                e.devminor = S_ISFIFO(st.st_mode) ? 0 : minor(st.st_rdev);
                r = read_xattrs(-1, lpath, path, &e, NULL, err);
                if (r == 0)
                        r = emit_header(p, &e, err);
                break;
        case S_IFDIR: {
                _cleanup_close_ int cfd = -1;
                bool opaque = false;
                if (depth >= 512)
                        return berr_make(err, ELOOP, "`%s`: directories nested too deep", path);
                cfd = openat(dfd, c->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (cfd < 0)
                        return berr_errno(err, "`%s`: open directory", path);
                e.type = TAR_DIR;
                path[plen + n] = '/';
                path[plen + n + 1] = '\0';
                r = read_xattrs(cfd, NULL, path, &e, &opaque, err);
                if (r == 0)
                        r = emit_header(p, &e, err);
                entry_free_xattrs(&e);
                if (r < 0)
                        return r;
                return pack_tree(p, cfd, path, plen + n + 1, p->overlay && opaque, depth + 1, err);
        }
        default:
                /* Sockets: tar has no type for them. */
                break;
        }
        entry_free_xattrs(&e);
        return r;
}

static void children_free(struct child *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                if (v[i].out != v[i].name)
                        free(v[i].out);
                free(v[i].name);
        }
        free(v);
}

/* path holds the directory's tar name ("" or "dir/") and room to append. */
static int pack_tree(struct packer *p, int dfd, char *path, size_t plen, bool opaque, int depth,
                     struct berr **err)
{
        int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = NULL;
        struct child *v = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        int r = 0;

        if (fd < 0 || !(d = fdopendir(fd))) {
                safe_close(fd);
                return berr_errno(err, "`%s`: open directory", plen ? path : ".");
        }
        errno = 0;
        while (r == 0) {
                struct child c = {0};
                errno = 0;
                if (!(de = readdir(d))) {
                        if (errno)
                                r = berr_errno(err, "`%s`: read directory", plen ? path : ".");
                        break;
                }
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                c.name = strdup(de->d_name);
                if (!c.name) {
                        r = berr_make(err, ENOMEM, "pack");
                        break;
                }
                c.out = c.name;
                if (p->overlay && (de->d_type == DT_CHR || de->d_type == DT_UNKNOWN)) {
                        struct stat st;
                        if (fstatat(dfd, c.name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode) &&
                            st.st_rdev == makedev(0, 0)) {
                                c.whiteout = true;
                                if (asprintf(&c.out, ".wh.%s", c.name) < 0) {
                                        free(c.name);
                                        r = berr_make(err, ENOMEM, "pack");
                                        break;
                                }
                        }
                }
                if (n == cap) {
                        struct child *nv = realloc(v, (cap = cap ? cap * 2 : 32) * sizeof(*v));
                        if (!nv) {
                                if (c.out != c.name)
                                        free(c.out);
                                free(c.name);
                                r = berr_make(err, ENOMEM, "pack");
                                break;
                        }
                        v = nv;
                }
                v[n++] = c;
        }
        if (r == 0 && opaque) {
                struct child *nv = realloc(v, (n + 1) * sizeof(*v));
                if (!nv) {
                        r = berr_make(err, ENOMEM, "pack");
                } else {
                        v = nv;
                        v[n++] = (struct child){.out = (char *)".wh..wh..opq", .name = NULL};
                }
        }
        if (r == 0) {
                if (n)
                        qsort(v, n, sizeof(*v), cmp_child);
                for (size_t i = 0; i < n && r == 0; i++) {
                        r = pack_child(p, dirfd(d), &v[i], path, plen, depth, err);
                        path[plen] = '\0';
                }
        }
        /* The opaque marker's name is static: keep children_free() off it. */
        for (size_t i = 0; i < n; i++)
                if (!v[i].name)
                        v[i].out = NULL;
        children_free(v, n);
        return r;
}

static int pack(int src_dirfd, int out_fd, enum layer_compression c, const struct pack_opts *o, bool overlay,
                struct pack_result *res, struct berr **err)
{
        struct packer p = {.out_fd = out_fd,
                           .overlay = overlay,
                           .mtime_clamp = o ? o->mtime_clamp : -1,
                           .skip = o ? o->skip : NULL,
                           .skip_userdata = o ? o->skip_userdata : NULL};
        _cleanup_free_ char *path = malloc(PATH_MAX + 2);
        static const char end[2 * TAR_BLOCK_SIZE];
        int r = -1;

        if (!path || !(p.buf = malloc(PACK_CHUNK))) {
                free(p.buf);
                return berr_make(err, ENOMEM, "pack");
        }
        path[0] = '\0';
        if (digester_new(DIGEST_SHA256, &p.dig_tar, err) < 0 || digester_new(DIGEST_SHA256, &p.dig_blob, err) < 0 ||
            compressor_new(c, o ? o->level : 0, blob_sink, &p, &p.comp, err) < 0)
                goto out;
        if (pack_tree(&p, src_dirfd, path, 0, false, 0, err) < 0 || emit(&p, end, sizeof(end), err) < 0 ||
            compressor_finish(p.comp, err) < 0)
                goto out;
        if (res) {
                *res = (struct pack_result){.size = p.size, .uncompressed_size = p.usize, .entries = p.entries};
                if (digester_final(p.dig_tar, res->diff_id, sizeof(res->diff_id)) < 0 ||
                    digester_final(p.dig_blob, res->digest, sizeof(res->digest)) < 0) {
                        berr_make(err, EIO, "layer digest");
                        goto out;
                }
        }
        r = 0;
out:
        for (size_t i = 0; i < p.n_links; i++)
                free(p.links[i].name);
        free(p.links);
        free(p.buf);
        compressor_free(p.comp);
        digester_free(p.dig_tar);
        digester_free(p.dig_blob);
        return r;
}

int layer_pack_dir(int src_dirfd, int out_fd, enum layer_compression c, const struct pack_opts *o,
                   struct pack_result *res, struct berr **err)
{
        return pack(src_dirfd, out_fd, c, o, false, res, err);
}

int layer_pack_overlay_upper(int upper_dirfd, int out_fd, enum layer_compression c, const struct pack_opts *o,
                             struct pack_result *res, struct berr **err)
{
        return pack(upper_dirfd, out_fd, c, o, true, res, err);
}
