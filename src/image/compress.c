/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "compress.h"

static const struct {
        const char *type;
        enum layer_compression c;
} media_types[] = {
        {"application/vnd.oci.image.layer.v1.tar", LAYER_UNCOMPRESSED},
        {"application/vnd.oci.image.layer.v1.tar+gzip", LAYER_GZIP},
        {"application/vnd.oci.image.layer.v1.tar+zstd", LAYER_ZSTD},
        {"application/vnd.docker.image.rootfs.diff.tar", LAYER_UNCOMPRESSED},
        {"application/vnd.docker.image.rootfs.diff.tar.gzip", LAYER_GZIP},
        {"application/vnd.docker.image.rootfs.diff.tar.zstd", LAYER_ZSTD},
};

int layer_compression_from_media_type(const char *media_type, enum layer_compression *out, struct berr **err)
{
        if (!media_type)
                return berr_make(err, EINVAL, "layer has no media type");
        for (size_t i = 0; i < ARRAY_SIZE(media_types); i++)
                if (streq(media_type, media_types[i].type)) {
                        *out = media_types[i].c;
                        return 0;
                }
        if (strstr(media_type, "nondistributable") || strstr(media_type, "foreign"))
                return berr_make(err, EOPNOTSUPP, "non-distributable layer media type `%s` is not supported",
                                 media_type);
        return berr_make(err, EOPNOTSUPP, "unknown layer media type `%s`", media_type);
}

enum layer_compression layer_compression_sniff(const void *buf, size_t len)
{
        const unsigned char *p = buf;

        if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
                return LAYER_GZIP;
        if (len >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
                return LAYER_ZSTD;
        return LAYER_UNCOMPRESSED;
}

const char *layer_media_type(enum layer_compression c)
{
        return media_types[c].type;
}

const char *layer_compression_name(enum layer_compression c)
{
        static const char *const names[] = {"uncompressed", "gzip", "zstd"};
        return names[c];
}

struct decompressor {
        enum layer_compression c;
        decompress_sink_t sink;
        void *userdata;
        unsigned char *out;
        uint64_t in_total;
        /* gzip */
        z_stream z;
        bool z_ready;
        bool member_open;  /* inside a gzip member */
        bool member_done;  /* at least one member ended */
        bool zero_tail;    /* only zero padding may follow */
        /* zstd */
        ZSTD_DStream *zs;
        size_t zs_hint; /* last ZSTD_decompressStream return: 0 at a frame end */
};

int decompressor_new(enum layer_compression c, decompress_sink_t sink, void *userdata, struct decompressor **out,
                     struct berr **err)
{
        struct decompressor *d = calloc(1, sizeof(*d));

