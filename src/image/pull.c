/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/log.h"
#include "basic/strv.h"
#include "basic/timeutil.h"
#include "db.h"
#include "images.h"
#include "manifest.h"
#include "pull.h"
#include "reference.h"
#include "unpack.h"
#include "util.h"

#define FOLLOW_BUF        (1u << 20)
#define PROGRESS_INTERVAL (512u * 1024)

struct layer_job {
        size_t idx;
        const struct descriptor *desc;
        enum layer_compression comp;
        const char *diff_id;
        char chain_id[136];
        uint64_t unpacked_size;
};

struct pull_ctx {
        struct image_store *s;
        struct registry *reg;
        const char *repo; /* path at the endpoint */
        struct layer_job *jobs;
        size_t n_jobs;
        struct unpack_opts uo;
        pthread_mutex_t mu;
        size_t next;
        bool cancel;
        struct berr *error;
        pull_progress_t progress;
        void *ud;
};

static void emit(struct pull_ctx *c, const struct pull_event *ev)
{
        if (!c->progress)
                return;
        pthread_mutex_lock(&c->mu);
        c->progress(c->ud, ev);
        pthread_mutex_unlock(&c->mu);
}

static bool cancelled(struct pull_ctx *c)
{
        bool v;

        pthread_mutex_lock(&c->mu);
        v = c->cancel;
        pthread_mutex_unlock(&c->mu);
        return v;
}

/*
 * A layer streams into its ingest file; the unpack thread follows that file
 * as it grows (page cache, no second copy of the tar), so download and
 * extraction overlap, and a resumed download simply continues the file.
 */
struct follow {
        pthread_mutex_t mu;
        pthread_cond_t cond;
        uint64_t avail;
        bool eof;
        bool abort;
        int fd;
        struct layer_unpacker *u;
        struct unpack_result res;
        struct berr *err;
        int ret;
};

static void *unpack_main(void *arg)
{
        struct follow *f = arg;
        _cleanup_free_ char *buf = malloc(FOLLOW_BUF);
        uint64_t pos = 0;

        if (!buf) {
                f->ret = berr_make(&f->err, ENOMEM, "unpack");
                return NULL;
        }
        for (;;) {
                uint64_t avail;
                bool eof, abort_;
                ssize_t n;

                pthread_mutex_lock(&f->mu);
                while (f->avail == pos && !f->eof && !f->abort)
                        pthread_cond_wait(&f->cond, &f->mu);
                avail = f->avail;
                eof = f->eof;
                abort_ = f->abort;
                pthread_mutex_unlock(&f->mu);
                if (abort_) {
                        f->ret = -ECANCELED;
                        return NULL;
                }
                if (pos == avail && eof)
                        break;
                n = pread(f->fd, buf, (size_t)MIN((uint64_t)FOLLOW_BUF, avail - pos), (off_t)pos);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        f->ret = n < 0 ? berr_errno(&f->err, "read layer data")
                                       : img_err(&f->err, EIO, "read layer data: unexpected end of file");
                        return NULL;
                }
                if (layer_unpacker_write(f->u, buf, (size_t)n, &f->err) < 0) {
                        f->ret = -1;
                        return NULL;
                }
                pos += (uint64_t)n;
        }
        f->ret = layer_unpacker_finish(f->u, &f->res, &f->err);
        return NULL;
}

struct download {
        struct pull_ctx *c;
        struct layer_job *job;
        struct blob_writer *w;
        struct follow *f;
        uint64_t last_progress;
};

