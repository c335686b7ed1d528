/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "basic/strv.h"
#include "basic/timeutil.h"
#include "db.h"
#include "images.h"
#include "reference.h"
#include "util.h"

/* Migration steps of the "image" component: append only, never edit a released step. */
static const char *const image_schema[] = {
        "CREATE TABLE images ("
        "  id TEXT PRIMARY KEY,"
        "  manifest_digest TEXT NOT NULL,"
        "  manifest_media_type TEXT NOT NULL,"
        "  config_media_type TEXT NOT NULL,"
        "  os TEXT NOT NULL DEFAULT '',"
        "  architecture TEXT NOT NULL DEFAULT '',"
        "  variant TEXT NOT NULL DEFAULT '',"
        "  created_ns INTEGER NOT NULL DEFAULT 0,"
        "  added_ns INTEGER NOT NULL,"
        "  size INTEGER NOT NULL DEFAULT 0,"
        "  top_chain_id TEXT);"
        "CREATE TABLE image_layers ("
        "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
        "  idx INTEGER NOT NULL,"
        "  digest TEXT NOT NULL,"
        "  media_type TEXT NOT NULL,"
        "  size INTEGER NOT NULL,"
        "  diff_id TEXT NOT NULL,"
        "  chain_id TEXT NOT NULL,"
        "  unpacked_size INTEGER NOT NULL DEFAULT 0,"
        "  PRIMARY KEY (image_id, idx));"
        "CREATE INDEX image_layers_chain ON image_layers(chain_id);"
        /* digest: the manifest (or index) the name was pulled by, if any. */
        "CREATE TABLE image_names ("
        "  name TEXT PRIMARY KEY,"
        "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
        "  digest TEXT,"
        "  added_ns INTEGER NOT NULL);"
        "CREATE INDEX image_names_image ON image_names(image_id);"
        "CREATE TABLE image_digests ("
        "  repo TEXT NOT NULL,"
        "  digest TEXT NOT NULL,"
        "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
        "  PRIMARY KEY (repo, digest, image_id));"
        "CREATE INDEX image_digests_image ON image_digests(image_id);"
        "CREATE TABLE image_blobs ("
        "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
        "  digest TEXT NOT NULL,"
        "  PRIMARY KEY (image_id, digest));"
        "CREATE INDEX image_blobs_digest ON image_blobs(digest);"
        "CREATE TABLE blob_sources ("
        "  digest TEXT NOT NULL,"
        "  repo TEXT NOT NULL,"
        "  PRIMARY KEY (digest, repo));"
        /* Containers' writable layers: lowers are chain ids, top first, space separated,
         * so the layers stay pinned even when the image is removed (rmi -f). */
        "CREATE TABLE rw_layers ("
        "  key TEXT PRIMARY KEY,"
        "  image_id TEXT,"
        "  lowers TEXT NOT NULL,"
        "  created_ns INTEGER NOT NULL);",
};

int images_db_migrate(struct image_store *s, struct berr **err)
{
        return db_migrate(s->db, "image", image_schema, ARRAY_SIZE(image_schema), err);
}

void image_record_free(struct image_record *r)
{
        if (!r)
                return;
        free(r->id);
        free(r->manifest_digest);
        free(r->manifest_media_type);
        free(r->config_media_type);
        free(r->os);
        free(r->architecture);
        free(r->variant);
        free(r->top_chain_id);
        for (size_t i = 0; i < r->n_layers; i++) {
                free(r->layers[i].digest);
                free(r->layers[i].media_type);
                free(r->layers[i].diff_id);
                free(r->layers[i].chain_id);
        }
        free(r->layers);
        strv_free(r->names);
        strv_free(r->name_digests);
        strv_free(r->repo_digests);
        free(r);
}

void image_records_free(struct image_record **v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                image_record_free(v[i]);
        free(v);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
        const unsigned char *t = sqlite3_column_text(st, i);
        return t ? strdup((const char *)t) : NULL;
}

