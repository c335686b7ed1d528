/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "commit.h"
#include "events.h"
#include "image/images.h"
#include "image/local.h"
#include "image/manifest.h"
#include "image/snapshot.h"
#include "image/unpack.h"
#include "image/util.h"
#include "lifecycle.h"
#include "manage.h"
#include "spec-internal.h"

#define CONFIG_JSON_MAX (4u << 20)
#define DIFF_MAX_DEPTH  512

/* ---- mount points ------------------------------------------------------------------- */

static int read_bundle_config(struct engine *e, const struct container *c, json_object **out,
                              struct berr **err)
{
        _cleanup_free_ char *dir = engine_container_dir(e, c->id), *path = NULL, *buf = NULL;
        size_t len;

        if (!dir || !(path = path_join(dir, "config.json")))
                return berr_make(err, ENOMEM, "config.json");
        if (read_file_at(AT_FDCWD, path, CONFIG_JSON_MAX, &buf, &len, err) < 0 ||
            json_parse_buf(buf, len, path, out, err) < 0)
                return -1;
        return 0;
}

/* The config's mount destinations, relative ("etc/hosts"), cleaned. */
static int mount_points(json_object *spec, char ***out, struct berr **err)
{
        json_object *mounts = json_object_object_get(spec, "mounts");

        *out = calloc(1, sizeof(char *));
        if (!*out)
                return berr_make(err, ENOMEM, "mounts");
        for (size_t i = 0;
             json_object_is_type(mounts, json_type_array) && i < json_object_array_length(mounts); i++) {
                json_object *d = json_object_object_get(json_object_array_get_idx(mounts, i), "destination");
                _cleanup_free_ char *clean = NULL;
                const char *rel;
                if (!json_object_is_type(d, json_type_string))
                        continue;
                clean = path_clean(json_object_get_string(d));
                if (!clean)
                        return berr_make(err, ENOMEM, "mounts");
                for (rel = clean; *rel == '/'; rel++)
                        ;
                if (*rel && !path_has_dotdot(rel) && strv_extend(out, rel) < 0)
                        return berr_make(err, ENOMEM, "mounts");
        }
        return 0;
}

/* rel is a mount point or below one. */
static bool under_mount(char *const *points, const char *rel)
{
        STRV_FOREACH (p, points) {
                size_t n = strlen(*p);
                if (strneq(rel, *p, n) && (rel[n] == '\0' || rel[n] == '/'))
                        return true;
        }
        return false;
}

/* rel is a proper ancestor of a mount point. */
static bool above_mount(char *const *points, const char *rel)
{
        size_t n = strlen(rel);

        STRV_FOREACH (p, points)
                if (strneq(*p, rel, n) && (*p)[n] == '/')
                        return true;
        return false;
}

static bool skip_mount_point(void *userdata, const char *name)
{
        char buf[PATH_MAX + 2];
        size_t n = strlen(name);

        /* Directories come with a trailing "/". */
        if (n && name[n - 1] == '/' && n < sizeof(buf)) {
                memcpy(buf, name, n - 1);
                buf[n - 1] = '\0';
                name = buf;
        }
        return under_mount(userdata, name);
}

/* ---- commit ------------------------------------------------------------------------- */

static bool env_has(json_object *env, const char *name)
{
        size_t n = strlen(name);

        for (size_t i = 0; json_object_is_type(env, json_type_array) && i < json_object_array_length(env);
             i++) {
                const char *v = json_object_get_string(json_object_array_get_idx(env, i));
                if (v && strneq(v, name, n) && (v[n] == '=' || v[n] == '\0'))
                        return true;
        }
        return false;
}

static json_object *opt(const struct container *c, const char *key)
{
        return json_object_object_get(container_cfg(c, "runOpts"), key);
}

/*
 * The image config section of the new image: the parent's, with what the
 * container was run with (docker commits the container's config). The
 * environment is the process's minus what the engine adds per container
 * (HOSTNAME, and TERM and HOME unless the image or -e set them).
 */