static int download_sink(void *ud, const void *buf, size_t len, struct berr **err)
{
        struct download *d = ud;
        uint64_t off;

        if (cancelled(d->c))
                return img_err(err, ECANCELED, "cancelled");
        if (blob_writer_write(d->w, buf, len, err) < 0)
                return -1;
        off = blob_writer_offset(d->w);
        if (d->f) {
                pthread_mutex_lock(&d->f->mu);
                d->f->avail = off;
                pthread_cond_signal(&d->f->cond);
                pthread_mutex_unlock(&d->f->mu);
        }
        if (off - d->last_progress >= PROGRESS_INTERVAL) {
                struct pull_event ev = {.type = PULL_EV_LAYER_PROGRESS, .layer = d->job->idx,
                                        .n_layers = d->c->n_jobs, .digest = d->job->desc->digest, .done = off,
                                        .total = (uint64_t)d->job->desc->size};
                d->last_progress = off;
                emit(d->c, &ev);
        }
        return 0;
}

static void follow_end(struct follow *f, bool ok)
{
        pthread_mutex_lock(&f->mu);
        if (ok)
                f->eof = true;
        else
                f->abort = true;
        pthread_cond_signal(&f->cond);
        pthread_mutex_unlock(&f->mu);
}

static int run_job(struct pull_ctx *c, struct layer_job *job, struct berr **err)
{
        const char *digest = job->desc->digest;
        struct pull_event ev = {.layer = job->idx, .n_layers = c->n_jobs, .digest = digest,
                                .total = (uint64_t)job->desc->size};
        struct snapshot_tmp tmp = {.dirfd = -1};
        struct follow f = {.fd = -1};
        struct download d = {.c = c, .job = job};
        struct snapshot_meta meta;
        char snap_lock[80];
        int snap_lock_fd = -1, ret = -1;
        bool need_snap, need_blob, thread = false, keep_partial = true;
        pthread_t tid;

        need_snap = !store_snapshot_exists(c->s, job->chain_id);
        need_blob = !store_blob_exists(c->s, digest);
        snprintf(snap_lock, sizeof(snap_lock), "snap-%s", job->chain_id + 7);
        if (need_snap) {
                if (store_lock_name(c->s, snap_lock, true, &snap_lock_fd, err) < 0)
                        return -1;
                need_snap = !store_snapshot_exists(c->s, job->chain_id);
        }
        if (need_blob) {
                int r = blob_writer_open(c->s, digest, job->desc->size, true, &d.w, err);
                if (r < 0)
                        goto out;
                need_blob = r == 0;
        }
        if (!need_snap && !need_blob) {
                if (store_snapshot_meta(c->s, job->chain_id, &meta, NULL) == 0)
                        job->unpacked_size = meta.size;
                ev.type = PULL_EV_LAYER_SKIP;
                emit(c, &ev);
                ret = 0;
                goto out;
        }
        ev.type = PULL_EV_LAYER_START;
        ev.done = need_blob ? blob_writer_offset(d.w) : ev.total;
        emit(c, &ev);

        if (need_snap) {
                if (store_snapshot_begin(c->s, &tmp, err) < 0 ||
                    layer_unpacker_new(tmp.dirfd, job->comp, &c->uo, &f.u, err) < 0)
                        goto out;
                if (need_blob) {
                        f.fd = blob_writer_reopen(d.w, err);
                        f.avail = blob_writer_offset(d.w);
                } else {
                        uint64_t size = 0;
                        if (store_blob_open(c->s, digest, &f.fd, err) == 0)
                                store_blob_size(c->s, digest, &size);
                        f.avail = size;
                        f.eof = true;
                }
                if (f.fd < 0)
                        goto out;
                pthread_mutex_init(&f.mu, NULL);
                pthread_cond_init(&f.cond, NULL);
                if (pthread_create(&tid, NULL, unpack_main, &f) != 0) {
                        img_err(err, EAGAIN, "start unpack thread");
                        goto out;
                }
                thread = true;
                d.f = &f;
        }
        if (need_blob) {
                int r = registry_get_blob(c->reg, c->repo, digest, blob_writer_offset(d.w), download_sink, &d, err);
                if (r == 0)
                        r = blob_writer_finish(d.w, err);
                if (thread)
                        follow_end(&f, r == 0);
                if (r < 0)
                        goto out;
                ev.type = PULL_EV_LAYER_DOWNLOADED;
                ev.done = ev.total;
                emit(c, &ev);
        }
        if (thread) {
                pthread_join(tid, NULL);
                thread = false;
                if (f.ret < 0) {
                        keep_partial = false;
                        berr_move(err, &f.err);
                        if (err && !*err)
                                img_err(err, ECANCELED, "unpack cancelled");
                        berr_wrap(err, "unpack");
                        goto out;
                }
                if (!streq(f.res.diff_id, job->diff_id)) {
                        keep_partial = false;
                        img_err(err, EBADMSG, "uncompressed content hashes to %s, but the image config says %s",
                                  f.res.diff_id, job->diff_id);
                        goto out;
                }
                job->unpacked_size = f.res.uncompressed_size;
        }
        if (need_blob && blob_writer_commit(d.w, NULL, err) < 0)
                goto out;
        if (need_snap) {
                snprintf(meta.diff_id, sizeof(meta.diff_id), "%s", job->diff_id);
                meta.size = f.res.uncompressed_size;
                meta.entries = f.res.entries;
                if (store_snapshot_commit(c->s, &tmp, job->chain_id, &meta, err) < 0)
                        goto out;
        } else if (store_snapshot_meta(c->s, job->chain_id, &meta, NULL) == 0) {
                job->unpacked_size = meta.size;
        }
        ev.type = PULL_EV_LAYER_DONE;
        ev.done = ev.total;
        emit(c, &ev);
        ret = 0;
out:
        if (thread) {
                follow_end(&f, false);
                pthread_join(tid, NULL);
        }
        if (f.u) {
                pthread_mutex_destroy(&f.mu);
                pthread_cond_destroy(&f.cond);
        }
        berr_free(f.err);
        layer_unpacker_free(f.u);
        safe_close(f.fd);
        if (tmp.name[0])
                store_snapshot_abort(c->s, &tmp);
        blob_writer_free(d.w, keep_partial);
        if (snap_lock_fd >= 0)
                store_unlock_name(c->s, snap_lock, snap_lock_fd);
        if (ret < 0)
                berr_wrap(err, "layer %s", digest);
        return ret;
}

