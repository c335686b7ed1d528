/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sched.h>
#include <string.h>
#include <sys/resource.h>

#include "basic/json.h"
#include "oci/spec.h"
#include "oci/state.h"

#define MINIMAL "\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"}"

static int parse(const char *doc, struct oci_spec **s, struct berr **err)
{
        return oci_spec_parse(doc, strlen(doc), s, err);
}

static void expect_error(const char *doc, const char *fragment)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct oci_spec *s = NULL;

        assert_true(parse(doc, &s, &err) < 0);
        assert_null(s);
        assert_non_null(err);
        if (!strstr(err->msg, fragment))
                fail_msg("error `%s` does not mention `%s`", err->msg, fragment);
}

static void test_default_spec_roundtrip(void **state)
{
        json_object *def = oci_spec_default(false);
        const char *txt = json_to_string(def, true);
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_spec_ struct oci_spec *s = NULL;

        assert_int_equal(parse(txt, &s, &err), 0);
        assert_string_equal(s->root_path, "rootfs");
        assert_true(s->root_readonly);
        assert_true(s->process.terminal);
        assert_string_equal(s->process.args[0], "sh");
        assert_int_equal(s->n_mounts, 7);
        assert_int_equal(s->linux_.n_namespaces, 6);
        assert_non_null(oci_spec_ns(s, OCI_NS_CGROUP));
        assert_null(oci_spec_ns(s, OCI_NS_USER));
        assert_true(s->process.caps.bounding == ((1ULL << 29) | (1ULL << 5) | (1ULL << 10)));
        assert_int_equal(s->process.n_rlimits, 1);
        assert_int_equal(s->process.rlimits[0].resource, RLIMIT_NOFILE);
        assert_non_null(s->linux_.resources);
        json_object_put(def);
}

static void test_rootless_default_has_userns(void **state)
{
        json_object *def = oci_spec_default(true);
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_spec_ struct oci_spec *s = NULL;

        assert_int_equal(parse(json_to_string(def, false), &s, &err), 0);
        assert_non_null(oci_spec_ns(s, OCI_NS_USER));
        assert_int_equal(s->linux_.n_uid_mappings, 1);
        assert_int_equal(s->linux_.uid_mappings[0].host_id, 1000);
        json_object_put(def);
}

static void test_field_errors_name_the_field(void **state)
{
        expect_error("{" MINIMAL ",\"process\":{\"args\":\"sh\"}}", "process.args: expected an array");
        expect_error("{" MINIMAL ",\"process\":{\"args\":[\"sh\"],\"cwd\":\"tmp\"}}", "process.cwd: `tmp` must be an absolute path");
        expect_error("{" MINIMAL ",\"linux\":{\"namespaces\":[{\"type\":\"foo\"}]}}",
                     "linux.namespaces[0].type: unknown namespace type `foo`");
        expect_error("{" MINIMAL ",\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]}}",
                     "duplicate namespace");
        expect_error("{" MINIMAL ",\"linux\":{\"namespaces\":[{\"type\":\"net\",\"path\":\"x\"}]}}", "unknown namespace type `net`");
        expect_error("{" MINIMAL ",\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":\"x\"}]}}", "must be an absolute path");
        expect_error("{\"ociVersion\":\"1.0.2\"}", "root: required field is missing");
        expect_error("{\"ociVersion\":\"2.0\",\"root\":{\"path\":\"r\"}}", "ociVersion: unsupported version");
        expect_error("{" MINIMAL ",\"process\":{\"args\":[\"sh\"],\"user\":{\"uid\":-1}}}", "process.user.uid: value -1 out of range");
        expect_error("{" MINIMAL ",\"process\":{\"args\":[\"sh\"],\"rlimits\":[{\"type\":\"RLIMIT_FOO\",\"soft\":1,\"hard\":1}]}}",
                     "unknown rlimit `RLIMIT_FOO`");
        expect_error("{" MINIMAL ",\"process\":{\"args\":[\"sh\"],\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":2,\"hard\":1}]}}",
                     "soft limit 2 is above the hard limit 1");
        expect_error("{" MINIMAL ",\"process\":{\"args\":[]}}", "process.args: at least one argument");
        expect_error("{" MINIMAL ",\"process\":{\"args\":[\"a\"],\"env\":[\"NOEQUALS\"]}}", "not of the form KEY=value");
        expect_error("{" MINIMAL ",\"hooks\":{\"prestart\":[{\"path\":\"rel\"}]}}", "hooks.prestart[0].path: `rel` must be an absolute path");
        expect_error("{" MINIMAL ",\"hooks\":{\"poststop\":[{\"path\":\"/bin/true\",\"timeout\":0}]}}", "hooks.poststop[0].timeout");
        expect_error("{" MINIMAL ",\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"type\":\"q\",\"major\":1,\"minor\":1}]}}",
                     "unknown device type `q`");
        expect_error("{" MINIMAL ",\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"type\":\"c\"}]}}", "major and minor are required");
        expect_error("{" MINIMAL ",\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]}}",
                     "no user namespace");
        expect_error("{" MINIMAL ",\"linux\":{\"namespaces\":[{\"type\":\"user\"}]}}", "needs linux.uidMappings");
        expect_error("{" MINIMAL ",\"linux\":{\"timeOffsets\":{\"monotonic\":{\"secs\":1}}}}", "need a new time namespace");
        expect_error("{" MINIMAL ",\"linux\":{\"maskedPaths\":[\"proc/kcore\"]}}", "must be an absolute path");
        expect_error("{" MINIMAL ",\"linux\":{\"rootfsPropagation\":\"weird\"}}", "unknown propagation");
        expect_error("{" MINIMAL ",\"hostname\":\"h\"}", "needs a uts namespace");
        expect_error("{" MINIMAL ",\"mounts\":[{\"type\":\"tmpfs\"}]}", "mounts[0].destination: required field is missing");
        expect_error("[]", "expected a JSON object");
        expect_error("{" MINIMAL ",\"linux\":{\"personality\":{\"domain\":\"BSD\"}}}", "unknown domain");
}

