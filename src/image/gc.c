/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/digest.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "db.h"
#include "gc.h"
#include "images.h"
#include "manifest.h"
#include "snapshot.h"
#include "util.h"

#define VERIFY_BUF (1u << 20)

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sort_strv(char **l)
{
        /* An empty list may be NULL, which qsort must not get even with 0 elements. */
        if (l && l[0])
                qsort(l, strv_length(l), sizeof(char *), cmp_str);
}

static bool sorted_has(char **l, const char *s)
{
        return l && bsearch(&s, l, strv_length(l), sizeof(char *), cmp_str) != NULL;
}

/* Names in a directory (no dot entries). */
static int list_dir(int dirfd, char ***out, struct berr **err)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return berr_errno(err, "open directory");
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return berr_errno(err, "opendir");
        }
        *out = calloc(1, sizeof(char *));
        if (!*out)
                return berr_make(err, ENOMEM, "list");
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") && strv_extend(out, de->d_name) < 0)
                        return berr_make(err, ENOMEM, "list");
        return 0;
}

static char *prefixed(const char *hex)
{
        char *s;
        return asprintf(&s, "sha256:%s", hex) < 0 ? NULL : s;
}

static int gc_locked(struct image_store *s, struct gc_result *res, struct berr **err)
{
        _cleanup_strv_free_ char **blobs = NULL, **chains = NULL, **files = NULL, **snaps = NULL, **links = NULL,
                                 **rw = NULL, **keys = NULL;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if (images_referenced(s, &blobs, &chains, err) < 0)
                return -1;
        sort_strv(blobs);
        sort_strv(chains);
        if (list_dir(s->blobs_fd, &files, err) < 0 || list_dir(s->snapshots_fd, &snaps, err) < 0 ||
            list_dir(s->links_fd, &links, err) < 0 || list_dir(s->rw_fd, &rw, err) < 0)
                return berr_wrap(err, "garbage collection");
        STRV_FOREACH (f, files) {
                _cleanup_free_ char *d = prefixed(*f);
                struct stat st2;
                if (!d)
                        return berr_make(err, ENOMEM, "gc");
                if (sorted_has(blobs, d))
                        continue;
                if (fstatat(s->blobs_fd, *f, &st2, AT_SYMLINK_NOFOLLOW) == 0)
                        res->bytes += (uint64_t)st2.st_blocks * 512;
                if (unlinkat(s->blobs_fd, *f, 0) < 0 && errno != ENOENT)
                        return berr_errno(err, "remove blob %s", d);
                res->blobs++;
        }
        STRV_FOREACH (n, snaps) {
                _cleanup_free_ char *d = prefixed(*n);
                int fd;
                if (!d)
                        return berr_make(err, ENOMEM, "gc");
                if (sorted_has(chains, d))
                        continue;
                fd = openat(s->snapshots_fd, *n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd >= 0) {
                        res->bytes += dir_disk_usage(fd);
                        close(fd);
                }
                if (store_trash(s, s->snapshots_fd, *n, err) < 0)
                        return -1;
                res->snapshots++;
        }
        /* Short links whose layer is gone. */
        STRV_FOREACH (l, links) {
                struct stat st2;
                if (fstatat(s->links_fd, *l, &st2, 0) < 0 && errno == ENOENT)
                        unlinkat(s->links_fd, *l, 0);
        }
        /* Writable layer directories without a record: a create that was interrupted. */
        if (db_prepare(s->db, "SELECT key FROM rw_layers", &st, err) < 0)
                return -1;
        while ((r = sqlite3_step(st)) == SQLITE_ROW)
                if (strv_extend(&keys, (const char *)sqlite3_column_text(st, 0)) < 0)
                        return berr_make(err, ENOMEM, "gc");
        if (r != SQLITE_DONE)
                return db_error(s->db, err, "read writable layers");
        STRV_FOREACH (k, rw)
                if (!strv_contains(keys, *k)) {
                        _cleanup_berr_ struct berr *e = NULL;
                        if (store_trash(s, s->rw_fd, *k, &e) < 0)
                                log_warn("%s", e->msg);
                }
        return store_clean_leftovers(s, &res->bytes, err);
}

int image_gc(struct image_store *s, bool wait, struct gc_result *res, struct berr **err)
{
        struct gc_result dummy;
        int r;

        if (!res)
                res = &dummy;
        memset(res, 0, sizeof(*res));
        r = image_store_lock(s, true, wait, err);
        if (r < 0)
                return r;
        r = gc_locked(s, res, err);
        image_store_unlock(s);
        return r;
}