static void *worker_main(void *arg)
{
        struct pull_ctx *c = arg;

        for (;;) {
                struct berr *e = NULL;
                size_t i;

                pthread_mutex_lock(&c->mu);
                if (c->cancel || c->next >= c->n_jobs) {
                        pthread_mutex_unlock(&c->mu);
                        return NULL;
                }
                i = c->next++;
                pthread_mutex_unlock(&c->mu);
                if (run_job(c, &c->jobs[i], &e) < 0) {
                        pthread_mutex_lock(&c->mu);
                        /* Other layers fail with "cancelled" once we cancel: keep the cause. */
                        if (!c->error || (c->error->code == ECANCELED && e && e->code != ECANCELED)) {
                                berr_free(c->error);
                                c->error = e;
                                e = NULL;
                        }
                        c->cancel = true;
                        pthread_mutex_unlock(&c->mu);
                        berr_free(e);
                }
        }
}

static int run_jobs(struct pull_ctx *c, unsigned parallel, struct berr **err)
{
        pthread_t tids[PULL_MAX_PARALLEL];
        unsigned n = (unsigned)MIN((size_t)parallel, c->n_jobs), started = 0;

        for (; started < n; started++)
                if (pthread_create(&tids[started], NULL, worker_main, c) != 0)
                        break;
        if (started == 0 && c->n_jobs > 0)
                worker_main(c);
        for (unsigned i = 0; i < started; i++)
                pthread_join(tids[i], NULL);
        if (c->error) {
                berr_move(err, &c->error);
                return -1;
        }
        return 0;
}