static void test_full_process(void **state)
{
        const char *doc = "{" MINIMAL ",\"process\":{\"terminal\":true,\"consoleSize\":{\"height\":24,\"width\":80},"
                          "\"user\":{\"uid\":1,\"gid\":2,\"umask\":18,\"additionalGids\":[5,6]},\"args\":[\"sh\"],"
                          "\"env\":[\"A=b\"],\"cwd\":\"/w\",\"oomScoreAdj\":100,\"noNewPrivileges\":true,"
                          "\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":4},"
                          "\"scheduler\":{\"policy\":\"SCHED_BATCH\",\"nice\":5,\"flags\":[\"SCHED_FLAG_RESET_ON_FORK\"]},"
                          "\"capabilities\":{\"bounding\":[\"CAP_SYS_ADMIN\",\"CAP_NOT_A_CAP\"],\"ambient\":[\"cap_kill\"]}}}";
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_spec_ struct oci_spec *s = NULL;

        assert_int_equal(parse(doc, &s, &err), 0);
        assert_int_equal(s->process.console_height, 24);
        assert_int_equal(s->process.user.uid, 1);
        assert_int_equal(s->process.user.gid, 2);
        assert_true(s->process.user.has_umask);
        assert_int_equal(s->process.user.umask, 18);
        assert_int_equal(s->process.user.n_additional_gids, 2);
        assert_int_equal(s->process.oom_score_adj, 100);
        assert_true(s->process.has_io_priority);
        assert_true(s->process.scheduler.present);
        assert_int_equal(s->process.scheduler.nice, 5);
        assert_true(s->process.caps.bounding == (1ULL << 21));
        assert_true(s->process.caps.ambient == (1ULL << 5));
}

static void test_linux_section(void **state)
{
        const char *doc = "{" MINIMAL ",\"hostname\":\"h\",\"annotations\":{\"k\":\"v\"},"
                          "\"linux\":{\"namespaces\":[{\"type\":\"uts\"},{\"type\":\"user\"},{\"type\":\"time\"},"
                          "{\"type\":\"network\",\"path\":\"/var/run/netns/x\"}],"
                          "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],"
                          "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],"
                          "\"timeOffsets\":{\"boottime\":{\"secs\":-5,\"nanosecs\":7}},"
                          "\"devices\":[{\"path\":\"/dev/fuse\",\"type\":\"c\",\"major\":10,\"minor\":229,\"fileMode\":438}],"
                          "\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}}}";
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_spec_ struct oci_spec *s = NULL;

        assert_int_equal(parse(doc, &s, &err), 0);
        assert_string_equal(oci_spec_ns(s, OCI_NS_NET)->path, "/var/run/netns/x");
        assert_int_equal(s->linux_.uid_mappings[0].size, 10);
        assert_true(s->linux_.has_time_offsets);
        assert_true(s->linux_.boottime.secs == -5);
        assert_int_equal(s->linux_.devices[0].mode, 438);
        assert_string_equal(s->linux_.sysctl[0], "net.ipv4.ip_forward");
        assert_string_equal(s->annotations[1], "v");
}

static void test_names(void **state)
{
        assert_int_equal(oci_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
        assert_string_equal(oci_cap_name(21), "CAP_SYS_ADMIN");
        assert_int_equal(oci_rlimit_from_name("RLIMIT_RTTIME"), RLIMIT_RTTIME);
        assert_int_equal(oci_ns_clone_flag(oci_ns_from_name("network")), CLONE_NEWNET);
        assert_int_equal(oci_validate_id("abc-1.2_+x", NULL), 0);
        assert_true(oci_validate_id("a/b", NULL) < 0);
        assert_true(oci_validate_id("..", NULL) < 0);
        assert_true(oci_validate_id("", NULL) < 0);
}

static void test_state_json(void **state)
{
        char *ann[] = {"a", "b", NULL};
        struct oci_state st = {.id = "c1", .status = OCI_STATUS_STOPPED, .pid = 42, .bundle = "/b", .annotations = ann};
        json_object *o = oci_state_to_json(&st, false);

        assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                            "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"pid\":0,\"status\":\"stopped\",\"bundle\":\"/b\","
                            "\"annotations\":{\"a\":\"b\"}}");
        json_object_put(o);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_default_spec_roundtrip),
                cmocka_unit_test(test_rootless_default_has_userns),
                cmocka_unit_test(test_field_errors_name_the_field),
                cmocka_unit_test(test_full_process),
                cmocka_unit_test(test_linux_section),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_state_json),
        };
        return cmocka_run_group_tests_name("oci", tests, NULL, NULL);
}
