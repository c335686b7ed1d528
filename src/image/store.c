/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/log.h"
#include "basic/path.h"
#include "db.h"
#include "images.h"
#include "store.h"
#include "util.h"

#define HASH_BUF (256 * 1024)

static const char *digest_hex(const char *digest)
{
        const char *c = strchr(digest, ':');
        return c ? c + 1 : digest;
}

static int open_subdir(int rootfd, const char *name, struct berr **err)
{
        int fd;

        if (mkdirat(rootfd, name, 0700) < 0 && errno != EEXIST)
                return berr_errno(err, "mkdir `%s`", name);
        fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return berr_errno(err, "open `%s`", name);
        return fd;
}

void image_store_free(struct image_store *s)
{
        if (!s)
                return;
        db_close(s->db);
        safe_close(s->store_lock_fd);
        safe_close(s->blobs_fd);
        safe_close(s->ingest_fd);
        safe_close(s->snapshots_fd);
        safe_close(s->links_fd);
        safe_close(s->rw_fd);
        safe_close(s->tmp_fd);
        safe_close(s->trash_fd);
        safe_close(s->locks_fd);
        safe_close(s->root_fd);
        free(s->root);
        free(s);
}

int image_store_open(const char *root, struct image_store **out, struct berr **err)
{
        _cleanup_(image_store_freep) struct image_store *s = calloc(1, sizeof(*s));
        _cleanup_free_ char *dbpath = NULL;
        int fd;

        if (!s)
                return berr_make(err, ENOMEM, "open store");
        s->root_fd = s->blobs_fd = s->ingest_fd = s->snapshots_fd = s->links_fd = s->rw_fd = s->tmp_fd =
                s->trash_fd = s->locks_fd = s->store_lock_fd = -1;
        s->rootless = geteuid() != 0;
        s->root = path_clean(root);
        if (!s->root)
                return berr_make(err, ENOMEM, "open store");
        if (mkdir_p(s->root, 0711, err) < 0)
                return berr_wrap(err, "store root");
        s->root_fd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->root_fd < 0)
                return berr_errno(err, "open store root `%s`", s->root);
        fd = open_subdir(s->root_fd, "blobs", err);
        if (fd < 0)
                return berr_wrap(err, "store `%s`", s->root);
        s->blobs_fd = open_subdir(fd, "sha256", err);
        close(fd);
        if (s->blobs_fd < 0 || (s->ingest_fd = open_subdir(s->root_fd, "ingest", err)) < 0 ||
            (s->snapshots_fd = open_subdir(s->root_fd, "snapshots", err)) < 0 ||
            (s->links_fd = open_subdir(s->root_fd, "l", err)) < 0 ||
            (s->rw_fd = open_subdir(s->root_fd, "rw", err)) < 0 ||
            (s->tmp_fd = open_subdir(s->root_fd, "tmp", err)) < 0 ||
            (s->trash_fd = open_subdir(s->root_fd, "trash", err)) < 0 ||
            (s->locks_fd = open_subdir(s->root_fd, "locks", err)) < 0)
                return berr_wrap(err, "store `%s`", s->root);
        if (asprintf(&dbpath, "%s/berth.db", s->root) < 0)
                return berr_make(err, ENOMEM, "open store");
        if (db_open(dbpath, &s->db, err) < 0 || images_db_migrate(s, err) < 0)
                return -1;
        *out = TAKE_PTR(s);
        return 0;
}

