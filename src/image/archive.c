/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"
#include "basic/digest.h"
#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/log.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "compress.h"
#include "images.h"
#include "local.h"
#include "manifest.h"
#include "reference.h"
#include "snapshot.h"
#include "tar.h"
#include "util.h"

#define COPY_BUF        (1u << 20)
#define LOAD_MAX_FILES  100000
#define LOAD_MAX_IMAGES 1024

int archive_format_parse(const char *s, enum archive_format *out, struct berr **err)
{
        if (streq(s, "docker-archive"))
                *out = ARCHIVE_DOCKER;
        else if (streq(s, "oci-archive"))
                *out = ARCHIVE_OCI;
        else if (streq(s, "oci-dir"))
                *out = ARCHIVE_OCI_DIR;
        else
                return img_err(err, EINVAL, "unknown format `%s`: want docker-archive, oci-archive or oci-dir", s);
        return 0;
}

/* ---- writing ---- */

struct out {
        int fd;      /* tar output, or -1 for a directory */
        int dirfd;   /* oci-dir */
        struct compressor *z;
        char **written; /* names already in the archive (shared layers go in once) */
};

static int sink_fd(void *ud, const void *buf, size_t len, struct berr **err)
{
        struct out *o = ud;
        int r = write_all(o->fd, buf, len);
        return r < 0 ? berr_make(err, -r, "write archive") : 0;
}

static int out_raw(struct out *o, const void *buf, size_t len, struct berr **err)
{
        return o->z ? compressor_write(o->z, buf, len, err) : sink_fd(o, buf, len, err);
}

static int out_header(struct out *o, const char *name, enum tar_type type, uint32_t mode, uint64_t size,
                      struct berr **err)
{
        struct tar_entry e = {.name = (char *)name, .linkname = (char *)"", .type = type, .mode = mode, .size = size};
        _cleanup_free_ char *hdr = NULL;
        size_t len;

        if (tar_header_format(&e, &hdr, &len, err) < 0)
                return -1;
        return out_raw(o, hdr, len, err);
}

static int out_pad(struct out *o, uint64_t size, struct berr **err)
{
        static const char zeros[TAR_BLOCK_SIZE];
        size_t pad = tar_padding(size);
        return pad ? out_raw(o, zeros, pad, err) : 0;
}

static bool once(struct out *o, const char *name)
{
        if (strv_contains(o->written, name))
                return false;
        strv_extend(&o->written, name);
        return true;
}

/* A file from memory: a tar entry, or a file below the output directory. */
static int out_file(struct out *o, const char *name, const void *buf, size_t len, struct berr **err)
{
        if (!once(o, name))
                return 0;
        if (o->fd < 0) {
                _cleanup_close_ int parent = -1;
                _cleanup_free_ char *dir = strdup(name);
                char *slash = dir ? strrchr(dir, '/') : NULL;
                if (!dir)
                        return berr_make(err, ENOMEM, "save");
                if (slash) {
                        *slash = '\0';
                        parent = mkdir_p_in_root(o->dirfd, dir, 0755, err);
                        if (parent < 0)
                                return -1;
                }
                return write_file_at(o->dirfd, name, buf, len, O_CREAT | O_EXCL | O_NOFOLLOW, 0644, err);
        }
        if (out_header(o, name, TAR_REG, 0644, len, err) < 0 || out_raw(o, buf, len, err) < 0)
                return -1;
        return out_pad(o, len, err);
}

static int out_dir_entry(struct out *o, const char *name, struct berr **err)
{
        if (o->fd < 0 || !once(o, name))
                return 0;
        return out_header(o, name, TAR_DIR, 0755, 0, err);
}

/* A stored blob copied as is (OCI layouts). */
static int out_blob(struct image_store *s, struct out *o, const char *digest, struct berr **err)
{
        _cleanup_free_ char *name = NULL, *buf = malloc(COPY_BUF);
        _cleanup_close_ int fd = -1, dst = -1;
        uint64_t size, left;

        if (!buf || asprintf(&name, "blobs/sha256/%s", strchr(digest, ':') + 1) < 0)
                return berr_make(err, ENOMEM, "save");
        if (!once(o, name))
                return 0;
        if (store_blob_open(s, digest, &fd, err) < 0 || store_blob_size(s, digest, &size) < 0)
                return berr_wrap(err, "save");
        if (o->fd < 0) {
                _cleanup_close_ int parent = mkdir_p_in_root(o->dirfd, "blobs/sha256", 0755, err);
                if (parent < 0)
                        return -1;
                dst = openat(parent, strchr(digest, ':') + 1, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                             0644);
                if (dst < 0)
                        return berr_errno(err, "create %s", name);
        } else if (out_header(o, name, TAR_REG, 0644, size, err) < 0) {
                return -1;
        }
        for (left = size; left > 0;) {
                ssize_t n = read(fd, buf, (size_t)MIN((uint64_t)COPY_BUF, left));
                int r;
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return img_err(err, EIO, "blob %s shrank while saving it", digest);
                r = dst >= 0 ? write_all(dst, buf, (size_t)n) : out_raw(o, buf, (size_t)n, err);
                if (r < 0)
                        return dst >= 0 ? berr_make(err, -r, "write %s", name) : -1;
                left -= (uint64_t)n;
        }
        return dst >= 0 ? 0 : out_pad(o, size, err);
}