/* What the registry told us about the image, before anything is stored. */
struct resolved {
        char *top_buf; /* tag -> this (index or manifest) */
        size_t top_len;
        char *top_type;
        char top_digest[136];
        char *man_buf; /* platform manifest */
        size_t man_len;
        char man_digest[136];
        struct manifest *man;
        char *cfg_buf;
        size_t cfg_len;
        struct image_config *cfg;
        bool has_index;
};

static void resolved_clear(struct resolved *r)
{
        free(r->top_buf);
        free(r->top_type);
        free(r->man_buf);
        manifest_free(r->man);
        free(r->cfg_buf);
        image_config_free(r->cfg);
        memset(r, 0, sizeof(*r));
}

static int resolve(struct image_store *s, struct registry *reg, const char *repo, const struct image_ref *ref,
                   const struct platform *want, bool explicit_platform, struct pull_ctx *c, struct resolved *res,
                   struct berr **err)
{
        _cleanup_manifest_ struct manifest *top = NULL;
        enum layer_compression comp;

        if (registry_get_manifest(reg, repo, ref->digest ? ref->digest : ref->tag, &res->top_buf, &res->top_len,
                                  &res->top_type, res->top_digest, err) < 0)
                return -1;
        if (manifest_parse(res->top_buf, res->top_len, res->top_type, &top, err) < 0)
                return -1;
        free(res->top_type);
        res->top_type = strdup(top->media_type);
        if (!res->top_type)
                return berr_make(err, ENOMEM, "pull");
        if (top->kind == MANIFEST_INDEX) {
                _cleanup_free_ char *ct = NULL;
                size_t i;
                res->has_index = true;
                if (manifest_select_platform(top, want, &i, err) < 0)
                        return -1;
                if (registry_get_manifest(reg, repo, top->manifests[i].digest, &res->man_buf, &res->man_len, &ct,
                                          res->man_digest, err) < 0)
                        return -1;
                if (manifest_parse(res->man_buf, res->man_len, ct ? ct : top->manifests[i].media_type, &res->man,
                                   err) < 0)
                        return berr_wrap(err, "manifest %s", res->man_digest);
                if (res->man->kind != MANIFEST_IMAGE)
                        return img_err(err, ENOTSUP, "manifest %s: nested indexes are not supported",
                                         res->man_digest);
        } else {
                res->man = TAKE_PTR(top);
                res->man_buf = TAKE_PTR(res->top_buf);
                res->man_len = res->top_len;
                res->top_len = 0;
                memcpy(res->man_digest, res->top_digest, sizeof(res->man_digest));
        }
        if (!config_media_type_known(res->man->config.media_type))
                return img_err(err, ENOTSUP, "not a container image: config media type `%s`",
                                 res->man->config.media_type);
        for (size_t i = 0; i < res->man->n_layers; i++)
                if (layer_compression_from_media_type(res->man->layers[i].media_type, &comp, err) < 0)
                        return berr_wrap(err, "layer %s", res->man->layers[i].digest);
        if (res->man->config.size > (int64_t)CONFIG_MAX_SIZE)
                return img_err(err, EFBIG, "config %s is %" PRId64 " bytes, more than the limit of %u",
                                 res->man->config.digest, res->man->config.size, CONFIG_MAX_SIZE);
        if (store_blob_exists(s, res->man->config.digest)) {
                if (store_blob_read(s, res->man->config.digest, CONFIG_MAX_SIZE, &res->cfg_buf, &res->cfg_len, err) <
                    0)
                        return -1;
        } else if (registry_get_blob_buf(reg, repo, res->man->config.digest, res->man->config.size, CONFIG_MAX_SIZE,
                                         &res->cfg_buf, &res->cfg_len, err) < 0) {
                return berr_wrap(err, "config");
        }
        if (image_config_parse(res->cfg_buf, res->cfg_len, &res->cfg, err) < 0)
                return berr_wrap(err, "config %s", res->man->config.digest);
        if (res->cfg->n_diff_ids != res->man->n_layers)
                return img_err(err, EBADMSG, "the manifest has %zu layers but the config lists %zu diff_ids",
                                 res->man->n_layers, res->cfg->n_diff_ids);
        if (!res->has_index && res->cfg->architecture && res->cfg->os) {
                struct platform have = {.os = res->cfg->os, .architecture = res->cfg->architecture,
                                        .variant = res->cfg->variant};
                if (!platform_match(want, &have)) {
                        _cleanup_free_ char *h = platform_string(&have), *w = platform_string(want), *msg = NULL;
                        if (explicit_platform)
                                return img_err(err, ENOENT, "image is for platform %s, not %s", h ? h : "?",
                                                 w ? w : "?");
                        if (asprintf(&msg, "image platform (%s) does not match the expected platform (%s)",
                                     h ? h : "?", w ? w : "?") >= 0) {
                                struct pull_event ev = {.type = PULL_EV_WARNING, .text = msg};
                                emit(c, &ev);
                        }
                }
        }
        return 0;
}

