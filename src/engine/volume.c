/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <json-c/json.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "basic/timeutil.h"
#include "image/db.h"
#include "image/store.h"
#include "spec-internal.h"
#include "volume-internal.h"
#include "volume.h"

static const char *const migrations[] = {
    "CREATE TABLE volumes ("
    " name TEXT PRIMARY KEY,"
    " driver TEXT NOT NULL,"
    " created_ns INTEGER NOT NULL,"
    " labels TEXT NOT NULL DEFAULT '{}',"
    " options TEXT NOT NULL DEFAULT '{}',"
    " anonymous INTEGER NOT NULL DEFAULT 0,"
    " needs_copy INTEGER NOT NULL DEFAULT 1);"
    "CREATE TABLE volume_uses ("
    " volume TEXT NOT NULL REFERENCES volumes(name),"
    " container_id TEXT NOT NULL,"
    " active INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (volume, container_id));"
    "CREATE INDEX volume_uses_container ON volume_uses(container_id);",
};

int volume_db_migrate(sqlite3 *db, struct berr **err)
{
        return db_migrate(db, "volumes", migrations, ARRAY_SIZE(migrations), err);
}

void volume_free(struct volume *v)
{
        if (!v)
                return;
        free(v->name);
        free(v->driver);
        free(v->mountpoint);
        strv_free(v->labels);
        strv_free(v->options);
        strv_free(v->users);
        free(v);
}

void volume_freev(struct volume **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                volume_free(v[i]);
        free(v);
}