struct layer_copy {
        struct out *o;
        struct digester *d;
        uint64_t n, want;
};

static int layer_sink(void *ud, const void *buf, size_t len, struct berr **err)
{
        struct layer_copy *c = ud;

        if (c->n + len > c->want)
                return img_err(err, EBADMSG, "layer is larger than recorded (%" PRIu64 " bytes)", c->want);
        c->n += len;
        digester_update(c->d, buf, len);
        return out_raw(c->o, buf, len, err);
}

/* docker-archive: the layer uncompressed, checked against its diff_id while it is written. */
static int out_layer_tar(struct image_store *s, struct out *o, const struct image_layer *l, const char *name,
                         struct berr **err)
{
        _cleanup_free_ char *buf = malloc(COPY_BUF);
        _cleanup_digester_ struct digester *d = NULL;
        _cleanup_close_ int fd = -1;
        struct decompressor *dec = NULL;
        struct layer_copy c = {.o = o, .want = l->unpacked_size};
        enum layer_compression comp;
        struct snapshot_meta meta;
        char got[136];
        int ret = -1;

        if (!buf)
                return berr_make(err, ENOMEM, "save");
        if (!c.want && store_snapshot_meta(s, l->chain_id, &meta, NULL) == 0)
                c.want = meta.size;
        if (layer_compression_from_media_type(l->media_type, &comp, err) < 0 ||
            digester_new(DIGEST_SHA256, &d, err) < 0 || store_blob_open(s, l->digest, &fd, err) < 0 ||
            decompressor_new(comp, layer_sink, &c, &dec, err) < 0)
                return berr_wrap(err, "layer %s", l->digest);
        c.d = d;
        if (out_header(o, name, TAR_REG, 0644, c.want, err) < 0)
                goto out;
        for (;;) {
                ssize_t n = read(fd, buf, COPY_BUF);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        berr_errno(err, "read blob %s", l->digest);
                        goto out;
                }
                if (n == 0)
                        break;
                if (decompressor_write(dec, buf, (size_t)n, err) < 0)
                        goto out;
        }
        if (decompressor_finish(dec, err) < 0)
                goto out;
        digester_final(d, got, sizeof(got));
        if (c.n != c.want || !streq(got, l->diff_id)) {
                img_err(err, EBADMSG, "layer %s: uncompressed content (%s, %" PRIu64 " bytes) does not match %s",
                          l->digest, got, c.n, l->diff_id);
                goto out;
        }
        ret = out_pad(o, c.want, err);
out:
        decompressor_free(dec);
        return ret;
}

struct saved {
        char *id;
        char *name; /* NULL: saved by id */
};

static int save_docker(struct image_store *s, struct out *o, struct saved *v, size_t n, struct berr **err)
{
        _cleanup_json_ json_object *manifest = json_object_new_array(), *repos = json_object_new_object();
        const char *text;

        for (size_t i = 0; i < n; i++) {
                _cleanup_image_record_ struct image_record *rec = NULL;
                _cleanup_free_ char *cfg = NULL, *cfgname = NULL;
                json_object *entry, *layers, *tags;
                size_t len;
                if (images_get(s, v[i].id, &rec, err) <= 0 ||
                    store_blob_read(s, rec->id, CONFIG_MAX_SIZE, &cfg, &len, err) < 0)
                        return berr_wrap(err, "image %s", v[i].id);
                layers = json_object_new_array();
                for (size_t k = 0; k < rec->n_layers; k++) {
                        const char *hex = strchr(rec->layers[k].diff_id, ':') + 1;
                        _cleanup_free_ char *dir = NULL, *file = NULL, *ver = NULL;
                        if (asprintf(&dir, "%s/", hex) < 0 || asprintf(&file, "%s/layer.tar", hex) < 0 ||
                            asprintf(&ver, "%s/VERSION", hex) < 0)
                                return berr_make(err, ENOMEM, "save");
                        json_object_array_add(layers, json_object_new_string(file));
                        if (!once(o, file))
                                continue;
                        if (out_dir_entry(o, dir, err) < 0 || out_file(o, ver, "1.0", 3, err) < 0 ||
                            out_layer_tar(s, o, &rec->layers[k], file, err) < 0)
                                return -1;
                }
                if (asprintf(&cfgname, "%s.json", rec->id + 7) < 0 || out_file(o, cfgname, cfg, len, err) < 0)
                        return -1;
                entry = json_object_new_object();
                tags = json_object_new_array();
                if (v[i].name) {
                        _cleanup_image_ref_ struct image_ref *ref = NULL;
                        json_object *r;
                        json_object_array_add(tags, json_object_new_string(v[i].name));
                        if (image_ref_parse(v[i].name, &ref, NULL) == 0 && ref->tag && rec->n_layers) {
                                _cleanup_free_ char *repo = image_ref_repo(ref);
                                if (repo) {
                                        if (!json_object_object_get_ex(repos, repo, &r)) {
                                                r = json_object_new_object();
                                                json_object_object_add(repos, repo, r);
                                        }
                                        json_object_object_add(
                                                r, ref->tag,
                                                json_object_new_string(strchr(rec->layers[rec->n_layers - 1].diff_id,
                                                                              ':') + 1));
                                }
                        }
                }
                json_object_object_add(entry, "Config", json_object_new_string(cfgname));
                json_object_object_add(entry, "RepoTags", tags);
                json_object_object_add(entry, "Layers", layers);
                json_object_array_add(manifest, entry);
        }
        text = json_to_string(manifest, false);
        if (out_file(o, "manifest.json", text, strlen(text), err) < 0)
                return -1;
        text = json_to_string(repos, false);
        return out_file(o, "repositories", text, strlen(text), err);
}