/* The image is already complete (e.g. pulled by another manifest of the same config). */
static int image_complete(struct image_store *s, const char *id, struct berr **err)
{
        _cleanup_image_record_ struct image_record *rec = NULL;
        int r = images_get(s, id, &rec, err);

        if (r <= 0)
                return r;
        for (size_t i = 0; i < rec->n_layers; i++)
                if (!store_snapshot_exists(s, rec->layers[i].chain_id) || !store_blob_exists(s, rec->layers[i].digest))
                        return 0;
        return 1;
}

static int record_image(struct image_store *s, const struct image_ref *ref, const char *endpoint_repo,
                        const struct resolved *res, struct layer_job *jobs, struct berr **err)
{
        _cleanup_free_ char *repo = image_ref_repo(ref), *name = ref->tag ? image_ref_name_tag(ref) : NULL;
        _cleanup_strv_free_ char **blobs = NULL, **names = NULL, **rds = NULL;
        struct image_record rec = {0};
        const char *id = res->man->config.digest;
        int r;

        if (!repo || (ref->tag && !name))
                return berr_make(err, ENOMEM, "pull");
        if (name && strv_extend(&names, name) < 0)
                return berr_make(err, ENOMEM, "pull");
        {
                char *a = NULL, *b = NULL;
                if (asprintf(&a, "%s@%s", repo, res->man_digest) < 0 || strv_push(&rds, a) < 0)
                        return berr_make(err, ENOMEM, "pull");
                if (res->has_index &&
                    (asprintf(&b, "%s@%s", repo, res->top_digest) < 0 || strv_push(&rds, b) < 0))
                        return berr_make(err, ENOMEM, "pull");
        }
        if (store_blob_put(s, res->man_buf, res->man_len, res->man_digest, NULL, err) < 0 ||
            (res->has_index && store_blob_put(s, res->top_buf, res->top_len, res->top_digest, NULL, err) < 0) ||
            store_blob_put(s, res->cfg_buf, res->cfg_len, id, NULL, err) < 0)
                return -1;

        r = image_complete(s, id, err);
        if (r < 0)
                return r;
        if (r > 0) {
                /* Keep the stored layers; remember the new names and manifests. */
                if (db_begin(s->db, err) < 0)
                        return -1;
                STRV_FOREACH (n, names)
                        if (images_tag(s, id, *n, res->top_digest, err) < 0)
                                goto fail;
                STRV_FOREACH (d, rds)
                        if (images_add_repo_digest(s, id, *d, err) < 0)
                                goto fail;
                if (images_add_blob(s, id, res->man_digest, err) < 0 ||
                    (res->has_index && images_add_blob(s, id, res->top_digest, err) < 0))
                        goto fail;
                return db_commit(s->db, err);
        fail:
                db_rollback(s->db);
                return -1;
        }

        if (strv_extend(&blobs, res->man_digest) < 0 || strv_extend(&blobs, id) < 0 ||
            (res->has_index && strv_extend(&blobs, res->top_digest) < 0))
                return berr_make(err, ENOMEM, "pull");
        rec.id = (char *)id;
        rec.manifest_digest = (char *)res->man_digest;
        rec.manifest_media_type = res->man->media_type;
        rec.config_media_type = res->man->config.media_type;
        rec.os = res->cfg->os;
        rec.architecture = res->cfg->architecture;
        rec.variant = res->cfg->variant;
        rec.created_ns = res->cfg->created_ns;
        rec.names = names;
        rec.name_digest = res->top_digest;
        rec.repo_digests = rds;
        rec.n_layers = res->man->n_layers;
        rec.layers = calloc(rec.n_layers ? rec.n_layers : 1, sizeof(*rec.layers));
        if (!rec.layers)
                return berr_make(err, ENOMEM, "pull");
        for (size_t i = 0; i < rec.n_layers; i++) {
                rec.layers[i].digest = res->man->layers[i].digest;
                rec.layers[i].media_type = res->man->layers[i].media_type;
                rec.layers[i].size = res->man->layers[i].size;
                rec.layers[i].diff_id = res->cfg->diff_ids[i];
                rec.layers[i].chain_id = jobs[i].chain_id;
                rec.layers[i].unpacked_size = jobs[i].unpacked_size;
                rec.size += jobs[i].unpacked_size;
                if (strv_extend(&blobs, res->man->layers[i].digest) < 0) {
                        free(rec.layers);
                        return berr_make(err, ENOMEM, "pull");
                }
        }
        rec.top_chain_id = rec.n_layers ? jobs[rec.n_layers - 1].chain_id : NULL;
        r = images_put(s, &rec, blobs, err);
        free(rec.layers);
        if (r < 0)
                return r;
        /* Mount sources for pushes are a hint: failing to record one is not a failed pull. */
        for (size_t i = 0; i < res->man->n_layers; i++)
                if (images_add_blob_source(s, res->man->layers[i].digest, endpoint_repo, NULL) < 0)
                        break;
        images_add_blob_source(s, id, endpoint_repo, NULL);
        return 0;
}

