/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "util.h"

int db_error(sqlite3 *db, struct berr **err, const char *what)
{
        int code = sqlite3_extended_errcode(db);

        return berr_make(err, (code & 0xff) == SQLITE_BUSY ? EBUSY : EIO, "database: %s: %s", what,
                         sqlite3_errmsg(db));
}

int db_exec(sqlite3 *db, const char *sql, struct berr **err)
{
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
                return db_error(db, err, sql);
        return 0;
}

int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out, struct berr **err)
{
        if (sqlite3_prepare_v2(db, sql, -1, out, NULL) != SQLITE_OK) {
                char what[48];
                snprintf(what, sizeof(what), "%.40s", sql);
                return db_error(db, err, what);
        }
        return 0;
}

int db_begin(sqlite3 *db, struct berr **err)
{
        return db_exec(db, "BEGIN IMMEDIATE", err);
}

int db_commit(sqlite3 *db, struct berr **err)
{
        if (db_exec(db, "COMMIT", err) < 0) {
                db_rollback(db);
                return -1;
        }
        return 0;
}

void db_rollback(sqlite3 *db)
{
        if (!sqlite3_get_autocommit(db))
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

void db_close(sqlite3 *db)
{
        if (db)
                sqlite3_close_v2(db);
}

/* WAL is a property of the file, set once. Switching to it needs an
 * exclusive lock, and SQLite reports a busy database at once instead of
 * calling the busy handler when two processes open a new database together:
 * retry within the busy timeout. */
static int db_set_wal(sqlite3 *db, struct berr **err)
{
        for (int waited = 0;; waited += 10) {
                _cleanup_stmt_ sqlite3_stmt *st = NULL;
                int r = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
                if (r == SQLITE_OK)
                        r = sqlite3_step(st);
                if (r == SQLITE_ROW || r == SQLITE_DONE)
                        return 0;
                if ((r != SQLITE_BUSY && r != SQLITE_LOCKED) || waited >= DB_BUSY_TIMEOUT_MS)
                        return db_error(db, err, "PRAGMA journal_mode=WAL");
                usleep(10000);
        }
}

int db_open(const char *path, sqlite3 **out, struct berr **err)
{
        sqlite3 *db = NULL;
        int r;

        r = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
        if (r != SQLITE_OK) {
                r = img_err(err, EIO, "open database `%s`: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(r));
                sqlite3_close_v2(db);
                return r;
        }
        sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
        /* WAL lets readers run while a pull commits; NORMAL sync is durable across
         * process crashes (kill -9), which is the failure the store is built for. */
        if (db_set_wal(db, err) < 0 || db_exec(db, "PRAGMA synchronous=NORMAL", err) < 0 ||
            db_exec(db, "PRAGMA foreign_keys=ON", err) < 0) {
                sqlite3_close_v2(db);
                return berr_wrap(err, "`%s`", path);
        }
        *out = db;
        return 0;
}

int db_version(sqlite3 *db, const char *component, int *out, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if (db_exec(db, "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, "
                        "version INTEGER NOT NULL)",
                    err) < 0)
                return -1;
        if (db_prepare(db, "SELECT version FROM schema_versions WHERE component = ?", &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, component, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        if (r == SQLITE_ROW)
                *out = sqlite3_column_int(st, 0);
        else if (r == SQLITE_DONE)
                *out = 0;
        else
                return db_error(db, err, "read schema version");
        return 0;
}

int db_migrate(sqlite3 *db, const char *component, const char *const *steps, size_t n_steps, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int version;

        if (db_version(db, component, &version, err) < 0)
                return -1;
        if ((size_t)version == n_steps)
                return 0;
        if (db_begin(db, err) < 0)
                return -1;
        /* Re-read inside the write transaction: another process may have migrated meanwhile. */
        if (db_version(db, component, &version, err) < 0)
                goto fail;
        if (version < 0 || (size_t)version > n_steps) {
                img_err(err, EPROTO,
                          "database schema of `%s` is version %d, newer than this berth knows (%zu): "
                          "refusing to use it",
                          component, version, n_steps);
                goto fail;
        }
        for (size_t i = (size_t)version; i < n_steps; i++)
                if (db_exec(db, steps[i], err) < 0) {
                        berr_wrap(err, "migrate %s to version %zu", component, i + 1);
                        goto fail;
                }
        if (db_prepare(db, "INSERT INTO schema_versions (component, version) VALUES (?, ?) "
                           "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                       &st, err) < 0)
                goto fail;
        sqlite3_bind_text(st, 1, component, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, (int)n_steps);
        if (sqlite3_step(st) != SQLITE_DONE) {
                db_error(db, err, "record schema version");
                goto fail;
        }
        return db_commit(db, err);
fail:
        db_rollback(db);
        return -1;
}
