/* SPDX-License-Identifier: Apache-2.0 */
/* The event log (write, read back, filters, until, rotation), prune filters and CPU percentages. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "basic/timeutil.h"
#include "engine/events.h"
#include "engine/manage.h"
#include "engine/stats.h"

static char tmpdir[] = "/tmp/test-engine-extras.XXXXXX";

struct seen {
        char actions[16][32];
        size_t n;
};

static int collect(void *userdata, json_object *ev, struct berr **err)
{
        struct seen *s = userdata;
        const char *a = json_object_get_string(json_object_object_get(ev, "Action"));

        (void)err;
        if (s->n < ARRAY_SIZE(s->actions))
                snprintf(s->actions[s->n++], sizeof(s->actions[0]), "%s", a ? a : "?");
        return 0;
}

static char *joined(const struct seen *s)
{
        static char buf[512];
        size_t at = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < s->n; i++)
                at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%s%s", i ? " " : "", s->actions[i]);
        return buf;
}

/* Reads every event from since on with the filters given as "key=value" strings (NULL-terminated). */
static char *read_all(struct engine *e, int64_t since, int64_t until, const char *const *filters)
{
        struct engine_events_filter f = {0};
        struct engine_events_query q = {.since_ns = since, .until_ns = until, .filter = &f};
        struct seen s = {0};
        struct berr *err = NULL;

        for (const char *const *p = filters; p && *p; p++)
                assert_int_equal(engine_events_filter_add(&f, *p, &err), 0);
        assert_int_equal(engine_events_read(e, &q, collect, &s, &err), 0);
        engine_events_filter_done(&f);
        return joined(&s);
}

#define ID_A "aaaa000000000000000000000000000000000000000000000000000000000001"
#define ID_B "bbbb000000000000000000000000000000000000000000000000000000000002"

static void test_events_log(void **state)
{
        _cleanup_free_ char *runroot = NULL, *log = NULL;
        struct engine e = {0};
        int64_t t0, t1;

        (void)state;
        assert_true(asprintf(&runroot, "%s/run", tmpdir) > 0);
        e.runroot = runroot;
        /* Nothing written yet: no error, no events. */
        assert_string_equal(read_all(&e, 1, 0, NULL), "");

        t0 = time_now_ns();
        engine_event_emit(&e, "container", "create", ID_A,
                          (const char *const[]){"image", "demo", "name", "web", "tier", "front", NULL});
        engine_event_emit(&e, "container", "start", ID_A,
                          (const char *const[]){"image", "demo", "name", "web", "tier", "front", NULL});
        engine_event_emit(&e, "container", "create", ID_B,
                          (const char *const[]){"image", "other", "name", "db", NULL});
        engine_event_emit(&e, "image", "tag", "sha256:1234", (const char *const[]){"name", "demo", NULL});
        engine_event_emit(&e, "container", "exec_start: sh -c true", ID_B, NULL);
        t1 = time_now_ns();

        assert_string_equal(read_all(&e, t0, 0, NULL), "create start create tag exec_start: sh -c true");
        /* since 0: only new events (docker's default), none without following */
        assert_string_equal(read_all(&e, 0, 0, NULL), "");
        assert_string_equal(read_all(&e, t1 + 1, 0, NULL), "");
        /* until stops at the first later event */
        assert_string_equal(read_all(&e, t0, t0 - 1, NULL), "");

        /* container= matches names (with or without /) and id prefixes, only container events */
        assert_string_equal(read_all(&e, t0, 0, (const char *const[]){"container=web", NULL}),
                            "create start");
        assert_string_equal(read_all(&e, t0, 0, (const char *const[]){"container=/web", NULL}),
                            "create start");
        assert_string_equal(read_all(&e, t0, 0, (const char *const[]){"container=bbbb", NULL}),
                            "create exec_start: sh -c true");
        assert_string_equal(read_all(&e, t0, 0, (const char *const[]){"container=demo", NULL}), "");
        /* values of one key are alternatives; keys must all match */
        assert_string_equal(
            read_all(&e, t0, 0, (const char *const[]){"container=web", "container=db", "event=create", NULL}),
            "create create");
        assert_string_equal(read_all(&e, t0, 0, (const char *const[]){"event=exec_start", NULL}),
                            "exec_start: sh -c true");
        assert_string_equal(read_all(&e, t0, 0, (const char *const[]){"type=image", NULL}), "tag");
        assert_string_equal(read_all(&e, t0, 0, (const char *const[]){"image=demo", NULL}),
                            "create start tag");
        assert_string_equal(read_all(&e, t0, 0, (const char *const[]){"label=tier", NULL}), "create start");
        assert_string_equal(read_all(&e, t0, 0, (const char *const[]){"label=tier=back", NULL}), "");

        /* A line that is not an event (a torn or foreign write) is skipped, the rest still read. */
        assert_true(asprintf(&log, "%s/events/events.log", runroot) > 0);
        {
                FILE *f = fopen(log, "a");
                assert_non_null(f);
                fputs("{\"Type\": \"container\", \"Act\nnot json at all\n", f);
                fclose(f);
        }
        engine_event_emit(&e, "container", "die", ID_A, (const char *const[]){"name", "web", NULL});
        assert_string_equal(read_all(&e, t0, 0, (const char *const[]){"container=web", NULL}),
                            "create start die");
}