int volume_name_check(const char *name, struct berr **err)
{
        size_t len = name ? strlen(name) : 0;

        if (len == 0)
                return eng_err(err, EINVAL, "volume name must not be empty");
        if (len > VOLUME_NAME_MAX)
                return eng_err(err, EINVAL, "volume name `%.32s...` is longer than %d characters", name,
                               VOLUME_NAME_MAX);
        for (size_t i = 0; i < len; i++) {
                char c = name[i];
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                          (i > 0 && (c == '_' || c == '.' || c == '-'));
                if (!ok)
                        return eng_err(err, EINVAL,
                                       "invalid volume name `%s`: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                                       name);
        }
        return 0;
}

char *volume_mountpoint(const char *root, const char *name)
{
        char *p;

        if (asprintf(&p, "%s/volumes/%s/_data", root, name) < 0)
                return NULL;
        return p;
}

static char *volumes_dir(const char *root)
{
        return path_join(root, "volumes");
}

/* ---- key=value lists <-> JSON objects ------------------------------------- */

static int pairs_parse(const char *what, const char *const *kv, char ***out, struct berr **err)
{
        _cleanup_strv_free_ char **pairs = NULL;
        size_t n = 0;

        for (const char *const *p = kv; p && *p; p++, n++) {
                const char *eq = strchr(*p, '=');
                size_t klen = eq ? (size_t)(eq - *p) : strlen(*p);
                if (n >= VOLUME_LABELS_MAX)
                        return eng_err(err, E2BIG, "more than %d %ss", VOLUME_LABELS_MAX, what);
                if (klen == 0)
                        return eng_err(err, EINVAL, "invalid %s `%s`: empty key", what, *p);
                if (strlen(*p) > VOLUME_LABEL_MAX)
                        return eng_err(err, E2BIG, "%s `%.32s...` is longer than %d bytes", what, *p,
                                       VOLUME_LABEL_MAX);
                if (strv_push(&pairs, strndup(*p, klen)) < 0 || strv_extend(&pairs, eq ? eq + 1 : "") < 0)
                        return berr_make(err, ENOMEM, "%s", what);
        }
        *out = TAKE_PTR(pairs);
        return 0;
}

/* Later duplicates override earlier ones, as with docker's maps. */
static char *pairs_json(char *const *pairs)
{
        json_object *o = json_object_new_object();
        char *s;

        for (size_t i = 0; pairs && pairs[i] && pairs[i + 1]; i += 2)
                json_object_object_add(o, pairs[i], json_object_new_string(pairs[i + 1]));
        s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return s;
}

static int json_pairs(const char *text, const char *what, char ***out, struct berr **err)
{
        _cleanup_strv_free_ char **pairs = NULL;
        json_object *o = NULL;
        int r = 0;

        if (json_parse_buf(text, strlen(text), what, &o, err) < 0)
                return -1;
        if (!json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return berr_make(err, EINVAL, "%s: not a JSON object", what);
        }
        json_object_object_foreach (o, k, v) {
                if (strv_extend(&pairs, k) < 0 || strv_extend(&pairs, json_object_get_string(v)) < 0) {
                        r = berr_make(err, ENOMEM, "%s", what);
                        break;
                }
        }
        json_object_put(o);
        if (r == 0)
                *out = TAKE_PTR(pairs);
        return r;
}

static const char *pairs_get(char *const *pairs, const char *key)
{
        const char *v = NULL;

        for (size_t i = 0; pairs && pairs[i] && pairs[i + 1]; i += 2)
                if (streq(pairs[i], key))
                        v = pairs[i + 1];
        return v;
}

/* ---- driver options and mounting ------------------------------------------ */

static const struct {
        const char *name;
        unsigned long set, clear;
} mount_flags[] = {
    {"ro", MS_RDONLY, 0},           {"rw", 0, MS_RDONLY},
    {"nosuid", MS_NOSUID, 0},       {"suid", 0, MS_NOSUID},
    {"nodev", MS_NODEV, 0},         {"dev", 0, MS_NODEV},
    {"noexec", MS_NOEXEC, 0},       {"exec", 0, MS_NOEXEC},
    {"sync", MS_SYNCHRONOUS, 0},    {"async", 0, MS_SYNCHRONOUS},
    {"dirsync", MS_DIRSYNC, 0},     {"noatime", MS_NOATIME, 0},
    {"atime", 0, MS_NOATIME},       {"nodiratime", MS_NODIRATIME, 0},
    {"diratime", 0, MS_NODIRATIME}, {"relatime", MS_RELATIME, 0},
    {"norelatime", 0, MS_RELATIME}, {"strictatime", MS_STRICTATIME, 0},
    {"bind", MS_BIND, 0},           {"rbind", MS_BIND | MS_REC, 0},
};

/* docker's `o`: flags for mount(2), the rest is the filesystem's data. */
static int mount_options_parse(const char *o, unsigned long *flags, char **data, struct berr **err)
{
        _cleanup_free_ char *copy = strdup(o ? o : ""), *d = strdup("");
        char *save = NULL;

        if (!copy || !d)
                return berr_make(err, ENOMEM, "volume options");
        *flags = 0;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                size_t i;
                for (i = 0; i < ARRAY_SIZE(mount_flags); i++)
                        if (streq(tok, mount_flags[i].name)) {
                                *flags = (*flags & ~mount_flags[i].clear) | mount_flags[i].set;
                                break;
                        }
                if (i < ARRAY_SIZE(mount_flags))
                        continue;
                char *n;
                if (asprintf(&n, "%s%s%s", d, *d ? "," : "", tok) < 0)
                        return berr_make(err, ENOMEM, "volume options");
                free(d);
                d = n;
        }
        *data = TAKE_PTR(d);
        return 0;
}

/* docker's local driver: type, device and o, all or type + device. */
static int driver_options_check(char *const *opts, struct berr **err)
{
        const char *type = pairs_get(opts, "type"), *device = pairs_get(opts, "device"),
                   *o = pairs_get(opts, "o");
        unsigned long flags;
        _cleanup_free_ char *data = NULL;

        for (size_t i = 0; opts && opts[i] && opts[i + 1]; i += 2)
                if (!streq(opts[i], "type") && !streq(opts[i], "device") && !streq(opts[i], "o"))
                        return eng_err(
                            err, EINVAL,
                            "invalid option key `%s` for the local volume driver (type, device, o)", opts[i]);
        if (!type && !device && !o)
                return 0;
        if (strempty(type) || strempty(device))
                return eng_err(err, EINVAL, "the local volume driver needs both `type` and `device` options");
        if (mount_options_parse(o, &flags, &data, err) < 0)
                return -1;
        if ((flags & MS_BIND) && !path_is_absolute(device))
                return eng_err(err, EINVAL, "bind volume device `%s` must be an absolute path", device);
        return 0;
}

static bool has_mount(char *const *opts)
{
        return pairs_get(opts, "type") != NULL;
}