int image_store_lock(struct image_store *s, bool exclusive, bool wait, struct berr **err)
{
        if (s->store_lock_fd < 0) {
                s->store_lock_fd = openat(s->locks_fd, "store.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
                if (s->store_lock_fd < 0)
                        return berr_errno(err, "open `%s/locks/store.lock`", s->root);
        }
        while (flock(s->store_lock_fd, (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB)) < 0) {
                if (errno == EINTR)
                        continue;
                if (errno == EWOULDBLOCK)
                        return -EWOULDBLOCK;
                return berr_errno(err, "lock `%s/locks/store.lock`", s->root);
        }
        return 0;
}

void image_store_unlock(struct image_store *s)
{
        if (s->store_lock_fd >= 0)
                flock(s->store_lock_fd, LOCK_UN);
}

int store_lock_name(struct image_store *s, const char *name, bool wait, int *fd_out, struct berr **err)
{
        _cleanup_free_ char *file = NULL;

        if (asprintf(&file, "%s.lock", name) < 0)
                return berr_make(err, ENOMEM, "lock");
        for (;;) {
                _cleanup_close_ int fd = openat(s->locks_fd, file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                struct stat a, b;

                if (fd < 0)
                        return berr_errno(err, "open lock `locks/%s`", file);
                if (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EWOULDBLOCK)
                                return -EWOULDBLOCK;
                        return berr_errno(err, "lock `locks/%s`", file);
                }
                /* The holder before us may have removed the file: then our lock is on a
                 * dead inode and someone else may lock a new file of the same name. */
                if (fstat(fd, &a) < 0)
                        return berr_errno(err, "stat lock `locks/%s`", file);
                if (fstatat(s->locks_fd, file, &b, AT_SYMLINK_NOFOLLOW) < 0 || a.st_ino != b.st_ino ||
                    a.st_dev != b.st_dev)
                        continue;
                *fd_out = TAKE_FD(fd);
                return 0;
        }
}

void store_unlock_name(struct image_store *s, const char *name, int fd)
{
        _cleanup_free_ char *file = NULL;

        if (fd < 0)
                return;
        if (asprintf(&file, "%s.lock", name) >= 0)
                unlinkat(s->locks_fd, file, 0);
        close(fd);
}

char *store_blob_relpath(const char *digest)
{
        char *p;

        if (asprintf(&p, "blobs/sha256/%s", digest_hex(digest)) < 0)
                return NULL;
        return p;
}

static int check_digest(const char *digest, struct berr **err)
{
        enum digest_algo a;

        if (digest_validate(digest, &a, err) < 0)
                return -1;
        if (a != DIGEST_SHA256)
                return img_err(err, ENOTSUP, "digest `%s`: only sha256 blobs are stored", digest);
        return 0;
}

bool store_blob_exists(struct image_store *s, const char *digest)
{
        return check_digest(digest, NULL) == 0 && faccessat(s->blobs_fd, digest_hex(digest), F_OK, 0) == 0;
}

int store_blob_size(struct image_store *s, const char *digest, uint64_t *out)
{
        struct stat st;

        if (check_digest(digest, NULL) < 0 || fstatat(s->blobs_fd, digest_hex(digest), &st, 0) < 0)
                return -ENOENT;
        *out = (uint64_t)st.st_size;
        return 0;
}

int store_blob_open(struct image_store *s, const char *digest, int *fd_out, struct berr **err)
{
        int fd;

        if (check_digest(digest, err) < 0)
                return -1;
        fd = openat(s->blobs_fd, digest_hex(digest), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return berr_errno(err, "blob %s", digest);
        *fd_out = fd;
        return 0;
}

int store_blob_read(struct image_store *s, const char *digest, size_t max, char **buf, size_t *len,
                    struct berr **err)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *b = NULL;
        char got[136];
        size_t n;

        if (store_blob_open(s, digest, &fd, err) < 0)
                return -1;
        if (read_all_fd(fd, max, &b, &n, err) < 0)
                return berr_wrap(err, "blob %s", digest);
        if (digest_buf(DIGEST_SHA256, b, n, got, sizeof(got)) < 0)
                return img_err(err, EIO, "blob %s: hash", digest);
        if (!streq(got, digest))
                return img_err(err, EBADMSG, "blob %s is corrupt: its content hashes to %s (run `berth system check`)",
                                 digest, got);
        *buf = TAKE_PTR(b);
        if (len)
                *len = n;
        return 0;
}

struct blob_writer {
        struct image_store *s;
        char *expected;
        int64_t expected_size;
        char partial[80];
        int fd;
        int lock_fd;
        char lock_name[80];
        struct digester *d;
        uint64_t offset;
        char got[136];
        bool finished;
        bool bad;
        bool committed;
};

void blob_writer_free(struct blob_writer *w, bool keep)
{
        if (!w)
                return;
        if (!w->committed && w->partial[0] && (!keep || w->bad))
                unlinkat(w->s->ingest_fd, w->partial, 0);
        safe_close(w->fd);
        store_unlock_name(w->s, w->lock_name, w->lock_fd);
        digester_free(w->d);
        free(w->expected);
        free(w);
}

static int writer_rehash(struct blob_writer *w, struct berr **err)
{
        _cleanup_free_ char *buf = malloc(HASH_BUF);
        uint64_t limit = w->expected_size >= 0 ? (uint64_t)w->expected_size : UINT64_MAX;
        struct stat st;

        if (!buf)
                return berr_make(err, ENOMEM, "ingest");
        if (fstat(w->fd, &st) < 0)
                return berr_errno(err, "stat ingest/%s", w->partial);
        if ((uint64_t)st.st_size > limit) {
                if (ftruncate(w->fd, 0) < 0)
                        return berr_errno(err, "truncate ingest/%s", w->partial);
                return 0;
        }
        for (;;) {
                ssize_t n = pread(w->fd, buf, HASH_BUF, (off_t)w->offset);
                if (n < 0)
                        return berr_errno(err, "read ingest/%s", w->partial);
                if (n == 0)
                        break;
                digester_update(w->d, buf, (size_t)n);
                w->offset += (uint64_t)n;
        }
        if (lseek(w->fd, (off_t)w->offset, SEEK_SET) < 0)
                return berr_errno(err, "seek ingest/%s", w->partial);
        return 0;
}

int blob_writer_open(struct image_store *s, const char *expected_digest, int64_t expected_size, bool resume,
                     struct blob_writer **out, struct berr **err)
{
        struct blob_writer *w;

        if (expected_digest && check_digest(expected_digest, err) < 0)
                return -1;
        w = calloc(1, sizeof(*w));
        if (!w)
                return berr_make(err, ENOMEM, "ingest");
        w->s = s;
        w->fd = w->lock_fd = -1;
        w->expected_size = expected_size;
        if (digester_new(DIGEST_SHA256, &w->d, err) < 0)
                goto fail;
        if (expected_digest) {
                w->expected = strdup(expected_digest);
                if (!w->expected) {
                        berr_make(err, ENOMEM, "ingest");
                        goto fail;
                }
                snprintf(w->lock_name, sizeof(w->lock_name), "blob-%s", digest_hex(expected_digest));
                if (store_lock_name(s, w->lock_name, true, &w->lock_fd, err) < 0)
                        goto fail;
                if (store_blob_exists(s, expected_digest)) {
                        blob_writer_free(w, true);
                        return 1;
                }
                snprintf(w->partial, sizeof(w->partial), "%s.partial", digest_hex(expected_digest));
                w->fd = openat(s->ingest_fd, w->partial, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (w->fd < 0) {
                        berr_errno(err, "open %s/ingest/%s", s->root, w->partial);
                        goto fail;
                }
                if (resume) {
                        if (writer_rehash(w, err) < 0)
                                goto fail;
                } else if (ftruncate(w->fd, 0) < 0) {
                        berr_errno(err, "truncate ingest/%s", w->partial);
                        goto fail;
                }
        } else {
                w->fd = openat(s->ingest_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
                if (w->fd < 0) {
                        berr_errno(err, "create a temporary file in %s/ingest", s->root);
                        goto fail;
                }
        }
        *out = w;
        return 0;
fail:
        blob_writer_free(w, true);
        return -1;
}

int blob_writer_write(struct blob_writer *w, const void *buf, size_t len, struct berr **err)
{
        int r;

        if (w->expected_size >= 0 && w->offset + len > (uint64_t)w->expected_size) {
                w->bad = true;
                return img_err(err, EFBIG, "blob %s: more data than its size of %" PRId64 " bytes",
                                 w->expected ? w->expected : "", w->expected_size);
        }
        if (digester_update(w->d, buf, len) < 0)
                return img_err(err, EIO, "hash");
        r = write_all(w->fd, buf, len);
        if (r < 0)
                return berr_make(err, -r, "write %s/ingest/%s", w->s->root, w->partial[0] ? w->partial : "(tmp)");
        w->offset += len;
        return 0;
}

uint64_t blob_writer_offset(const struct blob_writer *w)
{
        return w->offset;
}

int blob_writer_reset(struct blob_writer *w, struct berr **err)
{
        w->finished = false;
        digester_free(w->d);
        w->d = NULL;
        w->offset = 0;
        if (digester_new(DIGEST_SHA256, &w->d, err) < 0)
                return -1;
        if (ftruncate(w->fd, 0) < 0 || lseek(w->fd, 0, SEEK_SET) < 0)
                return berr_errno(err, "truncate ingest");
        return 0;
}

int blob_writer_reopen(struct blob_writer *w, struct berr **err)
{
        char p[32];
        int fd = open(fd_path(w->fd, p), O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return berr_errno(err, "reopen ingest file");
        return fd;
}

int blob_writer_finish(struct blob_writer *w, struct berr **err)
{
        if (w->finished)
                return 0;
        if (digester_final(w->d, w->got, sizeof(w->got)) < 0)
                return img_err(err, EIO, "hash");
        if (w->expected_size >= 0 && w->offset != (uint64_t)w->expected_size) {
                w->bad = true;
                return img_err(err, EBADMSG, "blob %s: got %" PRIu64 " bytes, want %" PRId64,
                                 w->expected ? w->expected : w->got, w->offset, w->expected_size);
        }
        if (w->expected && !streq(w->got, w->expected)) {
                w->bad = true;
                return img_err(err, EBADMSG, "blob %s: digest mismatch: the content hashes to %s", w->expected,
                                 w->got);
        }
        if (fsync(w->fd) < 0)
                return berr_errno(err, "fsync blob %s", w->got);
        w->finished = true;
        return 0;
}

int blob_writer_commit(struct blob_writer *w, char digest_out[136], struct berr **err)
{
        const char *hex;
        int r = blob_writer_finish(w, err);

        if (r < 0)
                return r;
        hex = digest_hex(w->got);
        if (w->partial[0]) {
                if (renameat(w->s->ingest_fd, w->partial, w->s->blobs_fd, hex) < 0)
                        return berr_errno(err, "rename ingest/%s to blobs/sha256/%s", w->partial, hex);
        } else {
                char p[32];
                if (linkat(AT_FDCWD, fd_path(w->fd, p), w->s->blobs_fd, hex, AT_SYMLINK_FOLLOW) < 0 &&
                    errno != EEXIST)
                        return berr_errno(err, "link blob %s", w->got);
        }
        w->committed = true;
        if (digest_out)
                memcpy(digest_out, w->got, strlen(w->got) + 1);
        return 0;
}

int store_blob_put(struct image_store *s, const void *buf, size_t len, const char *expected_digest,
                   char digest_out[136], struct berr **err)
{
        struct blob_writer *w = NULL;
        char dg[136];
        int r;

        if (!expected_digest) {
                if (digest_buf(DIGEST_SHA256, buf, len, dg, sizeof(dg)) < 0)
                        return img_err(err, EIO, "hash");
                expected_digest = dg;
        }
        r = blob_writer_open(s, expected_digest, (int64_t)len, false, &w, err);
        if (r < 0)
                return r;
        if (r == 0) {
                r = blob_writer_write(w, buf, len, err);
                if (r == 0)
                        r = blob_writer_commit(w, NULL, err);
                blob_writer_free(w, false);
                if (r < 0)
                        return r;
        }
        if (digest_out)
                snprintf(digest_out, 136, "%s", expected_digest);
        return 0;
}

int store_blob_remove(struct image_store *s, const char *digest, struct berr **err)
{
        if (check_digest(digest, err) < 0)
                return -1;
        if (unlinkat(s->blobs_fd, digest_hex(digest), 0) < 0 && errno != ENOENT)
                return berr_errno(err, "remove blob %s", digest);
        return 0;
}

int chain_id_next(const char *parent, const char *diff_id, char out[136])
{
        _cleanup_free_ char *s = NULL;

        if (!parent) {
                snprintf(out, 136, "%s", diff_id);
                return 0;
        }
        if (asprintf(&s, "%s %s", parent, diff_id) < 0)
                return -ENOMEM;
        return digest_buf(DIGEST_SHA256, s, strlen(s), out, 136);
}

bool store_snapshot_exists(struct image_store *s, const char *chain_id)
{
        return check_digest(chain_id, NULL) == 0 && faccessat(s->snapshots_fd, digest_hex(chain_id), F_OK, 0) == 0;
}

int store_snapshot_open(struct image_store *s, const char *chain_id, struct berr **err)
{
        int fd;

        if (check_digest(chain_id, err) < 0)
                return -1;
        _cleanup_free_ char *p = NULL;

        if (asprintf(&p, "%s/fs", digest_hex(chain_id)) < 0)
                return berr_make(err, ENOMEM, "snapshot");
        fd = openat(s->snapshots_fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return berr_errno(err, "layer %s", chain_id);
        return fd;
}

char *store_snapshot_path(struct image_store *s, const char *chain_id)
{
        char *p;

        if (asprintf(&p, "%s/snapshots/%s/fs", s->root, digest_hex(chain_id)) < 0)
                return NULL;
        return p;
}

static void random_name(char *buf, size_t size, const char *prefix)
{
        uint64_t r = 0;

        if (getrandom(&r, sizeof(r), 0) != sizeof(r))
                r = (uint64_t)getpid() * 2654435761u ^ (uint64_t)time(NULL);
        snprintf(buf, size, "%s%016" PRIx64, prefix, r);
}

int store_tmpdir(struct image_store *s, const char *prefix, char name[64], int *fd_out, struct berr **err)
{
        for (int i = 0; i < 16; i++) {
                random_name(name, 64, prefix);
                if (mkdirat(s->tmp_fd, name, 0700) < 0) {
                        if (errno == EEXIST)
                                continue;
                        return berr_errno(err, "mkdir %s/tmp/%s", s->root, name);
                }
                *fd_out = openat(s->tmp_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (*fd_out < 0) {
                        int r = berr_errno(err, "open %s/tmp/%s", s->root, name);
                        unlinkat(s->tmp_fd, name, AT_REMOVEDIR);
                        return r;
                }
                return 0;
        }
        return img_err(err, EEXIST, "mkdir in %s/tmp", s->root);
}

int store_blob_adopt(struct image_store *s, int dirfd, const char *name, const char *digest, struct berr **err)
{
        if (check_digest(digest, err) < 0)
                return -1;
        if (store_blob_exists(s, digest))
                return 0;
        if (renameat(dirfd, name, s->blobs_fd, digest_hex(digest)) < 0)
                return berr_errno(err, "move `%s` to blobs/sha256/%s", name, digest_hex(digest));
        return 0;
}

int store_snapshot_begin(struct image_store *s, struct snapshot_tmp *t, struct berr **err)
{
        for (int i = 0; i < 16; i++) {
                _cleanup_close_ int top = -1;
                random_name(t->name, sizeof(t->name), "layer-");
                if (mkdirat(s->tmp_fd, t->name, 0700) < 0) {
                        if (errno == EEXIST)
                                continue;
                        return berr_errno(err, "mkdir %s/tmp/%s", s->root, t->name);
                }
                top = openat(s->tmp_fd, t->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (top < 0 || mkdirat(top, "fs", 0755) < 0 ||
                    (t->dirfd = openat(top, "fs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
                        int r = berr_errno(err, "create %s/tmp/%s/fs", s->root, t->name);
                        t->dirfd = -1;
                        store_snapshot_abort(s, t);
                        return r;
                }
                return 0;
        }
        return img_err(err, EEXIST, "mkdir in %s/tmp", s->root);
}

int store_snapshot_commit(struct image_store *s, struct snapshot_tmp *t, const char *chain_id,
                          const struct snapshot_meta *m, struct berr **err)
{
        const char *hex = digest_hex(chain_id);
        _cleanup_free_ char *meta = NULL, *path = NULL;

        t->dirfd = safe_close(t->dirfd);
        if (asprintf(&meta, "{\"diff_id\":\"%s\",\"size\":%" PRIu64 ",\"entries\":%" PRIu64 "}\n", m->diff_id,
                     m->size, m->entries) < 0 ||
            asprintf(&path, "%s/meta.json", t->name) < 0)
                return berr_make(err, ENOMEM, "snapshot");
        if (write_file_at(s->tmp_fd, path, meta, strlen(meta), O_CREAT | O_TRUNC, 0600, err) < 0)
                return -1;
        if (renameat(s->tmp_fd, t->name, s->snapshots_fd, hex) < 0) {
                if (errno == EEXIST || errno == ENOTEMPTY) {
                        store_snapshot_abort(s, t);
                        return 0;
                }
                return berr_errno(err, "rename tmp/%s to snapshots/%s", t->name, hex);
        }
        t->name[0] = '\0';
        return 0;
}

int store_snapshot_meta(struct image_store *s, const char *chain_id, struct snapshot_meta *m, struct berr **err)
{
        _cleanup_free_ char *path = NULL, *buf = NULL;
        _cleanup_json_ json_object *doc = NULL;
        _cleanup_free_ char *diff_id = NULL;
        size_t len;

        if (check_digest(chain_id, err) < 0)
                return -1;
        if (asprintf(&path, "%s/meta.json", digest_hex(chain_id)) < 0)
                return berr_make(err, ENOMEM, "snapshot");
        if (read_file_at(s->snapshots_fd, path, 64 * 1024, &buf, &len, err) < 0 ||
            json_parse_buf(buf, len, path, &doc, err) < 0 ||
            json_get_str(doc, "", "diff_id", true, &diff_id, err) < 0 ||
            json_get_uint64(doc, "", "size", &m->size, err) < 0 ||
            json_get_uint64(doc, "", "entries", &m->entries, err) < 0)
                return berr_wrap(err, "layer %s", chain_id);
        snprintf(m->diff_id, sizeof(m->diff_id), "%s", diff_id);
        return 0;
}

void store_snapshot_abort(struct image_store *s, struct snapshot_tmp *t)
{
        t->dirfd = safe_close(t->dirfd);
        if (t->name[0]) {
                _cleanup_berr_ struct berr *e = NULL;
                if (store_trash(s, s->tmp_fd, t->name, &e) < 0)
                        log_debug("%s", e->msg);
                t->name[0] = '\0';
        }
}

int store_trash(struct image_store *s, int dirfd, const char *name, struct berr **err)
{
        char t[64];

        random_name(t, sizeof(t), "del-");
        if (renameat(dirfd, name, s->trash_fd, t) < 0) {
                if (errno == ENOENT)
                        return 0;
                return berr_errno(err, "move `%s` to %s/trash", name, s->root);
        }
        return rm_rf_at(s->trash_fd, t, err);
}

int store_snapshot_remove(struct image_store *s, const char *chain_id, struct berr **err)
{
        if (check_digest(chain_id, err) < 0)
                return -1;
        return store_trash(s, s->snapshots_fd, digest_hex(chain_id), err);
}

static int clean_dir(struct image_store *s, int dirfd, uint64_t *freed, struct berr **err)
{
        _cleanup_closedir_ DIR *d = NULL;
        int fd = dup(dirfd), r = 0;
        struct dirent *de;

        if (fd < 0)
                return berr_errno(err, "dup");
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return berr_errno(err, "opendir");
        }
        while ((de = readdir(d))) {
                struct stat st;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && freed) {
                        if (S_ISDIR(st.st_mode)) {
                                int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                                if (sub >= 0) {
                                        *freed += dir_disk_usage(sub);
                                        close(sub);
                                }
                        } else {
                                *freed += (uint64_t)st.st_blocks * 512;
                        }
                }
                if (dirfd == s->trash_fd ? rm_rf_at(dirfd, de->d_name, err) < 0
                                         : store_trash(s, dirfd, de->d_name, err) < 0)
                        r = -1;
        }
        return r;
}

int store_clean_leftovers(struct image_store *s, uint64_t *freed, struct berr **err)
{
        if (clean_dir(s, s->trash_fd, freed, err) < 0 || clean_dir(s, s->tmp_fd, freed, err) < 0 ||
            clean_dir(s, s->ingest_fd, freed, err) < 0)
                return berr_wrap(err, "clean %s", s->root);
        return 0;
}

static uint64_t usage_walk(int dfd, dev_t dev, int depth)
{
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        struct dirent *de;
        uint64_t sum = 0;

        if (!d) {
                close(dfd);
                return 0;
        }
        while ((de = readdir(d))) {
                struct stat st;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                /* Hardlinks count once per link (du -l): close enough for df, and
                 * cheaper than an inode set. */
                sum += (uint64_t)st.st_blocks * 512;
                if (S_ISDIR(st.st_mode) && st.st_dev == dev && depth < 256) {
                        int c = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (c >= 0)
                                sum += usage_walk(c, dev, depth + 1);
                }
        }
        return sum;
}

uint64_t dir_disk_usage(int dirfd)
{
        struct stat st;
        int fd;

        if (fstat(dirfd, &st) < 0)
                return 0;
        fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        return usage_walk(fd, st.st_dev, 0);
}
