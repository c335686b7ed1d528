/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

/*
 * Tar format: a streaming reader (bytes arrive in arbitrary chunks, entries and
 * file data come out through callbacks, data straight from the caller's buffer)
 * and a header writer for packing.
 *
 * Read: ustar, GNU (long names/links 'L'/'K', old sparse 'S'), pax local and
 * global headers (path, linkpath, size, uid, gid, mtime with fractions,
 * SCHILY.xattr.*, SCHILY.devmajor/devminor, GNU sparse 0.0, 0.1 and 1.0).
 * Not read: multi-volume ('M') and old GNU 'N' entries, LIBARCHIVE.xattr.*
 * (base64 names) and ACL records; these fail or are ignored as documented in tar.c.
 */

enum tar_type {
        TAR_REG,
        TAR_HARDLINK,
        TAR_SYMLINK,
        TAR_CHAR,
        TAR_BLOCK,
        TAR_DIR,
        TAR_FIFO,
};

struct tar_xattr {
        char *name;
        char *value;
        size_t len;
};

/* A data extent of a sparse file: `len` bytes at file offset `off`. */
struct tar_extent {
        uint64_t off;
        uint64_t len;
};

struct tar_entry {
        char *name;     /* as stored (may hold "..", a leading "/", a trailing "/") */
        char *linkname; /* hardlink or symlink target, "" otherwise */
        enum tar_type type;
        uint32_t mode; /* permission bits incl. setuid/setgid/sticky (07777) */
        uint32_t uid, gid;
        int64_t mtime;
        uint32_t mtime_nsec;
        uint64_t size; /* file size (the real size for sparse files) */
        uint32_t devmajor, devminor;
        struct tar_xattr *xattrs;
        size_t n_xattrs;
        /* Sparse files: the data extents in file order (data arrives in this
         * order); the rest of `size` is holes. NULL for ordinary files. */
        struct tar_extent *extents;
        size_t n_extents;
};

struct tar_reader_ops {
        /* A new entry; for TAR_REG its data follows through `data`. */
        int (*entry)(void *userdata, const struct tar_entry *e, struct berr **err);
        /* File data for the current entry at file offset `off`. */
        int (*data)(void *userdata, const struct tar_entry *e, uint64_t off, const void *buf, size_t len,
                    struct berr **err);
        /* All data of the current entry has been delivered. */
        int (*entry_end)(void *userdata, const struct tar_entry *e, struct berr **err);
};

struct tar_reader;

int tar_reader_new(const struct tar_reader_ops *ops, void *userdata, struct tar_reader **out, struct berr **err);
/* Feeds the next len bytes of the archive. After an error the reader is unusable. */
int tar_reader_feed(struct tar_reader *r, const void *buf, size_t len, struct berr **err);
/* Checks the archive ended at its end-of-archive blocks, not in the middle of an entry. */
int tar_reader_finish(struct tar_reader *r, struct berr **err);
uint64_t tar_reader_entries(const struct tar_reader *r);
void tar_reader_free(struct tar_reader *r);
static inline void tar_reader_freep(struct tar_reader **r)
{
        tar_reader_free(*r);
}
#define _cleanup_tar_reader_ _cleanup_(tar_reader_freep)

/* Headers for one entry (a pax 'x' header first when a field does not fit
 * ustar: long names, big ids/sizes, sub-second or negative mtime, xattrs),
 * written as ustar with numeric owners and no user/group names. *out is
 * malloc'ed and a multiple of 512 bytes. Sparse entries are not written. */
int tar_header_format(const struct tar_entry *e, char **out, size_t *len, struct berr **err);
/* Bytes of zero padding after `size` bytes of data. */
static inline size_t tar_padding(uint64_t size)
{
        return (size_t)((512 - (size & 511)) & 511);
}
#define TAR_BLOCK_SIZE 512