static int is_mount_root(int dirfd, const char *name)
{
        struct statx stx;

        if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) < 0)
                return -errno;
        return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
               (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

static int driver_unmount(const char *name, int voldirfd, struct berr **err)
{
        int r = is_mount_root(voldirfd, "_data");
        _cleanup_close_ int fd = -1;
        char target[32];

        if (r <= 0)
                return 0;
        fd = openat(voldirfd, "_data", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return berr_errno(err, "volume `%s`: open _data", name);
        if (umount2(fd_path(fd, target), MNT_DETACH) < 0 && errno != EINVAL)
                return berr_errno(err, "volume `%s`: unmount _data", name);
        return 0;
}

static int driver_mount(const char *name, char *const *opts, int voldirfd, struct berr **err)
{
        const char *type = pairs_get(opts, "type"), *device = pairs_get(opts, "device");
        _cleanup_free_ char *data = NULL;
        _cleanup_close_ int fd = -1;
        unsigned long flags;
        char target[32];

        if (mount_options_parse(pairs_get(opts, "o"), &flags, &data, err) < 0)
                return -1;
        fd = openat(voldirfd, "_data", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return berr_errno(err, "volume `%s`: open _data", name);
        fd_path(fd, target);
        if (flags & MS_BIND) {
                if (mount(device, target, NULL, flags & (MS_BIND | MS_REC), NULL) < 0)
                        return berr_errno(err, "volume `%s`: bind mount `%s`", name, device);
                flags &= ~(MS_BIND | MS_REC);
                if (!flags)
                        return 0;
                /* The flags apply to the new mount, which the old fd does not see. */
                safe_close(fd);
                fd = openat(voldirfd, "_data", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 ||
                    mount(NULL, fd_path(fd, target), NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0) {
                        berr_errno(err, "volume `%s`: remount `%s` with `%s`", name, device,
                                   pairs_get(opts, "o"));
                        driver_unmount(name, voldirfd, NULL);
                        return -1;
                }
                return 0;
        }
        if (mount(device, target, type, flags, *data ? data : NULL) < 0)
                return berr_errno(err, "volume `%s`: mount `%s` (type %s, options `%s`)", name, device, type,
                                  data);
        return 0;
}

/* ---- records ---------------------------------------------------------------- */

static int load_users(sqlite3 *db, struct volume *v, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if (db_prepare(db, "SELECT container_id FROM volume_uses WHERE volume = ? ORDER BY container_id", &st,
                       err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, v->name, -1, SQLITE_STATIC);
        while ((r = sqlite3_step(st)) == SQLITE_ROW)
                if (strv_extend(&v->users, (const char *)sqlite3_column_text(st, 0)) < 0)
                        return berr_make(err, ENOMEM, "volume users");
        if (r != SQLITE_DONE)
                return db_error(db, err, "read volume users");
        return 0;
}

#define VOLUME_COLUMNS "name, driver, created_ns, labels, options, anonymous, needs_copy"

static int row_volume(sqlite3 *db, const char *root, sqlite3_stmt *st, struct volume **out, struct berr **err)
{
        _cleanup_volume_ struct volume *v = calloc(1, sizeof(*v));
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int fd = -1;

        if (!v)
                return berr_make(err, ENOMEM, "volume");
        v->name = strdup((const char *)sqlite3_column_text(st, 0));
        v->driver = strdup((const char *)sqlite3_column_text(st, 1));
        if (!v->name || !v->driver || !(v->mountpoint = volume_mountpoint(root, v->name)))
                return berr_make(err, ENOMEM, "volume");
        v->created_ns = sqlite3_column_int64(st, 2);
        if (json_pairs((const char *)sqlite3_column_text(st, 3), "labels", &v->labels, err) < 0 ||
            json_pairs((const char *)sqlite3_column_text(st, 4), "options", &v->options, err) < 0)
                return berr_wrap(err, "volume `%s`", v->name);
        v->anonymous = sqlite3_column_int(st, 5) != 0;
        v->needs_copy = sqlite3_column_int(st, 6) != 0;
        if (load_users(db, v, err) < 0)
                return -1;
        dir = volumes_dir(root);
        if (dir && (fd = openat(AT_FDCWD, dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) >= 0) {
                char sub[VOLUME_NAME_MAX + 8];
                snprintf(sub, sizeof(sub), "%s/_data", v->name);
                v->mounted = is_mount_root(fd, sub) > 0;
        }
        *out = TAKE_PTR(v);
        return 0;
}

/* 1 found, 0 missing. */
static int lookup(sqlite3 *db, const char *root, const char *name, struct volume **out, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if (db_prepare(db, "SELECT " VOLUME_COLUMNS " FROM volumes WHERE name = ?", &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        if (r == SQLITE_DONE)
                return 0;
        if (r != SQLITE_ROW)
                return db_error(db, err, "read volume");
        if (!out)
                return 1;
        return row_volume(db, root, st, out, err) < 0 ? -1 : 1;
}

static int no_such_volume(const char *name, struct berr **err)
{
        return eng_err(err, ENOENT, "no such volume: %s", name);
}

int volume_get(sqlite3 *db, const char *root, const char *name, struct volume **out, struct berr **err)
{
        int r = lookup(db, root, name, out, err);

        if (r == 0)
                return no_such_volume(name, err);
        return r < 0 ? r : 0;
}

static int random_name(char out[65], struct berr **err)
{
        uint8_t b[32];

        if (getrandom(b, sizeof(b), 0) != sizeof(b))
                return berr_errno(err, "getrandom");
        for (size_t i = 0; i < sizeof(b); i++)
                snprintf(out + 2 * i, 3, "%02x", b[i]);
        return 0;
}

/* Opens <root>/volumes (created when missing). */
static int open_volumes_dir(const char *root, bool create, struct berr **err)
{
        _cleanup_free_ char *dir = volumes_dir(root);
        int fd;

        if (!dir)
                return berr_make(err, ENOMEM, "volumes directory");
        if (create && mkdir_p(dir, 0700, err) < 0)
                return -1;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return berr_errno(err, "open `%s`", dir);
        return fd;
}

/* A directory a crashed remove or create left under a name without a row. */
static int remove_leftover(int volsfd, const char *name, struct berr **err)
{
        _cleanup_close_ int fd = openat(volsfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0)
                return errno == ENOENT ? 0 : rm_rf_at(volsfd, name, err);
        if (driver_unmount(name, fd, err) < 0)
                return -1;
        return rm_rf_at(volsfd, name, err);
}

int volume_create(sqlite3 *db, const char *root, const struct volume_create_opts *opts, struct volume **out,
                  struct berr **err)
{
        _cleanup_strv_free_ char **labels = NULL, **options = NULL;
        _cleanup_free_ char *labels_json = NULL, *options_json = NULL;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_close_ int volsfd = -1;
        const char *driver = opts->driver ? opts->driver : VOLUME_DRIVER_LOCAL;
        char generated[65];
        const char *name = opts->name;
        bool made = false;
        int r;

        if (!name) {
                if (random_name(generated, err) < 0)
                        return -1;
                name = generated;
        }
        if (volume_name_check(name, err) < 0)
                return -1;
        if (!streq(driver, VOLUME_DRIVER_LOCAL))
                return eng_err(err, EINVAL, "volume driver `%s` is not supported (berth has `local` only)",
                               driver);
        if (pairs_parse("label", opts->labels, &labels, err) < 0 ||
            pairs_parse("option", opts->driver_options, &options, err) < 0 ||
            driver_options_check(options, err) < 0)
                return -1;
        labels_json = pairs_json(labels);
        options_json = pairs_json(options);
        if (!labels_json || !options_json)
                return berr_make(err, ENOMEM, "volume");
        volsfd = open_volumes_dir(root, true, err);
        if (volsfd < 0)
                return -1;

        /* The write lock covers the directory too: a concurrent create of the
         * same name waits, then finds the row. */
        if (db_begin(db, err) < 0)
                return -1;
        r = lookup(db, root, name, NULL, err);
        if (r < 0)
                goto fail;
        if (r > 0) {
                db_rollback(db);
                if (out && volume_get(db, root, name, out, err) < 0)
                        return -1;
                return 0;
        }
        if (remove_leftover(volsfd, name, err) < 0)
                goto fail;
        if (mkdirat(volsfd, name, 0700) < 0) {
                berr_errno(err, "create volume directory `%s`", name);
                goto fail;
        }
        made = true;
        {
                _cleanup_close_ int fd = openat(volsfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 || mkdirat(fd, "_data", 0755) < 0) {
                        berr_errno(err, "create `%s/_data`", name);
                        goto fail;
                }
        }
        if (db_prepare(db, "INSERT INTO volumes (" VOLUME_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, 1)", &st,
                       err) < 0)
                goto fail;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, driver, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, time_now_ns());
        sqlite3_bind_text(st, 4, labels_json, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, options_json, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 6, opts->anonymous);
        if (sqlite3_step(st) != SQLITE_DONE) {
                db_error(db, err, "insert volume");
                goto fail;
        }
        if (db_commit(db, err) < 0)
                goto fail;
        if (out && volume_get(db, root, name, out, err) < 0)
                return -1;
        return 1;
fail:
        db_rollback(db);
        if (made)
                rm_rf_at(volsfd, name, NULL);
        return -1;
}

static bool labels_match(char *const *have, const char *want)
{
        const char *eq = strchr(want, '=');
        size_t klen = eq ? (size_t)(eq - want) : strlen(want);

        for (size_t i = 0; have && have[i] && have[i + 1]; i += 2)
                if (strlen(have[i]) == klen && strneq(have[i], want, klen))
                        return !eq || streq(have[i + 1], eq + 1);
        return false;
}

static int filter_match(const struct volume_filter *f, const struct volume *v, regex_t *names, size_t n_names)
{
        bool any = n_names == 0;

        if (!f)
                return true;
        for (size_t i = 0; i < n_names && !any; i++)
                any = regexec(&names[i], v->name, 0, NULL, 0) == 0;
        if (!any)
                return false;
        for (const char *const *l = f->labels; l && *l; l++)
                if (!labels_match(v->labels, *l))
                        return false;
        if (f->dangling >= 0 && (bool)f->dangling != (strv_length(v->users) == 0))
                return false;
        if (f->driver && !streq(f->driver, v->driver))
                return false;
        return !f->anonymous_only || v->anonymous;
}

int volume_list(sqlite3 *db, const char *root, const struct volume_filter *f, struct volume ***out, size_t *n,
                struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        struct volume **v = NULL;
        regex_t *names = NULL;
        size_t count = 0, n_names = 0;
        int r, ret = -1;

        for (const char *const *p = f ? f->names : NULL; p && *p; p++) {
                regex_t *nn = realloc(names, (n_names + 1) * sizeof(*names));
                if (!nn) {
                        berr_make(err, ENOMEM, "volume filter");
                        goto out;
                }
                names = nn;
                if (regcomp(&names[n_names], *p, REG_EXTENDED | REG_NOSUB) != 0) {
                        eng_err(err, EINVAL, "invalid name filter `%s`: not a regular expression", *p);
                        goto out;
                }
                n_names++;
        }
        if (db_prepare(db, "SELECT " VOLUME_COLUMNS " FROM volumes ORDER BY name", &st, err) < 0)
                goto out;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
                struct volume *one, **nv;
                if (row_volume(db, root, st, &one, err) < 0)
                        goto out;
                if (!filter_match(f, one, names, n_names)) {
                        volume_free(one);
                        continue;
                }
                nv = realloc(v, (count + 1) * sizeof(*v));
                if (!nv) {
                        volume_free(one);
                        berr_make(err, ENOMEM, "volume list");
                        goto out;
                }
                v = nv;
                v[count++] = one;
        }
        if (r != SQLITE_DONE) {
                db_error(db, err, "list volumes");
                goto out;
        }
        *out = TAKE_PTR(v);
        *n = count;
        count = 0;
        ret = 0;
out:
        for (size_t i = 0; i < n_names; i++)
                regfree(&names[i]);
        free(names);
        volume_freev(v, count);
        return ret;
}

/* Takes the per-volume lock; -ENOENT when its directory is gone. */
static int volume_lock(int volsfd, const char *name, struct berr **err)
{
        int fd = openat(volsfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0)
                return errno == ENOENT ? -ENOENT : berr_errno(err, "open volume directory `%s`", name);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR) {
                        int r = berr_errno(err, "lock volume `%s`", name);
                        close(fd);
                        return r;
                }
        return fd;
}

static int in_use_error(const char *name, char *const *users, struct berr **err)
{
        _cleanup_free_ char *list = strdup("");

        STRV_FOREACH (u, users) {
                char *n;
                if (!list || asprintf(&n, "%s%s%s", list, *list ? ", " : "", *u) < 0)
                        return berr_make(err, ENOMEM, "volume users");
                free(list);
                list = n;
        }
        return eng_err(err, EBUSY, "remove %s: volume is in use - [%s]", name, list ? list : "");
}

static int exec_bound(sqlite3 *db, const char *sql, const char *a, const char *b, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (db_prepare(db, sql, &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
        if (b)
                sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
                return db_error(db, err, sql);
        return 0;
}

/* Removes one volume whose lock the caller holds; *size (may be NULL) gets its disk usage. */
static int remove_locked(sqlite3 *db, const char *root, int volsfd, int lockfd, const char *name, bool force,
                         uint64_t *size, struct berr **err)
{
        _cleanup_volume_ struct volume *v = NULL;
        char trash[80], rnd[65];
        int r;

        if (random_name(rnd, err) < 0)
                return -1;
        snprintf(trash, sizeof(trash), ".trash-%.32s", rnd);
        if (db_begin(db, err) < 0)
                return -1;
        r = lookup(db, root, name, &v, err);
        if (r <= 0) {
                db_rollback(db);
                return r < 0 ? r : no_such_volume(name, err);
        }
        if (v->users && !force) {
                db_rollback(db);
                return in_use_error(name, v->users, err);
        }
        if (size) {
                _cleanup_close_ int fd =
                    openat(lockfd, "_data", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                *size = fd >= 0 ? dir_disk_usage(fd) : 0;
        }
        if (driver_unmount(name, lockfd, err) < 0)
                goto fail;
        /* Out of the way before the row goes, so that a create of the same name
         * right after the commit cannot meet our directory. */
        if (renameat(volsfd, name, volsfd, trash) < 0) {
                berr_errno(err, "remove volume `%s`: rename", name);
                goto fail;
        }
        if (exec_bound(db, "DELETE FROM volume_uses WHERE volume = ?", name, NULL, err) < 0 ||
            exec_bound(db, "DELETE FROM volumes WHERE name = ?", name, NULL, err) < 0 ||
            db_commit(db, err) < 0) {
                renameat(volsfd, trash, volsfd, name);
                goto fail;
        }
        return rm_rf_at(volsfd, trash, err) < 0
                   ? berr_wrap(err, "volume `%s` removed, but not its data", name)
                   : 0;
fail:
        db_rollback(db);
        return -1;
}

/* Locks and removes one volume; a row whose directory is gone (removed by hand) just loses its row. */
static int remove_one(sqlite3 *db, const char *root, int volsfd, const char *name, bool force, uint64_t *size,
                      struct berr **err)
{
        _cleanup_close_ int lockfd = volume_lock(volsfd, name, err);
        int r;

        if (lockfd >= 0)
                return remove_locked(db, root, volsfd, lockfd, name, force, size, err);
        if (lockfd != -ENOENT)
                return -1;
        if (db_begin(db, err) < 0)
                return -1;
        r = lookup(db, root, name, NULL, err);
        if (r <= 0) {
                db_rollback(db);
                return r < 0 ? r : no_such_volume(name, err);
        }
        if (exec_bound(db, "DELETE FROM volume_uses WHERE volume = ?", name, NULL, err) < 0 ||
            exec_bound(db, "DELETE FROM volumes WHERE name = ?", name, NULL, err) < 0) {
                db_rollback(db);
                return -1;
        }
        if (size)
                *size = 0;
        return db_commit(db, err);
}

int volume_remove(sqlite3 *db, const char *root, const char *name, bool force, struct berr **err)
{
        _cleanup_close_ int volsfd = -1;

        if (volume_name_check(name, NULL) < 0)
                return no_such_volume(name, err);
        volsfd = open_volumes_dir(root, true, err);
        if (volsfd < 0)
                return -1;
        return remove_one(db, root, volsfd, name, force, NULL, err);
}

int volume_prune(sqlite3 *db, const char *root, const struct volume_filter *f, char ***removed,
                 uint64_t *reclaimed, struct berr **err)
{
        struct volume_filter unused = f ? *f : (struct volume_filter){0};
        _cleanup_strv_free_ char **gone = NULL;
        _cleanup_close_ int volsfd = -1;
        struct volume **v = NULL;
        size_t n = 0;
        uint64_t total = 0;
        int ret = 0;

        unused.dangling = 1;
        volsfd = open_volumes_dir(root, true, err);
        if (volsfd < 0 || volume_list(db, root, &unused, &v, &n, err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++) {
                _cleanup_berr_ struct berr *e = NULL;
                uint64_t size = 0;
                /* Someone started using it (EBUSY) or removed it (ENOENT) meanwhile. */
                if (remove_one(db, root, volsfd, v[i]->name, false, &size, &e) < 0) {
                        if (e && (e->code == EBUSY || e->code == ENOENT))
                                continue;
                        berr_move(err, &e);
                        ret = -1;
                        break;
                }
                total += size;
                if (strv_extend(&gone, v[i]->name) < 0) {
                        ret = berr_make(err, ENOMEM, "prune");
                        break;
                }
        }
        volume_freev(v, n);
        if (removed)
                *removed = TAKE_PTR(gone);
        if (reclaimed)
                *reclaimed = total;
        return ret;
}

/* ---- use by containers ------------------------------------------------------ */

int volume_use(sqlite3 *db, const char *name, const char *container_id, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (db_prepare(db,
                       "INSERT INTO volume_uses (volume, container_id) SELECT name, ? FROM volumes "
                       "WHERE name = ? ON CONFLICT DO NOTHING",
                       &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, container_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
                return db_error(db, err, "record volume use");
        if (sqlite3_changes(db) == 0) {
                int r = lookup(db, NULL, name, NULL, err);
                if (r <= 0)
                        return r < 0 ? r : no_such_volume(name, err);
        }
        return 0;
}

static int active_count(sqlite3 *db, const char *name, int *out, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (db_prepare(db, "SELECT count(*) FROM volume_uses WHERE volume = ? AND active", &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW)
                return db_error(db, err, "count volume mounts");
        *out = sqlite3_column_int(st, 0);
        return 0;
}

int volume_mount(sqlite3 *db, const char *root, const char *name, const char *container_id, struct berr **err)
{
        _cleanup_close_ int volsfd = -1, lockfd = -1;
        _cleanup_volume_ struct volume *v = NULL;
        bool mounted = false;
        int r;

        volsfd = open_volumes_dir(root, true, err);
        if (volsfd < 0)
                return -1;
        lockfd = volume_lock(volsfd, name, err);
        if (lockfd == -ENOENT)
                return no_such_volume(name, err);
        if (lockfd < 0)
                return -1;
        r = lookup(db, root, name, &v, err);
        if (r <= 0)
                return r < 0 ? r : no_such_volume(name, err);
        if (has_mount(v->options) && !v->mounted) {
                if (driver_mount(name, v->options, lockfd, err) < 0)
                        return -1;
                mounted = true;
        }
        if (exec_bound(db,
                       "INSERT INTO volume_uses (volume, container_id, active) VALUES (?, ?, 1) "
                       "ON CONFLICT DO UPDATE SET active = 1",
                       name, container_id, err) < 0) {
                if (mounted)
                        driver_unmount(name, lockfd, NULL);
                return -1;
        }
        return 0;
}

static int unmount_locked(sqlite3 *db, const char *name, const char *container_id, int lockfd,
                          struct berr **err)
{
        int active = 0;

        if (exec_bound(db, "UPDATE volume_uses SET active = 0 WHERE volume = ? AND container_id = ?", name,
                       container_id, err) < 0 ||
            active_count(db, name, &active, err) < 0)
                return -1;
        return active == 0 ? driver_unmount(name, lockfd, err) : 0;
}

int volume_unmount(sqlite3 *db, const char *root, const char *name, const char *container_id,
                   struct berr **err)
{
        _cleanup_close_ int volsfd = -1, lockfd = -1;

        volsfd = open_volumes_dir(root, true, err);
        if (volsfd < 0)
                return -1;
        lockfd = volume_lock(volsfd, name, err);
        if (lockfd == -ENOENT)
                return 0;
        if (lockfd < 0)
                return -1;
        return unmount_locked(db, name, container_id, lockfd, err);
}

int volume_release(sqlite3 *db, const char *root, const char *container_id, bool remove_anonymous,
                   char ***removed, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_strv_free_ char **names = NULL, **gone = NULL;
        _cleanup_close_ int volsfd = -1;
        int r;

        if (db_prepare(db, "SELECT volume FROM volume_uses WHERE container_id = ? ORDER BY volume", &st,
                       err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, container_id, -1, SQLITE_STATIC);
        while ((r = sqlite3_step(st)) == SQLITE_ROW)
                if (strv_extend(&names, (const char *)sqlite3_column_text(st, 0)) < 0)
                        return berr_make(err, ENOMEM, "volume release");
        if (r != SQLITE_DONE)
                return db_error(db, err, "read volume uses");
        if (!names)
                return 0;
        volsfd = open_volumes_dir(root, true, err);
        if (volsfd < 0)
                return -1;
        STRV_FOREACH (name, names) {
                _cleanup_close_ int lockfd = volume_lock(volsfd, *name, err);
                _cleanup_volume_ struct volume *v = NULL;
                _cleanup_berr_ struct berr *e = NULL;
                if (lockfd == -ENOENT) {
                        if (exec_bound(db, "DELETE FROM volume_uses WHERE volume = ? AND container_id = ?",
                                       *name, container_id, err) < 0)
                                return -1;
                        continue;
                }
                if (lockfd < 0 || unmount_locked(db, *name, container_id, lockfd, err) < 0 ||
                    exec_bound(db, "DELETE FROM volume_uses WHERE volume = ? AND container_id = ?", *name,
                               container_id, err) < 0)
                        return -1;
                if (!remove_anonymous)
                        continue;
                r = lookup(db, root, *name, &v, err);
                if (r < 0)
                        return -1;
                if (r == 0 || !v->anonymous || v->users)
                        continue;
                if (remove_locked(db, root, volsfd, lockfd, *name, false, NULL, &e) < 0) {
                        if (e && (e->code == EBUSY || e->code == ENOENT))
                                continue;
                        berr_move(err, &e);
                        return -1;
                }
                if (strv_extend(&gone, *name) < 0)
                        return berr_make(err, ENOMEM, "volume release");
        }
        if (removed)
                *removed = TAKE_PTR(gone);
        return 0;
}

/* ---- copy-up ----------------------------------------------------------------- */

static int dir_is_empty(int fd, struct berr **err)
{
        _cleanup_closedir_ DIR *d = NULL;
        int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;

        if (dfd < 0 || !(d = fdopendir(dfd))) {
                safe_close(dfd);
                return berr_errno(err, "read volume directory");
        }
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        return 0;
        return 1;
}

static int empty_dir(int fd, struct berr **err)
{
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_strv_free_ char **names = NULL;
        int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;

        if (dfd < 0 || !(d = fdopendir(dfd))) {
                safe_close(dfd);
                return berr_errno(err, "read volume directory");
        }
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") &&
                    strv_extend(&names, de->d_name) < 0)
                        return berr_make(err, ENOMEM, "empty volume");
        STRV_FOREACH (n, names)
                if (rm_rf_at(fd, *n, err) < 0)
                        return -1;
        return 0;
}

int volume_copy_up(sqlite3 *db, const char *root, const char *name, int rootfd, const char *path,
                   struct berr **err)
{
        _cleanup_close_ int volsfd = -1, lockfd = -1, src = -1, dst = -1;
        _cleanup_volume_ struct volume *v = NULL;
        int r, copied = 0;

        volsfd = open_volumes_dir(root, true, err);
        if (volsfd < 0)
                return -1;
        lockfd = volume_lock(volsfd, name, err);
        if (lockfd == -ENOENT)
                return no_such_volume(name, err);
        if (lockfd < 0)
                return -1;
        r = lookup(db, root, name, &v, err);
        if (r <= 0)
                return r < 0 ? r : no_such_volume(name, err);
        if (!v->needs_copy)
                return 0;
        src = openat_in_root(rootfd, path, O_RDONLY | O_DIRECTORY, 0);
        if (src < 0 && src != -ENOENT && src != -ENOTDIR && src != -ELOOP)
                return berr_make(err, -src, "volume `%s`: open `%s` in the container", name, path);
        if (src >= 0) {
                dst = openat(lockfd, "_data", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dst < 0)
                        return berr_errno(err, "volume `%s`: open _data", name);
                r = dir_is_empty(dst, err);
                if (r < 0)
                        return -1;
                if (r > 0) {
                        if (volume_copy_tree(src, dst, err) < 0) {
                                empty_dir(dst, NULL);
                                return berr_wrap(err, "copy `%s` into volume `%s`", path, name);
                        }
                        copied = 1;
                }
        }
        if (exec_bound(db, "UPDATE volumes SET needs_copy = 0 WHERE name = ?", name, NULL, err) < 0)
                return -1;
        return copied;
}
