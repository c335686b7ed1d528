/* SPDX-License-Identifier: Apache-2.0 */
/* Engine core: records and migrations, id/name resolution, state derivation, configuration. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/strv.h"
#include "engine/container.h"
#include "engine/lifecycle.h"
#include "engine/spec-internal.h"
#include "image/db.h"

static char tmpdir[64];

static int setup(void **state)
{
        (void)state;
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/berth-test-engine.XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
        return 0;
}

static int teardown(void **state)
{
        _cleanup_close_ int fd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        (void)state;
        /* Only our own mkdtemp directory, checked by its prefix. */
        if (strneq(tmpdir, "/tmp/berth-test-engine.", 23) && strlen(tmpdir) > 23)
                rm_rf_at(fd, tmpdir + 5, NULL);
        return 0;
}

static sqlite3 *open_db(const char *name)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        sqlite3 *db = NULL;

        assert_true(asprintf(&path, "%s/%s", tmpdir, name) > 0);
        assert_int_equal(db_open(path, &db, &err), 0);
        assert_int_equal(engine_db_migrate(db, &err), 0);
        return db;
}

static struct container *new_container(const char *id, const char *name, int64_t created)
{
        struct container *c = calloc(1, sizeof(*c));

        c->id = strdup(id);
        c->name = strdup(name);
        c->image_id = strdup("sha256:0000000000000000000000000000000000000000000000000000000000000001");
        c->image_name = strdup("demo");
        c->runtime = strdup("berth-runtime");
        c->runtime_path = strdup("/usr/bin/berth-runtime");
        c->created_ns = created;
        c->config = json_object_new_object();
        json_object_object_add(c->config, "rm", json_object_new_boolean(true));
        return c;
}

#define ID_A "aaaa000000000000000000000000000000000000000000000000000000000001"
#define ID_B "aaab000000000000000000000000000000000000000000000000000000000002"
#define ID_C "cccc000000000000000000000000000000000000000000000000000000000003"

static void test_migrations(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        sqlite3 *db = open_db("m.db");
        int v;

        (void)state;
        assert_int_equal(db_version(db, "engine", &v, &err), 0);
        assert_int_equal((size_t)v, engine_db_version_latest());
        /* Applying again changes nothing. */
        assert_int_equal(engine_db_migrate(db, &err), 0);
        assert_int_equal(db_version(db, "engine", &v, &err), 0);
        assert_int_equal((size_t)v, engine_db_version_latest());
        /* A newer berth's schema is refused with a clear message. */
        assert_int_equal(
            db_exec(db, "UPDATE schema_versions SET version = 99 WHERE component = 'engine'", &err), 0);
        assert_true(engine_db_migrate(db, &err) == 0 ? false : true);
        assert_non_null(strstr(err->msg, "newer than this berth knows"));
        db_close(db);
}

