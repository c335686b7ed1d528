/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

/*
 * Container output logs, in the two formats the tools around containers read:
 *
 *   k8s-file   "2024-01-02T03:04:05.123456789Z stdout F message"  (CRI, as the kubelet reads it;
 *              tag P marks a piece of a line that continues in the next record, F ends a line)
 *   json-file  {"log":"message\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"}
 *              (docker; a piece without the trailing "\n" continues in the next record)
 *
 * The writer uses fixed buffers: lines longer than its buffer become several
 * partial records, and a read chunk that ends inside a line is written at once
 * as a partial record. Rotation by size keeps FILE, FILE.1 ... FILE.(N-1).
 */

enum ctrlog_driver { CTRLOG_NONE, CTRLOG_K8S_FILE, CTRLOG_JSON_FILE };
enum ctrlog_stream { CTRLOG_STDOUT, CTRLOG_STDERR };

/* Rotated files beyond this index are never read. */
#define CTRLOG_MAX_FILES 64
/* A reader refuses records longer than this (a writer of ours never gets close). */
#define CTRLOG_MAX_RECORD (1024 * 1024)

int ctrlog_parse_driver(const char *s, enum ctrlog_driver *out);
const char *ctrlog_driver_name(enum ctrlog_driver d);
const char *ctrlog_stream_name(enum ctrlog_stream s);

struct ctrlog_writer;

/* size_max 0: never rotate. max_files counts the live file (1: truncate it in place). */
int ctrlog_writer_open(const char *path, enum ctrlog_driver driver, uint64_t size_max, unsigned max_files,
                       struct ctrlog_writer **out, struct berr **err);
/* Logs one chunk of a stream's output; every record of it is stamped now_ns. */
int ctrlog_write(struct ctrlog_writer *w, enum ctrlog_stream stream, const void *buf, size_t len,
                 int64_t now_ns, struct berr **err);
/* At the container's exit: writes out what is held back (an incomplete UTF-8
 * sequence at the end of a json-file chunk) and syncs the file to disk. */
int ctrlog_flush(struct ctrlog_writer *w, int64_t now_ns, struct berr **err);
void ctrlog_writer_free(struct ctrlog_writer *w);

static inline void ctrlog_writer_freep(struct ctrlog_writer **w)
{
        ctrlog_writer_free(*w);
}
#define _cleanup_ctrlog_writer_ _cleanup_(ctrlog_writer_freep)

/* One record as read back; msg excludes the line's newline (partial: there was none). */
struct ctrlog_record {
        int64_t time_ns;
        enum ctrlog_stream stream;
        bool partial;
        const char *msg;
        size_t len;
};

struct ctrlog_read_opts {
        enum ctrlog_driver driver;
        int64_t since_ns; /* records older than this are skipped; 0: no bound */
        int64_t until_ns; /* records newer than this are skipped; 0: no bound */
        long tail;        /* only the last N records of the existing log; < 0: all */
        bool follow;      /* then wait for new records, across rotations */
        /* While following: called at the end of the data; true when the writer is gone for good. */
        bool (*done)(void *userdata);
};

/* Returns 0 to go on, > 0 to stop reading (ctrlog_read then returns 0), < 0 to fail. */
typedef int (*ctrlog_record_fn)(const struct ctrlog_record *rec, void *userdata, struct berr **err);

/* Reads path's rotated files oldest first, then path itself. */
int ctrlog_read(const char *path, const struct ctrlog_read_opts *opts, ctrlog_record_fn fn, void *userdata,
                struct berr **err);

/* Parses one record line (without its newline). */
int ctrlog_parse_record(enum ctrlog_driver driver, char *line, size_t len, struct ctrlog_record *rec,
                        struct berr **err);

/*
 * Times as `docker logs` takes them: RFC 3339 (with or without fraction and
 * zone; no zone means local time; date only), Unix seconds ("1700000000.5"),
 * or a duration before now_ns ("10m", "1h30m", "1.5h").
 */
int ctrlog_parse_since(const char *s, int64_t now_ns, int64_t *out, struct berr **err);
/* "all" or a count. */
int ctrlog_parse_tail(const char *s, long *out, struct berr **err);
/* Strict RFC 3339 with optional fraction, zone "Z" or "+hh:mm". */
int ctrlog_parse_rfc3339(const char *s, size_t len, int64_t *out_ns);
