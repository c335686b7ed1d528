/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's volumes through its life: create looks them up or creates
 * them (named ones on first mention, as docker does; anonymous ones for
 * `-v /path` and the image's VOLUMEs) and records the use; start mounts the
 * driver's filesystems and copies the image's content into new volumes;
 * cleanup unmounts; remove drops the use records (volume_release) and, with
 * -v or --rm, the anonymous volumes. create stores what it decided in the record's config
 * ("volumes": [{name, destination, anonymous, nocopy}]).
 */
#include <fcntl.h>
#include <string.h>

#include "basic/strv.h"
#include "events.h"
#include "lifecycle.h"
#include "spec-internal.h"
#include "volume.h"

void engine_mounts_free(struct engine_mount *m, size_t n)
{
        for (size_t i = 0; i < n; i++)
                engine_mount_done(&m[i]);
        free(m);
}

static int mount_copy(const struct engine_mount *from, struct engine_mount *to)
{
        *to = *from;
        to->source = from->source ? strdup(from->source) : NULL;
        to->volume_name = from->volume_name ? strdup(from->volume_name) : NULL;
        to->destination = from->destination ? strdup(from->destination) : NULL;
        to->propagation = from->propagation ? strdup(from->propagation) : NULL;
        if ((from->source && !to->source) || (from->volume_name && !to->volume_name) ||
            (from->destination && !to->destination) || (from->propagation && !to->propagation)) {
                engine_mount_done(to);
                return -ENOMEM;
        }
        return 0;
}

/* Looks up the volume of m (creating it when missing) and records the use. */
static int resolve_one(struct engine *e, const char *id, struct engine_mount *m, bool *anonymous,
                       struct berr **err)
{
        _cleanup_volume_ struct volume *v = NULL;
        _cleanup_berr_ struct berr *e2 = NULL;
        struct volume_create_opts o = {.name = m->volume_name, .anonymous = !m->volume_name};

        if (m->volume_name && volume_get(e->db, e->root, m->volume_name, &v, &e2) < 0 && e2->code != ENOENT) {
                berr_move(err, &e2);
                return -1;
        }
        if (!v) {
                if (volume_create(e->db, e->root, &o, &v, err) < 0)
                        return berr_wrap(err, "volume for %s", m->destination);
                engine_event_emit(e, "volume", "create", v->name,
                                  (const char *const[]){"driver", v->driver, NULL});
        }
        if (volume_use(e->db, v->name, id, err) < 0)
                return -1;
        *anonymous = v->anonymous;
        free(m->source);
        m->source = strdup(v->mountpoint);
        if (!m->volume_name)
                m->volume_name = strdup(v->name);
        if (!m->source || !m->volume_name)
                return berr_make(err, ENOMEM, "volumes");
        return 0;
}

int engine_volumes_prepare(struct engine *e, const char *id, const struct engine_image_config *img,
                           const struct engine_run_opts *run, struct engine_mount **out, size_t *n_out,
                           json_object **vols_out, struct berr **err)
{
        _cleanup_strv_free_ char **image_vols = NULL;
        struct engine_mount *m = NULL;
        json_object *vols = json_object_new_array();
        size_t n = 0, total;

        if (!vols || engine_spec_anonymous_volumes(img, run, &image_vols, err) < 0)
                goto fail;
        total = run->n_mounts + strv_length(image_vols);
        m = calloc(total ? total : 1, sizeof(*m));
        if (!m) {
                berr_make(err, ENOMEM, "volumes");
                goto fail;
        }
        for (; n < run->n_mounts; n++)
                if (mount_copy(&run->mounts[n], &m[n]) < 0) {
                        berr_make(err, ENOMEM, "volumes");
                        goto fail;
                }
        STRV_FOREACH (dest, image_vols) {
                m[n] = (struct engine_mount){
                    .type = ENGINE_MOUNT_VOLUME, .destination = strdup(*dest), .tmpfs_mode = -1};
                if (!m[n++].destination) {
                        berr_make(err, ENOMEM, "volumes");
                        goto fail;
                }
        }
        for (size_t i = 0; i < n; i++) {
                json_object *j;
                bool anonymous = false;
                if (m[i].type != ENGINE_MOUNT_VOLUME)
                        continue;
                if (resolve_one(e, id, &m[i], &anonymous, err) < 0)
                        goto fail;
                j = json_object_new_object();
                json_object_object_add(j, "name", json_object_new_string(m[i].volume_name));
                json_object_object_add(j, "destination", json_object_new_string(m[i].destination));
                json_object_object_add(j, "anonymous", json_object_new_boolean(anonymous));
                json_object_object_add(j, "nocopy", json_object_new_boolean(m[i].nocopy));
                json_object_array_add(vols, j);
        }
        *out = m;
        *n_out = n;
        *vols_out = vols;
        return 0;
fail:
        engine_mounts_free(m, n);
        json_object_put(vols);
        /* The caller's undo drops the uses and the anonymous volumes made so far. */
        return -1;
}

static json_object *volume_at(const struct container *c, size_t i, const char **name, const char **dest,
                              bool *nocopy)
{
        json_object *vols = container_cfg(c, "volumes"), *v, *x;

        if (!json_object_is_type(vols, json_type_array) || i >= json_object_array_length(vols))
                return NULL;
        v = json_object_array_get_idx(vols, i);
        *name = json_object_object_get_ex(v, "name", &x) ? json_object_get_string(x) : NULL;
        *dest = json_object_object_get_ex(v, "destination", &x) ? json_object_get_string(x) : NULL;
        *nocopy = json_object_object_get_ex(v, "nocopy", &x) && json_object_get_boolean(x);
        return v;
}

int engine_volumes_unmount(struct engine *e, const struct container *c, struct berr **err)
{
        const char *name, *dest;
        bool nocopy;
        int ret = 0;

        for (size_t i = 0; volume_at(c, i, &name, &dest, &nocopy); i++)
                if (name && volume_unmount(e->db, e->root, name, c->id, err) < 0)
                        ret = -1;
        return ret;
}

int engine_volumes_mount(struct engine *e, const struct container *c, struct berr **err)
{
        _cleanup_free_ char *rootfs = NULL;
        _cleanup_close_ int rootfd = -1;
        const char *name, *dest;
        bool nocopy;

        if (!container_cfg(c, "volumes"))
                return 0;
        if (asprintf(&rootfs, "%s/rw/%s/merged", e->store->root, c->id) < 0)
                return berr_make(err, ENOMEM, "volumes");
        rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return berr_errno(err, "open `%s`", rootfs);
        for (size_t i = 0; volume_at(c, i, &name, &dest, &nocopy); i++) {
                if (!name || !dest)
                        continue;
                if (volume_mount(e->db, e->root, name, c->id, err) < 0 ||
                    (!nocopy && volume_copy_up(e->db, e->root, name, rootfd, dest, err) < 0)) {
                        engine_volumes_unmount(e, c, NULL);
                        return -1;
                }
        }
        return 0;
}