static int save_oci(struct image_store *s, struct out *o, struct saved *v, size_t n, struct berr **err)
{
        _cleanup_json_ json_object *index = json_object_new_object();
        json_object *mans = json_object_new_array();
        static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
        const char *text;

        json_object_object_add(index, "schemaVersion", json_object_new_int(2));
        json_object_object_add(index, "mediaType", json_object_new_string(MT_OCI_INDEX));
        json_object_object_add(index, "manifests", mans);
        if (out_file(o, "oci-layout", layout, strlen(layout), err) < 0 || out_dir_entry(o, "blobs/", err) < 0 ||
            out_dir_entry(o, "blobs/sha256/", err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++) {
                _cleanup_image_record_ struct image_record *rec = NULL;
                json_object *d;
                uint64_t size = 0;
                if (images_get(s, v[i].id, &rec, err) <= 0)
                        return berr_wrap(err, "image %s", v[i].id);
                for (size_t k = 0; k < rec->n_layers; k++)
                        if (out_blob(s, o, rec->layers[k].digest, err) < 0)
                                return -1;
                if (out_blob(s, o, rec->id, err) < 0 || out_blob(s, o, rec->manifest_digest, err) < 0)
                        return -1;
                store_blob_size(s, rec->manifest_digest, &size);
                d = json_object_new_object();
                json_object_object_add(d, "mediaType", json_object_new_string(rec->manifest_media_type));
                json_object_object_add(d, "digest", json_object_new_string(rec->manifest_digest));
                json_object_object_add(d, "size", json_object_new_int64((int64_t)size));
                if (v[i].name) {
                        _cleanup_image_ref_ struct image_ref *ref = NULL;
                        json_object *ann = json_object_new_object();
                        json_object_object_add(ann, "io.containerd.image.name", json_object_new_string(v[i].name));
                        if (image_ref_parse(v[i].name, &ref, NULL) == 0 && ref->tag)
                                json_object_object_add(ann, "org.opencontainers.image.ref.name",
                                                       json_object_new_string(ref->tag));
                        json_object_object_add(d, "annotations", ann);
                }
                json_object_array_add(mans, d);
        }
        text = json_to_string(index, false);
        return out_file(o, "index.json", text, strlen(text), err);
}

int image_save(struct image_store *s, char *const *images, const struct save_opts *opts, int out_fd,
               const char *out_dir, struct berr **err)
{
        struct out o = {.fd = out_fd, .dirfd = -1};
        struct saved *v = NULL;
        size_t n = 0;
        int ret = -1;

        STRV_FOREACH (arg, images) {
                _cleanup_image_record_ struct image_record *rec = NULL;
                _cleanup_free_ char *id = NULL, *name = NULL;
                struct saved *nv;
                int r = images_resolve(s, *arg, &id, err);
                if (r <= 0) {
                        if (r == 0)
                                img_err(err, ENOENT, "%s: image not known", *arg);
                        goto out;
                }
                if (images_get(s, id, &rec, err) <= 0)
                        goto out;
                /* Saved by one of its names: the archive carries that name (docker save). */
                {
                        const char *nm = image_record_name_for(rec, *arg);
                        if (nm && !(name = strdup(nm))) {
                                berr_make(err, ENOMEM, "save");
                                goto out;
                        }
                }
                nv = realloc(v, (n + 1) * sizeof(*v));
                if (!nv) {
                        berr_make(err, ENOMEM, "save");
                        goto out;
                }
                v = nv;
                v[n].id = TAKE_PTR(id);
                v[n].name = TAKE_PTR(name);
                n++;
        }
        if (opts->format == ARCHIVE_OCI_DIR) {
                if (mkdir(out_dir, 0755) < 0 && errno != EEXIST) {
                        berr_errno(err, "mkdir `%s`", out_dir);
                        goto out;
                }
                o.fd = -1;
                o.dirfd = open(out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (o.dirfd < 0) {
                        berr_errno(err, "open `%s`", out_dir);
                        goto out;
                }
        } else if (opts->gzip && compressor_new(LAYER_GZIP, 0, sink_fd, &o, &o.z, err) < 0) {
                goto out;
        }
        if ((opts->format == ARCHIVE_DOCKER ? save_docker(s, &o, v, n, err) : save_oci(s, &o, v, n, err)) < 0)
                goto out;
        if (o.fd >= 0) {
                static const char end[2 * TAR_BLOCK_SIZE];
                if (out_raw(&o, end, sizeof(end), err) < 0 || (o.z && compressor_finish(o.z, err) < 0))
                        goto out;
        }
        ret = 0;
out:
        for (size_t i = 0; i < n; i++) {
                free(v[i].id);
                free(v[i].name);
        }
        free(v);
        compressor_free(o.z);
        safe_close(o.dirfd);
        strv_free(o.written);
        if (ret < 0)
                berr_wrap(err, "save");
        return ret;
}

/* ---- reading ---- */

struct xfile {
        char *path;
        char digest[136];
        uint64_t size;
};

struct xlink {
        char *path;
        char *target; /* resolved, relative to the archive root */
};

struct extract {
        int dirfd;
        struct xfile *files;
        size_t n_files;
        struct xlink *links;
        size_t n_links;
        uint64_t entries;
        int fd;
        struct digester *d;
        char *cur;
        uint64_t size;
};

static void extract_clear(struct extract *x)
{
        for (size_t i = 0; i < x->n_files; i++)
                free(x->files[i].path);
        free(x->files);
        for (size_t i = 0; i < x->n_links; i++) {
                free(x->links[i].path);
                free(x->links[i].target);
        }
        free(x->links);
        safe_close(x->fd);
        digester_free(x->d);
        free(x->cur);
}

/* NULL for names that would leave the archive root. */
static char *clean_name(const char *name)
{
        char *c;

        while (*name == '/')
                name++;
        c = path_clean(name);
        if (c && (path_has_dotdot(c) || streq(c, ".") || !*c)) {
                free(c);
                return NULL;
        }
        return c;
}

static int x_entry(void *ud, const struct tar_entry *e, struct berr **err)
{
        struct extract *x = ud;
        _cleanup_free_ char *name = clean_name(e->name);
        _cleanup_close_ int parent = -1;
        char *slash;

        if (++x->entries > LOAD_MAX_FILES)
                return img_err(err, E2BIG, "archive has more than %d entries", LOAD_MAX_FILES);
        if (!name)
                return 0;
        if (e->type == TAR_DIR) {
                int fd = mkdir_p_in_root(x->dirfd, name, 0700, err);
                if (fd < 0)
                        return -1;
                close(fd);
                return 0;
        }
        if (e->type == TAR_SYMLINK) {
                /* Old docker save links shared layers: "a/layer.tar -> ../b/layer.tar". */
                _cleanup_free_ char *joined = NULL;
                struct xlink *nl = realloc(x->links, (x->n_links + 1) * sizeof(*nl));
                char *dir = strdup(name), *ds;
                if (!nl || !dir) {
                        free(dir);
                        return berr_make(err, ENOMEM, "load");
                }
                x->links = nl;
                ds = strrchr(dir, '/');
                if (ds)
                        *ds = '\0';
                if (asprintf(&joined, "%s/%s", ds ? dir : ".", e->linkname) < 0)
                        joined = NULL;
                free(dir);
                nl[x->n_links].path = TAKE_PTR(name);
                nl[x->n_links].target = joined ? clean_name(joined) : NULL;
                x->n_links++;
                return 0;
        }
        if (e->type != TAR_REG)
                return 0;
        slash = strrchr(name, '/');
        if (slash) {
                *slash = '\0';
                parent = mkdir_p_in_root(x->dirfd, name, 0700, err);
                *slash = '/';
                if (parent < 0)
                        return -1;
        }
        x->fd = openat(parent >= 0 ? parent : x->dirfd, slash ? slash + 1 : name,
                       O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (x->fd < 0)
                return berr_errno(err, "archive entry `%s`", name);
        if (digester_new(DIGEST_SHA256, &x->d, err) < 0)
                return -1;
        x->cur = TAKE_PTR(name);
        x->size = 0;
        return 0;
}

static int x_data(void *ud, const struct tar_entry *e, uint64_t off, const void *buf, size_t len, struct berr **err)
{
        struct extract *x = ud;
        int r;

        (void)e;
        (void)off;
        if (x->fd < 0)
                return 0;
        digester_update(x->d, buf, len);
        r = write_all(x->fd, buf, len);
        if (r < 0)
                return berr_make(err, -r, "write `%s`", x->cur);
        x->size += len;
        return 0;
}

static int x_end(void *ud, const struct tar_entry *e, struct berr **err)
{
        struct extract *x = ud;
        struct xfile *nf;

        (void)e;
        if (x->fd < 0)
                return 0;
        if (fsync(x->fd) < 0)
                return berr_errno(err, "fsync `%s`", x->cur);
        x->fd = safe_close(x->fd);
        for (size_t i = 0; i < x->n_files; i++)
                if (streq(x->files[i].path, x->cur)) {
                        /* A later entry of the same name replaces the earlier one, as tar does. */
                        free(x->files[i].path);
                        x->files[i] = x->files[--x->n_files];
                        break;
                }
        nf = realloc(x->files, (x->n_files + 1) * sizeof(*nf));
        if (!nf)
                return berr_make(err, ENOMEM, "load");
        x->files = nf;
        nf[x->n_files].path = TAKE_PTR(x->cur);
        nf[x->n_files].size = x->size;
        digester_final(x->d, nf[x->n_files].digest, sizeof(nf[x->n_files].digest));
        digester_free(x->d);
        x->d = NULL;
        x->n_files++;
        return 0;
}

static int tar_sink(void *ud, const void *buf, size_t len, struct berr **err)
{
        return tar_reader_feed(ud, buf, len, err);
}

static int extract_archive(int in_fd, struct extract *x, struct berr **err)
{
        static const struct tar_reader_ops ops = {.entry = x_entry, .data = x_data, .entry_end = x_end};
        _cleanup_free_ char *buf = malloc(COPY_BUF);
        struct tar_reader *tr = NULL;
        struct decompressor *dec = NULL;
        bool first = true;
        int ret = -1;

        if (!buf)
                return berr_make(err, ENOMEM, "load");
        if (tar_reader_new(&ops, x, &tr, err) < 0)
                return -1;
        for (;;) {
                ssize_t n = read_full(in_fd, buf, COPY_BUF);
                if (n < 0) {
                        berr_make(err, (int)-n, "read archive");
                        goto out;
                }
                if (first) {
                        enum layer_compression c = layer_compression_sniff(buf, (size_t)n);
                        if (decompressor_new(c, tar_sink, tr, &dec, err) < 0)
                                goto out;
                        first = false;
                }
                if (n == 0)
                        break;
                if (decompressor_write(dec, buf, (size_t)n, err) < 0)
                        goto out;
        }
        if (decompressor_finish(dec, err) < 0 || tar_reader_finish(tr, err) < 0)
                goto out;
        ret = 0;
out:
        decompressor_free(dec);
        tar_reader_free(tr);
        return ret;
}

static const struct xfile *find_file(const struct extract *x, const char *path)
{
        _cleanup_free_ char *p = clean_name(path);

        for (int hops = 0; p && hops < 8; hops++) {
                bool moved = false;
                for (size_t i = 0; i < x->n_files; i++)
                        if (streq(x->files[i].path, p))
                                return &x->files[i];
                for (size_t i = 0; i < x->n_links; i++)
                        if (streq(x->links[i].path, p) && x->links[i].target) {
                                free(p);
                                p = strdup(x->links[i].target);
                                moved = true;
                                break;
                        }
                if (!moved)
                        break;
        }
        return NULL;
}

/* For oci-dir input: hash a file of the layout on demand. */
static int hash_file(int dirfd, const char *path, struct xfile *out, struct berr **err)
{
        _cleanup_free_ char *buf = malloc(COPY_BUF);
        _cleanup_digester_ struct digester *d = NULL;
        _cleanup_close_ int fd = openat_in_root(dirfd, path, O_RDONLY, 0);

        if (fd < 0)
                return berr_make(err, -fd, "open `%s` in the layout", path);
        if (!buf || digester_new(DIGEST_SHA256, &d, err) < 0)
                return berr_make(err, ENOMEM, "load");
        out->size = 0;
        for (;;) {
                ssize_t n = read(fd, buf, COPY_BUF);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berr_errno(err, "read `%s`", path);
                if (n == 0)
                        break;
                digester_update(d, buf, (size_t)n);
                out->size += (uint64_t)n;
        }
        digester_final(d, out->digest, sizeof(out->digest));
        return 0;
}

struct loader {
        struct image_store *s;
        int dirfd;
        bool from_dir; /* oci-dir: files are copied, not moved */
        struct extract x;
        char **loaded;
};

/* Puts an archive file into the store as a blob with the given digest (verified). */
static int adopt(struct loader *l, const char *path, const char *want, struct berr **err)
{
        struct xfile tmp = {0};
        const struct xfile *f = NULL;

        if (store_blob_exists(l->s, want))
                return 0;
        if (l->from_dir) {
                if (hash_file(l->dirfd, path, &tmp, err) < 0)
                        return -1;
                f = &tmp;
        } else if (!(f = find_file(&l->x, path))) {
                return img_err(err, ENOENT, "the archive has no `%s`", path);
        }
        if (!streq(f->digest, want))
                return img_err(err, EBADMSG, "`%s` in the archive hashes to %s, not %s", path, f->digest, want);
        if (l->from_dir) {
                _cleanup_close_ int fd = openat_in_root(l->dirfd, path, O_RDONLY, 0);
                _cleanup_free_ char *buf = malloc(COPY_BUF);
                struct blob_writer *w = NULL;
                int r;
                if (fd < 0 || !buf)
                        return berr_make(err, fd < 0 ? -fd : ENOMEM, "open `%s`", path);
                r = blob_writer_open(l->s, want, (int64_t)f->size, false, &w, err);
                if (r != 0)
                        return r < 0 ? r : 0;
                for (;;) {
                        ssize_t n = read(fd, buf, COPY_BUF);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0) {
                                r = berr_errno(err, "read `%s`", path);
                                break;
                        }
                        if (n == 0) {
                                r = blob_writer_commit(w, NULL, err);
                                break;
                        }
                        if ((r = blob_writer_write(w, buf, (size_t)n, err)) < 0)
                                break;
                }
                blob_writer_free(w, false);
                return r;
        }
        return store_blob_adopt(l->s, l->dirfd, f->path, want, err);
}

static int read_small(struct loader *l, const char *path, char **buf, size_t *len, struct berr **err)
{
        const struct xfile *f = l->from_dir ? NULL : find_file(&l->x, path);
        _cleanup_close_ int fd = -1;

        if (!l->from_dir && !f)
                return img_err(err, ENOENT, "the archive has no `%s`", path);
        fd = openat_in_root(l->dirfd, f ? f->path : path, O_RDONLY, 0);
        if (fd < 0)
                return berr_make(err, -fd, "open `%s`", path);
        return read_all_fd(fd, MANIFEST_MAX_SIZE, buf, len, err) < 0 ? berr_wrap(err, "`%s`", path) : 0;
}

static void add_loaded(struct loader *l, char *const *names, const char *id)
{
        if (names && names[0]) {
                STRV_FOREACH (n, names)
                        strv_extend(&l->loaded, *n);
        } else {
                strv_extend(&l->loaded, id);
        }
}

static int load_docker(struct loader *l, struct berr **err)
{
        _cleanup_free_ char *buf = NULL;
        _cleanup_json_ json_object *doc = NULL;
        size_t len, n;

        if (read_small(l, "manifest.json", &buf, &len, err) < 0 || json_parse_buf(buf, len, "manifest.json", &doc, err) < 0)
                return -1;
        if (!json_object_is_type(doc, json_type_array))
                return img_err(err, EINVAL, "manifest.json: expected an array");
        n = json_object_array_length(doc);
        if (n > LOAD_MAX_IMAGES)
                return img_err(err, E2BIG, "manifest.json lists more than %d images", LOAD_MAX_IMAGES);
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(doc, i);
                _cleanup_free_ char *path = json_path_idx("manifest.json", i), *cfgpath = NULL, *cfgbuf = NULL;
                _cleanup_strv_free_ char **layers = NULL, **tags = NULL, **names = NULL;
                _cleanup_image_config_ struct image_config *cfg = NULL;
                _cleanup_free_ struct local_layer *ll = NULL;
                _cleanup_free_ char *id = NULL;
                char chain[136] = "";
                size_t clen, nl;

                if (!json_object_is_type(e, json_type_object))
                        return img_err(err, EINVAL, "%s: expected an object", path);
                if (json_get_str(e, path, "Config", true, &cfgpath, err) < 0 ||
                    json_get_strv(e, path, "Layers", &layers, err) < 0 ||
                    json_get_strv(e, path, "RepoTags", &tags, err) < 0)
                        return -1;
                if (read_small(l, cfgpath, &cfgbuf, &clen, err) < 0 || image_config_parse(cfgbuf, clen, &cfg, err) < 0)
                        return berr_wrap(err, "%s", cfgpath);
                nl = strv_length(layers);
                if (nl != cfg->n_diff_ids)
                        return img_err(err, EBADMSG, "%s lists %zu layers, its config %zu", path, nl, cfg->n_diff_ids);
                ll = calloc(nl ? nl : 1, sizeof(*ll));
                if (!ll)
                        return berr_make(err, ENOMEM, "load");
                for (size_t k = 0; k < nl; k++) {
                        const struct xfile *f = find_file(&l->x, layers[k]);
                        _cleanup_close_ int fd = -1;
                        unsigned char head[16];
                        ssize_t hn;
                        enum layer_compression c;
                        if (!f)
                                return img_err(err, ENOENT, "the archive has no `%s`", layers[k]);
                        fd = openat_in_root(l->dirfd, f->path, O_RDONLY, 0);
                        hn = fd >= 0 ? pread(fd, head, sizeof(head), 0) : -1;
                        c = layer_compression_sniff(head, hn > 0 ? (size_t)hn : 0);
                        if (c == LAYER_UNCOMPRESSED && !streq(f->digest, cfg->diff_ids[k]))
                                return img_err(err, EBADMSG, "`%s` hashes to %s, but the config says %s",
                                                 layers[k], f->digest, cfg->diff_ids[k]);
                        snprintf(ll[k].digest, sizeof(ll[k].digest), "%s", f->digest);
                        snprintf(ll[k].diff_id, sizeof(ll[k].diff_id), "%s", cfg->diff_ids[k]);
                        ll[k].media_type = c == LAYER_UNCOMPRESSED ? MT_OCI_LAYER : layer_media_type(c);
                        ll[k].size = (int64_t)f->size;
                        if (chain_id_next(k ? chain : NULL, cfg->diff_ids[k], chain) < 0)
                                return berr_make(err, ENOMEM, "load");
                        if (adopt(l, layers[k], f->digest, err) < 0 ||
                            snapshot_from_blob(l->s, ll[k].digest, c, ll[k].diff_id, chain, &ll[k].unpacked_size,
                                               err) < 0)
                                return -1;
                }
                STRV_FOREACH (t, tags) {
                        char *nm = NULL;
                        if (image_name_normalize(*t, false, &nm, err) < 0 || strv_push(&names, nm) < 0)
                                return berr_wrap(err, "%s.RepoTags", path);
                }
                if (image_record_local(l->s, cfgbuf, clen, ll, nl, names, &id, err) < 0)
                        return -1;
                add_loaded(l, names, id);
        }
        return 0;
}

static char *blob_path(const char *digest)
{
        char *p;
        const char *c = strchr(digest, ':');
        return asprintf(&p, "blobs/%.*s/%s", (int)(c - digest), digest, c + 1) < 0 ? NULL : p;
}

/* One image manifest of an OCI layout: its blobs into the store, layers unpacked, image recorded. */
static int load_oci_manifest(struct loader *l, const struct descriptor *d, char *const *names, struct berr **err)
{
        _cleanup_free_ char *mpath = blob_path(d->digest), *mbuf = NULL, *cpath = NULL, *cbuf = NULL;
        _cleanup_manifest_ struct manifest *m = NULL;
        _cleanup_image_config_ struct image_config *cfg = NULL;
        _cleanup_free_ struct image_layer *rl = NULL;
        _cleanup_free_ char (*chains)[136] = NULL;
        _cleanup_strv_free_ char **blobs = NULL;
        struct image_record rec = {0};
        size_t mlen, clen;

        if (!mpath || read_small(l, mpath, &mbuf, &mlen, err) < 0 || adopt(l, mpath, d->digest, err) < 0 ||
            manifest_parse(mbuf, mlen, d->media_type, &m, err) < 0)
                return berr_wrap(err, "manifest %s", d->digest);
        if (m->kind != MANIFEST_IMAGE)
                return img_err(err, ENOTSUP, "manifest %s: nested indexes are not supported", d->digest);
        cpath = blob_path(m->config.digest);
        if (!cpath || read_small(l, cpath, &cbuf, &clen, err) < 0 || adopt(l, cpath, m->config.digest, err) < 0 ||
            image_config_parse(cbuf, clen, &cfg, err) < 0)
                return berr_wrap(err, "config %s", m->config.digest);
        if (cfg->n_diff_ids != m->n_layers)
                return img_err(err, EBADMSG, "manifest %s has %zu layers, its config %zu", d->digest, m->n_layers,
                                 cfg->n_diff_ids);
        rl = calloc(m->n_layers + 1, sizeof(*rl));
        chains = calloc(m->n_layers + 1, 136);
        if (!rl || !chains || strv_extend(&blobs, d->digest) < 0 || strv_extend(&blobs, m->config.digest) < 0)
                return berr_make(err, ENOMEM, "load");
        for (size_t i = 0; i < m->n_layers; i++) {
                _cleanup_free_ char *lp = blob_path(m->layers[i].digest);
                enum layer_compression c;
                if (!lp || layer_compression_from_media_type(m->layers[i].media_type, &c, err) < 0 ||
                    adopt(l, lp, m->layers[i].digest, err) < 0 ||
                    chain_id_next(i ? chains[i - 1] : NULL, cfg->diff_ids[i], chains[i]) < 0 ||
                    snapshot_from_blob(l->s, m->layers[i].digest, c, cfg->diff_ids[i], chains[i], &rl[i].unpacked_size,
                                       err) < 0)
                        return berr_wrap(err, "layer %zu", i);
                rl[i].digest = m->layers[i].digest;
                rl[i].media_type = m->layers[i].media_type;
                rl[i].size = m->layers[i].size;
                rl[i].diff_id = cfg->diff_ids[i];
                rl[i].chain_id = chains[i];
                rec.size += rl[i].unpacked_size;
                if (strv_extend(&blobs, m->layers[i].digest) < 0)
                        return berr_make(err, ENOMEM, "load");
        }
        rec.id = m->config.digest;
        rec.manifest_digest = d->digest;
        rec.manifest_media_type = m->media_type;
        rec.config_media_type = m->config.media_type;
        rec.os = cfg->os;
        rec.architecture = cfg->architecture;
        rec.variant = cfg->variant;
        rec.created_ns = cfg->created_ns;
        rec.layers = rl;
        rec.n_layers = m->n_layers;
        rec.top_chain_id = m->n_layers ? chains[m->n_layers - 1] : NULL;
        rec.names = (char **)names;
        if (images_put(l->s, &rec, blobs, err) < 0)
                return -1;
        add_loaded(l, names, m->config.digest);
        return 0;
}

static int load_oci(struct loader *l, struct berr **err)
{
        _cleanup_free_ char *buf = NULL;
        _cleanup_json_ json_object *doc = NULL;
        _cleanup_manifest_ struct manifest *idx = NULL;
        _cleanup_platform_ struct platform *host = NULL;
        json_object *arr;
        size_t len;

        if (read_small(l, "index.json", &buf, &len, err) < 0 ||
            manifest_parse(buf, len, MT_OCI_INDEX, &idx, err) < 0 ||
            json_parse_buf(buf, len, "index.json", &doc, err) < 0 || platform_host(&host, err) < 0)
                return berr_wrap(err, "index.json");
        json_object_object_get_ex(doc, "manifests", &arr);
        for (size_t i = 0; i < idx->n_manifests; i++) {
                json_object *ann = NULL, *v;
                _cleanup_strv_free_ char **names = NULL;
                const struct descriptor *d = &idx->manifests[i];
                const char *full = NULL, *ref = NULL;
                json_object_object_get_ex(json_object_array_get_idx(arr, i), "annotations", &ann);
                if (ann && json_object_object_get_ex(ann, "io.containerd.image.name", &v) &&
                    json_object_is_type(v, json_type_string))
                        full = json_object_get_string(v);
                if (ann && json_object_object_get_ex(ann, "org.opencontainers.image.ref.name", &v) &&
                    json_object_is_type(v, json_type_string))
                        ref = json_object_get_string(v);
                /* A bare tag in ref.name names no repository: such an image loads without a name. */
                if (full || (ref && strpbrk(ref, "/:"))) {
                        char *nm = NULL;
                        if (image_name_normalize(full ? full : ref, false, &nm, err) < 0 || strv_push(&names, nm) < 0)
                                return berr_wrap(err, "index.json: manifests[%zu]", i);
                }
                if (streq(d->media_type, MT_OCI_INDEX) || streq(d->media_type, MT_DOCKER_LIST)) {
                        _cleanup_free_ char *ipath = blob_path(d->digest), *ibuf = NULL;
                        _cleanup_manifest_ struct manifest *sub = NULL;
                        size_t ilen, k;
                        if (!ipath || read_small(l, ipath, &ibuf, &ilen, err) < 0 ||
                            adopt(l, ipath, d->digest, err) < 0 ||
                            manifest_parse(ibuf, ilen, d->media_type, &sub, err) < 0 ||
                            manifest_select_platform(sub, host, &k, err) < 0 ||
                            load_oci_manifest(l, &sub->manifests[k], names, err) < 0)
                                return berr_wrap(err, "index %s", d->digest);
                        continue;
                }
                if (load_oci_manifest(l, d, names, err) < 0)
                        return -1;
        }
        return 0;
}

int image_load(struct image_store *s, int in_fd, const char *in_dir, char ***loaded, struct berr **err)
{
        struct loader l = {.s = s, .dirfd = -1, .x = {.fd = -1}};
        char tmpname[64] = "";
        int ret = -1;

        if (image_store_lock(s, false, true, err) < 0)
                return -1;
        if (in_dir) {
                l.from_dir = true;
                l.dirfd = open(in_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (l.dirfd < 0) {
                        berr_errno(err, "open `%s`", in_dir);
                        goto out;
                }
                ret = load_oci(&l, err);
                goto out;
        }
        if (store_tmpdir(s, "load-", tmpname, &l.dirfd, err) < 0)
                goto out;
        l.x.dirfd = l.dirfd;
        if (extract_archive(in_fd, &l.x, err) < 0)
                goto out;
        if (find_file(&l.x, "manifest.json"))
                ret = load_docker(&l, err);
        else if (find_file(&l.x, "index.json"))
                ret = load_oci(&l, err);
        else
                ret = img_err(err, EINVAL, "not a docker-archive or OCI archive (no manifest.json or index.json)");
out:
        if (ret == 0) {
                *loaded = l.loaded ? TAKE_PTR(l.loaded) : calloc(1, sizeof(char *));
                if (!*loaded)
                        ret = berr_make(err, ENOMEM, "load");
        }
        strv_free(l.loaded);
        extract_clear(&l.x);
        safe_close(l.dirfd);
        if (tmpname[0])
                store_trash(s, s->tmp_fd, tmpname, NULL);
        image_store_unlock(s);
        if (ret < 0)
                berr_wrap(err, "load");
        return ret;
}