static json_object *commit_config(const struct container *c, json_object *parent, json_object *spec)
{
        json_object *cfg = NULL, *penv = json_object_object_get(parent, "Env");
        json_object *env = json_object_object_get(json_object_object_get(spec, "process"), "env");
        json_object *user_env = opt(c, "env"), *out_env = json_object_new_array(), *v;
        const char *s;

        if (json_object_deep_copy(parent, &cfg, NULL) < 0 || !cfg) {
                json_object_put(out_env);
                return NULL;
        }
        for (size_t i = 0; json_object_is_type(env, json_type_array) && i < json_object_array_length(env);
             i++) {
                const char *kv = json_object_get_string(json_object_array_get_idx(env, i));
                char name[256];
                size_t n = kv ? strcspn(kv, "=") : 0;
                if (!kv || n >= sizeof(name))
                        continue;
                memcpy(name, kv, n);
                name[n] = '\0';
                if (streq(name, "HOSTNAME") && !env_has(user_env, name))
                        continue;
                if ((streq(name, "TERM") || streq(name, "HOME")) && !env_has(penv, name) &&
                    !env_has(user_env, name))
                        continue;
                json_object_array_add(out_env, json_object_new_string(kv));
        }
        json_object_object_add(cfg, "Env", out_env);
        v = container_cfg(c, "cmd");
        json_object_object_add(cfg, "Cmd", v ? json_object_get(v) : NULL);
        v = container_cfg(c, "entrypoint");
        json_object_object_add(cfg, "Entrypoint", v ? json_object_get(v) : NULL);
        v = container_cfg(c, "labels");
        if (json_object_is_type(v, json_type_object) && json_object_object_length(v) > 0)
                json_object_object_add(cfg, "Labels", json_object_get(v));
        if ((s = json_object_get_string(opt(c, "user"))))
                json_object_object_add(cfg, "User", json_object_new_string(s));
        if ((s = json_object_get_string(opt(c, "workdir"))))
                json_object_object_add(cfg, "WorkingDir", json_object_new_string(s));
        if ((s = json_object_get_string(opt(c, "stopSignal"))))
                json_object_object_add(cfg, "StopSignal", json_object_new_string(s));
        return cfg;
}

static char *created_by(const struct container *c)
{
        json_object *cmd = container_cfg(c, "command");
        size_t len = 1;
        char *out;

        for (size_t i = 0; json_object_is_type(cmd, json_type_array) && i < json_object_array_length(cmd);
             i++)
                len += strlen(json_object_get_string(json_object_array_get_idx(cmd, i))) + 1;
        out = calloc(1, len);
        for (size_t i = 0;
             out && json_object_is_type(cmd, json_type_array) && i < json_object_array_length(cmd); i++) {
                if (i)
                        strcat(out, " ");
                strcat(out, json_object_get_string(json_object_array_get_idx(cmd, i)));
        }
        return out;
}

/* Packs the upper directory into tmp/<name>/layer (gzip); the container is paused meanwhile if asked. */
static int pack_layer(struct engine *e, const struct container *c, char *const *points, bool pause, int tmpfd,
                      struct pack_result *pr, struct berr **err)
{
        _cleanup_free_ char *upper = snapshot_rw_upper(e->store, c->id);
        _cleanup_close_ int ufd = -1, out = -1;
        struct pack_opts po = {.mtime_clamp = -1, .skip = skip_mount_point, .skip_userdata = (void *)points};
        struct container_state st;
        bool paused = false;
        int r;

