/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "basic/timeutil.h"
#include "db.h"
#include "images.h"
#include "snapshot.h"
#include "unpack.h"
#include "util.h"

#define RW_KEY_MAX 128

static const char *hex_of(const char *digest)
{
        const char *c = strchr(digest, ':');
        return c ? c + 1 : digest;
}

int snapshot_from_blob(struct image_store *s, const char *digest, enum layer_compression c, const char *diff_id,
                       const char *chain_id, uint64_t *size, struct berr **err)
{
        struct unpack_opts uo = {.overlay_whiteouts = true, .no_chown = s->rootless,
                                 .overlay_userxattr = s->rootless};
        struct snapshot_tmp tmp = {.dirfd = -1};
        struct unpack_result res;
        struct snapshot_meta meta;
        _cleanup_close_ int fd = -1;
        char lock[80];
        int lock_fd = -1, ret = -1;

        snprintf(lock, sizeof(lock), "snap-%s", hex_of(chain_id));
        if (store_lock_name(s, lock, true, &lock_fd, err) < 0)
                return -1;
        if (store_snapshot_exists(s, chain_id)) {
                if (size && store_snapshot_meta(s, chain_id, &meta, NULL) == 0)
                        *size = meta.size;
                ret = 0;
                goto out;
        }
        if (store_blob_open(s, digest, &fd, err) < 0 || store_snapshot_begin(s, &tmp, err) < 0 ||
            layer_unpack_fd(fd, tmp.dirfd, c, &uo, &res, err) < 0)
                goto out;
        if (!streq(res.diff_id, diff_id)) {
                img_err(err, EBADMSG, "uncompressed content hashes to %s, but the image config says %s", res.diff_id,
                          diff_id);
                goto out;
        }
        snprintf(meta.diff_id, sizeof(meta.diff_id), "%s", diff_id);
        meta.size = res.uncompressed_size;
        meta.entries = res.entries;
        if (store_snapshot_commit(s, &tmp, chain_id, &meta, err) < 0)
                goto out;
        if (size)
                *size = meta.size;
        ret = 0;
out:
        if (tmp.name[0])
                store_snapshot_abort(s, &tmp);
        store_unlock_name(s, lock, lock_fd);
        if (ret < 0)
                berr_wrap(err, "layer %s", digest);
        return ret;
}

static int check_key(const char *key, struct berr **err)
{
        size_t n = strlen(key);

        if (n == 0 || n > RW_KEY_MAX || key[0] == '.')
                return img_err(err, EINVAL, "invalid layer key `%.140s`", key);
        for (const char *p = key; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr("_.-", *p)))
                        return img_err(err, EINVAL, "invalid layer key `%.140s`", key);
        return 0;
}