        if (!d)
                return berr_make(err, ENOMEM, "decompressor");
        d->c = c;
        d->sink = sink;
        d->userdata = userdata;
        if (c != LAYER_UNCOMPRESSED && !(d->out = malloc(DECOMPRESS_CHUNK))) {
                free(d);
                return berr_make(err, ENOMEM, "decompressor");
        }
        if (c == LAYER_GZIP) {
                /* 16 + 15: gzip wrapper only, 32 KiB window. */
                if (inflateInit2(&d->z, 16 + MAX_WBITS) != Z_OK) {
                        decompressor_free(d);
                        return berr_make(err, ENOMEM, "gzip: cannot initialize zlib");
                }
                d->z_ready = true;
        } else if (c == LAYER_ZSTD) {
                d->zs = ZSTD_createDStream();
                if (!d->zs) {
                        decompressor_free(d);
                        return berr_make(err, ENOMEM, "zstd: cannot create a decompression stream");
                }
                d->zs_hint = 1;
        }
        *out = d;
        return 0;
}

static int gzip_write(struct decompressor *d, const unsigned char *buf, size_t len, struct berr **err)
{
        z_stream *z = &d->z;

        z->next_in = (Bytef *)buf;
        while (len > 0) {
                size_t chunk = MIN(len, (size_t)UINT32_MAX);
                z->avail_in = (uInt)chunk;
                for (;;) {
                        size_t produced;
                        int r;

                        if (!d->member_open && z->avail_in > 0) {
                                if (d->zero_tail || (d->member_done && *z->next_in == 0)) {
                                        /* Some writers pad the stream; tolerate zeros, nothing else. */
                                        for (uInt i = 0; i < z->avail_in; i++)
                                                if (z->next_in[i] != 0)
                                                        return berr_make(err, EINVAL,
                                                                         "gzip: unexpected data after the end of "
                                                                         "the stream (offset %llu)",
                                                                         (unsigned long long)(d->in_total + i));
                                        d->zero_tail = true;
                                        d->in_total += z->avail_in;
                                        z->avail_in = 0;
                                        break;
                                }
                                if (d->member_done && *z->next_in != 0x1f)
                                        return berr_make(err, EINVAL,
                                                         "gzip: unexpected data after the end of the stream "
                                                         "(offset %llu)",
                                                         (unsigned long long)d->in_total);
                                if (d->member_done && inflateReset(z) != Z_OK)
                                        return berr_make(err, EIO, "gzip: cannot reset zlib");
                                d->member_open = true;
                        }
                        if (z->avail_in == 0 && !d->member_open)
                                break;
                        uInt before = z->avail_in;
                        z->next_out = d->out;
                        z->avail_out = DECOMPRESS_CHUNK;
                        r = inflate(z, Z_NO_FLUSH);
                        d->in_total += before - z->avail_in;
                        produced = DECOMPRESS_CHUNK - z->avail_out;
                        if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
                                return berr_make(err, EINVAL, "gzip: corrupt data at offset %llu: %s",
                                                 (unsigned long long)d->in_total, z->msg ? z->msg : zError(r));
                        if (produced > 0) {
                                int k = d->sink(d->userdata, d->out, produced, err);
                                if (k < 0)
                                        return k;
                        }
                        if (r == Z_BUF_ERROR && produced == 0 && before == z->avail_in && before > 0)
                                return berr_make(err, EIO, "gzip: zlib made no progress at offset %llu",
                                                 (unsigned long long)d->in_total);
                        if (r == Z_STREAM_END) {
                                d->member_open = false;
                                d->member_done = true;
                                continue;
                        }
                        /* Output room left means zlib consumed all it could. */
                        if (z->avail_out > 0 && z->avail_in == 0)
                                break;
                }
                len -= chunk;
        }
        return 0;
}

static int zstd_write(struct decompressor *d, const void *buf, size_t len, struct berr **err)
{
        ZSTD_inBuffer in = {buf, len, 0};

        for (;;) {
                ZSTD_outBuffer out = {d->out, DECOMPRESS_CHUNK, 0};
                size_t before = in.pos;
                size_t r = ZSTD_decompressStream(d->zs, &out, &in);

                d->in_total += in.pos - before;
                if (ZSTD_isError(r))
                        return berr_make(err, EINVAL, "zstd: corrupt data at offset %llu: %s",
                                         (unsigned long long)d->in_total, ZSTD_getErrorName(r));
                d->zs_hint = r;
                if (out.pos > 0) {
                        int k = d->sink(d->userdata, d->out, out.pos, err);
                        if (k < 0)
                                return k;
                }
                if (in.pos == in.size && out.pos < out.size)
                        return 0;
        }
}

int decompressor_write(struct decompressor *d, const void *buf, size_t len, struct berr **err)
{
        if (len == 0)
                return 0;
        switch (d->c) {
        case LAYER_GZIP:
                return gzip_write(d, buf, len, err);
        case LAYER_ZSTD:
                return zstd_write(d, buf, len, err);
        case LAYER_UNCOMPRESSED:
                break;
        }
        d->in_total += len;
        return d->sink(d->userdata, buf, len, err);
}

int decompressor_finish(struct decompressor *d, struct berr **err)
{
        if (d->c == LAYER_GZIP && (d->member_open || !d->member_done))
                return berr_make(err, EPIPE, "gzip: stream truncated after %llu bytes",
                                 (unsigned long long)d->in_total);
        if (d->c == LAYER_ZSTD && (d->zs_hint != 0 || d->in_total == 0))
                return berr_make(err, EPIPE, "zstd: stream truncated after %llu bytes",
                                 (unsigned long long)d->in_total);
        return 0;
}

void decompressor_free(struct decompressor *d)
{
        if (!d)
                return;
        if (d->z_ready)
                inflateEnd(&d->z);
        ZSTD_freeDStream(d->zs);
        free(d->out);
        free(d);
}

#define COMPRESS_CHUNK (256 * 1024)

struct compressor {
        enum layer_compression c;
        decompress_sink_t sink;
        void *userdata;
        unsigned char *out;
        z_stream z;
        bool z_ready;
        ZSTD_CCtx *zc;
};

int compressor_new(enum layer_compression c, int level, decompress_sink_t sink, void *userdata,
                   struct compressor **out, struct berr **err)
{
        struct compressor *k = calloc(1, sizeof(*k));