        if (!upper)
                return berr_make(err, ENOMEM, "commit");
        ufd = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (ufd < 0)
                return berr_errno(err, "open `%s`", upper);
        out = openat(tmpfd, "layer", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (out < 0)
                return berr_errno(err, "create the layer in `%s/tmp`", e->store->root);
        if (pause) {
                if (container_state_derive(e, c, &st, err) < 0)
                        return -1;
                r = st.status;
                container_state_done(&st);
                if (r == CONTAINER_RUNNING) {
                        if (engine_container_pause(e, c, err) < 0)
                                return berr_wrap(err, "commit %s", c->name);
                        paused = true;
                }
        }
        r = layer_pack_overlay_upper(ufd, out, LAYER_GZIP, &po, pr, err);
        if (paused) {
                _cleanup_berr_ struct berr *e2 = NULL;
                if (engine_container_unpause(e, c, r < 0 ? &e2 : err) < 0 && r == 0)
                        r = -1;
        }
        if (r < 0)
                return -1;
        if (fsync(out) < 0)
                return berr_errno(err, "sync the layer");
        return 0;
}

int engine_container_commit(struct engine *e, const struct container *c, const struct engine_commit_opts *o,
                            char **image_id, struct berr **err)
{
        _cleanup_image_record_ struct image_record *rec = NULL;
        _cleanup_image_config_ struct image_config *pcfg = NULL;
        _cleanup_json_ json_object *spec = NULL, *doc = NULL;
        _cleanup_strv_free_ char **points = NULL, **names = NULL;
        _cleanup_free_ struct local_layer *layers = NULL;
        _cleanup_free_ char *cbuf = NULL, *norm = NULL, *by = NULL;
        _cleanup_close_ int tmpfd = -1;
        struct pack_result pr;
        char tmpname[64] = "", chain[136];
        json_object *section, *hist, *h, *nh;
        size_t clen, n;
        bool locked = false;
        int r, ret = -1;

        if (o->name && (image_name_normalize(o->name, true, &norm, err) < 0 || strv_extend(&names, norm) < 0))
                return berr_wrap(err, "commit");
        r = images_get(e->store, c->image_id, &rec, err);
        if (r <= 0)
                return r < 0
                           ? -1
                           : eng_err(err, ENOENT,
                                     "the image of container %s (%.19s) was removed: nothing to commit onto",
                                     c->name, c->image_id);
        if (store_blob_read(e->store, c->image_id, CONFIG_MAX_SIZE, &cbuf, &clen, err) < 0 ||
            image_config_parse(cbuf, clen, &pcfg, err) < 0)
                return berr_wrap(err, "image %s", c->image_id);
        if (read_bundle_config(e, c, &spec, err) < 0 || mount_points(spec, &points, err) < 0)
                return -1;
        section = commit_config(c, json_object_object_get(pcfg->json, "config"), spec);
        if (!section)
                return berr_make(err, ENOMEM, "commit");
        STRV_FOREACH (ch, (char **)o->changes)
                if (image_config_apply_change(section, *ch, err) < 0) {
                        json_object_put(section);
                        return berr_wrap(err, "--change");
                }

        /* The store lock keeps GC off the new blob until the image refers to it. */
        if (image_store_lock(e->store, false, true, err) < 0) {
                json_object_put(section);
                return -1;
        }
        locked = true;
        if (store_tmpdir(e->store, "commit-", tmpname, &tmpfd, err) < 0 ||
            pack_layer(e, c, points, o->pause, tmpfd, &pr, err) < 0 ||
            store_blob_adopt(e->store, tmpfd, "layer", pr.digest, err) < 0)
                goto out;
        n = rec->n_layers + 1;
        layers = calloc(n, sizeof(*layers));
        if (!layers) {
                berr_make(err, ENOMEM, "commit");
                goto out;
        }
        for (size_t i = 0; i < rec->n_layers; i++) {
                snprintf(layers[i].digest, sizeof(layers[i].digest), "%s", rec->layers[i].digest);
                layers[i].media_type = rec->layers[i].media_type;
                layers[i].size = rec->layers[i].size;
                snprintf(layers[i].diff_id, sizeof(layers[i].diff_id), "%s", rec->layers[i].diff_id);
                layers[i].unpacked_size = rec->layers[i].unpacked_size;
        }
        snprintf(layers[n - 1].digest, sizeof(layers[n - 1].digest), "%s", pr.digest);
        layers[n - 1].media_type = MT_OCI_LAYER_GZIP;
        layers[n - 1].size = (int64_t)pr.size;
        snprintf(layers[n - 1].diff_id, sizeof(layers[n - 1].diff_id), "%s", pr.diff_id);
        layers[n - 1].unpacked_size = pr.uncompressed_size;
        if (chain_id_next(rec->n_layers ? rec->layers[rec->n_layers - 1].chain_id : NULL, pr.diff_id, chain) <
            0) {
                berr_make(err, ENOMEM, "chain id");
                goto out;
        }
        /* Unpacked once more as a snapshot, so containers of the new image start at once. */
        if (snapshot_from_blob(e->store, pr.digest, LAYER_GZIP, pr.diff_id, chain, NULL, err) < 0)
                goto out;
        by = created_by(c);
        if (!by || image_config_new(section, layers, n, by, o->message, &doc, err) < 0)
                goto out;
        /* The parent's history, then ours. */
        hist = json_object_new_array();
        h = json_object_object_get(pcfg->json, "history");
        for (size_t i = 0; json_object_is_type(h, json_type_array) && i < json_object_array_length(h); i++)
                json_object_array_add(hist, json_object_get(json_object_array_get_idx(h, i)));
        nh = json_object_array_get_idx(json_object_object_get(doc, "history"), 0);
        if (o->author && *o->author) {
                json_object_object_add(nh, "author", json_object_new_string(o->author));
                json_object_object_add(doc, "author", json_object_new_string(o->author));
        }
        json_object_array_add(hist, json_object_get(nh));
        json_object_object_add(doc, "history", hist);
        {
                const char *cj = json_to_string(doc, false);
                ret = image_record_local(e->store, cj, strlen(cj), layers, n, names, image_id, err);
        }
out:
        json_object_put(section);
        if (tmpname[0])
                store_trash(e->store, e->store->tmp_fd, tmpname, NULL);
        if (locked)
                image_store_unlock(e->store);
        if (ret < 0)
                return berr_wrap(err, "commit %s", c->name);
        engine_event_container(e, c, "commit", (const char *const[]){"imageID", *image_id, NULL});
        return 0;
}

/* ---- diff --------------------------------------------------------------------------- */

struct differ {
        char *const *points;
        int *lowers; /* the image's layers, top first */
        size_t n_lowers;
        struct engine_change *v;
        size_t n, cap;
        char path[PATH_MAX + 2];
};

static bool is_whiteout(const struct stat *st)
{
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool is_opaque(int fd)
{
        char v[2];

        return (fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v)) == 1 ||
                fgetxattr(fd, "user.overlay.opaque", v, sizeof(v)) == 1) &&
               v[0] == 'y';
}