static void test_records(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct container *a = new_container(ID_A, "web", 100), *b = new_container(ID_B, "db", 200);
        struct container *dup = new_container(ID_C, "web", 300), *got = NULL, **v = NULL;
        sqlite3 *db = open_db("r.db");
        size_t n;

        (void)state;
        assert_int_equal(container_insert(db, a, &err), 0);
        assert_int_equal(container_insert(db, b, &err), 0);
        /* A taken name: docker's message, naming the other container. */
        assert_true(container_insert(db, dup, &err) < 0);
        assert_int_equal(err->code, EEXIST);
        assert_non_null(strstr(err->msg, "\"/web\" is already in use by container \"" ID_A "\""));
        berr_freep(&err);

        /* id, name, /name, unique prefix, ambiguous prefix, nothing. */
        assert_int_equal(container_lookup(db, ID_A, &got, &err), 1);
        assert_string_equal(got->name, "web");
        assert_true(json_object_get_boolean(json_object_object_get(got->config, "rm")));
        container_free(got);
        assert_int_equal(container_lookup(db, "db", &got, &err), 1);
        assert_string_equal(got->id, ID_B);
        container_free(got);
        assert_int_equal(container_lookup(db, "/web", &got, &err), 1);
        assert_string_equal(got->id, ID_A);
        container_free(got);
        assert_int_equal(container_lookup(db, "aaab", &got, &err), 1);
        assert_string_equal(got->id, ID_B);
        container_free(got);
        got = NULL;
        assert_true(container_lookup(db, "aaa", &got, &err) < 0);
        assert_non_null(strstr(err->msg, "multiple containers"));
        assert_null(got);
        berr_freep(&err);
        assert_int_equal(container_lookup(db, "nope", &got, &err), 0);
        assert_int_equal(container_lookup(db, "", &got, &err), 0);
        /* A name that looks like an id prefix resolves as the name first. */
        {
                struct container *named = new_container(ID_C, "aaab", 50);
                assert_int_equal(container_insert(db, named, &err), 0);
                assert_int_equal(container_lookup(db, "aaab", &got, &err), 1);
                assert_string_equal(got->id, ID_C);
                container_free(got);
                assert_int_equal(container_delete(db, ID_C, &err), 0);
                container_free(named);
        }

        /* Newest first. */
        assert_int_equal(container_list(db, &v, &n, &err), 0);
        assert_int_equal(n, 2);
        assert_string_equal(v[0]->id, ID_B);
        assert_string_equal(v[1]->id, ID_A);
        container_freev(v, n);

        /* State and phase round trip. */
        a->phase = CONTAINER_PHASE_STOPPED;
        a->exit_code = 137;
        a->oom_killed = true;
        a->restart_count = 3;
        a->started_ns = 5;
        a->finished_ns = 6;
        a->error = strdup("boom");
        assert_int_equal(container_update_state(db, a, &err), 0);
        assert_int_equal(container_get(db, ID_A, &got, &err), 1);
        assert_int_equal(got->phase, CONTAINER_PHASE_STOPPED);
        assert_int_equal(got->exit_code, 137);
        assert_true(got->oom_killed);
        assert_int_equal(got->restart_count, 3);
        assert_string_equal(got->error, "boom");
        container_free(got);

        /* Rename: validity and conflicts. */
        assert_true(container_rename(db, ID_A, "-bad", &err) < 0);
        berr_freep(&err);
        assert_true(container_rename(db, ID_A, "db", &err) < 0);
        assert_non_null(strstr(err->msg, "already in use"));
        berr_freep(&err);
        assert_int_equal(container_rename(db, ID_A, "web2", &err), 0);
        assert_int_equal(container_lookup(db, "web2", &got, &err), 1);
        container_free(got);

        /* Exec sessions go with their container. */
        {
                json_object *cmd = engine_json_strv((const char *const[]){"sh", NULL});
                struct exec_session s = {
                    .id = (char *)ID_C, .container_id = (char *)ID_A, .command = cmd, .started_ns = 1};
                char **ids = NULL;
                assert_int_equal(exec_session_insert(db, &s, &err), 0);
                assert_int_equal(exec_session_ids(db, ID_A, &ids, &err), 0);
                assert_int_equal(strv_length(ids), 1);
                strv_free(ids);
                assert_int_equal(exec_session_finish(db, ID_C, 0, &err), 0);
                assert_int_equal(exec_session_ids(db, ID_A, &ids, &err), 0);
                assert_int_equal(strv_length(ids), 0);
                strv_free(ids);
                json_object_put(cmd);
        }
        assert_int_equal(container_delete(db, ID_A, &err), 0);
        assert_int_equal(container_get(db, ID_A, &got, &err), 0);
        /* Deleting again is not an error. */
        assert_int_equal(container_delete(db, ID_A, &err), 0);
        container_free(a);
        container_free(b);
        container_free(dup);
        db_close(db);
}

static void test_ids_names(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        char a[65], b[65], name[64];
        sqlite3 *db = open_db("n.db");
        char *gen = NULL;

        (void)state;
        assert_int_equal(container_id_new(a, &err), 0);
        assert_int_equal(container_id_new(b, &err), 0);
        assert_int_equal(strlen(a), 64);
        assert_int_equal(strspn(a, "0123456789abcdef"), 64);
        assert_string_not_equal(a, b);
        assert_true(container_name_valid("a"));
        assert_true(container_name_valid("Web_1.x-y"));
        assert_false(container_name_valid(""));
        assert_false(container_name_valid("_x"));
        assert_false(container_name_valid("a b"));
        assert_false(container_name_valid("a/b"));
        container_name_generate(0, 0, name, sizeof(name));
        assert_non_null(strchr(name, '_'));
        assert_true(container_name_valid(name));
        container_name_generate(12345, 7, name, sizeof(name));
        assert_true(name[strlen(name) - 1] >= '0' && name[strlen(name) - 1] <= '9');
        assert_int_equal(container_name_new(db, &gen, &err), 0);
        assert_true(container_name_valid(gen));
        free(gen);
        db_close(db);
}

