/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/digest.h"
#include "basic/error.h"

/*
 * The image store under one root directory (podman's --root):
 *
 *   berth.db              SQLite: image names/records (and later engine tables)
 *   blobs/sha256/<hex>    content-addressed blobs, verified before they get their name
 *   ingest/               blobs being downloaded (<hex>.partial, resumable)
 *   snapshots/<hex>/fs    one unpacked layer per chain ID, overlay whiteout format
 *   snapshots/<hex>/meta.json  its diff_id and size
 *   l/<short>             short symlinks to snapshots for long overlay mount options
 *   rw/<key>/             containers' writable layers (upper, work, merged)
 *   tmp/                  layers being unpacked
 *   trash/                what is being deleted
 *   locks/                lock files
 *
 * Crash safety: a blob or snapshot only gets its final name by rename(2)
 * after it is complete and verified, and is deleted by renaming it into
 * trash/ first, so a kill -9 at any point never leaves a partial one under a
 * final name. Leftovers in ingest/, tmp/ and trash/ are cleaned by GC.
 *
 * Concurrency: the store lock (locks/store.lock) is held shared by commands
 * that add content (pull, import, load) and exclusive by garbage collection;
 * per-blob and per-snapshot locks let concurrent pulls of the same image wait
 * for each other instead of downloading twice.
 */
struct image_store {
        char *root;
        int root_fd;
        int blobs_fd, ingest_fd, snapshots_fd, links_fd, rw_fd, tmp_fd, trash_fd, locks_fd;
        int store_lock_fd;
        sqlite3 *db;
        bool rootless;
};

int image_store_open(const char *root, struct image_store **out, struct berr **err);
void image_store_free(struct image_store *s);
static inline void image_store_freep(struct image_store **s)
{
        image_store_free(*s);
}
#define _cleanup_image_store_ _cleanup_(image_store_freep)

/* Store-wide lock: shared for adding content, exclusive for GC. Without wait
 * returns -EWOULDBLOCK when it is busy. */
int image_store_lock(struct image_store *s, bool exclusive, bool wait, struct berr **err);
void image_store_unlock(struct image_store *s);

/* A named exclusive lock (locks/<name>.lock), removed again on release. */
int store_lock_name(struct image_store *s, const char *name, bool wait, int *fd_out, struct berr **err);
void store_unlock_name(struct image_store *s, const char *name, int fd);

/* Blobs. Digests are "sha256:<hex>" (or sha512). */
bool store_blob_exists(struct image_store *s, const char *digest);
int store_blob_size(struct image_store *s, const char *digest, uint64_t *out);
int store_blob_open(struct image_store *s, const char *digest, int *fd_out, struct berr **err);
/* Reads a small blob and checks its digest again (manifests, configs). */
int store_blob_read(struct image_store *s, const char *digest, size_t max, char **buf, size_t *len,
                    struct berr **err);
/* Stores a small in-memory blob; with expected_digest the content must match it. */
int store_blob_put(struct image_store *s, const void *buf, size_t len, const char *expected_digest,
                   char digest_out[136], struct berr **err);
/* Removes a blob (atomic unlink); missing is not an error. */
int store_blob_remove(struct image_store *s, const char *digest, struct berr **err);
/* Path relative to the root ("blobs/sha256/<hex>") for messages. */
char *store_blob_relpath(const char *digest);

/*
 * Streaming blob ingest: bytes are hashed and written to ingest/ as they
 * arrive; commit checks size and digest, fsyncs and renames into blobs/.
 * With a known digest the ingest is locked against concurrent writers of the
 * same blob and resumable: data kept from an earlier attempt is re-hashed and
 * the caller continues at blob_writer_offset().
 */
struct blob_writer;
/* Returns 1 (and no writer) when the blob is already in the store. expected_size < 0: unknown. */
int blob_writer_open(struct image_store *s, const char *expected_digest, int64_t expected_size, bool resume,
                     struct blob_writer **out, struct berr **err);
int blob_writer_write(struct blob_writer *w, const void *buf, size_t len, struct berr **err);
uint64_t blob_writer_offset(const struct blob_writer *w);
/* Throws away what was written (a restarted download). */
int blob_writer_reset(struct blob_writer *w, struct berr **err);
/* A read-only fd of the data written so far (for readers following the download). */
int blob_writer_reopen(struct blob_writer *w, struct berr **err);
/* Checks size and digest and fsyncs; the blob keeps its ingest name until commit. */
int blob_writer_finish(struct blob_writer *w, struct berr **err);
/* finish (unless done) and rename into blobs/. */
int blob_writer_commit(struct blob_writer *w, char digest_out[136], struct berr **err);
/* Frees; an uncommitted ingest is kept for resuming only when keep is set and the
 * data so far is not known to be bad. */
void blob_writer_free(struct blob_writer *w, bool keep);

/* Layers: chain_id(L0) = diff_id(L0); chain_id(Ln) = sha256(chain_id(Ln-1) + " " + diff_id(Ln)). */
int chain_id_next(const char *parent, const char *diff_id, char out[136]);

bool store_snapshot_exists(struct image_store *s, const char *chain_id);
/* An O_DIRECTORY fd of a committed snapshot's fs/. */
int store_snapshot_open(struct image_store *s, const char *chain_id, struct berr **err);
/* Absolute path of a committed snapshot's fs/ directory. */
char *store_snapshot_path(struct image_store *s, const char *chain_id);

/* snapshots/<hex>/meta.json: what the unpacker measured. */
struct snapshot_meta {
        char diff_id[136];
        uint64_t size; /* uncompressed tar bytes */
        uint64_t entries;
};
int store_snapshot_meta(struct image_store *s, const char *chain_id, struct snapshot_meta *m, struct berr **err);

/* A layer being unpacked into tmp/<name>/fs; it becomes visible only by commit. */
struct snapshot_tmp {
        char name[64]; /* below tmp/ */
        int dirfd;     /* tmp/<name>/fs */
};
int store_snapshot_begin(struct image_store *s, struct snapshot_tmp *t, struct berr **err);
/* Writes meta.json and renames into snapshots/<hex>; if another process committed
 * the same chain ID meanwhile, keeps theirs. Closes t->dirfd. */
int store_snapshot_commit(struct image_store *s, struct snapshot_tmp *t, const char *chain_id,
                          const struct snapshot_meta *m, struct berr **err);
void store_snapshot_abort(struct image_store *s, struct snapshot_tmp *t);
int store_snapshot_remove(struct image_store *s, const char *chain_id, struct berr **err);

/* A new private directory tmp/<prefix><random> (same filesystem as the store). */
int store_tmpdir(struct image_store *s, const char *prefix, char name[64], int *fd_out, struct berr **err);
/* Moves an already verified file (same filesystem) into blobs/ under digest. */
int store_blob_adopt(struct image_store *s, int dirfd, const char *name, const char *digest, struct berr **err);

/* Moves dirfd/name into trash/ and deletes it there. */
int store_trash(struct image_store *s, int dirfd, const char *name, struct berr **err);
/* Deletes leftovers of interrupted work: trash/, tmp/, unlocked stale ingest/ files. */
int store_clean_leftovers(struct image_store *s, uint64_t *freed, struct berr **err);

/* Sum of st_blocks*512 under a directory fd (not crossing mounts). */
uint64_t dir_disk_usage(int dirfd);