/* Runs a one-column query with one text parameter into a strv. */
static int query_strv(struct image_store *s, const char *sql, const char *param, char ***out, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if (db_prepare(s->db, sql, &st, err) < 0)
                return -1;
        if (param)
                sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
                const unsigned char *t = sqlite3_column_text(st, 0);
                if (t && strv_extend(out, (const char *)t) < 0)
                        return berr_make(err, ENOMEM, "database");
        }
        if (r != SQLITE_DONE)
                return db_error(s->db, err, "query");
        if (!*out && !(*out = calloc(1, sizeof(char *))))
                return berr_make(err, ENOMEM, "database");
        return 0;
}

static int load_layers(struct image_store *s, struct image_record *r, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc;

        if (db_prepare(s->db,
                       "SELECT digest, media_type, size, diff_id, chain_id, unpacked_size FROM image_layers "
                       "WHERE image_id = ? ORDER BY idx",
                       &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct image_layer *n = realloc(r->layers, (r->n_layers + 1) * sizeof(*n)), *l;
                if (!n)
                        return berr_make(err, ENOMEM, "database");
                r->layers = n;
                l = &n[r->n_layers++];
                l->digest = col_dup(st, 0);
                l->media_type = col_dup(st, 1);
                l->size = sqlite3_column_int64(st, 2);
                l->diff_id = col_dup(st, 3);
                l->chain_id = col_dup(st, 4);
                l->unpacked_size = (uint64_t)sqlite3_column_int64(st, 5);
                if (!l->digest || !l->media_type || !l->diff_id || !l->chain_id)
                        return berr_make(err, ENOMEM, "database");
        }
        if (rc != SQLITE_DONE)
                return db_error(s->db, err, "read layers");
        return 0;
}

#define IMAGE_COLUMNS                                                                                        \
        "id, manifest_digest, manifest_media_type, config_media_type, os, architecture, variant, created_ns, " \
        "added_ns, size, top_chain_id"

static int record_from_row(struct image_store *s, sqlite3_stmt *st, struct image_record **out, struct berr **err)
{
        _cleanup_image_record_ struct image_record *r = calloc(1, sizeof(*r));

        if (!r)
                return berr_make(err, ENOMEM, "database");
        r->id = col_dup(st, 0);
        r->manifest_digest = col_dup(st, 1);
        r->manifest_media_type = col_dup(st, 2);
        r->config_media_type = col_dup(st, 3);
        r->os = col_dup(st, 4);
        r->architecture = col_dup(st, 5);
        r->variant = col_dup(st, 6);
        r->created_ns = sqlite3_column_int64(st, 7);
        r->added_ns = sqlite3_column_int64(st, 8);
        r->size = (uint64_t)sqlite3_column_int64(st, 9);
        r->top_chain_id = col_dup(st, 10);
        if (!r->id || !r->manifest_digest || !r->manifest_media_type || !r->config_media_type || !r->os ||
            !r->architecture || !r->variant)
                return berr_make(err, ENOMEM, "database");
        if (load_layers(s, r, err) < 0 ||
            query_strv(s, "SELECT name FROM image_names WHERE image_id = ? ORDER BY added_ns, name", r->id,
                       &r->names, err) < 0 ||
            query_strv(s, "SELECT COALESCE(digest, '') FROM image_names WHERE image_id = ? ORDER BY added_ns, name",
                       r->id, &r->name_digests, err) < 0 ||
            query_strv(s, "SELECT repo || '@' || digest FROM image_digests WHERE image_id = ? ORDER BY repo, digest",
                       r->id, &r->repo_digests, err) < 0)
                return -1;
        *out = TAKE_PTR(r);
        return 0;
}

int images_get(struct image_store *s, const char *id, struct image_record **out, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if (db_prepare(s->db, "SELECT " IMAGE_COLUMNS " FROM images WHERE id = ?", &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        if (r == SQLITE_DONE)
                return 0;
        if (r != SQLITE_ROW)
                return db_error(s->db, err, "read image");
        if (record_from_row(s, st, out, err) < 0)
                return -1;
        return 1;
}

int images_list(struct image_store *s, struct image_record ***out, size_t *n_out, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        struct image_record **v = NULL;
        size_t n = 0;
        int r;

        if (db_prepare(s->db, "SELECT " IMAGE_COLUMNS " FROM images ORDER BY created_ns DESC, added_ns DESC", &st,
                       err) < 0)
                return -1;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
                struct image_record **nv = realloc(v, (n + 1) * sizeof(*v));
                if (!nv) {
                        image_records_free(v, n);
                        return berr_make(err, ENOMEM, "database");
                }
                v = nv;
                if (record_from_row(s, st, &v[n], err) < 0) {
                        image_records_free(v, n);
                        return -1;
                }
                n++;
        }
        if (r != SQLITE_DONE) {
                image_records_free(v, n);
                return db_error(s->db, err, "list images");
        }
        *out = v;
        *n_out = n;
        return 0;
}

static bool all_hex(const char *s, size_t max)
{
        size_t n = strlen(s);

        if (n == 0 || n > max)
                return false;
        for (; *s; s++)
                if (!isdigit((unsigned char)*s) && !(*s >= 'a' && *s <= 'f'))
                        return false;
        return true;
}

/* 1 with a unique id, 0 none, error when ambiguous. */
static int lookup_one(struct image_store *s, const char *sql, const char *param, const char *input, char **id_out,
                      struct berr **err)
{
        _cleanup_strv_free_ char **ids = NULL;

        if (query_strv(s, sql, param, &ids, err) < 0)
                return -1;
        if (strv_length(ids) > 1)
                return img_err(err, EINVAL, "`%s` is ambiguous: it matches %zu images", input, strv_length(ids));
        if (!ids[0])
                return 0;
        *id_out = strdup(ids[0]);
        return *id_out ? 1 : berr_make(err, ENOMEM, "resolve");
}

static int lookup_id_prefix(struct image_store *s, const char *hex, const char *input, char **id_out,
                            struct berr **err)
{
        _cleanup_free_ char *pattern = NULL;

        if (asprintf(&pattern, "sha256:%s%%", hex) < 0)
                return berr_make(err, ENOMEM, "resolve");
        return lookup_one(s, "SELECT id FROM images WHERE id LIKE ?", pattern, input, id_out, err);
}

/* Does the reference as typed start with a registry ("host.tld/", "host:port/", "localhost/")? */
static bool has_domain(const char *input)
{
        const char *slash = strchr(input, '/');

        if (!slash)
                return false;
        for (const char *p = input; p < slash; p++)
                if (*p == '.' || *p == ':' || isupper((unsigned char)*p))
                        return true;
        return (size_t)(slash - input) == 9 && strneq(input, "localhost", 9);
}

int image_name_normalize(const char *input, bool local, char **out, struct berr **err)
{
        _cleanup_image_ref_ struct image_ref *ref = NULL;

        if (image_ref_parse(input, &ref, err) < 0)
                return -1;
        if (!ref->tag)
                return img_err(err, EINVAL, "`%s`: a name needs a tag, not only a digest", input);
        if (local && !has_domain(input)) {
                const char *path = input;
                size_t n = strcspn(path, ":@");
                free(ref->domain);
                free(ref->path);
                ref->domain = strdup("localhost");
                ref->path = strndup(path, n);
                if (!ref->domain || !ref->path)
                        return berr_make(err, ENOMEM, "name");
        }
        free(ref->digest);
        ref->digest = NULL;
        *out = image_ref_name_tag(ref);
        return *out ? 0 : berr_make(err, ENOMEM, "name");
}

const char *image_record_name_for(const struct image_record *r, const char *input)
{
        _cleanup_free_ char *remote = NULL, *local = NULL, *suffix = NULL;

        if (image_name_normalize(input, false, &remote, NULL) < 0 || image_name_normalize(input, true, &local, NULL) < 0)
                return NULL;
        STRV_FOREACH (n, r->names)
                if (streq(*n, remote) || streq(*n, local))
                        return *n;
        if (has_domain(input) || asprintf(&suffix, "/%s", strchr(local, '/') + 1) < 0)
                return NULL;
        STRV_FOREACH (n, r->names) {
                size_t a = strlen(*n), b = strlen(suffix);
                if (a > b && streq(*n + a - b, suffix))
                        return *n;
        }
        return NULL;
}

int images_resolve(struct image_store *s, const char *input, char **id_out, struct berr **err)
{
        _cleanup_image_ref_ struct image_ref *ref = NULL;
        _cleanup_berr_ struct berr *perr = NULL;
        _cleanup_free_ char *name = NULL;
        const char *hex = strneq(input, "sha256:", 7) ? input + 7 : NULL;
        int r;

        if (hex) {
                if (!all_hex(hex, 64))
                        return img_err(err, EINVAL, "invalid image id `%s`", input);
                r = lookup_id_prefix(s, hex, input, id_out, err);
                if (r != 0)
                        return r;
                return lookup_one(s, "SELECT image_id FROM image_digests WHERE digest = ?", input, input, id_out,
                                  err);
        }
        if (all_hex(input, 64) && strlen(input) == 64)
                return lookup_id_prefix(s, input, input, id_out, err);

        if (image_ref_parse(input, &ref, &perr) == 0) {
                if (ref->digest) {
                        _cleanup_free_ char *repo = image_ref_repo(ref);
                        _cleanup_free_ char *rd = NULL;
                        if (!repo || asprintf(&rd, "%s@%s", repo, ref->digest) < 0)
                                return berr_make(err, ENOMEM, "resolve");
                        r = lookup_one(s, "SELECT image_id FROM image_digests WHERE repo || '@' || digest = ?", rd,
                                       input, id_out, err);
                        if (r != 0)
                                return r;
                        r = lookup_one(s, "SELECT id FROM images WHERE manifest_digest = ?", ref->digest, input,
                                       id_out, err);
                        if (r != 0 || !ref->tag)
                                return r;
                }
                name = image_ref_name_tag(ref);
                if (!name)
                        return berr_make(err, ENOMEM, "resolve");
                r = lookup_one(s, "SELECT image_id FROM image_names WHERE name = ?", name, input, id_out, err);
                if (r != 0)
                        return r;
                if (!has_domain(input)) {
                        _cleanup_free_ char *local = NULL, *pattern = NULL;
                        size_t n = strcspn(input, ":@");
                        if (asprintf(&local, "localhost/%.*s:%s", (int)n, input, ref->tag) < 0)
                                return berr_make(err, ENOMEM, "resolve");
                        r = lookup_one(s, "SELECT image_id FROM image_names WHERE name = ?", local, input, id_out,
                                       err);
                        if (r != 0)
                                return r;
                        /* Like podman: a short name matches NAME:TAG in any registry when it is unique. */
                        if (asprintf(&pattern, "%%/%.*s:%s", (int)n, input, ref->tag) < 0)
                                return berr_make(err, ENOMEM, "resolve");
                        r = lookup_one(s, "SELECT DISTINCT image_id FROM image_names WHERE name LIKE ?", pattern,
                                       input, id_out, err);
                        if (r != 0)
                                return r;
                }
        }
        if (all_hex(input, 64))
                return lookup_id_prefix(s, input, input, id_out, err);
        if (perr) {
                berr_move(err, &perr);
                return -1;
        }
        return 0;
}

static int exec_bind(struct image_store *s, const char *sql, struct berr **err, int n, ...)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        va_list ap;

        if (db_prepare(s->db, sql, &st, err) < 0)
                return -1;
        va_start(ap, n);
        for (int i = 1; i <= n; i++) {
                const char *v = va_arg(ap, const char *);
                sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
        }
        va_end(ap);
        if (sqlite3_step(st) != SQLITE_DONE)
                return db_error(s->db, err, sql);
        return 0;
}

static int put_name(struct image_store *s, const char *id, const char *name, const char *digest,
                    struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (db_prepare(s->db,
                       "INSERT INTO image_names (name, image_id, digest, added_ns) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id, digest = excluded.digest, "
                       "added_ns = CASE WHEN image_id = excluded.image_id THEN added_ns ELSE excluded.added_ns END",
                       &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        if (digest)
                sqlite3_bind_text(st, 3, digest, -1, SQLITE_STATIC);
        else
                sqlite3_bind_null(st, 3);
        sqlite3_bind_int64(st, 4, time_now_ns());
        if (sqlite3_step(st) != SQLITE_DONE)
                return db_error(s->db, err, "tag image");
        return 0;
}

static int put_repo_digest(struct image_store *s, const char *id, const char *rd, struct berr **err)
{
        _cleanup_free_ char *repo = NULL;
        const char *at = strrchr(rd, '@');

        if (!at)
                return img_err(err, EINVAL, "`%s` is not REPO@DIGEST", rd);
        repo = strndup(rd, (size_t)(at - rd));
        if (!repo)
                return berr_make(err, ENOMEM, "database");
        return exec_bind(s, "INSERT OR IGNORE INTO image_digests (repo, digest, image_id) VALUES (?, ?, ?)", err, 3,
                         repo, at + 1, id);
}

static int put_image(struct image_store *s, const struct image_record *r, char *const *blobs, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (db_prepare(s->db,
                       "INSERT INTO images (" IMAGE_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                       "ON CONFLICT(id) DO UPDATE SET manifest_digest = excluded.manifest_digest, "
                       "manifest_media_type = excluded.manifest_media_type, size = excluded.size, "
                       "top_chain_id = excluded.top_chain_id",
                       &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, r->manifest_digest, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, r->manifest_media_type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, r->config_media_type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, r->os ? r->os : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, r->architecture ? r->architecture : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, r->variant ? r->variant : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 8, r->created_ns);
        sqlite3_bind_int64(st, 9, r->added_ns ? r->added_ns : time_now_ns());
        sqlite3_bind_int64(st, 10, (int64_t)r->size);
        if (r->top_chain_id)
                sqlite3_bind_text(st, 11, r->top_chain_id, -1, SQLITE_STATIC);
        else
                sqlite3_bind_null(st, 11);
        if (sqlite3_step(st) != SQLITE_DONE)
                return db_error(s->db, err, "store image");
        sqlite3_finalize(TAKE_PTR(st));

        if (exec_bind(s, "DELETE FROM image_layers WHERE image_id = ?", err, 1, r->id) < 0 ||
            exec_bind(s, "DELETE FROM image_blobs WHERE image_id = ?", err, 1, r->id) < 0)
                return -1;
        if (db_prepare(s->db,
                       "INSERT INTO image_layers (image_id, idx, digest, media_type, size, diff_id, chain_id, "
                       "unpacked_size) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       &st, err) < 0)
                return -1;
        for (size_t i = 0; i < r->n_layers; i++) {
                const struct image_layer *l = &r->layers[i];
                sqlite3_reset(st);
                sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 2, (int64_t)i);
                sqlite3_bind_text(st, 3, l->digest, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 4, l->media_type, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 5, l->size);
                sqlite3_bind_text(st, 6, l->diff_id, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 7, l->chain_id, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 8, (int64_t)l->unpacked_size);
                if (sqlite3_step(st) != SQLITE_DONE)
                        return db_error(s->db, err, "store layers");
        }
        STRV_FOREACH (b, blobs)
                if (exec_bind(s, "INSERT OR IGNORE INTO image_blobs (image_id, digest) VALUES (?, ?)", err, 2, r->id,
                              *b) < 0)
                        return -1;
        STRV_FOREACH (n, r->names)
                if (put_name(s, r->id, *n, r->name_digest, err) < 0)
                        return -1;
        STRV_FOREACH (d, r->repo_digests)
                if (put_repo_digest(s, r->id, *d, err) < 0)
                        return -1;
        return 0;
}

int images_put(struct image_store *s, const struct image_record *r, char *const *blobs, struct berr **err)
{
        if (db_begin(s->db, err) < 0)
                return -1;
        if (put_image(s, r, blobs, err) < 0) {
                db_rollback(s->db);
                return -1;
        }
        return db_commit(s->db, err);
}

int images_tag(struct image_store *s, const char *id, const char *name, const char *digest, struct berr **err)
{
        return put_name(s, id, name, digest, err);
}

int images_name_digest(struct image_store *s, const char *name, char **out, struct berr **err)
{
        _cleanup_strv_free_ char **l = NULL;

        if (query_strv(s, "SELECT digest FROM image_names WHERE name = ? AND digest IS NOT NULL", name, &l, err) < 0)
                return -1;
        if (!l[0])
                return 0;
        *out = strdup(l[0]);
        return *out ? 1 : berr_make(err, ENOMEM, "database");
}

int images_untag(struct image_store *s, const char *name, struct berr **err)
{
        if (exec_bind(s, "DELETE FROM image_names WHERE name = ?", err, 1, name) < 0)
                return -1;
        return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

int images_add_repo_digest(struct image_store *s, const char *id, const char *repo_digest, struct berr **err)
{
        return put_repo_digest(s, id, repo_digest, err);
}

int images_add_blob(struct image_store *s, const char *id, const char *digest, struct berr **err)
{
        return exec_bind(s, "INSERT OR IGNORE INTO image_blobs (image_id, digest) VALUES (?, ?)", err, 2, id,
                         digest);
}

int images_remove(struct image_store *s, const char *id, struct berr **err)
{
        return exec_bind(s, "DELETE FROM images WHERE id = ?", err, 1, id);
}

int images_children(struct image_store *s, const char *id, char ***out, struct berr **err)
{
        return query_strv(s,
                          "SELECT DISTINCT l.image_id FROM image_layers l JOIN images i ON i.id = ? "
                          "WHERE l.chain_id = i.top_chain_id AND l.image_id != i.id "
                          "AND (SELECT top_chain_id FROM images WHERE id = l.image_id) != i.top_chain_id",
                          id, out, err);
}

int images_referenced(struct image_store *s, char ***blobs, char ***chains, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if (query_strv(s,
                       "SELECT digest FROM image_blobs UNION SELECT manifest_digest FROM images "
                       "UNION SELECT id FROM images UNION SELECT digest FROM image_layers",
                       NULL, blobs, err) < 0 ||
            query_strv(s, "SELECT DISTINCT chain_id FROM image_layers", NULL, chains, err) < 0)
                return -1;
        if (db_prepare(s->db, "SELECT lowers FROM rw_layers", &st, err) < 0)
                return -1;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
                _cleanup_free_ char *l = col_dup(st, 0);
                char *save = NULL;
                if (!l)
                        continue;
                for (char *t = strtok_r(l, " ", &save); t; t = strtok_r(NULL, " ", &save))
                        if (strv_extend(chains, t) < 0)
                                return berr_make(err, ENOMEM, "database");
        }
        if (r != SQLITE_DONE)
                return db_error(s->db, err, "read writable layers");
        return 0;
}

int images_add_blob_source(struct image_store *s, const char *digest, const char *repo, struct berr **err)
{
        return exec_bind(s, "INSERT OR IGNORE INTO blob_sources (digest, repo) VALUES (?, ?)", err, 2, digest,
                         repo);
}

int images_blob_sources(struct image_store *s, const char *digest, char ***out, struct berr **err)
{
        return query_strv(s, "SELECT repo FROM blob_sources WHERE digest = ? ORDER BY repo", digest, out, err);
}