/* How the image shows rel (overlay's lookup through the layers, top first): 1 with *st when present. */
static int lower_stat(struct differ *d, const char *rel, struct stat *st)
{
        _cleanup_free_ char *parent = NULL;
        const char *slash = strrchr(rel, '/'), *base = slash ? slash + 1 : rel;

        parent = slash ? strndup(rel, (size_t)(slash - rel)) : strdup("");
        if (!parent)
                return -ENOMEM;
        for (size_t i = 0; i < d->n_lowers; i++) {
                _cleanup_close_ int pfd = openat_in_root(d->lowers[i], parent, O_RDONLY | O_DIRECTORY, 0);
                if (pfd < 0)
                        continue;
                if (fstatat(pfd, base, st, AT_SYMLINK_NOFOLLOW) == 0)
                        return is_whiteout(st) ? 0 : 1;
                /* An opaque directory hides what the layers below have in it. */
                if (is_opaque(pfd))
                        return 0;
        }
        return 0;
}

static int add_change(struct differ *d, char kind, const char *rel, struct berr **err)
{
        if (d->n == d->cap) {
                size_t cap = d->cap ? d->cap * 2 : 64;
                struct engine_change *v = realloc(d->v, cap * sizeof(*v));
                if (!v)
                        return berr_make(err, ENOMEM, "diff");
                d->v = v;
                d->cap = cap;
        }
        if (asprintf(&d->v[d->n].path, "/%s", rel) < 0)
                return berr_make(err, ENOMEM, "diff");
        d->v[d->n++].kind = kind;
        return 0;
}