/* A monitor state directory with a state.json, and optionally its lock held (a live monitor). */
static int monitor_dir(const char *id, const char *state_json, bool alive)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_close_ int dfd = -1;

        assert_true(asprintf(&dir, "%s/run/containers/%s", tmpdir, id) > 0);
        assert_int_equal(mkdir_p(dir, 0700, &err), 0);
        dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        if (state_json)
                assert_int_equal(
                    write_file_atomic_at(dfd, "state.json", state_json, strlen(state_json), 0600, &err), 0);
        else
                unlinkat(dfd, "state.json", 0);
        return alive ? monitor_lock(dfd, &err) : -1;
}

static enum container_status derive(struct engine *e, struct container *c, struct container_state *st)
{
        _cleanup_berr_ struct berr *err = NULL;

        assert_int_equal(container_state_derive(e, c, st, &err), 0);
        return st->status;
}

static void test_state(void **state)
{
        _cleanup_free_ char *runroot = NULL;
        struct container *c = new_container(ID_A, "web", 1);
        struct container_state st;
        struct engine e = {0};
        int lock;

        (void)state;
        assert_true(asprintf(&runroot, "%s/run", tmpdir) > 0);
        e.runroot = runroot;

        /* Never started; stopped (from the record); being removed. */
        c->phase = CONTAINER_PHASE_CREATED;
        assert_int_equal(derive(&e, c, &st), CONTAINER_CREATED);
        container_state_done(&st);
        c->phase = CONTAINER_PHASE_STOPPED;
        c->exit_code = 3;
        c->finished_ns = 77;
        assert_int_equal(derive(&e, c, &st), CONTAINER_EXITED);
        assert_int_equal(st.exit_code, 3);
        assert_int_equal(st.finished_ns, 77);
        container_state_done(&st);
        c->phase = CONTAINER_PHASE_REMOVING;
        assert_int_equal(derive(&e, c, &st), CONTAINER_REMOVING);
        container_state_done(&st);

        c->phase = CONTAINER_PHASE_STARTED;
        /* Started, the monitor still creating it (alive, no state.json yet). */
        lock = monitor_dir(ID_A, NULL, true);
        assert_int_equal(derive(&e, c, &st), CONTAINER_CREATED);
        container_state_done(&st);
        close(lock);
        /* ... and the monitor gone before it wrote anything. */
        assert_int_equal(derive(&e, c, &st), CONTAINER_DEAD);
        assert_non_null(strstr(st.error, "before the container was created"));
        container_state_done(&st);

        /* Running with a live monitor. */
        lock = monitor_dir(ID_A,
                           "{\"status\":\"running\",\"pid\":4242,\"monitorPid\":4240,\"monitorStartTime\":1,"
                           "\"startedAt\":\"2024-01-02T03:04:05Z\",\"restartCount\":2}",
                           true);
        assert_int_equal(derive(&e, c, &st), CONTAINER_RUNNING);
        assert_int_equal(st.pid, 4242);
        assert_int_equal(st.monitor_pid, 4240);
        assert_int_equal(st.restart_count, 2);
        assert_int_equal(st.started_ns, 1704164645000000000LL);
        container_state_done(&st);
        /* The monitor killed -9: state.json still says running, the lock says the truth. */
        close(lock);
        assert_int_equal(derive(&e, c, &st), CONTAINER_DEAD);
        assert_int_equal(st.pid, 0);
        assert_non_null(strstr(st.error, "monitor (pid 4240) is gone"));
        container_state_done(&st);

        /* Restarting (alive), then dead while restarting. */
        lock = monitor_dir(
            ID_A,
            "{\"status\":\"restarting\",\"pid\":0,\"monitorPid\":4240,\"monitorStartTime\":1,"
            "\"restartCount\":1,\"exitCode\":1,\"oomKilled\":false,\"exitedAt\":\"2024-01-02T03:04:06Z\"}",
            true);
        assert_int_equal(derive(&e, c, &st), CONTAINER_RESTARTING);
        assert_int_equal(st.exit_code, 1);
        container_state_done(&st);
        close(lock);
        assert_int_equal(derive(&e, c, &st), CONTAINER_DEAD);
        container_state_done(&st);

        /* Exited: OOM kill and signal, whether or not the monitor is still finishing. */
        lock = monitor_dir(ID_A,
                           "{\"status\":\"exited\",\"pid\":0,\"monitorPid\":4240,\"monitorStartTime\":1,"
                           "\"restartCount\":0,\"exitCode\":137,\"signal\":9,\"oomKilled\":true,"
                           "\"exitedAt\":\"2024-01-02T03:04:09.5Z\"}",
                           true);
        assert_int_equal(derive(&e, c, &st), CONTAINER_EXITED);
        assert_int_equal(st.exit_code, 137);
        assert_true(st.oom_killed);
        assert_int_equal(st.finished_ns, 1704164649500000000LL);
        container_state_done(&st);
        close(lock);
        assert_int_equal(derive(&e, c, &st), CONTAINER_EXITED);
        container_state_done(&st);

        /* A monitor that gave up says why. */
        monitor_dir(ID_A,
                    "{\"status\":\"exited\",\"pid\":0,\"monitorPid\":4240,\"monitorStartTime\":1,"
                    "\"restartCount\":1,\"exitCode\":1,\"error\":\"create container `x`: failed\"}",
                    false);
        assert_int_equal(derive(&e, c, &st), CONTAINER_EXITED);
        assert_string_equal(st.error, "create container `x`: failed");
        container_state_done(&st);

        /* A damaged state file is an error naming it, not a guess. */
        monitor_dir(ID_A, "{\"status\":\"sleeping\"}", false);
        {
                _cleanup_berr_ struct berr *err = NULL;
                assert_true(container_state_derive(&e, c, &st, &err) < 0);
                assert_non_null(strstr(err->msg, "unknown status"));
        }
        container_free(c);
}

