/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <string.h>

#include "berth.h"
#include "image/images.h"
#include "image/snapshot.h"

static const struct berth_usage mount_usage = {
    .usage = "berth image mount IMAGE",
    .summary = "Mount an image's root filesystem read-only and print where",
    .options = "",
};

static const struct berth_usage unmount_usage = {
    .usage = "berth image unmount IMAGE",
    .summary = "Unmount an image's root filesystem",
    .options = "",
};

/* The writable layer that backs `image mount` of an image. */
static int mount_key(struct berth_ctx *ctx, const struct berth_usage *u, int argc, char **argv,
                     struct image_store **s, char **id, char key[80])
{
        _cleanup_berr_ struct berr *err = NULL;
        int r;

        if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                berth_print_usage(stdout, u);
                return 1;
        }
        if (argc != 2)
                return berth_usage_error(u, "requires exactly 1 argument");
        if (berth_store(ctx, s, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        r = images_resolve(*s, argv[1], id, &err);
        if (r < 0)
                return berth_fail(&err, EXIT_BERTH);
        if (r == 0)
                return berth_failf(EXIT_BERTH, "%s: image not known", argv[1]);
        snprintf(key, 80, "image-mount-%s", *id + 7);
        return 0;
}

int cmd_image_mount(struct berth_ctx *ctx, int argc, char **argv)
{
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_free_ char *id = NULL, *where = NULL;
        struct image_store *s;
        char key[80];
        int r = mount_key(ctx, &mount_usage, argc, argv, &s, &id, key);

        if (r)
                return r == 1 ? 0 : r;
        r = snapshot_rw_exists(s, key, &err);
        if (r < 0 || (r == 0 && snapshot_rw_create(s, key, id, &err) < 0))
                return berth_fail(&err, EXIT_BERTH);
        if (snapshot_rw_unmount(s, key, NULL, &err) < 0 ||
            snapshot_rw_mount(s, key, NULL, true, &where, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        printf("%s\n", where);
        return 0;
}

int cmd_image_unmount(struct berth_ctx *ctx, int argc, char **argv)
{
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_free_ char *id = NULL;
        struct image_store *s;
        char key[80];
        int r = mount_key(ctx, &unmount_usage, argc, argv, &s, &id, key);

        if (r)
                return r == 1 ? 0 : r;
        r = snapshot_rw_exists(s, key, &err);
        if (r < 0)
                return berth_fail(&err, EXIT_BERTH);
        if (r == 0)
                return berth_failf(EXIT_BERTH, "%s: image is not mounted", argv[1]);
        if (snapshot_rw_remove(s, key, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        printf("%s\n", id + 7);
        return 0;
}