int snapshot_rw_exists(struct image_store *s, const char *key, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if (db_prepare(s->db, "SELECT 1 FROM rw_layers WHERE key = ?", &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        if (r == SQLITE_ROW)
                return 1;
        if (r == SQLITE_DONE)
                return 0;
        return db_error(s->db, err, "read writable layer");
}

int snapshot_rw_create(struct image_store *s, const char *key, const char *image_id, struct berr **err)
{
        _cleanup_image_record_ struct image_record *rec = NULL;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *lowers = NULL;
        _cleanup_close_ int dfd = -1;
        size_t len = 0;
        int r, ret = -1;

        if (check_key(key, err) < 0)
                return -1;
        if (image_store_lock(s, false, true, err) < 0)
                return -1;
        r = images_get(s, image_id, &rec, err);
        if (r <= 0) {
                if (r == 0)
                        img_err(err, ENOENT, "%s: image not known", image_id);
                goto out;
        }
        lowers = calloc(1, rec->n_layers * 72 + 1);
        if (!lowers) {
                berr_make(err, ENOMEM, "writable layer");
                goto out;
        }
        for (size_t i = rec->n_layers; i-- > 0;) {
                const char *chain = rec->layers[i].chain_id;
                if (!store_snapshot_exists(s, chain)) {
                        img_err(err, ENOENT, "image %s: layer %s is missing (run `berth system check --repair`)",
                                  image_id, chain);
                        goto out;
                }
                len += (size_t)sprintf(lowers + len, "%s%s", len ? " " : "", chain);
        }
        if (mkdirat(s->rw_fd, key, 0700) < 0) {
                berr_errno(err, "create writable layer `%s`", key);
                goto out;
        }
        dfd = openat(s->rw_fd, key, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0 || mkdirat(dfd, "upper", 0755) < 0 || mkdirat(dfd, "work", 0700) < 0 ||
            mkdirat(dfd, "merged", 0755) < 0 || mkdirat(dfd, "empty", 0755) < 0) {
                berr_errno(err, "create writable layer `%s`", key);
                goto fail_dir;
        }
        if (db_prepare(s->db, "INSERT INTO rw_layers (key, image_id, lowers, created_ns) VALUES (?, ?, ?, ?)", &st,
                       err) < 0)
                goto fail_dir;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, image_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, lowers, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, time_now_ns());
        if (sqlite3_step(st) != SQLITE_DONE) {
                db_error(s->db, err, "record writable layer");
                goto fail_dir;
        }
        ret = 0;
        goto out;
fail_dir:
        store_trash(s, s->rw_fd, key, NULL);
out:
        image_store_unlock(s);
        return ret;
}

int snapshot_rw_lowers(struct image_store *s, const char *key, char ***out, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *copy = NULL;
        char *save = NULL;
        int r;

        if (db_prepare(s->db, "SELECT lowers FROM rw_layers WHERE key = ?", &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        if (r == SQLITE_DONE)
                return img_err(err, ENOENT, "writable layer `%s` does not exist", key);
        if (r != SQLITE_ROW)
                return db_error(s->db, err, "read writable layer");
        copy = strdup((const char *)sqlite3_column_text(st, 0));
        if (!copy)
                return berr_make(err, ENOMEM, "writable layer");
        *out = calloc(1, sizeof(char *));
        if (!*out)
                return berr_make(err, ENOMEM, "writable layer");
        for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
                if (strv_extend(out, t) < 0)
                        return berr_make(err, ENOMEM, "writable layer");
        return 0;
}

/* l/<shortest unused-or-matching prefix of hex> -> ../snapshots/<hex>/fs */
static int short_link(struct image_store *s, const char *chain, char **out, struct berr **err)
{
        static const size_t lens[] = {12, 16, 24, 32, 64};
        const char *hex = hex_of(chain);
        _cleanup_free_ char *target = NULL;

        if (asprintf(&target, "../snapshots/%s/fs", hex) < 0)
                return berr_make(err, ENOMEM, "link");
        for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
                char name[72], have[256];
                ssize_t n;
                snprintf(name, sizeof(name), "%.*s", (int)lens[i], hex);
                if (symlinkat(target, s->links_fd, name) == 0) {
                        if (asprintf(out, "l/%s", name) < 0)
                                return berr_make(err, ENOMEM, "link");
                        return 0;
                }
                if (errno != EEXIST)
                        return berr_errno(err, "symlink %s/l/%s", s->root, name);
                n = readlinkat(s->links_fd, name, have, sizeof(have) - 1);
                if (n < 0)
                        continue;
                have[n] = '\0';
                if (streq(have, target)) {
                        if (asprintf(out, "l/%s", name) < 0)
                                return berr_make(err, ENOMEM, "link");
                        return 0;
                }
        }
        return img_err(err, EEXIST, "no free short link for layer %s", chain);
}

int snapshot_overlay_options(struct image_store *s, char *const *lowers, const char *upper, const char *work,
                             bool *relative, char **out, struct berr **err)
{
        long page = sysconf(_SC_PAGESIZE);
        char *opts = NULL;
        size_t len = 0, cap = 0;

        *relative = false;
        for (int pass = 0; pass < 2; pass++) {
                len = 0;
                free(opts);
                cap = 64 + strlen(s->root) * 2 + strlen(upper) + strlen(work);
                STRV_FOREACH (l, lowers)
                        cap += strlen(s->root) + 100;
                opts = malloc(cap);
                if (!opts)
                        return berr_make(err, ENOMEM, "mount options");
                len += (size_t)sprintf(opts, "lowerdir=");
                STRV_FOREACH (l, lowers) {
                        if (pass == 0) {
                                len += (size_t)sprintf(opts + len, "%s%s/snapshots/%s/fs", l == lowers ? "" : ":",
                                                       s->root, hex_of(*l));
                        } else {
                                _cleanup_free_ char *link = NULL;
                                if (short_link(s, *l, &link, err) < 0) {
                                        free(opts);
                                        return -1;
                                }
                                len += (size_t)sprintf(opts + len, "%s%s", l == lowers ? "" : ":", link);
                        }
                }
                len += (size_t)sprintf(opts + len, ",upperdir=%s,workdir=%s", upper, work);
                if (s->rootless)
                        len += (size_t)sprintf(opts + len, ",userxattr");
                if (pass == 0 && (long)len < page) {
                        *out = opts;
                        return 0;
                }
                if (pass == 0) {
                        /* Relative names below: upper/work relative to the root too. */
                        size_t rl = strlen(s->root);
                        if (strneq(upper, s->root, rl) && upper[rl] == '/')
                                upper += rl + 1;
                        if (strneq(work, s->root, rl) && work[rl] == '/')
                                work += rl + 1;
                }
        }
        if ((long)len >= page) {
                free(opts);
                return img_err(err, E2BIG, "overlay mount options for %zu layers do not fit in a page",
                                 strv_length((char **)lowers));
        }
        *relative = true;
        *out = opts;
        return 0;
}

/* mount(2) from a child that chdir()s into the store root, for relative lowerdirs. */
static int mount_relative(const char *root, const char *target, unsigned long flags, const char *opts)
{
        int status;
        pid_t pid = fork();

        if (pid < 0)
                return -errno;
        if (pid == 0) {
                if (chdir(root) < 0 || mount("overlay", target, "overlay", flags, opts) < 0)
                        _exit(errno & 0xff);
                _exit(0);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (!WIFEXITED(status))
                return -EIO;
        return -WEXITSTATUS(status);
}

int snapshot_rw_mount(struct image_store *s, const char *key, const char *target, bool readonly,
                      char **mountpoint_out, struct berr **err)
{
        _cleanup_strv_free_ char **lowers = NULL;
        _cleanup_free_ char *upper = NULL, *work = NULL, *merged = NULL, *opts = NULL;
        unsigned long flags = readonly ? MS_RDONLY : 0;
        bool relative;
        int r;

        if (check_key(key, err) < 0 || snapshot_rw_lowers(s, key, &lowers, err) < 0)
                return -1;
        if (asprintf(&upper, "%s/rw/%s/upper", s->root, key) < 0 || asprintf(&work, "%s/rw/%s/work", s->root, key) < 0 ||
            asprintf(&merged, "%s/rw/%s/merged", s->root, key) < 0)
                return berr_make(err, ENOMEM, "mount");
        if (!target)
                target = merged;
        if (!lowers[0]) {
                /* overlay needs a lower layer: an image without layers gets an empty one. */
                _cleanup_free_ char *o = NULL;
                if (asprintf(&o, "lowerdir=%s/rw/%s/empty,upperdir=%s,workdir=%s", s->root, key, upper, work) < 0)
                        return berr_make(err, ENOMEM, "mount");
                if (mount("overlay", target, "overlay", flags, o) < 0)
                        return berr_errno(err, "mount overlay on `%s`", target);
                goto done;
        }
        if (snapshot_overlay_options(s, lowers, upper, work, &relative, &opts, err) < 0)
                return -1;
        if (relative)
                r = mount_relative(s->root, target, flags, opts);
        else
                r = mount("overlay", target, "overlay", flags, opts) < 0 ? -errno : 0;
        if (r < 0)
                return berr_make(err, -r, "mount overlay (%zu layers) on `%s`", strv_length(lowers), target);
done:
        if (mountpoint_out && !(*mountpoint_out = strdup(target)))
                return berr_make(err, ENOMEM, "mount");
        return 0;
}

int snapshot_rw_unmount(struct image_store *s, const char *key, const char *target, struct berr **err)
{
        _cleanup_free_ char *merged = NULL;

        if (check_key(key, err) < 0)
                return -1;
        if (!target) {
                if (asprintf(&merged, "%s/rw/%s/merged", s->root, key) < 0)
                        return berr_make(err, ENOMEM, "unmount");
                target = merged;
        }
        if (umount2(target, UMOUNT_NOFOLLOW) < 0) {
                if (errno == EINVAL || errno == ENOENT)
                        return 0;
                if (errno != EBUSY || umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
                        return berr_errno(err, "unmount `%s`", target);
        }
        return 0;
}

int snapshot_rw_remove(struct image_store *s, const char *key, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (snapshot_rw_unmount(s, key, NULL, err) < 0)
                return -1;
        if (db_prepare(s->db, "DELETE FROM rw_layers WHERE key = ?", &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
                return db_error(s->db, err, "remove writable layer");
        return store_trash(s, s->rw_fd, key, err);
}

char *snapshot_rw_upper(struct image_store *s, const char *key)
{
        char *p;

        if (check_key(key, NULL) < 0 || asprintf(&p, "%s/rw/%s/upper", s->root, key) < 0)
                return NULL;
        return p;
}