        if (!k)
                return berr_make(err, ENOMEM, "compressor");
        k->c = c;
        k->sink = sink;
        k->userdata = userdata;
        if (c != LAYER_UNCOMPRESSED && !(k->out = malloc(COMPRESS_CHUNK))) {
                free(k);
                return berr_make(err, ENOMEM, "compressor");
        }
        if (c == LAYER_GZIP) {
                if (level < 0 || level > 9) {
                        compressor_free(k);
                        return berr_make(err, EINVAL, "gzip: invalid compression level %d", level);
                }
                /* 16 + 15: gzip wrapper with mtime 0 and no name, like `gzip -n`. */
                if (deflateInit2(&k->z, level ? level : 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) !=
                    Z_OK) {
                        compressor_free(k);
                        return berr_make(err, ENOMEM, "gzip: cannot initialize zlib");
                }
                k->z_ready = true;
        } else if (c == LAYER_ZSTD) {
                if (level < 0 || level > ZSTD_maxCLevel()) {
                        compressor_free(k);
                        return berr_make(err, EINVAL, "zstd: invalid compression level %d", level);
                }
                k->zc = ZSTD_createCCtx();
                if (!k->zc || ZSTD_isError(ZSTD_CCtx_setParameter(k->zc, ZSTD_c_compressionLevel, level ? level : 3)) ||
                    ZSTD_isError(ZSTD_CCtx_setParameter(k->zc, ZSTD_c_checksumFlag, 1))) {
                        compressor_free(k);
                        return berr_make(err, ENOMEM, "zstd: cannot create a compression context");
                }
        }
        *out = k;
        return 0;
}

static int gzip_deflate(struct compressor *k, const void *buf, size_t len, int flush, struct berr **err)
{
        k->z.next_in = (Bytef *)buf;
        k->z.avail_in = (uInt)len;
        for (;;) {
                int r;
                k->z.next_out = k->out;
                k->z.avail_out = COMPRESS_CHUNK;
                r = deflate(&k->z, flush);
                if (r == Z_STREAM_ERROR)
                        return berr_make(err, EIO, "gzip: compression failed");
                if (k->z.avail_out < COMPRESS_CHUNK) {
                        int s = k->sink(k->userdata, k->out, COMPRESS_CHUNK - k->z.avail_out, err);
                        if (s < 0)
                                return s;
                }
                if (flush == Z_FINISH ? r == Z_STREAM_END : (k->z.avail_in == 0 && k->z.avail_out > 0))
                        return 0;
        }
}

static int zstd_compress(struct compressor *k, const void *buf, size_t len, ZSTD_EndDirective mode,
                         struct berr **err)
{
        ZSTD_inBuffer in = {buf, len, 0};

        for (;;) {
                ZSTD_outBuffer out = {k->out, COMPRESS_CHUNK, 0};
                size_t r = ZSTD_compressStream2(k->zc, &out, &in, mode);
                if (ZSTD_isError(r))
                        return berr_make(err, EIO, "zstd: compression failed: %s", ZSTD_getErrorName(r));
                if (out.pos > 0) {
                        int s = k->sink(k->userdata, k->out, out.pos, err);
                        if (s < 0)
                                return s;
                }
                if (mode == ZSTD_e_end ? r == 0 : in.pos == in.size)
                        return 0;
        }
}

int compressor_write(struct compressor *k, const void *buf, size_t len, struct berr **err)
{
        const unsigned char *p = buf;

        if (k->c == LAYER_UNCOMPRESSED)
                return len ? k->sink(k->userdata, buf, len, err) : 0;
        while (len > 0) {
                size_t n = MIN(len, (size_t)1 << 30);
                int r = k->c == LAYER_GZIP ? gzip_deflate(k, p, n, Z_NO_FLUSH, err)
                                           : zstd_compress(k, p, n, ZSTD_e_continue, err);
                if (r < 0)
                        return r;
                p += n;
                len -= n;
        }
        return 0;
}

int compressor_finish(struct compressor *k, struct berr **err)
{
        if (k->c == LAYER_GZIP)
                return gzip_deflate(k, NULL, 0, Z_FINISH, err);
        if (k->c == LAYER_ZSTD)
                return zstd_compress(k, NULL, 0, ZSTD_e_end, err);
        return 0;
}

void compressor_free(struct compressor *k)
{
        if (!k)
                return;
        if (k->z_ready)
                deflateEnd(&k->z);
        ZSTD_freeCCtx(k->zc);
        free(k->out);
        free(k);
}
