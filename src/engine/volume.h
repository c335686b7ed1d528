/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Named and anonymous volumes with docker's `local` driver.
 *
 * A volume is a row of the "volumes" component of the berth database and a
 * directory <root>/volumes/<name>/ whose _data/ is what containers mount.
 * With docker's driver options (type, device, o) _data/ is a mount point:
 * the filesystem is mounted while a container uses the volume (tmpfs, a bind
 * of a host directory, any mount(2) type) and unmounted when the last one
 * stops, as docker's local driver does.
 *
 * Use records say which containers use which volume: a volume with users is
 * "in use" and is neither removed (without force) nor pruned. A new volume
 * gets the image's content at its mount destination when a container first
 * uses it (copy-up), unless the mount said nocopy.
 *
 * Per-volume operations (mount, unmount, copy-up, remove) serialize on a
 * flock of <root>/volumes/<name>/; the database serializes the rest.
 */

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

#define VOLUME_DRIVER_LOCAL "local"
/* Caps on what a client can ask for. */
#define VOLUME_NAME_MAX   255
#define VOLUME_LABELS_MAX 256
#define VOLUME_LABEL_MAX  4096
/* Copy-up: directory depth and entries of the image's content. */
#define VOLUME_COPY_DEPTH_MAX   128
#define VOLUME_COPY_ENTRIES_MAX 1000000

struct volume {
        char *name;
        char *driver;
        char *mountpoint; /* <root>/volumes/<name>/_data */
        int64_t created_ns;
        char **labels;  /* key, value, key, value ... */
        char **options; /* driver options: key, value ... */
        bool anonymous;
        bool needs_copy; /* no container has used it yet: the next one copies up */
        char **users;    /* ids of the containers that use it */
        bool mounted;    /* the driver's filesystem is mounted on _data */
};
void volume_free(struct volume *v);
void volume_freev(struct volume **v, size_t n);
static inline void volume_freep(struct volume **v)
{
        volume_free(*v);
}
#define _cleanup_volume_ _cleanup_(volume_freep)

/* Creates or upgrades the tables of the "volumes" component. */
int volume_db_migrate(sqlite3 *db, struct berr **err);

/* [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most VOLUME_NAME_MAX characters. */
int volume_name_check(const char *name, struct berr **err);

struct volume_create_opts {
        const char *name;                  /* NULL: a generated one (64 hex), for anonymous volumes */
        const char *driver;                /* NULL or "local" */
        const char *const *labels;         /* "key=value" or "key" */
        const char *const *driver_options; /* docker's local driver: "type=", "device=", "o=" */
        bool anonymous;
};
/* Returns 1 when created, 0 when a volume of that name exists already (it is
 * returned as is, the way docker answers), or a negative error. */
int volume_create(sqlite3 *db, const char *root, const struct volume_create_opts *opts, struct volume **out,
                  struct berr **err);
/* A missing volume is an error with code ENOENT ("no such volume: NAME"). */
int volume_get(sqlite3 *db, const char *root, const char *name, struct volume **out, struct berr **err);

struct volume_filter {
        const char *const *names;  /* POSIX extended regexes, any may match (docker's name=) */
        const char *const *labels; /* "key" or "key=value", all must match */
        int dangling;              /* -1 any, 0 used, 1 unused */
        const char *driver;        /* NULL any */
        bool anonymous_only;       /* prune without --all: only anonymous volumes */
};
/* Volumes sorted by name. */
int volume_list(sqlite3 *db, const char *root, const struct volume_filter *f, struct volume ***out, size_t *n,
                struct berr **err);

/* Refuses a volume with users (EBUSY, "volume is in use - [ID, ...]") unless
 * force, which drops the use records: the caller has dealt with the containers. */
int volume_remove(sqlite3 *db, const char *root, const char *name, bool force, struct berr **err);
/* Removes unused volumes matching f (dangling is implied); *removed gets the
 * names, *reclaimed the disk space freed. */
int volume_prune(sqlite3 *db, const char *root, const struct volume_filter *f, char ***removed,
                 uint64_t *reclaimed, struct berr **err);

/* <root>/volumes/<name>/_data; NULL on ENOMEM. */
char *volume_mountpoint(const char *root, const char *name);

/* Records that container_id uses the volume (idempotent). */
int volume_use(sqlite3 *db, const char *name, const char *container_id, struct berr **err);
/* Drops every use record of a container; with remove_anonymous (rm -v) also
 * removes the anonymous volumes it used that nobody else uses, and names
 * them in *removed (may be NULL). */
int volume_release(sqlite3 *db, const char *root, const char *container_id, bool remove_anonymous,
                   char ***removed, struct berr **err);

/* Before a container starts: mounts the driver's filesystem on _data unless
 * another container has it mounted already, and marks this container's use
 * active. Idempotent per container. */
int volume_mount(sqlite3 *db, const char *root, const char *name, const char *container_id,
                 struct berr **err);
/* After it stopped: marks the use inactive and unmounts when no active use
 * remains. Idempotent; a volume that is gone is not an error. */
int volume_unmount(sqlite3 *db, const char *root, const char *name, const char *container_id,
                   struct berr **err);

/* On a container's first use of a new volume: copies the directory `path` of
 * the container's root filesystem (rootfd; resolved with RESOLVE_IN_ROOT, so
 * symlinks in the image cannot leave it) into the volume when it is empty,
 * keeping owners, modes, times, xattrs, hard links, symlinks and device
 * nodes, and gives _data the directory's owner and mode. Whatever happens,
 * only the first use copies. Returns 1 when it copied, 0 when there was
 * nothing to do. A failed copy leaves the volume empty. */
int volume_copy_up(sqlite3 *db, const char *root, const char *name, int rootfd, const char *path,
                   struct berr **err);
