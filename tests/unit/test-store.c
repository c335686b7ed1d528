/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdio.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "image/db.h"
#include "image/gc.h"
#include "image/images.h"
#include "image/snapshot.h"
#include "image/store.h"

static char root[128];
static struct image_store *s;

static int setup(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;

        strcpy(root, "/tmp/berth-store-XXXXXX");
        assert_non_null(mkdtemp(root));
        if (image_store_open(root, &s, &err) < 0)
                fail_msg("%s", err->msg);
        return 0;
}

static int teardown(void **state)
{
        image_store_free(s);
        s = NULL;
        assert_int_equal(rm_rf_at(AT_FDCWD, root, NULL), 0);
        return 0;
}

static void digest_of(const char *data, char out[136])
{
        assert_int_equal(digest_buf(DIGEST_SHA256, data, strlen(data), out, 136), 0);
}

static void test_blob_writer(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct blob_writer *w = NULL;
        _cleanup_free_ char *buf = NULL;
        char d[136], got[136];
        size_t len;

        digest_of("hello world", d);
        assert_int_equal(blob_writer_open(s, d, 11, true, &w, &err), 0);
        assert_int_equal(blob_writer_write(w, "hello ", 6, &err), 0);
        assert_false(store_blob_exists(s, d));
        assert_int_equal(blob_writer_write(w, "world", 5, &err), 0);
        assert_int_equal(blob_writer_commit(w, got, &err), 0);
        blob_writer_free(w, false);
        assert_string_equal(got, d);
        assert_true(store_blob_exists(s, d));
        assert_int_equal(store_blob_read(s, d, 100, &buf, &len, &err), 0);
        assert_int_equal(len, 11);
        /* Present already: nothing to write. */
        assert_int_equal(blob_writer_open(s, d, 11, true, &w, &err), 1);
}

static void test_blob_writer_rejects(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct blob_writer *w = NULL;
        struct stat st;
        char d[136], path[512];

        digest_of("abc", d);
        /* More bytes than the descriptor says. */
        assert_int_equal(blob_writer_open(s, d, 3, false, &w, &err), 0);
        assert_int_equal(blob_writer_write(w, "abcd", 4, &err), -EFBIG);
        blob_writer_free(w, true);
        berr_freep(&err);
        /* Right size, wrong content: not committed, and the bad partial is not kept. */
        assert_int_equal(blob_writer_open(s, d, 3, false, &w, &err), 0);
        assert_int_equal(blob_writer_write(w, "abd", 3, &err), 0);
        assert_int_equal(blob_writer_commit(w, NULL, &err), -EBADMSG);
        assert_non_null(strstr(err->msg, "digest mismatch"));
        blob_writer_free(w, true);
        assert_false(store_blob_exists(s, d));
        snprintf(path, sizeof(path), "%s/ingest/%s.partial", root, d + 7);
        assert_int_equal(stat(path, &st), -1);
        berr_freep(&err);
        /* Too short. */
        assert_int_equal(blob_writer_open(s, d, 3, false, &w, &err), 0);
        assert_int_equal(blob_writer_write(w, "ab", 2, &err), 0);
        assert_int_equal(blob_writer_commit(w, NULL, &err), -EBADMSG);
        assert_non_null(strstr(err->msg, "got 2 bytes, want 3"));
        blob_writer_free(w, false);
}

static void test_blob_resume(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct blob_writer *w = NULL;
        char d[136];

        digest_of("0123456789", d);
        assert_int_equal(blob_writer_open(s, d, 10, true, &w, &err), 0);
        assert_int_equal(blob_writer_write(w, "01234", 5, &err), 0);
        /* An interrupted download keeps its partial data... */
        blob_writer_free(w, true);
        assert_int_equal(blob_writer_open(s, d, 10, true, &w, &err), 0);
        /* ...and the next one continues after it, with the hash state restored. */
        assert_int_equal(blob_writer_offset(w), 5);
        assert_int_equal(blob_writer_write(w, "56789", 5, &err), 0);
        assert_int_equal(blob_writer_commit(w, NULL, &err), 0);
        blob_writer_free(w, true);
        assert_true(store_blob_exists(s, d));
}

