/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "engine/volume.h"
#include "image/db.h"

static char root[128];
static sqlite3 *db;
/* Mount tests run in a private mount namespace (see main). */
static bool can_mount;

static int setup(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        char path[256];

        strcpy(root, "/tmp/berth-volume-XXXXXX");
        assert_non_null(mkdtemp(root));
        snprintf(path, sizeof(path), "%s/berth.db", root);
        if (db_open(path, &db, &err) < 0 || volume_db_migrate(db, &err) < 0)
                fail_msg("%s", err->msg);
        return 0;
}

static int teardown(void **state)
{
        char path[256];

        db_close(db);
        db = NULL;
        /* Whatever a failed mount test left mounted below our own root. */
        for (int i = 0; i < 8; i++) {
                snprintf(path, sizeof(path), "%s/volumes/m%d/_data", root, i);
                umount2(path, MNT_DETACH);
        }
        assert_int_equal(rm_rf_at(AT_FDCWD, root, NULL), 0);
        return 0;
}

#define OK(expr)                                                                                             \
        do {                                                                                                 \
                if ((expr) < 0)                                                                              \
                        fail_msg("%s: %s", #expr, err ? err->msg : "(no message)");                          \
        } while (0)

static struct volume *create(const char *name, const char *const *labels, const char *const *options,
                             bool anonymous)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct volume_create_opts o = {
            .name = name, .labels = labels, .driver_options = options, .anonymous = anonymous};
        struct volume *v = NULL;

        OK(volume_create(db, root, &o, &v, &err));
        return v;
}

static void expect_error(int r, struct berr **err, int code, const char *needle)
{
        assert_true(r < 0);
        assert_non_null(*err);
        if (!strstr((*err)->msg, needle))
                fail_msg("error `%s` does not say `%s`", (*err)->msg, needle);
        assert_int_equal((*err)->code, code);
        berr_freep(err);
}

