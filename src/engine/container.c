/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <sys/random.h>

#include "basic/json.h"
#include "basic/strv.h"
#include "basic/timeutil.h"
#include "container.h"
#include "image/db.h"
#include "spec-internal.h"

/* Migration steps of the "engine" component: append only, never edit a released step. */
static const char *const engine_schema[] = {
    "CREATE TABLE containers ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  image_id TEXT NOT NULL,"
    "  image_name TEXT NOT NULL,"
    "  runtime TEXT NOT NULL,"
    "  runtime_path TEXT NOT NULL,"
    "  created_ns INTEGER NOT NULL,"
    "  config TEXT NOT NULL,"
    "  phase TEXT NOT NULL DEFAULT 'created',"
    "  started_ns INTEGER NOT NULL DEFAULT 0,"
    "  finished_ns INTEGER NOT NULL DEFAULT 0,"
    "  exit_code INTEGER NOT NULL DEFAULT 0,"
    "  oom_killed INTEGER NOT NULL DEFAULT 0,"
    "  restart_count INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT);"
    "CREATE INDEX containers_image ON containers(image_id);",
    "CREATE TABLE exec_sessions ("
    "  id TEXT PRIMARY KEY,"
    "  container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,"
    "  command TEXT NOT NULL,"
    "  tty INTEGER NOT NULL DEFAULT 0,"
    "  pid INTEGER NOT NULL DEFAULT 0,"
    "  started_ns INTEGER NOT NULL,"
    "  finished_ns INTEGER NOT NULL DEFAULT 0,"
    "  exit_code INTEGER);"
    "CREATE INDEX exec_sessions_container ON exec_sessions(container_id);",
};

int engine_db_migrate(sqlite3 *db, struct berr **err)
{
        return db_migrate(db, "engine", engine_schema, ARRAY_SIZE(engine_schema), err);
}

size_t engine_db_version_latest(void)
{
        return ARRAY_SIZE(engine_schema);
}

static const char *const phase_names[] = {
    [CONTAINER_PHASE_CREATED] = "created",
    [CONTAINER_PHASE_STARTED] = "started",
    [CONTAINER_PHASE_STOPPED] = "stopped",
    [CONTAINER_PHASE_REMOVING] = "removing",
};

const char *container_phase_name(enum container_phase p)
{
        return (size_t)p < ARRAY_SIZE(phase_names) ? phase_names[p] : "?";
}

void container_free(struct container *c)
{
        if (!c)
                return;
        free(c->id);
        free(c->name);
        free(c->image_id);
        free(c->image_name);
        free(c->runtime);
        free(c->runtime_path);
        if (c->config)
                json_object_put(c->config);
        free(c->error);
        free(c);
}

void container_freev(struct container **v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                container_free(v[i]);
        free(v);
}

#define COLUMNS                                                                                              \
        "id, name, image_id, image_name, runtime, runtime_path, created_ns, config, phase, started_ns, "     \
        "finished_ns, exit_code, oom_killed, restart_count, error"

static char *col_dup(sqlite3_stmt *st, int i)
{
        const unsigned char *t = sqlite3_column_text(st, i);
        return t ? strdup((const char *)t) : NULL;
}

static int row_to_container(sqlite3 *db, sqlite3_stmt *st, struct container **out, struct berr **err)
{
        _cleanup_container_ struct container *c = calloc(1, sizeof(*c));
        const char *cfg, *phase;

        (void)db;
        if (!c)
                return berr_make(err, ENOMEM, "container record");
        c->id = col_dup(st, 0);
        c->name = col_dup(st, 1);
        c->image_id = col_dup(st, 2);
        c->image_name = col_dup(st, 3);
        c->runtime = col_dup(st, 4);
        c->runtime_path = col_dup(st, 5);
        if (!c->id || !c->name || !c->image_id || !c->image_name || !c->runtime || !c->runtime_path)
                return berr_make(err, ENOMEM, "container record");
        c->created_ns = sqlite3_column_int64(st, 6);
        cfg = (const char *)sqlite3_column_text(st, 7);
        if (json_parse_buf(cfg ? cfg : "", cfg ? strlen(cfg) : 0, "container config", &c->config, err) < 0)
                return berr_wrap(err, "container %.12s", c->id);
        if (!json_object_is_type(c->config, json_type_object))
                return eng_err(err, EINVAL, "container %.12s: stored config is not an object", c->id);
        phase = (const char *)sqlite3_column_text(st, 8);
        c->phase = ARRAY_SIZE(phase_names);
        for (size_t i = 0; phase && i < ARRAY_SIZE(phase_names); i++)
                if (streq(phase, phase_names[i]))
                        c->phase = (enum container_phase)i;
        if ((size_t)c->phase == ARRAY_SIZE(phase_names))
                return eng_err(err, EINVAL, "container %.12s: unknown phase `%s`", c->id, phase ? phase : "");
        c->started_ns = sqlite3_column_int64(st, 9);
        c->finished_ns = sqlite3_column_int64(st, 10);
        c->exit_code = sqlite3_column_int(st, 11);
        c->oom_killed = sqlite3_column_int(st, 12) != 0;
        c->restart_count = (unsigned)sqlite3_column_int64(st, 13);
        if (sqlite3_column_type(st, 14) != SQLITE_NULL && !(c->error = col_dup(st, 14)))
                return berr_make(err, ENOMEM, "container record");
        *out = TAKE_PTR(c);
        return 0;
}