static void test_blob_corruption_detected(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_free_ char *buf = NULL;
        struct check_report rep;
        char d[136], path[512];
        size_t len;

        assert_int_equal(store_blob_put(s, "config", 6, NULL, d, &err), 0);
        snprintf(path, sizeof(path), "%s/blobs/sha256/%s", root, d + 7);
        assert_int_equal(write_file_at(AT_FDCWD, path, "CONFIG", 6, O_TRUNC, 0, &err), 0);
        assert_int_equal(store_blob_read(s, d, 100, &buf, &len, &err), -EBADMSG);
        berr_freep(&err);
        assert_int_equal(image_check(s, false, false, &rep, &err), 0);
        assert_int_equal(rep.remaining, 1);
        assert_non_null(strstr(rep.problems[0], "corrupt"));
        check_report_clear(&rep);
        assert_int_equal(image_check(s, true, false, &rep, &err), 0);
        assert_int_equal(rep.remaining, 0);
        assert_false(store_blob_exists(s, d));
        check_report_clear(&rep);
}

static void test_named_locks(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        int a = -1, b = -1;

        assert_int_equal(store_lock_name(s, "blob-x", false, &a, &err), 0);
        /* flock is per open file: a second open in the same process contends like another process. */
        assert_int_equal(store_lock_name(s, "blob-x", false, &b, &err), -EWOULDBLOCK);
        store_unlock_name(s, "blob-x", a);
        assert_int_equal(store_lock_name(s, "blob-x", false, &b, &err), 0);
        store_unlock_name(s, "blob-x", b);
        assert_int_equal(image_store_lock(s, false, false, &err), 0);
        image_store_unlock(s);
}

static void make_snapshot(const char *diff_id, const char *chain, const char *file)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct snapshot_tmp t = {.dirfd = -1};
        struct snapshot_meta m = {.size = 10, .entries = 1};

        snprintf(m.diff_id, sizeof(m.diff_id), "%s", diff_id);
        assert_int_equal(store_snapshot_begin(s, &t, &err), 0);
        assert_int_equal(write_file_at(t.dirfd, file, "x", 1, O_CREAT, 0644, &err), 0);
        assert_int_equal(store_snapshot_commit(s, &t, chain, &m, &err), 0);
        assert_true(store_snapshot_exists(s, chain));
}

static void test_snapshots(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct snapshot_tmp t = {.dirfd = -1};
        struct snapshot_meta m;
        char d1[136], d2[136], c2[136];

        digest_of("layer1", d1);
        digest_of("layer2", d2);
        assert_false(store_snapshot_exists(s, d1));
        assert_int_equal(chain_id_next(NULL, d1, c2), 0);
        assert_string_equal(c2, d1);
        assert_int_equal(chain_id_next(d1, d2, c2), 0);
        assert_string_not_equal(c2, d2);
        make_snapshot(d1, d1, "a");
        assert_int_equal(store_snapshot_meta(s, d1, &m, &err), 0);
        assert_string_equal(m.diff_id, d1);
        /* A second commit of the same chain keeps the first one. */
        make_snapshot(d1, d1, "b");
        {
                char p[512];
                struct stat st;
                snprintf(p, sizeof(p), "%s/snapshots/%s/fs/a", root, d1 + 7);
                assert_int_equal(stat(p, &st), 0);
        }
        /* An aborted unpack leaves nothing behind. */
        assert_int_equal(store_snapshot_begin(s, &t, &err), 0);
        store_snapshot_abort(s, &t);
        assert_int_equal(store_snapshot_remove(s, d1, &err), 0);
        assert_false(store_snapshot_exists(s, d1));
}

static void put_image(const char *id_data, const char *name, char id[136], char layer[136], char chain[136])
{
        _cleanup_berr_ struct berr *err = NULL;
        char man[136], cfg[136];
        struct image_layer l = {0};
        struct image_record r = {0};
        char *names[] = {(char *)name, NULL};
        char *blobs[4];

        assert_int_equal(store_blob_put(s, id_data, strlen(id_data), NULL, cfg, &err), 0);
        assert_int_equal(store_blob_put(s, "manifest", 8, NULL, man, &err), 0);
        assert_int_equal(store_blob_put(s, "layer-blob", 10, NULL, layer, &err), 0);
        digest_of("difffff", chain);
        make_snapshot(chain, chain, "f");
        l.digest = layer;
        l.media_type = (char *)"application/vnd.oci.image.layer.v1.tar";
        l.size = 10;
        l.diff_id = chain;
        l.chain_id = chain;
        r.id = cfg;
        r.manifest_digest = man;
        r.manifest_media_type = (char *)"application/vnd.oci.image.manifest.v1+json";
        r.config_media_type = (char *)"application/vnd.oci.image.config.v1+json";
        r.layers = &l;
        r.n_layers = 1;
        r.top_chain_id = chain;
        r.names = name ? names : NULL;
        blobs[0] = cfg;
        blobs[1] = man;
        blobs[2] = layer;
        blobs[3] = NULL;
        if (images_put(s, &r, blobs, &err) < 0)
                fail_msg("%s", err->msg);
        snprintf(id, 136, "%s", cfg);
}

