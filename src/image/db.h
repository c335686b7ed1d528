/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <sqlite3.h>
#include <stddef.h>

#include "basic/error.h"

/*
 * The berth state database (SQLite, WAL, busy timeout), shared by the image
 * store and later the engine. Each component owns an ordered list of
 * migration steps; db_migrate() applies the steps a database has not seen
 * yet, recorded per component in schema_versions, in one transaction, so
 * components evolve their tables independently. Steps are only ever appended.
 */
#define DB_BUSY_TIMEOUT_MS 60000

int db_open(const char *path, sqlite3 **out, struct berr **err);
void db_close(sqlite3 *db);
int db_migrate(sqlite3 *db, const char *component, const char *const *steps, size_t n_steps, struct berr **err);
/* The component's applied version (0 for none). */
int db_version(sqlite3 *db, const char *component, int *out, struct berr **err);
int db_exec(sqlite3 *db, const char *sql, struct berr **err);
/* Prepares a statement; errors name the SQL's first words and SQLite's message. */
int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out, struct berr **err);
int db_error(sqlite3 *db, struct berr **err, const char *what);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK */
int db_begin(sqlite3 *db, struct berr **err);
int db_commit(sqlite3 *db, struct berr **err);
void db_rollback(sqlite3 *db);

static inline void sqlite3_finalizep(sqlite3_stmt **s)
{
        if (*s)
                sqlite3_finalize(*s);
}
#define _cleanup_stmt_ _cleanup_(sqlite3_finalizep)
