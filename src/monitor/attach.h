/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"

/*
 * Attach protocol (docs/MONITOR.md): a unix stream socket carrying frames of
 * an 8-byte header {type, 0, 0, 0, length as big-endian uint32} and a payload,
 * the header docker's multiplexed stream uses, with control types added.
 */
enum attach_type {
        ATTACH_STDIN = 0,       /* client -> monitor: bytes for the container's stdin */
        ATTACH_STDOUT = 1,      /* monitor -> client: container output */
        ATTACH_STDERR = 2,      /* monitor -> client: container output */
        ATTACH_ERROR = 3,       /* monitor -> client: text, the monitor then closes */
        ATTACH_HELLO = 4,       /* monitor -> client, first frame: {version, flags} */
        ATTACH_RESIZE = 5,      /* client -> monitor: {rows, cols} as big-endian uint16 */
        ATTACH_CLOSE_STDIN = 6, /* client -> monitor: no more input (EOF on a pipe stdin) */
        ATTACH_DETACH = 7,      /* client -> monitor: leave; the monitor closes the connection */
        ATTACH_EXIT = 8,        /* monitor -> client: exit code as big-endian int32, then close */
};

#define ATTACH_HEADER_SIZE 8
#define ATTACH_VERSION     1
#define ATTACH_HELLO_TTY   0x01 /* the container has a terminal */
#define ATTACH_HELLO_STDIN 0x02 /* the container's stdin takes input */
/* Payload limits: data frames are streamed, control frames are held whole. */
#define ATTACH_MAX_DATA    (1024 * 1024)
#define ATTACH_MAX_CONTROL 1024
#define ATTACH_SOCKET      "attach"

void attach_header(uint8_t hdr[ATTACH_HEADER_SIZE], enum attach_type type, uint32_t len);
bool attach_type_is_data(uint8_t type);

/*
 * Incremental decoder. Data frames come out in pieces as the bytes arrive
 * (pointing into the caller's buffer); control frames come out whole
 * (pointing into the decoder).
 */
struct attach_decoder {
        uint8_t hdr[ATTACH_HEADER_SIZE];
        size_t hdr_len;
        uint8_t type;
        uint32_t remaining;
        size_t ctl_len;
        uint8_t ctl[ATTACH_MAX_CONTROL];
};

struct attach_piece {
        uint8_t type;
        const uint8_t *data;
        size_t len;
        bool end; /* last piece of its frame */
};

/* Consumes bytes from buf; returns how many, and sets *have when *piece holds
 * something. A negative return is a protocol error (err says which). */
ssize_t attach_decode(struct attach_decoder *d, const void *buf, size_t len, struct attach_piece *piece,
                      bool *have, struct berr **err);

/* Whole frames for the blocking helpers and tests; buf needs header + payload room. */
size_t attach_frame(uint8_t *buf, enum attach_type type, const void *payload, uint32_t len);

/* Client side. */
struct attach_conn {
        int fd;
        bool terminal;
        bool stdin_open;
        struct attach_decoder dec;
        size_t in_start, in_end;
        uint8_t in[16 * 1024];
};

enum attach_event_type { ATTACH_EV_OUTPUT, ATTACH_EV_EXIT, ATTACH_EV_ERROR, ATTACH_EV_EOF };

struct attach_event {
        enum attach_event_type type;
        uint8_t stream; /* ATTACH_STDOUT or ATTACH_STDERR */
        const uint8_t *data;
        size_t len;
        int exit_code;
};

/* Connects to state_dir's attach socket and waits for the monitor's hello. */
int attach_connect(const char *state_dir, struct attach_conn **out, struct berr **err);
void attach_conn_free(struct attach_conn *c);
/* Next event; blocks for input when block, else returns 0 when nothing is buffered. */
int attach_next(struct attach_conn *c, bool block, struct attach_event *ev, struct berr **err);
/* Blocking writes of whole frames. */
int attach_send(struct attach_conn *c, enum attach_type type, const void *payload, uint32_t len,
                struct berr **err);
int attach_send_resize(struct attach_conn *c, unsigned rows, unsigned cols, struct berr **err);

static inline void attach_conn_freep(struct attach_conn **c)
{
        attach_conn_free(*c);
}
#define _cleanup_attach_conn_ _cleanup_(attach_conn_freep)

/* The monitor's listening socket dirfd/name (mode 0600, non-blocking), replacing a stale one. */
int attach_listen_at(int dirfd, const char *name, struct berr **err);