static void test_images_db(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_free_ char *id = NULL, *x = NULL;
        _cleanup_image_record_ struct image_record *r = NULL;
        char img[136], layer[136], chain[136], short_id[13];
        struct image_record **v = NULL;
        size_t n;
        int version;

        assert_int_equal(db_version(s->db, "image", &version, &err), 0);
        assert_true(version >= 1);
        put_image("cfg-a", "docker.io/library/busybox:latest", img, layer, chain);
        assert_int_equal(images_get(s, img, &r, &err), 1);
        assert_string_equal(r->names[0], "docker.io/library/busybox:latest");
        assert_int_equal(r->n_layers, 1);
        assert_string_equal(r->layers[0].chain_id, chain);

        assert_int_equal(images_resolve(s, "busybox", &id, &err), 1);
        assert_string_equal(id, img);
        free(id);
        id = NULL;
        memcpy(short_id, img + 7, 12);
        short_id[12] = '\0';
        assert_int_equal(images_resolve(s, short_id, &id, &err), 1);
        free(id);
        id = NULL;
        assert_int_equal(images_resolve(s, img, &id, &err), 1);
        free(id);
        id = NULL;
        assert_int_equal(images_resolve(s, "nothere", &id, &err), 0);

        /* Local names get localhost/; short names find them. */
        assert_int_equal(image_name_normalize("demo", true, &x, &err), 0);
        assert_string_equal(x, "localhost/demo:latest");
        assert_int_equal(images_tag(s, img, x, NULL, &err), 0);
        assert_int_equal(images_resolve(s, "demo", &id, &err), 1);
        free(id);
        id = NULL;
        assert_int_equal(images_untag(s, "localhost/demo:latest", &err), 1);
        assert_int_equal(images_untag(s, "localhost/demo:latest", &err), 0);
        assert_int_equal(images_resolve(s, "demo", &id, &err), 0);

        assert_int_equal(images_list(s, &v, &n, &err), 0);
        assert_int_equal(n, 1);
        image_records_free(v, n);
        assert_int_equal(images_remove(s, img, &err), 0);
        assert_int_equal(images_list(s, &v, &n, &err), 0);
        assert_int_equal(n, 0);
        image_records_free(v, n);
}

static void test_gc(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct gc_result g;
        char img[136], layer[136], chain[136], junk[136], junkchain[136];

        put_image("cfg-b", "reg.io/x:1", img, layer, chain);
        assert_int_equal(store_blob_put(s, "junk", 4, NULL, junk, &err), 0);
        digest_of("junk-layer", junkchain);
        make_snapshot(junkchain, junkchain, "j");
        assert_int_equal(image_gc(s, true, &g, &err), 0);
        assert_int_equal(g.blobs, 1);
        assert_int_equal(g.snapshots, 1);
        assert_false(store_blob_exists(s, junk));
        assert_false(store_snapshot_exists(s, junkchain));
        assert_true(store_blob_exists(s, layer));
        assert_true(store_snapshot_exists(s, chain));

        /* A container's writable layer keeps its layers after the image is gone. */
        assert_int_equal(snapshot_rw_create(s, "c1", img, &err), 0);
        assert_int_equal(image_in_use(s, img, &err), 1);
        assert_int_equal(image_remove(s, img, false, &err), -EBUSY);
        berr_freep(&err);
        assert_int_equal(image_remove(s, img, true, &err), 0);
        assert_int_equal(image_gc(s, true, &g, &err), 0);
        assert_true(store_snapshot_exists(s, chain));
        assert_false(store_blob_exists(s, layer));
        assert_int_equal(snapshot_rw_remove(s, "c1", &err), 0);
        assert_int_equal(image_gc(s, true, &g, &err), 0);
        assert_false(store_snapshot_exists(s, chain));

        /* GC waits for nobody when asked not to: a held store lock makes it back off. */
        {
                struct image_store *other = NULL;
                assert_int_equal(image_store_open(root, &other, &err), 0);
                assert_int_equal(image_store_lock(other, false, true, &err), 0);
                assert_int_equal(image_gc(s, false, &g, &err), -EWOULDBLOCK);
                image_store_free(other);
        }
}