static void test_status_names(void **state)
{
        enum container_status s;

        (void)state;
        assert_string_equal(container_status_name(CONTAINER_EXITED), "exited");
        assert_int_equal(container_status_parse("paused", &s), 0);
        assert_int_equal(s, CONTAINER_PAUSED);
        assert_true(container_status_parse("bogus", &s) < 0);
        assert_false(container_cgroup_frozen("/../etc"));
        assert_false(container_cgroup_frozen(NULL));
}

static void test_config(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct engine_config c;
        const char *doc =
            "{\"runtime\": \"runc\", \"runtimes\": {\"runc\": {\"paths\": [\"/opt/runc\"], \"args\": "
            "[\"--systemd-cgroup\"]}, \"mine\": [\"/opt/mine\"]}, \"logDriver\": \"json-file\", "
            "\"stopTimeout\": 3, \"network\": {\"defaultSubnet\": \"10.1.2.0/24\"}}";
        size_t found = 0;

        (void)state;
        assert_int_equal(engine_config_parse("{}", 2, "t", &c, &err), 0);
        assert_string_equal(c.default_runtime, "berth-runtime");
        assert_string_equal(c.log_driver, "k8s-file");
        assert_int_equal(c.stop_timeout, 10);
        assert_true(c.n_runtimes >= 4);
        engine_config_done(&c);

        assert_int_equal(engine_config_parse(doc, strlen(doc), "t", &c, &err), 0);
        assert_string_equal(c.default_runtime, "runc");
        assert_string_equal(c.log_driver, "json-file");
        assert_int_equal(c.stop_timeout, 3);
        assert_string_equal(c.default_subnet, "10.1.2.0/24");
        for (size_t i = 0; i < c.n_runtimes; i++) {
                if (streq(c.runtimes[i].name, "runc")) {
                        /* The file's entry replaces the built-in one. */
                        assert_string_equal(c.runtimes[i].paths[0], "/opt/runc");
                        assert_null(c.runtimes[i].paths[1]);
                        assert_string_equal(c.runtimes[i].args[0], "--systemd-cgroup");
                        found++;
                }
                if (streq(c.runtimes[i].name, "mine")) {
                        assert_string_equal(c.runtimes[i].paths[0], "/opt/mine");
                        found++;
                }
        }
        assert_int_equal(found, 2);
        engine_config_done(&c);

        /* Errors name the key. */
        assert_true(engine_config_parse("{\"runtimez\": 1}", 15, "t", &c, &err) < 0);
        assert_non_null(strstr(err->msg, "unknown key `runtimez`"));
        berr_freep(&err);
        assert_true(engine_config_parse("{\"runtimes\": {\"x\": 5}}", 22, "t", &c, &err) < 0);
        assert_non_null(strstr(err->msg, "runtimes.x"));
        berr_freep(&err);
        assert_true(engine_config_parse("{\"logDriver\": \"syslog\"}", 23, "t", &c, &err) < 0);
        assert_non_null(strstr(err->msg, "syslog"));
        berr_freep(&err);
        assert_true(engine_config_parse("{\"runtimes\": {\"a/b\": [\"/x\"]}}", 29, "t", &c, &err) < 0);
        berr_freep(&err);
        assert_true(engine_config_parse("[]", 2, "t", &c, &err) < 0);
        berr_freep(&err);
        assert_true(engine_config_parse("{", 1, "t", &c, &err) < 0);
}

