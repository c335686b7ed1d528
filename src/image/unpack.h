/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "image/compress.h"

/*
 * Layer unpacking: a (compressed) layer tar is fed in chunks as it arrives and
 * extracted below dest_dirfd; diff_id (sha256 of the uncompressed tar) is
 * computed on the way.
 *
 * Safety: every path is cleaned lexically against the layer root ("../x" and
 * "/x" both become "x") and every lookup goes through
 * openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS), so symlinks in the tree
 * (absolute or relative, chains included) resolve inside dest. Symlink
 * targets are stored verbatim. Hardlink targets are looked up inside dest
 * too: a hardlink to "/etc/passwd" links dest/etc/passwd or fails when the
 * layer has no such file. Device nodes are created when permitted; with
 * no_chown (rootless) an EPERM from mknod skips the node, as Docker does in a
 * user namespace. Image xattrs named trusted.overlay.* / user.overlay.* are
 * never applied (they would steer overlayfs).
 */
struct unpack_opts {
        /* true: whiteouts become overlayfs whiteouts (0/0 char devices, opaque
         * xattr) for a snapshot layer dir; false: they are applied by deleting
         * in dest (flattening onto one directory). */
        bool overlay_whiteouts;
        /* With overlay_whiteouts: mark opaque dirs with user.overlay.opaque
         * (overlay mounted with -o userxattr, rootless) instead of trusted.overlay.opaque. */
        bool overlay_userxattr;
        /* Rootless: keep files owned by the caller; skip trusted.* and
         * security.* xattrs and device nodes that cannot be created. */
        bool no_chown;
        /* An ordinary archive (berth cp), not a layer: `.wh.` names are files
         * like any other, and an existing directory is never replaced by a
         * non-directory (an error, as docker cp says). */
        bool plain;
        uint64_t max_entries;      /* 0: UNPACK_DEFAULT_MAX_ENTRIES */
        uint64_t max_uncompressed; /* bytes of tar; 0: UNPACK_DEFAULT_MAX_UNCOMPRESSED */
};
#define UNPACK_DEFAULT_MAX_ENTRIES      (1024 * 1024)
#define UNPACK_DEFAULT_MAX_UNCOMPRESSED (64ULL << 30)

struct unpack_result {
        char diff_id[136]; /* "sha256:<hex>" of the uncompressed tar */
        uint64_t uncompressed_size;
        uint64_t entries;
        /* Not applied, by the rules above: device nodes when rootless, xattrs
         * outside user.* / trusted.* / security.capability or refused by the
         * filesystem. */
        uint64_t skipped;
};

struct layer_unpacker;
/* Push-style: the caller feeds compressed bytes as they arrive (e.g. from a
 * curl write callback). dest_dirfd is borrowed and must stay open. */
int layer_unpacker_new(int dest_dirfd, enum layer_compression c, const struct unpack_opts *o,
                       struct layer_unpacker **out, struct berr **err);
int layer_unpacker_write(struct layer_unpacker *u, const void *buf, size_t len, struct berr **err);
/* Checks the stream ended cleanly (compression trailer, tar end blocks),
 * applies deferred directory modes/mtimes and fills res. */
int layer_unpacker_finish(struct layer_unpacker *u, struct unpack_result *res, struct berr **err);
void layer_unpacker_free(struct layer_unpacker *u);
static inline void layer_unpacker_freep(struct layer_unpacker **u)
{
        layer_unpacker_free(*u);
}
#define _cleanup_layer_unpacker_ _cleanup_(layer_unpacker_freep)

/* Reads fd to its end through a layer_unpacker. */
int layer_unpack_fd(int fd, int dest_dirfd, enum layer_compression c, const struct unpack_opts *o,
                    struct unpack_result *res, struct berr **err);

/*
 * Layer packing: a directory tree -> a canonical layer tar (names sorted by
 * bytes, numeric owners, no user/group names, pax headers only where ustar
 * does not fit), optionally compressed, with digest and diff_id computed while
 * writing to out_fd. Sockets are skipped (tar cannot hold them).
 */
struct pack_opts {
        int level; /* compression level; 0: gzip 6, zstd 3 */
        /* >= 0: mtimes later than this are clamped to it (SOURCE_DATE_EPOCH); < 0: keep. */
        int64_t mtime_clamp;
        /* Entries (tar names without a trailing "/") for which skip returns
         * true are left out with everything below them; NULL: none. */
        bool (*skip)(void *userdata, const char *name);
        void *skip_userdata;
};
struct pack_result {
        char digest[136];  /* of the bytes written (the blob) */
        char diff_id[136]; /* of the uncompressed tar */
        uint64_t size;     /* bytes written */
        uint64_t uncompressed_size;
        uint64_t entries;
};
/* o may be NULL (defaults, no clamping). */
int layer_pack_dir(int src_dirfd, int out_fd, enum layer_compression c, const struct pack_opts *o,
                   struct pack_result *res, struct berr **err);
/* An overlay upper dir (a container's writable layer) -> OCI layer: 0/0 char
 * devices become `.wh.NAME` files and opaque dirs (trusted.overlay.opaque or
 * user.overlay.opaque = "y") get a `.wh..wh..opq` entry. */
int layer_pack_overlay_upper(int upper_dirfd, int out_fd, enum layer_compression c, const struct pack_opts *o,
                             struct pack_result *res, struct berr **err);
