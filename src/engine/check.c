/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "container.h"
#include "image/db.h"
#include "image/snapshot.h"
#include "lifecycle.h"

static int note(char ***list, struct berr **err, const char *fmt, ...) _printf_(3, 4);
static int note(char ***list, struct berr **err, const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        if (!s || strv_push(list, s) < 0)
                return berr_make(err, ENOMEM, "check");
        return 0;
}

static int quick_check(struct engine *e, char ***problems, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if (db_prepare(e->db, "PRAGMA quick_check", &st, err) < 0)
                return -1;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
                const char *msg = (const char *)sqlite3_column_text(st, 0);
                if (msg && !streq(msg, "ok") && note(problems, err, "database: %s", msg) < 0)
                        return -1;
        }
        if (r != SQLITE_DONE)
                return note(problems, err, "database: %s", sqlite3_errmsg(e->db));
        return 0;
}

int engine_check(struct engine *e, bool repair, char ***problems, char ***repairs, struct berr **err)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct container **v = NULL;
        struct dirent *de;
        size_t n = 0;
        int fd;

        if (quick_check(e, problems, err) < 0 || container_list(e->db, &v, &n, err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++) {
                struct stat sb;
                bool dir =
                    fstatat(e->containers_fd, v[i]->id, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode);
                int layer = snapshot_rw_exists(e->store, v[i]->id, NULL);
                _cleanup_berr_ struct berr *e2 = NULL;

                if (dir && layer > 0)
                        continue;
                if (note(problems, err, "container %s (%.12s): %s is missing", v[i]->name, v[i]->id,
                         !dir ? "its directory" : "its writable layer") < 0)
                        goto fail;
                if (!repair)
                        continue;
                if (!dir)
                        mkdirat(e->containers_fd, v[i]->id, 0700);
                if (engine_container_remove(e, v[i]->id, true, false, &e2) < 0) {
                        if (note(problems, err, "container %s: remove: %s", v[i]->name, e2->msg) < 0)
                                goto fail;
                } else if (note(repairs, err, "removed container %s (%.12s)", v[i]->name, v[i]->id) < 0) {
                        goto fail;
                }
        }
        fd = dup(e->containers_fd);
        d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                safe_close(fd);
                berr_errno(err, "read `%s/containers`", e->root);
                goto fail;
        }
        while ((de = readdir(d))) {
                bool known = false;
                if (de->d_name[0] == '.')
                        continue;
                for (size_t i = 0; i < n && !known; i++)
                        known = streq(v[i]->id, de->d_name);
                if (known)
                        continue;
                if (note(problems, err, "`%s/containers/%s` belongs to no container", e->root, de->d_name) <
                    0)
                        goto fail;
                if (repair && rm_rf_at(e->containers_fd, de->d_name, NULL) == 0 &&
                    note(repairs, err, "deleted `%s/containers/%s`", e->root, de->d_name) < 0)
                        goto fail;
        }
        container_freev(v, n);
        return 0;
fail:
        container_freev(v, n);
        return -1;
}