static void test_run_opts_json(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct engine_mount m[2] = {
            {.type = ENGINE_MOUNT_BIND,
             .source = (char *)"/srv",
             .destination = (char *)"/data",
             .readonly = true,
             .tmpfs_mode = -1},
            {.type = ENGINE_MOUNT_TMPFS, .destination = (char *)"/t", .tmpfs_size = 4096, .tmpfs_mode = 0700},
        };
        struct engine_run_opts o = {
            .entrypoint = "",
            .cmd = (const char *const[]){"echo", "hi", NULL},
            .add_hosts = (const char *const[]){"a:1.2.3.4", NULL},
            .privileged = true,
            .memory = "64m",
            .console_width = 80,
            .mounts = m,
            .n_mounts = 2,
        };
        struct engine_run_opts_holder h;
        json_object *j = engine_run_opts_to_json(&o);
        /* Through text, as stored. */
        json_object *back = json_tokener_parse(json_to_string(j, false));

        (void)state;
        assert_int_equal(engine_run_opts_from_json(back, &h, &err), 0);
        assert_string_equal(h.opts.entrypoint, "");
        assert_string_equal(h.opts.cmd[1], "hi");
        assert_null(h.opts.cmd[2]);
        assert_string_equal(h.opts.add_hosts[0], "a:1.2.3.4");
        assert_true(h.opts.privileged);
        assert_false(h.opts.read_only);
        assert_string_equal(h.opts.memory, "64m");
        assert_null(h.opts.cpus);
        assert_int_equal(h.opts.console_width, 80);
        assert_int_equal(h.opts.n_mounts, 2);
        assert_int_equal(h.opts.mounts[0].type, ENGINE_MOUNT_BIND);
        assert_string_equal(h.opts.mounts[0].source, "/srv");
        assert_true(h.opts.mounts[0].readonly);
        assert_int_equal(h.opts.mounts[1].tmpfs_size, 4096);
        assert_int_equal(h.opts.mounts[1].tmpfs_mode, 0700);
        engine_run_opts_holder_done(&h);
        json_object_put(back);
        json_object_put(j);
        /* Wrong types are refused. */
        back = json_tokener_parse("{\"cmd\": \"sh\"}");
        assert_true(engine_run_opts_from_json(back, &h, &err) < 0);
        engine_run_opts_holder_done(&h);
        json_object_put(back);
}

static void test_exit_codes(void **state)
{
        (void)state;
        assert_int_equal(engine_exit_code_for("exec: \"x\": executable file not found in $PATH"), 127);
        assert_int_equal(engine_exit_code_for("exec: \"/etc/passwd\": Permission denied"), 126);
        assert_int_equal(engine_exit_code_for("cgroup: boom"), 125);
        assert_int_equal(engine_exit_code_for(NULL), 125);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_migrations),    cmocka_unit_test(test_records),
            cmocka_unit_test(test_ids_names),     cmocka_unit_test(test_state),
            cmocka_unit_test(test_status_names),  cmocka_unit_test(test_config),
            cmocka_unit_test(test_run_opts_json), cmocka_unit_test(test_exit_codes),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