static void test_events_rotation(void **state)
{
        _cleanup_free_ char *runroot = NULL, *log = NULL, *old = NULL;
        struct engine e = {0};
        struct stat st;
        int64_t t0;

        (void)state;
        assert_true(asprintf(&runroot, "%s/rot", tmpdir) > 0);
        assert_true(asprintf(&log, "%s/events/events.log", runroot) > 0);
        assert_true(asprintf(&old, "%s/events/events.log.1", runroot) > 0);
        e.runroot = runroot;
        t0 = time_now_ns();
        engine_event_emit(&e, "container", "create", ID_A, (const char *const[]){"name", "web", NULL});
        /* Grow the log past its bound: the next writer moves it aside and starts a new one. */
        assert_int_equal(truncate(log, ENGINE_EVENTS_LOG_MAX + 1), 0);
        engine_event_emit(&e, "container", "start", ID_A, (const char *const[]){"name", "web", NULL});
        assert_int_equal(stat(old, &st), 0);
        assert_true(st.st_size > (off_t)ENGINE_EVENTS_LOG_MAX);
        assert_int_equal(stat(log, &st), 0);
        assert_true(st.st_size < 4096);
        /* Both generations are read: the old one (its NUL padding is no event), then the new one. */
        assert_string_equal(read_all(&e, t0, 0, NULL), "create start");
}

static void test_events_filter_errors(void **state)
{
        struct engine_events_filter f = {0};
        struct berr *err = NULL;

        (void)state;
        assert_true(engine_events_filter_add(&f, "bogus=1", &err) < 0);
        assert_non_null(strstr(err->msg, "bogus"));
        berr_freep(&err);
        assert_true(engine_events_filter_add(&f, "event", &err) < 0);
        berr_freep(&err);
        assert_true(engine_events_filter_add(&f, "event=", &err) < 0);
        berr_freep(&err);
        assert_true(engine_events_filter_add(&f, "=x", &err) < 0);
        berr_freep(&err);
        assert_int_equal(engine_events_filter_add(&f, "event=die", &err), 0);
        assert_int_equal(strv_length(f.events), 1);
        engine_events_filter_done(&f);
}

static void test_prune_filter(void **state)
{
        struct engine_prune_filter f = {0};
        struct berr *err = NULL;
        const int64_t now = 1700000000LL * 1000000000LL;

        (void)state;
        assert_int_equal(engine_prune_filter_add(&f, "until=10m", now, &err), 0);
        assert_true(f.until_ns == now - 600LL * 1000000000LL);
        assert_int_equal(engine_prune_filter_add(&f, "until=1600000000", now, &err), 0);
        assert_true(f.until_ns == 1600000000LL * 1000000000LL);
        assert_int_equal(engine_prune_filter_add(&f, "label=a=b", now, &err), 0);
        assert_int_equal(engine_prune_filter_add(&f, "label!=c", now, &err), 0);
        assert_string_equal(f.labels[0], "a=b");
        assert_string_equal(f.not_labels[0], "c");
        assert_true(engine_prune_filter_add(&f, "until=whenever", now, &err) < 0);
        berr_freep(&err);
        assert_true(engine_prune_filter_add(&f, "status=exited", now, &err) < 0);
        assert_non_null(strstr(err->msg, "status"));
        berr_freep(&err);
        assert_true(engine_prune_filter_add(&f, "label", now, &err) < 0);
        berr_freep(&err);
        engine_prune_filter_done(&f);
        assert_null(f.labels);
}

static void test_cpu_percent(void **state)
{
        struct engine_stats a = {
            .running = true, .started_ns = 0, .read_ns = 4000000000LL, .cpu_ns = 1000000000};
        struct engine_stats b = a;

        (void)state;
        /* first sample: the average since start (1 s of CPU in 4 s) */
        assert_true(engine_stats_cpu_percent(NULL, &a) > 24.99 && engine_stats_cpu_percent(NULL, &a) < 25.01);
        /* two busy CPUs for the whole interval: 200% */
        b.read_ns += 1000000000LL;
        b.cpu_ns += 2000000000ULL;
        assert_true(engine_stats_cpu_percent(&a, &b) > 199.99 && engine_stats_cpu_percent(&a, &b) < 200.01);
        /* a counter that went back (a restart) and an empty interval count as idle */
        assert_true(engine_stats_cpu_percent(&b, &a) == 0);
        assert_true(engine_stats_cpu_percent(&a, &a) == 0);
        b.running = false;
        assert_true(engine_stats_cpu_percent(&a, &b) == 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_events_log),           cmocka_unit_test(test_events_rotation),
            cmocka_unit_test(test_events_filter_errors), cmocka_unit_test(test_prune_filter),
            cmocka_unit_test(test_cpu_percent),
        };
        _cleanup_close_ int fd = -1;
        int r;

        if (!mkdtemp(tmpdir))
                return 1;
        r = cmocka_run_group_tests(tests, NULL, NULL);
        /* Only our own mkdtemp directory, checked by its prefix. */
        fd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0 && strneq(tmpdir, "/tmp/test-engine-extras.", 24) && strlen(tmpdir) > 24)
                rm_rf_at(fd, tmpdir + 5, NULL);
        return r;
}