/* system df: nothing is active without containers; a container's image and layers are not reclaimable. */
static void test_disk_usage(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct image_df df;
        char img[136], layer[136], chain[136];

        assert_int_equal(image_disk_usage(s, &df, &err), 0);
        assert_int_equal(df.images, 0);
        assert_int_equal(df.size, 0);

        put_image("cfg-df", "reg.io/df:1", img, layer, chain);
        assert_int_equal(image_disk_usage(s, &df, &err), 0);
        assert_int_equal(df.images, 1);
        assert_int_equal(df.active, 0);
        assert_int_equal(df.containers, 0);
        assert_true(df.size > 0);
        assert_int_equal(df.reclaimable, df.size);

        assert_int_equal(snapshot_rw_create(s, "c-df", img, &err), 0);
        assert_int_equal(image_disk_usage(s, &df, &err), 0);
        assert_int_equal(df.active, 1);
        assert_int_equal(df.containers, 1);
        assert_int_equal(df.reclaimable, 0);
        assert_int_equal(snapshot_rw_remove(s, "c-df", &err), 0);
}

static void test_overlay_options(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_strv_free_ char **lowers = NULL;
        _cleanup_free_ char *opts = NULL, *opts2 = NULL;
        bool relative;

        for (int i = 0; i < 3; i++) {
                char d[136], data[8];
                snprintf(data, sizeof(data), "l%d", i);
                digest_of(data, d);
                strv_extend(&lowers, d);
        }
        assert_int_equal(snapshot_overlay_options(s, lowers, "/u", "/w", &relative, &opts, &err), 0);
        assert_false(relative);
        assert_non_null(strstr(opts, "lowerdir=/tmp/berth-store-"));
        /* Many layers: relative short links, as the page-sized option limit demands. */
        for (int i = 3; i < 60; i++) {
                char d[136], data[8];
                snprintf(data, sizeof(data), "l%d", i);
                digest_of(data, d);
                strv_extend(&lowers, d);
        }
        assert_int_equal(snapshot_overlay_options(s, lowers, "/u", "/w", &relative, &opts2, &err), 0);
        assert_true(relative);
        assert_true(strneq(opts2, "lowerdir=l/", 11));
        assert_true(strlen(opts2) < 4096);
        {
                char link[512], target[512];
                ssize_t k;
                snprintf(link, sizeof(link), "%s/l/%.12s", root, lowers[0] + 7);
                k = readlink(link, target, sizeof(target) - 1);
                assert_true(k > 0);
                target[k] = '\0';
                assert_non_null(strstr(target, lowers[0] + 7));
        }
}

static void test_newer_schema_refused(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct image_store *other = NULL;

        assert_int_equal(db_exec(s->db, "UPDATE schema_versions SET version = 999 WHERE component = 'image'", &err), 0);
        assert_true(image_store_open(root, &other, &err) < 0);
        assert_non_null(strstr(err->msg, "newer than this berth knows"));
}

/* Many processes opening a database that does not exist yet, at once (the
 * first `berth` commands run in parallel): every open succeeds. */
static void test_concurrent_first_open(void **state)
{
        enum { N = 8, ROUNDS = 5 };

        for (int round = 0; round < ROUNDS; round++) {
                char path[200];
                int go[2];
                pid_t pids[N];

                snprintf(path, sizeof(path), "%s/fresh-%d.db", root, round);
                assert_int_equal(pipe(go), 0);
                for (int i = 0; i < N; i++) {
                        pids[i] = fork();
                        assert_true(pids[i] >= 0);
                        if (pids[i] == 0) {
                                sqlite3 *db = NULL;
                                char c;
                                close(go[1]);
                                if (read(go[0], &c, 1) != 0)
                                        _exit(3);
                                if (db_open(path, &db, NULL) < 0)
                                        _exit(1);
                                db_close(db);
                                _exit(0);
                        }
                }
                close(go[0]);
                close(go[1]); /* releases every child at once */
                for (int i = 0; i < N; i++) {
                        int st;
                        assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
                        assert_true(WIFEXITED(st));
                        assert_int_equal(WEXITSTATUS(st), 0);
                }
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_blob_writer, setup, teardown),
                cmocka_unit_test_setup_teardown(test_blob_writer_rejects, setup, teardown),
                cmocka_unit_test_setup_teardown(test_blob_resume, setup, teardown),
                cmocka_unit_test_setup_teardown(test_blob_corruption_detected, setup, teardown),
                cmocka_unit_test_setup_teardown(test_named_locks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_snapshots, setup, teardown),
                cmocka_unit_test_setup_teardown(test_images_db, setup, teardown),
                cmocka_unit_test_setup_teardown(test_gc, setup, teardown),
                cmocka_unit_test_setup_teardown(test_disk_usage, setup, teardown),
                cmocka_unit_test_setup_teardown(test_overlay_options, setup, teardown),
                cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_concurrent_first_open, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
