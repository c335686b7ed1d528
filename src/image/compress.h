/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

enum layer_compression {
        LAYER_UNCOMPRESSED,
        LAYER_GZIP,
        LAYER_ZSTD,
};

/* OCI and Docker layer media types -> compression. Foreign/non-distributable
 * layers and unknown types fail with an error naming the media type. */
int layer_compression_from_media_type(const char *media_type, enum layer_compression *out, struct berr **err);
/* Detects gzip and zstd by their magic bytes (docker-archive, import). */
enum layer_compression layer_compression_sniff(const void *buf, size_t len);
/* The OCI layer media type for c ("application/vnd.oci.image.layer.v1.tar+gzip" ...). */
const char *layer_media_type(enum layer_compression c);
const char *layer_compression_name(enum layer_compression c);

/*
 * Streaming decompression: compressed bytes go in, `sink` receives the output
 * in chunks of up to DECOMPRESS_CHUNK bytes (straight from the decoder's
 * buffer). gzip may have several members; zstd several frames.
 */
#define DECOMPRESS_CHUNK (256 * 1024)
typedef int (*decompress_sink_t)(void *userdata, const void *buf, size_t len, struct berr **err);
struct decompressor;
int decompressor_new(enum layer_compression c, decompress_sink_t sink, void *userdata, struct decompressor **out,
                     struct berr **err);
int decompressor_write(struct decompressor *d, const void *buf, size_t len, struct berr **err);
/* Fails unless the input ended exactly at the end of a gzip member / zstd frame. */
int decompressor_finish(struct decompressor *d, struct berr **err);
void decompressor_free(struct decompressor *d);

/* Streaming compression into `sink`; level 0 picks the default (gzip 6, zstd 3). */
struct compressor;
int compressor_new(enum layer_compression c, int level, decompress_sink_t sink, void *userdata,
                   struct compressor **out, struct berr **err);
int compressor_write(struct compressor *c, const void *buf, size_t len, struct berr **err);
int compressor_finish(struct compressor *c, struct berr **err);
void compressor_free(struct compressor *c);