static bool is_dir(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_names(void **state)
{
        char long_name[VOLUME_NAME_MAX + 2];

        assert_int_equal(volume_name_check("data", NULL), 0);
        assert_int_equal(volume_name_check("a", NULL), 0);
        assert_int_equal(volume_name_check("my_vol.1-x", NULL), 0);
        assert_true(volume_name_check("", NULL) < 0);
        assert_true(volume_name_check("-x", NULL) < 0);
        assert_true(volume_name_check(".trash-1", NULL) < 0);
        assert_true(volume_name_check("a/b", NULL) < 0);
        assert_true(volume_name_check("..", NULL) < 0);
        assert_true(volume_name_check("a b", NULL) < 0);
        memset(long_name, 'a', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = '\0';
        assert_true(volume_name_check(long_name, NULL) < 0);
        long_name[VOLUME_NAME_MAX] = '\0';
        assert_int_equal(volume_name_check(long_name, NULL), 0);
}

static void test_create_get(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        const char *labels[] = {"a=1", "b", "a=2", NULL};
        struct volume_create_opts o = {.name = "data"};
        _cleanup_volume_ struct volume *v = create("data", labels, NULL, false), *again = NULL, *got = NULL;
        _cleanup_free_ char *mp = volume_mountpoint(root, "data");

        assert_string_equal(v->name, "data");
        assert_string_equal(v->driver, "local");
        assert_string_equal(v->mountpoint, mp);
        assert_true(is_dir(mp));
        assert_true(v->created_ns > 0);
        assert_false(v->anonymous);
        assert_true(v->needs_copy);
        assert_null(v->users);
        /* Later duplicates win, as in docker's label maps. */
        assert_int_equal(strv_length(v->labels), 4);
        assert_string_equal(v->labels[0], "a");
        assert_string_equal(v->labels[1], "2");
        assert_string_equal(v->labels[2], "b");
        assert_string_equal(v->labels[3], "");

        /* Creating it again answers with the existing volume (docker). */
        assert_int_equal(volume_create(db, root, &o, &again, &err), 0);
        assert_int_equal(again->created_ns, v->created_ns);
        assert_int_equal(strv_length(again->labels), 4);

        OK(volume_get(db, root, "data", &got, &err));
        assert_string_equal(got->name, "data");
        expect_error(volume_get(db, root, "nope", &got, &err), &err, ENOENT, "no such volume: nope");
}

static void test_create_rejects(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        const char *bad_key[] = {"size=1g", NULL};
        const char *no_device[] = {"type=tmpfs", NULL};
        const char *relative_bind[] = {"type=none", "o=bind", "device=rel/dir", NULL};
        const char *empty_label[] = {"=x", NULL};
        struct volume_create_opts o = {.name = "x"};
        struct volume *v = NULL;

        o.driver = "nfs-plugin";
        expect_error(volume_create(db, root, &o, &v, &err), &err, EINVAL, "not supported");
        o.driver = NULL;
        o.driver_options = bad_key;
        expect_error(volume_create(db, root, &o, &v, &err), &err, EINVAL, "invalid option key `size`");
        o.driver_options = no_device;
        expect_error(volume_create(db, root, &o, &v, &err), &err, EINVAL, "both `type` and `device`");
        o.driver_options = relative_bind;
        expect_error(volume_create(db, root, &o, &v, &err), &err, EINVAL, "absolute path");
        o.driver_options = NULL;
        o.labels = empty_label;
        expect_error(volume_create(db, root, &o, &v, &err), &err, EINVAL, "empty key");
        o.labels = NULL;
        o.name = "../x";
        expect_error(volume_create(db, root, &o, &v, &err), &err, EINVAL, "invalid volume name");
        assert_null(v);
}

static void test_anonymous(void **state)
{
        _cleanup_volume_ struct volume *a = create(NULL, NULL, NULL, true),
                                       *b = create(NULL, NULL, NULL, true);

        assert_int_equal(strlen(a->name), 64);
        assert_int_equal(strspn(a->name, "0123456789abcdef"), 64);
        assert_string_not_equal(a->name, b->name);
        assert_true(a->anonymous);
}

static size_t list_count(const struct volume_filter *f)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct volume **v = NULL;
        size_t n = 0;

        OK(volume_list(db, root, f, &v, &n, &err));
        volume_freev(v, n);
        return n;
}

static void test_list_filters(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        const char *l1[] = {"env=prod", "team=a", NULL}, *l2[] = {"env=dev", NULL};
        const char *names[] = {"^web", NULL}, *names2[] = {"db$", "^cache", NULL}, *bad[] = {"(", NULL};
        const char *env[] = {"env", NULL}, *prod[] = {"env=prod", NULL}, *both[] = {"env=prod", "team", NULL};
        struct volume **v = NULL;
        size_t n = 0;

        volume_free(create("web-data", l1, NULL, false));
        volume_free(create("web-logs", l2, NULL, false));
        volume_free(create("db", NULL, NULL, false));
        volume_free(create(NULL, NULL, NULL, true));
        OK(volume_use(db, "db", "c1", &err));

        OK(volume_list(db, root, NULL, &v, &n, &err));
        assert_int_equal(n, 4);
        /* Sorted by name; the anonymous one's random hex name may sort before or after db. */
        for (size_t i = 1; i < n; i++)
                assert_true(strcmp(v[i - 1]->name, v[i]->name) < 0);
        assert_string_equal(v[3]->name, "web-logs");
        {
                size_t d = streq(v[0]->name, "db") ? 0 : 1;
                assert_string_equal(v[d]->name, "db");
                assert_int_equal(strv_length(v[d]->users), 1);
                assert_string_equal(v[d]->users[0], "c1");
        }
        volume_freev(v, n);

        assert_int_equal(list_count(&(struct volume_filter){.names = names, .dangling = -1}), 2);
        assert_int_equal(list_count(&(struct volume_filter){.names = names2, .dangling = -1}), 1);
        assert_int_equal(list_count(&(struct volume_filter){.labels = env, .dangling = -1}), 2);
        assert_int_equal(list_count(&(struct volume_filter){.labels = prod, .dangling = -1}), 1);
        assert_int_equal(list_count(&(struct volume_filter){.labels = both, .dangling = -1}), 1);
        assert_int_equal(list_count(&(struct volume_filter){.dangling = 1}), 3);
        assert_int_equal(list_count(&(struct volume_filter){.dangling = 0}), 1);
        assert_int_equal(list_count(&(struct volume_filter){.dangling = -1, .driver = "local"}), 4);
        assert_int_equal(list_count(&(struct volume_filter){.dangling = -1, .driver = "other"}), 0);
        assert_int_equal(list_count(&(struct volume_filter){.dangling = -1, .anonymous_only = true}), 1);
        expect_error(
            volume_list(db, root, &(struct volume_filter){.names = bad, .dangling = -1}, &v, &n, &err), &err,
            EINVAL, "invalid name filter");
}

static void test_remove_in_use(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_free_ char *mp = volume_mountpoint(root, "data");
        struct volume *v = NULL;

        volume_free(create("data", NULL, NULL, false));
        OK(volume_use(db, "data", "c1", &err));
        OK(volume_use(db, "data", "c1", &err)); /* idempotent */
        OK(volume_use(db, "data", "c2", &err));
        expect_error(volume_use(db, "nope", "c1", &err), &err, ENOENT, "no such volume");
        expect_error(volume_remove(db, root, "data", false, &err), &err, EBUSY,
                     "remove data: volume is in use - [c1, c2]");
        assert_true(is_dir(mp));
        OK(volume_release(db, root, "c1", false, NULL, &err));
        expect_error(volume_remove(db, root, "data", false, &err), &err, EBUSY, "volume is in use - [c2]");
        /* Forced: the caller dealt with the container. */
        OK(volume_remove(db, root, "data", true, &err));
        assert_false(is_dir(mp));
        expect_error(volume_get(db, root, "data", &v, &err), &err, ENOENT, "no such volume");
        expect_error(volume_remove(db, root, "data", false, &err), &err, ENOENT, "no such volume: data");
        expect_error(volume_remove(db, root, "../etc", false, &err), &err, ENOENT, "no such volume");
}

static void test_release_anonymous(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_volume_ struct volume *anon = create(NULL, NULL, NULL, true),
                                       *shared = create(NULL, NULL, NULL, true);
        _cleanup_strv_free_ char **removed = NULL;
        struct volume *v = NULL;

        volume_free(create("named", NULL, NULL, false));
        OK(volume_use(db, anon->name, "c1", &err));
        OK(volume_use(db, shared->name, "c1", &err));
        OK(volume_use(db, shared->name, "c2", &err));
        OK(volume_use(db, "named", "c1", &err));
        /* rm -v: the anonymous volume nobody else uses goes; named and shared ones stay. */
        OK(volume_release(db, root, "c1", true, &removed, &err));
        assert_int_equal(strv_length(removed), 1);
        assert_string_equal(removed[0], anon->name);
        assert_false(is_dir(anon->mountpoint));
        OK(volume_get(db, root, "named", &v, &err));
        assert_null(v->users);
        volume_free(v);
        OK(volume_get(db, root, shared->name, &v, &err));
        assert_int_equal(strv_length(v->users), 1);
        volume_free(v);
        /* Without -v nothing is removed. */
        strv_free(TAKE_PTR(removed));
        OK(volume_release(db, root, "c2", false, &removed, &err));
        assert_null(removed);
        OK(volume_get(db, root, shared->name, &v, &err));
        volume_free(v);
        /* A container without volumes. */
        OK(volume_release(db, root, "c3", true, &removed, &err));
}

static void test_prune(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_volume_ struct volume *anon = create(NULL, NULL, NULL, true);
        _cleanup_strv_free_ char **removed = NULL;
        const char *keep[] = {"keep", NULL};
        uint64_t size = 0;
        char path[512];

        volume_free(create("used", NULL, NULL, false));
        volume_free(create("unused", NULL, NULL, false));
        volume_free(create("labelled", keep, NULL, false));
        OK(volume_use(db, "used", "c1", &err));
        snprintf(path, sizeof(path), "%s/f", anon->mountpoint);
        OK(write_file_at(AT_FDCWD, path, "x", 1, O_CREAT | O_WRONLY, 0644, &err));

        /* docker's default: anonymous volumes only. */
        OK(volume_prune(db, root, &(struct volume_filter){.anonymous_only = true}, &removed, &size, &err));
        assert_int_equal(strv_length(removed), 1);
        assert_string_equal(removed[0], anon->name);
        assert_true(size > 0);
        strv_free(TAKE_PTR(removed));

        OK(volume_prune(db, root, &(struct volume_filter){.labels = keep}, &removed, NULL, &err));
        assert_int_equal(strv_length(removed), 1);
        assert_string_equal(removed[0], "labelled");
        strv_free(TAKE_PTR(removed));

        OK(volume_prune(db, root, NULL, &removed, NULL, &err));
        assert_int_equal(strv_length(removed), 1);
        assert_string_equal(removed[0], "unused");
        assert_int_equal(list_count(NULL), 1);
}

/* A crash between the steps leaves a directory without a row, or a row
 * without a directory: both are dealt with. */
static void test_leftovers(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_free_ char *mp = volume_mountpoint(root, "ghost");
        struct volume_create_opts o = {.name = "ghost"};
        struct volume *v = NULL;
        char path[512];

        OK(mkdir_p(mp, 0755, &err));
        snprintf(path, sizeof(path), "%s/old", mp);
        OK(write_file_at(AT_FDCWD, path, "x", 1, O_CREAT | O_WRONLY, 0644, &err));
        assert_int_equal(volume_create(db, root, &o, &v, &err), 1);
        assert_int_equal(access(path, F_OK), -1);
        volume_free(v);

        snprintf(path, sizeof(path), "%s/volumes/ghost", root);
        assert_int_equal(rm_rf_at(AT_FDCWD, path, NULL), 0);
        OK(volume_remove(db, root, "ghost", false, &err));
        assert_int_equal(list_count(NULL), 0);
}

/* ---- copy-up ---- */

static void mkfile(const char *base, const char *rel, const char *content, mode_t mode, uid_t uid, gid_t gid)
{
        _cleanup_berr_ struct berr *err = NULL;
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", base, rel);
        OK(write_file_at(AT_FDCWD, path, content, strlen(content), O_CREAT | O_WRONLY | O_TRUNC, mode, &err));
        assert_int_equal(lchown(path, uid, gid), 0);
        assert_int_equal(chmod(path, mode), 0);
}

static void mkdir_at(const char *base, const char *rel, mode_t mode, uid_t uid, gid_t gid)
{
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", base, rel);
        assert_int_equal(mkdir(path, mode), 0);
        assert_int_equal(chown(path, uid, gid), 0);
        assert_int_equal(chmod(path, mode), 0);
}

static void stat_rel(const char *base, const char *rel, struct stat *st)
{
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", base, rel);
        if (lstat(path, st) < 0)
                fail_msg("lstat %s: %s", path, strerror(errno));
}

static char *read_rel(const char *base, const char *rel)
{
        _cleanup_berr_ struct berr *err = NULL;
        char path[512], *buf = NULL;
        size_t len;

        snprintf(path, sizeof(path), "%s/%s", base, rel);
        OK(read_file_at(AT_FDCWD, path, 4096, &buf, &len, &err));
        return buf;
}

static int open_rootfs(char *path)
{
        int fd;

        /* Owners and device nodes need root. */
        if (geteuid() != 0)
                skip();
        snprintf(path, 256, "%s/rootfs", root);
        assert_int_equal(mkdir(path, 0755), 0);
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

static void test_copy_up(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_volume_ struct volume *v = create("cp", NULL, NULL, false), *after = NULL;
        _cleanup_free_ char *hello = NULL, *sub = NULL;
        char rootfs[256], path[512], target[512], xval[16];
        _cleanup_close_ int rootfd = open_rootfs(rootfs);
        struct stat a, b;
        ssize_t n;

        mkdir_at(rootfs, "data", 0750, 1000, 1001);
        mkfile(rootfs, "data/hello", "hello\n", 04755, 1000, 1000);
        mkdir_at(rootfs, "data/sub", 0700, 2000, 2000);
        mkfile(rootfs, "data/sub/deep", "deep\n", 0600, 2000, 2000);
        snprintf(path, sizeof(path), "%s/data/hello", rootfs);
        snprintf(target, sizeof(target), "%s/data/sub/hardlink", rootfs);
        assert_int_equal(link(path, target), 0);
        snprintf(path, sizeof(path), "%s/data/abs", rootfs);
        assert_int_equal(symlink("/etc/passwd", path), 0);
        snprintf(path, sizeof(path), "%s/data/fifo", rootfs);
        assert_int_equal(mkfifo(path, 0640), 0);
        snprintf(path, sizeof(path), "%s/data/null", rootfs);
        assert_int_equal(mknod(path, S_IFCHR | 0666, makedev(1, 3)), 0);
        snprintf(path, sizeof(path), "%s/data/sub", rootfs);
        /* user.* xattrs need filesystem support; the copy must keep them when there is. */
        bool xattrs = setxattr(path, "user.berth", "v1", 2, 0) == 0;

        assert_int_equal(volume_copy_up(db, root, "cp", rootfd, "/data", &err), 1);

        stat_rel(v->mountpoint, ".", &a);
        assert_int_equal(a.st_mode & 07777, 0750);
        assert_int_equal(a.st_uid, 1000);
        assert_int_equal(a.st_gid, 1001);
        hello = read_rel(v->mountpoint, "hello");
        assert_string_equal(hello, "hello\n");
        stat_rel(v->mountpoint, "hello", &a);
        assert_int_equal(a.st_mode & 07777, 04755);
        assert_int_equal(a.st_uid, 1000);
        stat_rel(rootfs, "data/hello", &b);
        assert_int_equal(a.st_mtim.tv_sec, b.st_mtim.tv_sec);
        assert_int_equal(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
        /* Hard links stay links. */
        stat_rel(v->mountpoint, "sub/hardlink", &b);
        assert_int_equal(a.st_ino, b.st_ino);
        assert_int_equal(a.st_nlink, 2);
        stat_rel(v->mountpoint, "sub", &a);
        assert_int_equal(a.st_mode & 07777, 0700);
        assert_int_equal(a.st_uid, 2000);
        sub = read_rel(v->mountpoint, "sub/deep");
        assert_string_equal(sub, "deep\n");
        /* Symlinks are copied as links, never followed. */
        stat_rel(v->mountpoint, "abs", &a);
        assert_true(S_ISLNK(a.st_mode));
        snprintf(path, sizeof(path), "%s/abs", v->mountpoint);
        n = readlink(path, target, sizeof(target) - 1);
        assert_int_equal(n, 11);
        target[n] = '\0';
        assert_string_equal(target, "/etc/passwd");
        stat_rel(v->mountpoint, "fifo", &a);
        assert_true(S_ISFIFO(a.st_mode));
        assert_int_equal(a.st_mode & 07777, 0640);
        stat_rel(v->mountpoint, "null", &a);
        assert_true(S_ISCHR(a.st_mode));
        assert_int_equal(a.st_rdev, makedev(1, 3));
        if (xattrs) {
                snprintf(path, sizeof(path), "%s/sub", v->mountpoint);
                n = getxattr(path, "user.berth", xval, sizeof(xval));
                assert_int_equal(n, 2);
                assert_memory_equal(xval, "v1", 2);
        }

        /* Only the first use copies. */
        OK(volume_get(db, root, "cp", &after, &err));
        assert_false(after->needs_copy);
        mkfile(rootfs, "data/new", "new\n", 0644, 0, 0);
        assert_int_equal(volume_copy_up(db, root, "cp", rootfd, "/data", &err), 0);
        stat_rel(v->mountpoint, ".", &a);
        snprintf(path, sizeof(path), "%s/new", v->mountpoint);
        assert_int_equal(access(path, F_OK), -1);
}

/* The destination may be a symlink in the image: it resolves inside the
 * container's root, never to the host's directory of that name. */
static void test_copy_up_symlink_escape(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_volume_ struct volume *v = create("esc", NULL, NULL, false),
                                       *w = create("esc2", NULL, NULL, false);
        _cleanup_volume_ struct volume *after = NULL;
        _cleanup_free_ char *marker = NULL;
        char rootfs[256], path[512];
        _cleanup_close_ int rootfd = open_rootfs(rootfs);

        mkdir_at(rootfs, "etc", 0755, 0, 0);
        mkfile(rootfs, "etc/marker", "inside\n", 0644, 0, 0);
        snprintf(path, sizeof(path), "%s/vol", rootfs);
        assert_int_equal(symlink("/../../../../etc", path), 0);
        assert_int_equal(volume_copy_up(db, root, "esc", rootfd, "/vol", &err), 1);
        marker = read_rel(v->mountpoint, "marker");
        assert_string_equal(marker, "inside\n");
        snprintf(path, sizeof(path), "%s/passwd", v->mountpoint);
        assert_int_equal(access(path, F_OK), -1);

        /* A destination that is a file or missing: nothing to copy, and the chance is used up. */
        mkfile(rootfs, "file", "x", 0644, 0, 0);
        assert_int_equal(volume_copy_up(db, root, "esc2", rootfd, "/file", &err), 0);
        OK(volume_get(db, root, "esc2", &after, &err));
        assert_false(after->needs_copy);
        assert_int_equal(volume_copy_up(db, root, "esc2", rootfd, "/missing", &err), 0);
}

/* A non-empty volume is not copied into (docker). */
static void test_copy_up_not_empty(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_volume_ struct volume *v = create("full", NULL, NULL, false);
        char rootfs[256];
        _cleanup_close_ int rootfd = open_rootfs(rootfs);

        mkdir_at(rootfs, "data", 0755, 0, 0);
        mkfile(rootfs, "data/img", "img", 0644, 0, 0);
        mkfile(v->mountpoint, "mine", "mine", 0644, 0, 0);
        assert_int_equal(volume_copy_up(db, root, "full", rootfd, "/data", &err), 0);
        {
                char path[512];
                snprintf(path, sizeof(path), "%s/img", v->mountpoint);
                assert_int_equal(access(path, F_OK), -1);
        }
}

/* Past the depth cap the copy fails and leaves the volume empty, ready for another try. */
static void test_copy_up_depth_cap(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_volume_ struct volume *v = create("deep", NULL, NULL, false), *after = NULL;
        char rootfs[256], path[4096];
        _cleanup_close_ int rootfd = open_rootfs(rootfs);
        size_t len;

        len = (size_t)snprintf(path, sizeof(path), "%s/data", rootfs);
        assert_int_equal(mkdir(path, 0755), 0);
        for (int i = 0; i < VOLUME_COPY_DEPTH_MAX + 2; i++) {
                len += (size_t)snprintf(path + len, sizeof(path) - len, "/d");
                assert_int_equal(mkdir(path, 0755), 0);
        }
        mkfile(rootfs, "data/top", "t", 0644, 0, 0);
        expect_error(volume_copy_up(db, root, "deep", rootfd, "/data", &err), &err, ELOOP,
                     "directory levels");
        OK(volume_get(db, root, "deep", &after, &err));
        assert_true(after->needs_copy);
        {
                DIR *d = opendir(v->mountpoint);
                struct dirent *de;
                size_t entries = 0;
                assert_non_null(d);
                while ((de = readdir(d)))
                        entries++;
                closedir(d);
                assert_int_equal(entries, 2);
        }
}

/* ---- driver mounts ---- */

static bool mounted(const char *path)
{
        struct statx stx;

        assert_int_equal(statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx), 0);
        return stx.stx_attributes & STATX_ATTR_MOUNT_ROOT;
}

static void test_tmpfs_volume(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        const char *opts[] = {"type=tmpfs", "device=tmpfs", "o=size=1m,uid=123,nosuid", NULL};
        _cleanup_volume_ struct volume *v = NULL, *got = NULL;
        struct stat st;

        if (!can_mount)
                skip();
        v = create("m0", NULL, opts, false);
        assert_string_equal(v->options[0], "type");
        assert_false(mounted(v->mountpoint));
        OK(volume_mount(db, root, "m0", "c1", &err));
        assert_true(mounted(v->mountpoint));
        assert_int_equal(stat(v->mountpoint, &st), 0);
        assert_int_equal(st.st_uid, 123);
        OK(volume_get(db, root, "m0", &got, &err));
        assert_true(got->mounted);
        OK(volume_mount(db, root, "m0", "c2", &err));
        OK(volume_mount(db, root, "m0", "c2", &err));
        /* Mounted once, whatever the number of users. */
        OK(volume_unmount(db, root, "m0", "c1", &err));
        assert_true(mounted(v->mountpoint));
        OK(volume_unmount(db, root, "m0", "c2", &err));
        assert_false(mounted(v->mountpoint));
        OK(volume_unmount(db, root, "m0", "c2", &err));
        /* Stopped containers still use it. */
        expect_error(volume_remove(db, root, "m0", false, &err), &err, EBUSY, "volume is in use");
        OK(volume_mount(db, root, "m0", "c1", &err));
        /* Removal unmounts. */
        OK(volume_remove(db, root, "m0", true, &err));
        assert_false(is_dir(v->mountpoint));
}

static void test_bind_volume(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        char host[256], dev[300], probe[512];
        const char *opts[] = {"type=none", "o=bind,ro", dev, NULL};
        _cleanup_volume_ struct volume *v = NULL;
        _cleanup_strv_free_ char **removed = NULL;

        if (!can_mount)
                skip();
        snprintf(host, sizeof(host), "%s/hostdir", root);
        assert_int_equal(mkdir(host, 0755), 0);
        mkfile(host, "f", "host", 0644, 0, 0);
        snprintf(dev, sizeof(dev), "device=%s", host);
        v = create("m1", NULL, opts, false);
        OK(volume_mount(db, root, "m1", "c1", &err));
        assert_true(mounted(v->mountpoint));
        snprintf(probe, sizeof(probe), "%s/f", v->mountpoint);
        assert_int_equal(access(probe, F_OK), 0);
        /* o=ro made it read-only. */
        assert_int_equal(access(probe, W_OK), -1);
        assert_int_equal(errno, EROFS);
        /* Releasing the container unmounts; the host directory stays. */
        OK(volume_release(db, root, "c1", true, &removed, &err));
        assert_null(removed);
        assert_false(mounted(v->mountpoint));
        OK(volume_remove(db, root, "m1", false, &err));
        snprintf(probe, sizeof(probe), "%s/f", host);
        assert_int_equal(access(probe, F_OK), 0);
}

static void test_bad_mount(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        const char *opts[] = {"type=nosuchfs", "device=x", NULL};
        _cleanup_volume_ struct volume *v = NULL;

        if (!can_mount)
                skip();
        v = create("m2", NULL, opts, false);
        assert_true(volume_mount(db, root, "m2", "c1", &err) < 0);
        assert_non_null(strstr(err->msg, "volume `m2`: mount `x` (type nosuchfs"));
        berr_freep(&err);
        /* The failed mount recorded no use. */
        OK(volume_remove(db, root, "m2", false, &err));
}

static void test_migrate_twice(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        int v = 0;

        OK(volume_db_migrate(db, &err));
        OK(db_version(db, "volumes", &v, &err));
        assert_int_equal(v, 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_names),
            cmocka_unit_test_setup_teardown(test_create_get, setup, teardown),
            cmocka_unit_test_setup_teardown(test_create_rejects, setup, teardown),
            cmocka_unit_test_setup_teardown(test_anonymous, setup, teardown),
            cmocka_unit_test_setup_teardown(test_list_filters, setup, teardown),
            cmocka_unit_test_setup_teardown(test_remove_in_use, setup, teardown),
            cmocka_unit_test_setup_teardown(test_release_anonymous, setup, teardown),
            cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
            cmocka_unit_test_setup_teardown(test_leftovers, setup, teardown),
            cmocka_unit_test_setup_teardown(test_copy_up, setup, teardown),
            cmocka_unit_test_setup_teardown(test_copy_up_symlink_escape, setup, teardown),
            cmocka_unit_test_setup_teardown(test_copy_up_not_empty, setup, teardown),
            cmocka_unit_test_setup_teardown(test_copy_up_depth_cap, setup, teardown),
            cmocka_unit_test_setup_teardown(test_tmpfs_volume, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bind_volume, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bad_mount, setup, teardown),
            cmocka_unit_test_setup_teardown(test_migrate_twice, setup, teardown),
        };

        /* Mounts made by the tests stay in a private mount namespace and die with it. */
        can_mount = geteuid() == 0 && unshare(CLONE_NEWNS) == 0 &&
                    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