/* Walks directory dfd (d->path[0..len) is its path); returns how many changes were added, or -1. */
static int diff_tree(struct differ *d, int dfd, size_t len, bool added, int depth, struct berr **err)
{
        int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *dir = NULL;
        struct dirent *de;
        size_t before = d->n;

        if (depth >= DIFF_MAX_DEPTH)
                return eng_err(err, ELOOP, "/%s: directories nested too deep", d->path);
        if (fd < 0 || !(dir = fdopendir(fd))) {
                safe_close(fd);
                return berr_errno(err, "open directory /%s", d->path);
        }
        while ((de = readdir(dir))) {
                size_t n = strlen(de->d_name), at = len;
                struct stat st, lst;
                int in_lower;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (len + n + 2 >= sizeof(d->path))
                        return eng_err(err, ENAMETOOLONG, "/%s/%s: path too long", d->path, de->d_name);
                if (at)
                        d->path[at++] = '/';
                memcpy(d->path + at, de->d_name, n + 1);
                if (under_mount(d->points, d->path) ||
                    fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        d->path[len] = '\0';
                        continue;
                }
                if (is_whiteout(&st)) {
                        if (add_change(d, 'D', d->path, err) < 0)
                                return -1;
                        d->path[len] = '\0';
                        continue;
                }
                in_lower = added ? 0 : lower_stat(d, d->path, &lst);
                if (in_lower < 0)
                        return berr_make(err, -in_lower, "diff");
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int cfd =
                            openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        size_t slot = d->n;
                        int below;
                        bool report;
                        if (cfd < 0)
                                return berr_errno(err, "open directory /%s", d->path);
                        /* Reserve the directory's place: it sorts before what is below it. */
                        if (add_change(d, in_lower ? 'C' : 'A', d->path, err) < 0)
                                return -1;
                        /* Below an opaque directory nothing of the image shows through. */
                        below = diff_tree(d, cfd, at + n, !in_lower || is_opaque(cfd), depth + 1, err);
                        if (below < 0)
                                return -1;
                        if (in_lower)
                                report = below > 0 || is_opaque(cfd) || !S_ISDIR(lst.st_mode) ||
                                         (st.st_mode & 07777) != (lst.st_mode & 07777) ||
                                         st.st_uid != lst.st_uid || st.st_gid != lst.st_gid;
                        else
                                /* A directory made only to hold a mount point is the runtime's. */
                                report = below > 0 || !above_mount(d->points, d->path);
                        if (!report) {
                                free(d->v[slot].path);
                                memmove(&d->v[slot], &d->v[slot + 1], (d->n - slot - 1) * sizeof(*d->v));
                                d->n--;
                        }
                } else if (add_change(d, in_lower ? 'C' : 'A', d->path, err) < 0) {
                        return -1;
                }
                d->path[len] = '\0';
        }
        return (int)(d->n - before);
}

static int cmp_change(const void *a, const void *b)
{
        return strcmp(((const struct engine_change *)a)->path, ((const struct engine_change *)b)->path);
}

void engine_changes_free(struct engine_change *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i].path);
        free(v);
}

int engine_container_diff(struct engine *e, const struct container *c, struct engine_change **out, size_t *n,
                          struct berr **err)
{
        _cleanup_json_ json_object *spec = NULL;
        _cleanup_strv_free_ char **points = NULL, **chains = NULL;
        _cleanup_free_ char *upper = snapshot_rw_upper(e->store, c->id);
        _cleanup_close_ int ufd = -1;
        struct differ d = {0};
        int r = -1;

        if (!upper)
                return berr_make(err, ENOMEM, "diff");
        if (read_bundle_config(e, c, &spec, err) < 0 || mount_points(spec, &points, err) < 0 ||
            snapshot_rw_lowers(e->store, c->id, &chains, err) < 0)
                return -1;
        ufd = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (ufd < 0)
                return berr_errno(err, "open `%s`", upper);
        d.points = points;
        d.lowers = calloc(strv_length(chains) + 1, sizeof(int));
        if (!d.lowers)
                return berr_make(err, ENOMEM, "diff");
        STRV_FOREACH (ch, chains) {
                int fd = store_snapshot_open(e->store, *ch, err);
                if (fd < 0)
                        goto out;
                d.lowers[d.n_lowers++] = fd;
        }
        if (diff_tree(&d, ufd, 0, false, 0, err) < 0)
                goto out;
        if (d.n)
                qsort(d.v, d.n, sizeof(*d.v), cmp_change);
        *out = TAKE_PTR(d.v);
        *n = d.n;
        r = 0;
out:
        for (size_t i = 0; i < d.n_lowers; i++)
                close(d.lowers[i]);
        free(d.lowers);
        if (r < 0)
                engine_changes_free(d.v, d.n);
        return r;
}
