/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <string.h>

#include "basic/strv.h"
#include "berth.h"
#include "image/gc.h"
#include "image/images.h"

static const struct berth_usage usage = {
    .usage = "berth rmi [options] IMAGE [IMAGE...]",
    .summary = "Remove one or more images from local storage",
    .options = "  -a, --all     remove all images\n"
               "  -f, --force   remove images even when containers use them\n",
};

static bool is_name_arg(const char *arg, const char *id)
{
        const char *hex = strchr(id, ':') + 1;
        const char *a = strneq(arg, "sha256:", 7) ? arg + 7 : arg;

        return !(strlen(a) <= 64 && strneq(hex, a, strlen(a)));
}

static int remove_one(struct berth_ctx *ctx, struct image_store *s, const char *arg, bool force, int *worst)
{
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_image_record_ struct image_record *rec = NULL;
        _cleanup_free_ char *id = NULL;
        const char *name;
        int r = images_resolve(s, arg, &id, &err);

        if (r == 0) {
                berth_failf(EXIT_NOT_FOUND, "%s: image not known", arg);
                *worst = *worst ? *worst : EXIT_NOT_FOUND;
                return 0;
        }
        if (r < 0 || images_get(s, id, &rec, &err) <= 0)
                goto fail;
        /* A name of an image that has other names only loses that name (docker's untag). */
        name = is_name_arg(arg, id) ? image_record_name_for(rec, arg) : NULL;
        if (name && strv_length(rec->names) > 1) {
                if (images_untag(s, name, &err) < 0)
                        goto fail;
                berth_event(ctx, "image", "untag", id, (const char *const[]){"name", name, NULL});
                printf("Untagged: %s\n", name);
                return 0;
        }
        if (image_remove(s, id, force, &err) < 0) {
                if (err && (err->code == EBUSY || err->code == EEXIST)) {
                        berth_fail(&err, EXIT_IN_USE);
                        *worst = EXIT_IN_USE;
                        return 0;
                }
                goto fail;
        }
        STRV_FOREACH (n, rec->names) {
                berth_event(ctx, "image", "untag", id, (const char *const[]){"name", *n, NULL});
                printf("Untagged: %s\n", *n);
        }
        berth_event(ctx, "image", "delete", id, NULL);
        printf("Deleted: %s\n", id + 7);
        return 1;
fail:
        berth_fail(&err, EXIT_BERTH);
        *worst = EXIT_BERTH;
        return 0;
}

int cmd_rmi(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"all", no_argument, NULL, 'a'},
            {"force", no_argument, NULL, 'f'},
            {},
        };
        _cleanup_berr_ struct berr *err = NULL;
        bool all = false, force = false;
        struct image_store *s;
        int c, worst = 0;
        size_t removed = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "haf", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case 'a':
                        all = true;
                        break;
                case 'f':
                        force = true;
                        break;
                default:
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (!all && optind >= argc)
                return berth_usage_error(&usage, "image name or ID must be specified");
        if (all && optind < argc)
                return berth_usage_error(
                    &usage, "when using the --all switch, you may not pass any images names or IDs");
        if (berth_store(ctx, &s, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        if (all) {
                struct image_record **v = NULL;
                size_t n = 0;
                if (images_list(s, &v, &n, &err) < 0)
                        return berth_fail(&err, EXIT_BERTH);
                for (size_t i = 0; i < n; i++)
                        removed += remove_one(ctx, s, v[i]->id, force, &worst);
                image_records_free(v, n);
        } else {
                for (int i = optind; i < argc; i++)
                        removed += remove_one(ctx, s, argv[i], force, &worst);
        }
        if (removed) {
                /* Free the space now unless a pull holds the store; prune catches up later. */
                int r = image_gc(s, false, NULL, &err);
                if (r < 0 && r != -EWOULDBLOCK)
                        return berth_fail(&err, EXIT_BERTH);
        }
        return worst;
}