static int name_taken_error(sqlite3 *db, const char *name, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *other = NULL;

        if (db_prepare(db, "SELECT id FROM containers WHERE name = ?", &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
                other = col_dup(st, 0);
        return eng_err(err, EEXIST,
                       "the container name \"/%s\" is already in use by container \"%s\". You have to remove "
                       "(or rename) that container to be able to reuse that name.",
                       name, other ? other : "?");
}

int container_insert(sqlite3 *db, const struct container *c, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        const char *cfg = json_to_string(c->config, false);
        int r;

        if (!cfg)
                return berr_make(err, ENOMEM, "container record");
        if (db_prepare(db,
                       "INSERT INTO containers (id, name, image_id, image_name, runtime, runtime_path, "
                       "created_ns, config, phase) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, c->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, c->image_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, c->image_name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, c->runtime, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, c->runtime_path, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, c->created_ns);
        sqlite3_bind_text(st, 8, cfg, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 9, container_phase_name(c->phase), -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        if (r == SQLITE_DONE)
                return 0;
        if (sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_UNIQUE) {
                _cleanup_berr_ struct berr *e = NULL;
                if (strstr(sqlite3_errmsg(db), "containers.name"))
                        return name_taken_error(db, c->name, err);
                return eng_err(err, EEXIST, "container id %s exists", c->id);
        }
        return db_error(db, err, "insert container");
}

static int query_one(sqlite3 *db, const char *sql, const char *param, struct container **out,
                     struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if (db_prepare(db, sql, &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        if (r == SQLITE_DONE)
                return 0;
        if (r != SQLITE_ROW)
                return db_error(db, err, "read container");
        if (row_to_container(db, st, out, err) < 0)
                return -1;
        return 1;
}

int container_get(sqlite3 *db, const char *id, struct container **out, struct berr **err)
{
        return query_one(db, "SELECT " COLUMNS " FROM containers WHERE id = ?", id, out, err);
}

static bool is_hex_prefix(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 64)
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

int container_lookup(sqlite3 *db, const char *input, struct container **out, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *pattern = NULL;
        const char *name = input[0] == '/' ? input + 1 : input;
        int r;

        if (!*input)
                return 0;
        if (strlen(input) == 64 && (r = container_get(db, input, out, err)) != 0)
                return r;
        r = query_one(db, "SELECT " COLUMNS " FROM containers WHERE name = ?", name, out, err);
        if (r != 0 || !is_hex_prefix(input))
                return r;
        if (asprintf(&pattern, "%s*", input) < 0)
                return berr_make(err, ENOMEM, "container lookup");
        /* GLOB is case-sensitive and uses the primary key's index for a prefix. */
        if (db_prepare(db, "SELECT " COLUMNS " FROM containers WHERE id GLOB ? LIMIT 2", &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, pattern, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        if (r == SQLITE_DONE)
                return 0;
        if (r != SQLITE_ROW)
                return db_error(db, err, "read container");
        if (row_to_container(db, st, out, err) < 0)
                return -1;
        r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
                container_free(*out);
                *out = NULL;
                return eng_err(err, EINVAL, "multiple containers found with prefix `%s`: give more of the id",
                               input);
        }
        return 1;
}

int container_list(sqlite3 *db, struct container ***out, size_t *n, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        struct container **v = NULL;
        size_t len = 0;
        int r;

        *out = NULL;
        *n = 0;
        if (db_prepare(db, "SELECT " COLUMNS " FROM containers ORDER BY created_ns DESC, id", &st, err) < 0)
                return -1;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
                struct container **nv = realloc(v, (len + 1) * sizeof(*v));
                if (!nv) {
                        container_freev(v, len);
                        return berr_make(err, ENOMEM, "list containers");
                }
                v = nv;
                if (row_to_container(db, st, &v[len], err) < 0) {
                        container_freev(v, len);
                        return -1;
                }
                len++;
        }
        if (r != SQLITE_DONE) {
                container_freev(v, len);
                return db_error(db, err, "list containers");
        }
        *out = v;
        *n = len;
        return 0;
}

static int exec_update(sqlite3 *db, sqlite3_stmt *st, const char *what, struct berr **err)
{
        if (sqlite3_step(st) != SQLITE_DONE)
                return db_error(db, err, what);
        return 0;
}

int container_update_state(sqlite3 *db, const struct container *c, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (db_prepare(db,
                       "UPDATE containers SET phase = ?, started_ns = ?, finished_ns = ?, exit_code = ?, "
                       "oom_killed = ?, restart_count = ?, error = ? WHERE id = ?",
                       &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, container_phase_name(c->phase), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, c->started_ns);
        sqlite3_bind_int64(st, 3, c->finished_ns);
        sqlite3_bind_int(st, 4, c->exit_code);
        sqlite3_bind_int(st, 5, c->oom_killed);
        sqlite3_bind_int64(st, 6, c->restart_count);
        if (c->error)
                sqlite3_bind_text(st, 7, c->error, -1, SQLITE_STATIC);
        else
                sqlite3_bind_null(st, 7);
        sqlite3_bind_text(st, 8, c->id, -1, SQLITE_STATIC);
        return exec_update(db, st, "update container", err);
}

int container_set_phase(sqlite3 *db, const char *id, enum container_phase p, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (db_prepare(db, "UPDATE containers SET phase = ? WHERE id = ?", &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, container_phase_name(p), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        return exec_update(db, st, "update container", err);
}

int container_update_config(sqlite3 *db, const char *id, json_object *config, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        const char *cfg = json_to_string(config, false);

        if (!cfg)
                return berr_make(err, ENOMEM, "container config");
        if (db_prepare(db, "UPDATE containers SET config = ? WHERE id = ?", &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, cfg, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        return exec_update(db, st, "update container", err);
}

int container_rename(sqlite3 *db, const char *id, const char *name, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (!container_name_valid(name))
                return eng_err(err, EINVAL,
                               "invalid container name \"%s\", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                               name);
        if (db_prepare(db, "UPDATE containers SET name = ? WHERE id = ?", &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_DONE)
                return 0;
        if (sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_UNIQUE)
                return name_taken_error(db, name, err);
        return db_error(db, err, "rename container");
}

int container_delete(sqlite3 *db, const char *id, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (db_prepare(db, "DELETE FROM containers WHERE id = ?", &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        return exec_update(db, st, "delete container", err);
}

int container_id_new(char out[65], struct berr **err)
{
        static const char hex[] = "0123456789abcdef";
        uint8_t b[32];

        if (getrandom(b, sizeof(b), 0) != sizeof(b))
                return berr_errno(err, "getrandom");
        for (size_t i = 0; i < sizeof(b); i++) {
                out[2 * i] = hex[b[i] >> 4];
                out[2 * i + 1] = hex[b[i] & 15];
        }
        out[64] = '\0';
        return 0;
}

bool container_name_valid(const char *name)
{
        if (!name || !*name || strlen(name) > 253)
                return false;
        if (!((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z') ||
              (*name >= '0' && *name <= '9')))
                return false;
        for (const char *p = name + 1; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == '_' || *p == '.' || *p == '-'))
                        return false;
        return true;
}

/* berth's own word lists: a mood and something found in a harbour. */
static const char *const name_left[] = {
    "agile",    "amber",  "ample",    "ardent",   "azure",     "bold",    "brave",   "breezy",  "bright",
    "brisk",    "calm",   "candid",   "cheerful", "clever",    "cosmic",  "crisp",   "curious", "daring",
    "dazzling", "eager",  "earnest",  "elated",   "fearless",  "festive", "fond",    "gallant", "gentle",
    "gleaming", "golden", "gracious", "hardy",    "hearty",    "humble",  "jolly",   "keen",    "kind",
    "lively",   "loyal",  "lucid",    "merry",    "mellow",    "mighty",  "nimble",  "noble",   "patient",
    "peaceful", "placid", "plucky",   "proud",    "quiet",     "quick",   "radiant", "rapid",   "serene",
    "sharp",    "silent", "sleek",    "snug",     "sprightly", "steady",  "stoic",   "sturdy",  "sunny",
    "swift",    "tender", "tidy",     "tranquil", "trusty",    "upbeat",  "valiant", "vivid",   "wakeful",
    "warm",     "wise",   "witty",    "zealous",
};
static const char *const name_right[] = {
    "anchor",    "ballast", "barge",      "beacon",     "bollard", "bosun",   "bow",      "breakwater",
    "buoy",      "cabin",   "capstan",    "cargo",      "channel", "compass", "coracle",  "crane",
    "current",   "cutter",  "davit",      "deck",       "dinghy",  "dock",    "dory",     "estuary",
    "ferry",     "fathom",  "fjord",      "galley",     "gangway", "gull",    "halyard",  "harbour",
    "hatch",     "helm",    "hull",       "inlet",      "jetty",   "keel",    "ketch",    "lagoon",
    "lantern",   "launch",  "lighthouse", "lock",       "mast",    "marina",  "mooring",  "navigator",
    "oar",       "pier",    "pilot",      "port",       "quay",    "raft",    "reef",     "rigging",
    "rudder",    "sail",    "schooner",   "shipwright", "skiff",   "sloop",   "sounding", "spar",
    "starboard", "steamer", "stern",      "tide",       "tiller",  "trawler", "tugboat",  "wake",
    "wharf",     "winch",   "yawl",
};

void container_name_generate(uint64_t rnd, unsigned attempt, char *out, size_t size)
{
        const char *l = name_left[rnd % ARRAY_SIZE(name_left)];
        const char *r = name_right[(rnd / ARRAY_SIZE(name_left)) % ARRAY_SIZE(name_right)];

        if (attempt == 0)
                snprintf(out, size, "%s_%s", l, r);
        else
                snprintf(out, size, "%s_%s%u", l, r, (unsigned)((rnd >> 32) % 10));
}

int container_name_new(sqlite3 *db, char **out, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char name[64];

        if (db_prepare(db, "SELECT 1 FROM containers WHERE name = ?", &st, err) < 0)
                return -1;
        for (unsigned attempt = 0; attempt < 64; attempt++) {
                uint64_t rnd;
                int r;
                if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                        return berr_errno(err, "getrandom");
                /* docker: a digit is appended once the plain names collide a few times. */
                container_name_generate(rnd, attempt < 6 ? 0 : attempt, name, sizeof(name));
                sqlite3_reset(st);
                sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
                r = sqlite3_step(st);
                if (r == SQLITE_DONE) {
                        *out = strdup(name);
                        return *out ? 0 : berr_make(err, ENOMEM, "name");
                }
                if (r != SQLITE_ROW)
                        return db_error(db, err, "read container names");
        }
        return eng_err(err, EEXIST, "no free container name found: give one with --name");
}

int exec_session_insert(sqlite3 *db, const struct exec_session *s, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        const char *cmd = json_to_string(s->command, false);

        if (!cmd)
                return berr_make(err, ENOMEM, "exec session");
        if (db_prepare(db,
                       "INSERT INTO exec_sessions (id, container_id, command, tty, pid, started_ns) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, s->container_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, cmd, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, s->tty);
        sqlite3_bind_int(st, 5, s->pid);
        sqlite3_bind_int64(st, 6, s->started_ns);
        return exec_update(db, st, "record exec session", err);
}

int exec_session_finish(sqlite3 *db, const char *id, int exit_code, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (db_prepare(db, "UPDATE exec_sessions SET exit_code = ?, finished_ns = ? WHERE id = ?", &st, err) <
            0)
                return -1;
        sqlite3_bind_int(st, 1, exit_code);
        sqlite3_bind_int64(st, 2, time_now_ns());
        sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
        return exec_update(db, st, "record exec exit", err);
}

int exec_session_ids(sqlite3 *db, const char *container_id, char ***out, struct berr **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_strv_free_ char **v = calloc(1, sizeof(char *));
        int r;

        if (!v)
                return berr_make(err, ENOMEM, "exec sessions");
        if (db_prepare(db,
                       "SELECT id FROM exec_sessions WHERE container_id = ? AND exit_code IS NULL "
                       "ORDER BY started_ns",
                       &st, err) < 0)
                return -1;
        sqlite3_bind_text(st, 1, container_id, -1, SQLITE_STATIC);
        while ((r = sqlite3_step(st)) == SQLITE_ROW)
                if (strv_push(&v, col_dup(st, 0)) < 0)
                        return berr_make(err, ENOMEM, "exec sessions");
        if (r != SQLITE_DONE)
                return db_error(db, err, "read exec sessions");
        *out = TAKE_PTR(v);
        return 0;
}
