/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "basic/log.h"
#include "basic/strv.h"
#include "images.h"
#include "manifest.h"
#include "push.h"
#include "reference.h"
#include "util.h"

#define PUSH_HOW_UPLOADED 0
#define PUSH_HOW_EXISTS   1
#define PUSH_HOW_MOUNTED  2

static void emit(const struct push_opts *o, enum push_event_type t, const char *digest, int how)
{
        struct push_event ev = {.type = t, .digest = digest, .how = how};

        if (o->progress)
                o->progress(o->progress_userdata, &ev);
}

/* Mount sources: repositories on the same registry the blob is known to be in. */
static int try_mount(struct image_store *s, struct registry *reg, const char *repo, const char *digest,
                     char **upload_url, struct berr **err)
{
        _cleanup_strv_free_ char **sources = NULL;
        size_t dl = strlen(registry_domain(reg));

        if (images_blob_sources(s, digest, &sources, err) < 0)
                return -1;
        STRV_FOREACH (src, sources) {
                const char *from;
                int r;
                if (!strneq(*src, registry_domain(reg), dl) || (*src)[dl] != '/')
                        continue;
                from = *src + dl + 1;
                if (streq(from, repo))
                        continue;
                free(*upload_url);
                *upload_url = NULL;
                r = registry_blob_mount(reg, repo, digest, from, upload_url, err);
                if (r != 0)
                        return r;
        }
        return 0;
}

static int push_blob(struct image_store *s, struct registry *reg, const char *repo, const char *digest,
                     int *how, struct berr **err)
{
        _cleanup_free_ char *upload_url = NULL;
        _cleanup_close_ int fd = -1;
        uint64_t size;
        int r;

        r = registry_blob_exists(reg, repo, digest, err);
        if (r != 0) {
                *how = PUSH_HOW_EXISTS;
                return r < 0 ? r : 0;
        }
        r = try_mount(s, reg, repo, digest, &upload_url, err);
        if (r != 0) {
                *how = PUSH_HOW_MOUNTED;
                return r < 0 ? r : 0;
        }
        if (store_blob_open(s, digest, &fd, err) < 0 || store_blob_size(s, digest, &size) < 0)
                return berr_wrap(err, "blob %s is not in the local store", digest);
        *how = PUSH_HOW_UPLOADED;
        return registry_blob_upload(reg, repo, digest, fd, size, upload_url, err);
}

int image_push(struct image_store *s, const char *image, const char *dest, const struct push_opts *o,
               char digest_out[136], struct berr **err)
{
        _cleanup_image_record_ struct image_record *rec = NULL;
        _cleanup_image_ref_ struct image_ref *ref = NULL;
        _cleanup_registries_conf_ struct registries_conf *own_conf = NULL;
        _cleanup_free_ char *id = NULL, *man = NULL, *repo_full = NULL, *display = NULL, *rd = NULL;
        _cleanup_(registry_freep) struct registry *reg = NULL;
        struct registry_endpoint *eps = NULL;
        struct registry_opts ropts = o->reg;
        size_t n_eps = 0, len;
        int r, ret = -1;

        r = images_resolve(s, image, &id, err);
        if (r <= 0)
                return r < 0 ? r : img_err(err, ENOENT, "%s: image not known", image);
        if (images_get(s, id, &rec, err) <= 0)
                return img_err(err, ENOENT, "%s: image not known", image);
        if (image_ref_parse(dest ? dest : image, &ref, err) < 0)
                return -1;
        display = image_ref_string(ref);
        repo_full = image_ref_repo(ref);
        if (!display || !repo_full)
                return berr_make(err, ENOMEM, "push");
        if (!ropts.conf) {
                if (registries_conf_load(NULL, &own_conf, err) < 0)
                        return -1;
                ropts.conf = own_conf;
        }
        if (ref->digest && !streq(ref->digest, rec->manifest_digest))
                return img_err(err, EINVAL, "pushing %s: the image's manifest is %s", display, rec->manifest_digest);
        if (registries_conf_endpoints(ropts.conf, ref->domain, ref->path, false, &eps, &n_eps, err) < 0)
                return -1;
        if (store_blob_read(s, rec->manifest_digest, MANIFEST_MAX_SIZE, &man, &len, err) < 0)
                goto out;
        if (registry_new(eps[0].domain, eps[0].insecure, &ropts, &reg, err) < 0)
                goto out;
        for (size_t i = 0; i < rec->n_layers; i++) {
                int how;
                if (push_blob(s, reg, eps[0].path, rec->layers[i].digest, &how, err) < 0)
                        goto out;
                emit(o, PUSH_EV_BLOB, rec->layers[i].digest, how);
        }
        {
                int how;
                if (push_blob(s, reg, eps[0].path, rec->id, &how, err) < 0)
                        goto out;
                emit(o, PUSH_EV_CONFIG, rec->id, how);
        }
        if (registry_put_manifest(reg, eps[0].path, ref->digest ? ref->digest : ref->tag, rec->manifest_media_type,
                                  man, len, err) < 0)
                goto out;
        emit(o, PUSH_EV_MANIFEST, rec->manifest_digest, 0);
        snprintf(digest_out, 136, "%s", rec->manifest_digest);
        /* Remember where the blobs are now (mount sources) and the pushed digest (RepoDigests). */
        {
                _cleanup_free_ char *erepo = NULL;
                if (asprintf(&erepo, "%s/%s", eps[0].domain, eps[0].path) >= 0)
                        for (size_t i = 0; i < rec->n_layers; i++)
                                images_add_blob_source(s, rec->layers[i].digest, erepo, NULL);
                if (erepo)
                        images_add_blob_source(s, rec->id, erepo, NULL);
        }
        if (asprintf(&rd, "%s@%s", repo_full, rec->manifest_digest) >= 0)
                images_add_repo_digest(s, rec->id, rd, NULL);
        ret = 0;
out:
        registry_endpoints_free(eps, n_eps);
        if (ret < 0)
                berr_wrap(err, "pushing %s", display);
        return ret;
}