int image_pull(struct image_store *s, const char *refstr, const struct pull_opts *o, char **id_out,
               struct berr **err)
{
        _cleanup_image_ref_ struct image_ref *ref = NULL;
        _cleanup_platform_ struct platform *want = NULL;
        _cleanup_registries_conf_ struct registries_conf *own_conf = NULL;
        _cleanup_free_ char *display = NULL;
        struct registry_endpoint *eps = NULL;
        struct registry_opts ropts = o->reg;
        struct resolved res = {0};
        struct pull_ctx c = {.s = s, .progress = o->progress, .ud = o->progress_userdata};
        struct berr *last = NULL;
        size_t n_eps = 0, ep = 0;
        int ret = -1, r;

        pthread_mutex_init(&c.mu, NULL);
        if (image_ref_parse(refstr, &ref, err) < 0)
                goto out;
        display = image_ref_string(ref);
        if (!display) {
                berr_make(err, ENOMEM, "pull");
                goto out;
        }
        if ((o->platform ? platform_parse(o->platform, &want, err) : platform_host(&want, err)) < 0)
                goto out;
        if (!ropts.conf) {
                if (registries_conf_load(NULL, &own_conf, err) < 0)
                        goto out;
                ropts.conf = own_conf;
        }
        if (registries_conf_endpoints(ropts.conf, ref->domain, ref->path, true, &eps, &n_eps, err) < 0)
                goto out;

