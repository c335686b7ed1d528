/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

#include "basic/error.h"
#include "store.h"

/*
 * Image archives:
 *   docker-archive  docker save's tar: manifest.json, <config hex>.json, <diff_id hex>/layer.tar (uncompressed)
 *   oci-archive     a tar of an OCI image layout (blobs as stored, compressed layers stay compressed)
 *   oci-dir         the same OCI image layout as a directory
 * save can gzip a tar archive; load reads all three (tar archives gzip- or
 * zstd-compressed or not), verifies every blob against its digest or the
 * config's diff_ids, and unpacks the layers.
 */
enum archive_format { ARCHIVE_DOCKER, ARCHIVE_OCI, ARCHIVE_OCI_DIR };

int archive_format_parse(const char *s, enum archive_format *out, struct berr **err);

struct save_opts {
        enum archive_format format;
        bool gzip;
};
/* images: what the user typed. A tar goes to out_fd, oci-dir into out_dir (created, must be empty). */
int image_save(struct image_store *s, char *const *images, const struct save_opts *o, int out_fd, const char *out_dir,
               struct berr **err);

/* From in_fd (a tar archive), or from the OCI layout directory in_dir. *loaded
 * gets the names loaded ("sha256:<id>" for images without a name). */
int image_load(struct image_store *s, int in_fd, const char *in_dir, char ***loaded, struct berr **err);