int image_in_use(struct image_store *s, const char *id, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if (db_prepare(s->db, "SELECT 1 FROM rw_layers WHERE image_id = ? LIMIT 1", &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        if (r == SQLITE_ROW)
                return 1;
        if (r == SQLITE_DONE)
                return 0;
        return db_error(s->db, err, "read writable layers");
}

int image_remove(struct image_store *s, const char *id, bool force, struct berr **err)
{
        _cleanup_strv_free_ char **children = NULL;
        int r;

        if (!force) {
                r = image_in_use(s, id, err);
                if (r < 0)
                        return r;
                if (r > 0)
                        return img_err(err, EBUSY, "image %s is in use by a container", id);
                if (images_children(s, id, &children, err) < 0)
                        return -1;
                if (children[0])
                        return img_err(err, EEXIST, "image %s has dependent child images", id);
        }
        return images_remove(s, id, err);
}

int image_disk_usage(struct image_store *s, struct image_df *out, struct berr **err)
{
        struct image_record **v = NULL;
        _cleanup_strv_free_ char **snaps = NULL, **active_chains = NULL, **active_blobs = NULL, **files = NULL,
                                 **rw = NULL;
        _cleanup_stmt_ sqlite3_stmt *st = NULL, *bst = NULL;
        size_t n = 0;
        int r;

        memset(out, 0, sizeof(*out));
        if (images_list(s, &v, &n, err) < 0)
                return -1;
        out->images = n;
        if (db_prepare(s->db, "SELECT lowers, image_id FROM rw_layers", &st, err) < 0)
                goto fail;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
                _cleanup_free_ char *l = strdup((const char *)sqlite3_column_text(st, 0));
                char *save = NULL;
                out->containers++;
                for (char *t = l ? strtok_r(l, " ", &save) : NULL; t; t = strtok_r(NULL, " ", &save))
                        if (strv_extend(&active_chains, t) < 0)
                                goto nomem;
        }
        if (r != SQLITE_DONE) {
                db_error(s->db, err, "read writable layers");
                goto fail;
        }
        sort_strv(active_chains);
        /* Blobs of images that containers use stay, like their layers: not reclaimable. */
        if (db_prepare(s->db,
                       "SELECT b.digest FROM image_blobs b JOIN rw_layers r ON r.image_id = b.image_id "
                       "UNION SELECT l.digest FROM image_layers l JOIN rw_layers r ON r.image_id = l.image_id "
                       "UNION SELECT i.manifest_digest FROM images i JOIN rw_layers r ON r.image_id = i.id "
                       "UNION SELECT i.id FROM images i JOIN rw_layers r ON r.image_id = i.id",
                       &bst, err) < 0)
                goto fail;
        while ((r = sqlite3_step(bst)) == SQLITE_ROW)
                if (strv_extend(&active_blobs, (const char *)sqlite3_column_text(bst, 0)) < 0)
                        goto nomem;
        if (r != SQLITE_DONE) {
                db_error(s->db, err, "read blobs in use");
                goto fail;
        }
        sort_strv(active_blobs);
        for (size_t i = 0; i < n; i++) {
                r = image_in_use(s, v[i]->id, err);
                if (r < 0)
                        goto fail;
                out->active += r > 0;
        }
        /* Bytes on disk: each snapshot and blob once, however many images share it. */
        if (list_dir(s->snapshots_fd, &snaps, err) < 0 || list_dir(s->blobs_fd, &files, err) < 0 ||
            list_dir(s->rw_fd, &rw, err) < 0)
                goto fail;
        STRV_FOREACH (sn, snaps) {
                _cleanup_free_ char *d = prefixed(*sn);
                int fd = openat(s->snapshots_fd, *sn, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                uint64_t u;
                if (fd < 0)
                        continue;
                u = dir_disk_usage(fd);
                close(fd);
                out->size += u;
                if (!d || !sorted_has(active_chains, d))
                        out->reclaimable += u;
        }
        STRV_FOREACH (f, files) {
                _cleanup_free_ char *d = prefixed(*f);
                struct stat st2;
                if (fstatat(s->blobs_fd, *f, &st2, AT_SYMLINK_NOFOLLOW) == 0) {
                        out->size += (uint64_t)st2.st_blocks * 512;
                        if (!d || !sorted_has(active_blobs, d))
                                out->reclaimable += (uint64_t)st2.st_blocks * 512;
                }
        }
        STRV_FOREACH (k, rw) {
                _cleanup_free_ char *p = NULL;
                int fd;
                if (asprintf(&p, "%s/upper", *k) < 0)
                        continue;
                fd = openat(s->rw_fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd >= 0) {
                        out->containers_size += dir_disk_usage(fd);
                        close(fd);
                }
        }
        image_records_free(v, n);
        return 0;
nomem:
        berr_make(err, ENOMEM, "disk usage");
fail:
        image_records_free(v, n);
        return -1;
}

void check_report_clear(struct check_report *r)
{
        strv_free(r->problems);
        strv_free(r->repairs);
        strv_free(r->notes);
        memset(r, 0, sizeof(*r));
}

static void note(char ***l, const char *fmt, ...) _printf_(2, 3);
static void note(char ***l, const char *fmt, ...)
{
        char *s;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n >= 0)
                strv_push(l, s);
}

static int verify_blob(struct image_store *s, const char *name, char *buf, bool *ok)
{
        _cleanup_digester_ struct digester *d = NULL;
        _cleanup_close_ int fd = openat(s->blobs_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        char got[136];

        *ok = false;
        if (fd < 0 || digester_new(DIGEST_SHA256, &d, NULL) < 0)
                return 0;
        for (;;) {
                ssize_t n = read(fd, buf, VERIFY_BUF);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return 0;
                if (n == 0)
                        break;
                digester_update(d, buf, (size_t)n);
        }
        if (digester_final(d, got, sizeof(got)) < 0)
                return 0;
        *ok = strlen(got) == 71 && streq(got + 7, name);
        return 0;
}

static int count_leftovers(struct image_store *s, size_t *n, struct berr **err)
{
        _cleanup_strv_free_ char **a = NULL, **b = NULL, **c = NULL;

        if (list_dir(s->tmp_fd, &a, err) < 0 || list_dir(s->ingest_fd, &b, err) < 0 ||
            list_dir(s->trash_fd, &c, err) < 0)
                return -1;
        *n = strv_length(a) + strv_length(b) + strv_length(c);
        return 0;
}

/* Checks one image; returns 1 when it is usable, 0 when damaged beyond what repair can redo. */
static int check_image(struct image_store *s, const struct image_record *rec, char **good_blobs, bool repair,
                       struct check_report *out, struct berr **err)
{
        _cleanup_image_config_ struct image_config *cfg = NULL;
        _cleanup_free_ char *buf = NULL;
        const char *id = rec->id;
        bool ok = true;
        size_t len;

        if (!sorted_has(good_blobs, rec->manifest_digest)) {
                note(&out->problems, "image %s: manifest %s is missing or corrupt", id, rec->manifest_digest);
                ok = false;
        }
        if (!sorted_has(good_blobs, id)) {
                note(&out->problems, "image %s: config blob is missing or corrupt", id);
                return 0;
        }
        if (store_blob_read(s, id, CONFIG_MAX_SIZE, &buf, &len, NULL) < 0 ||
            image_config_parse(buf, len, &cfg, NULL) < 0 || cfg->n_diff_ids != rec->n_layers) {
                note(&out->problems, "image %s: config does not parse or does not match its layers", id);
                return 0;
        }
        for (size_t i = 0; i < rec->n_layers; i++) {
                const struct image_layer *l = &rec->layers[i];
                struct snapshot_meta meta;
                bool blob_ok = sorted_has(good_blobs, l->digest);
                if (!blob_ok) {
                        note(&out->problems, "image %s: layer blob %s is missing or corrupt", id, l->digest);
                        ok = false;
                }
                if (!streq(l->diff_id, cfg->diff_ids[i])) {
                        note(&out->problems, "image %s: layer %zu diff_id differs from the config", id, i);
                        ok = false;
                }
                if (store_snapshot_exists(s, l->chain_id) && store_snapshot_meta(s, l->chain_id, &meta, NULL) == 0 &&
                    streq(meta.diff_id, l->diff_id))
                        continue;
                if (repair && blob_ok) {
                        _cleanup_berr_ struct berr *e = NULL;
                        enum layer_compression c;
                        if (layer_compression_from_media_type(l->media_type, &c, &e) == 0 &&
                            snapshot_from_blob(s, l->digest, c, l->diff_id, l->chain_id, NULL, &e) == 0) {
                                note(&out->repairs, "unpacked layer %s of image %s again", l->chain_id, id);
                                continue;
                        }
                        note(&out->problems, "image %s: layer %s cannot be unpacked again: %s", id, l->chain_id,
                             e ? e->msg : "?");
                } else {
                        note(&out->problems, "image %s: layer %s is missing", id, l->chain_id);
                }
                ok = false;
        }
        (void)err;
        return ok ? 1 : 0;
}

int image_check(struct image_store *s, bool repair, bool quick, struct check_report *out, struct berr **err)
{
        _cleanup_strv_free_ char **files = NULL, **snaps = NULL, **good = NULL;
        _cleanup_free_ char *buf = NULL;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        struct image_record **v = NULL;
        size_t n = 0, leftovers = 0;
        int ret = -1;

        memset(out, 0, sizeof(*out));
        if (image_store_lock(s, true, true, err) < 0)
                return -1;
        if (db_prepare(s->db, "PRAGMA integrity_check", &st, err) < 0)
                goto out;
        while (sqlite3_step(st) == SQLITE_ROW) {
                const char *t = (const char *)sqlite3_column_text(st, 0);
                if (t && !streq(t, "ok")) {
                        note(&out->problems, "database: %s", t);
                        out->remaining++;
                }
        }
        buf = malloc(VERIFY_BUF);
        if (!buf || !(good = calloc(1, sizeof(char *)))) {
                berr_make(err, ENOMEM, "check");
                goto out;
        }
        if (list_dir(s->blobs_fd, &files, err) < 0 || list_dir(s->snapshots_fd, &snaps, err) < 0)
                goto out;
        STRV_FOREACH (f, files) {
                _cleanup_free_ char *d = prefixed(*f);
                bool ok = true;
                out->blobs++;
                if (!d || digest_validate(d, NULL, NULL) < 0) {
                        note(&out->problems, "blobs/sha256/%s: not a blob name", *f);
                        ok = false;
                } else if (!quick) {
                        verify_blob(s, *f, buf, &ok);
                        if (!ok)
                                note(&out->problems, "blob %s is corrupt: its content does not match its digest", d);
                }
                if (ok)
                        strv_push(&good, TAKE_PTR(d));
                else if (repair && unlinkat(s->blobs_fd, *f, 0) == 0)
                        note(&out->repairs, "removed corrupt blob %s", *f);
                else
                        out->remaining++;
        }
        sort_strv(good);
        STRV_FOREACH (sn, snaps) {
                _cleanup_free_ char *d = prefixed(*sn);
                struct snapshot_meta meta;
                int fd = -1;
                out->snapshots++;
                if (d && digest_validate(d, NULL, NULL) == 0 && store_snapshot_meta(s, d, &meta, NULL) == 0 &&
                    (fd = store_snapshot_open(s, d, NULL)) >= 0) {
                        close(fd);
                        continue;
                }
                note(&out->problems, "snapshots/%s is damaged (no fs/ or meta.json)", *sn);
                if (repair && store_trash(s, s->snapshots_fd, *sn, NULL) == 0)
                        note(&out->repairs, "removed damaged layer %s", *sn);
                else
                        out->remaining++;
        }
        if (images_list(s, &v, &n, err) < 0)
                goto out;
        out->images = n;
        for (size_t i = 0; i < n; i++) {
                int r = check_image(s, v[i], good, repair, out, err);
                if (r < 0)
                        goto out;
                if (r == 0 && repair) {
                        if (images_remove(s, v[i]->id, err) < 0)
                                goto out;
                        note(&out->repairs, "removed damaged image %s (%s); pull it again", v[i]->id,
                             v[i]->names && v[i]->names[0] ? v[i]->names[0] : "<none>");
                } else if (r == 0) {
                        out->remaining++;
                }
        }
        if (count_leftovers(s, &leftovers, err) < 0)
                goto out;
        if (repair) {
                struct gc_result g = {0};
                if (gc_locked(s, &g, err) < 0)
                        goto out;
                if (leftovers || g.blobs || g.snapshots)
                        note(&out->repairs,
                             "removed %zu leftovers of interrupted operations and %" PRIu64
                             " unreferenced blobs and layers",
                             leftovers, g.blobs + g.snapshots);
        } else if (leftovers) {
                note(&out->notes, "%zu leftovers of interrupted operations (removed by --repair or prune)",
                     leftovers);
        }
        ret = 0;
out:
        image_records_free(v, n);
        image_store_unlock(s);
        return ret;
}