        for (ep = 0; ep < n_eps; ep++) {
                _cleanup_free_ char *what = NULL;
                struct berr *e = NULL;
                if (asprintf(&what, "%s/%s%s%s%s%s", eps[ep].domain, eps[ep].path, ref->tag ? ":" : "",
                             ref->tag ? ref->tag : "", ref->digest ? "@" : "", ref->digest ? ref->digest : "") < 0) {
                        berr_make(err, ENOMEM, "pull");
                        goto out;
                }
                {
                        struct pull_event ev = {.type = PULL_EV_TRYING, .text = what};
                        emit(&c, &ev);
                }
                registry_free(c.reg);
                c.reg = NULL;
                if (registry_new(eps[ep].domain, eps[ep].insecure, &ropts, &c.reg, &e) == 0 &&
                    resolve(s, c.reg, eps[ep].path, ref, want, o->platform != NULL, &c, &res, &e) == 0)
                        break;
                resolved_clear(&res);
                if (n_eps > 1)
                        berr_wrap(&e, "%s", what);
                if (eps[ep].mirror)
                        log_debug("mirror failed: %s", e ? e->msg : "?");
                berr_free(last);
                last = e;
        }
        if (ep == n_eps) {
                berr_move(err, &last);
                goto out;
        }
        berr_freep(&last);
        c.repo = eps[ep].path;
        {
                struct pull_event ev = {.type = PULL_EV_RESOLVED, .digest = res.man_digest,
                                        .n_layers = res.man->n_layers};
                emit(&c, &ev);
        }

        c.n_jobs = res.man->n_layers;
        c.jobs = calloc(c.n_jobs ? c.n_jobs : 1, sizeof(*c.jobs));
        if (!c.jobs) {
                berr_make(err, ENOMEM, "pull");
                goto out;
        }
        for (size_t i = 0; i < c.n_jobs; i++) {
                struct layer_job *j = &c.jobs[i];
                j->idx = i;
                j->desc = &res.man->layers[i];
                j->diff_id = res.cfg->diff_ids[i];
                layer_compression_from_media_type(j->desc->media_type, &j->comp, NULL);
                if (chain_id_next(i ? c.jobs[i - 1].chain_id : NULL, j->diff_id, j->chain_id) < 0) {
                        berr_make(err, ENOMEM, "chain id");
                        goto out;
                }
        }
        c.uo.overlay_whiteouts = true;
        c.uo.no_chown = s->rootless;
        c.uo.overlay_userxattr = s->rootless;

        if (image_store_lock(s, false, true, err) < 0)
                goto out;
        {
                struct pull_event ev = {.type = PULL_EV_CONFIG, .digest = res.man->config.digest};
                emit(&c, &ev);
        }
        r = image_complete(s, res.man->config.digest, err);
        if (r < 0)
                goto unlock;
        if (r > 0) {
                for (size_t i = 0; i < c.n_jobs; i++) {
                        struct pull_event ev = {.type = PULL_EV_LAYER_SKIP, .layer = i, .n_layers = c.n_jobs,
                                                .digest = c.jobs[i].desc->digest};
                        emit(&c, &ev);
                }
        } else if (run_jobs(&c, o->max_parallel ? MIN(o->max_parallel, (unsigned)PULL_MAX_PARALLEL)
                                                : PULL_DEFAULT_PARALLEL,
                            err) < 0) {
                goto unlock;
        }
        {
                struct pull_event ev = {.type = PULL_EV_WRITING, .digest = res.man_digest};
                emit(&c, &ev);
        }
        {
                _cleanup_free_ char *erepo = NULL;
                if (asprintf(&erepo, "%s/%s", eps[ep].domain, eps[ep].path) < 0 ||
                    record_image(s, ref, erepo, &res, c.jobs, err) < 0)
                        goto unlock;
        }
        *id_out = strdup(res.man->config.digest);
        ret = *id_out ? 0 : berr_make(err, ENOMEM, "pull");
unlock:
        image_store_unlock(s);
out:
        if (ret < 0 && display)
                berr_wrap(err, "pulling %s", display);
        berr_free(last);
        registry_endpoints_free(eps, n_eps);
        resolved_clear(&res);
        registry_free(c.reg);
        free(c.jobs);
        pthread_mutex_destroy(&c.mu);
        return ret;
}
