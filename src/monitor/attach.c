/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "attach.h"
#include "basic/path.h"
#include "basic/socket.h"
#include "internal.h"

static const char *const type_names[] = {
    "stdin", "stdout", "stderr", "error", "hello", "resize", "close-stdin", "detach", "exit",
};

static inline uint32_t get_be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void attach_header(uint8_t hdr[ATTACH_HEADER_SIZE], enum attach_type type, uint32_t len)
{
        hdr[0] = (uint8_t)type;
        hdr[1] = hdr[2] = hdr[3] = 0;
        hdr[4] = (uint8_t)(len >> 24);
        hdr[5] = (uint8_t)(len >> 16);
        hdr[6] = (uint8_t)(len >> 8);
        hdr[7] = (uint8_t)len;
}

bool attach_type_is_data(uint8_t type)
{
        return type == ATTACH_STDIN || type == ATTACH_STDOUT || type == ATTACH_STDERR;
}

size_t attach_frame(uint8_t *buf, enum attach_type type, const void *payload, uint32_t len)
{
        attach_header(buf, type, len);
        if (len)
                memcpy(buf + ATTACH_HEADER_SIZE, payload, len);
        return ATTACH_HEADER_SIZE + len;
}

/* Control frames with a fixed payload size; -1: any size up to the limit. */
static long control_size(uint8_t type)
{
        switch (type) {
        case ATTACH_HELLO:
                return 2;
        case ATTACH_RESIZE:
        case ATTACH_EXIT:
                return 4;
        case ATTACH_CLOSE_STDIN:
        case ATTACH_DETACH:
                return 0;
        default:
                return -1;
        }
}

static int check_header(struct attach_decoder *d, struct berr **err)
{
        uint8_t type = d->hdr[0];
        uint32_t len = get_be32(d->hdr + 4);
        long want;

        if (type >= ARRAY_SIZE(type_names))
                return berr_plain(err, EPROTO, "attach frame of unknown type %u", type);
        if (d->hdr[1] || d->hdr[2] || d->hdr[3])
                return berr_plain(err, EPROTO, "attach frame header has reserved bytes set");
        if (attach_type_is_data(type)) {
                if (len > ATTACH_MAX_DATA)
                        return berr_plain(err, EPROTO,
                                          "attach %s frame of %u bytes is larger than the limit of %d",
                                          type_names[type], len, ATTACH_MAX_DATA);
        } else {
                want = control_size(type);
                if (want >= 0 && len != (uint32_t)want)
                        return berr_plain(err, EPROTO, "attach %s frame has %u bytes instead of %ld",
                                          type_names[type], len, want);
                if (len > ATTACH_MAX_CONTROL)
                        return berr_plain(err, EPROTO,
                                          "attach %s frame of %u bytes is larger than the limit of %d",
                                          type_names[type], len, ATTACH_MAX_CONTROL);
        }
        d->type = type;
        d->remaining = len;
        d->ctl_len = 0;
        return 0;
}

ssize_t attach_decode(struct attach_decoder *d, const void *buf, size_t len, struct attach_piece *piece,
                      bool *have, struct berr **err)
{
        const uint8_t *p = buf;
        size_t used = 0, take;
        int r;

        *have = false;
        if (d->hdr_len < ATTACH_HEADER_SIZE) {
                take = MIN(ATTACH_HEADER_SIZE - d->hdr_len, len);
                memcpy(d->hdr + d->hdr_len, p, take);
                d->hdr_len += take;
                used += take;
                if (d->hdr_len < ATTACH_HEADER_SIZE)
                        return (ssize_t)used;
                r = check_header(d, err);
                if (r < 0)
                        return r;
                if (d->remaining == 0) {
                        *piece =
                            (struct attach_piece){.type = d->type, .data = d->ctl, .len = 0, .end = true};
                        *have = true;
                        d->hdr_len = 0;
                        return (ssize_t)used;
                }
        }
        take = MIN((size_t)d->remaining, len - used);
        if (take == 0)
                return (ssize_t)used;
        if (attach_type_is_data(d->type)) {
                d->remaining -= (uint32_t)take;
                *piece = (struct attach_piece){
                    .type = d->type, .data = p + used, .len = take, .end = d->remaining == 0};
                *have = true;
        } else {
                memcpy(d->ctl + d->ctl_len, p + used, take);
                d->ctl_len += take;
                d->remaining -= (uint32_t)take;
                if (d->remaining == 0) {
                        *piece = (struct attach_piece){
                            .type = d->type, .data = d->ctl, .len = d->ctl_len, .end = true};
                        *have = true;
                }
        }
        if (d->remaining == 0)
                d->hdr_len = 0;
        return (ssize_t)(used + take);
}

int attach_listen_at(int dirfd, const char *name, struct berr **err)
{
        _cleanup_close_ int fd = -1;

        if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
                return berr_errno(err, "remove stale socket `%s`", name);
        fd = unix_listen_at(dirfd, name, SOCK_STREAM | SOCK_NONBLOCK, 16);
        if (fd < 0)
                return berr_make(err, -fd, "listen on socket `%s`", name);
        if (fchmodat(dirfd, name, 0600, 0) < 0)
                return berr_errno(err, "chmod socket `%s`", name);
        return TAKE_FD(fd);
}

void attach_conn_free(struct attach_conn *c)
{
        if (!c)
                return;
        safe_close(c->fd);
        free(c);
}

int attach_next(struct attach_conn *c, bool block, struct attach_event *ev, struct berr **err)
{
        for (;;) {
                while (c->in_start < c->in_end) {
                        struct attach_piece p;
                        bool have;
                        ssize_t n = attach_decode(&c->dec, c->in + c->in_start, c->in_end - c->in_start, &p,
                                                  &have, err);
                        if (n < 0)
                                return (int)n;
                        c->in_start += (size_t)n;
                        if (!have)
                                continue;
                        switch (p.type) {
                        case ATTACH_STDOUT:
                        case ATTACH_STDERR:
                                if (p.len == 0)
                                        continue;
                                *ev = (struct attach_event){
                                    .type = ATTACH_EV_OUTPUT, .stream = p.type, .data = p.data, .len = p.len};
                                return 1;
                        case ATTACH_EXIT:
                                *ev = (struct attach_event){.type = ATTACH_EV_EXIT,
                                                            .exit_code = (int32_t)get_be32(p.data)};
                                return 1;
                        case ATTACH_ERROR:
                                *ev = (struct attach_event){
                                    .type = ATTACH_EV_ERROR, .data = p.data, .len = p.len};
                                return 1;
                        default:
                                return berr_plain(err, EPROTO, "unexpected attach %s frame from the monitor",
                                                  type_names[p.type]);
                        }
                }
                ssize_t n = recv(c->fd, c->in, sizeof(c->in), block ? 0 : MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        /* What the monitor had not read when it closed turns its end of
                         * stream into a reset, after everything it sent. */
                        if (errno == ECONNRESET)
                                n = 0;
                        else
                                return berr_errno(err, "read from the monitor");
                }
                c->in_start = 0;
                c->in_end = (size_t)n;
                if (n == 0) {
                        *ev = (struct attach_event){.type = ATTACH_EV_EOF};
                        return 1;
                }
        }
}

int attach_connect(const char *state_dir, struct attach_conn **out, struct berr **err)
{
        _cleanup_attach_conn_ struct attach_conn *c = NULL;
        _cleanup_free_ char *path = path_join(state_dir, ATTACH_SOCKET);
        int fd;

        if (!path)
                return berr_make(err, ENOMEM, "attach");
        fd = unix_connect(path, SOCK_STREAM);
        if (fd < 0)
                return berr_make(err, -fd, "connect to `%s`", path);
        c = calloc(1, sizeof(*c));
        if (!c) {
                close(fd);
                return berr_make(err, ENOMEM, "attach");
        }
        c->fd = fd;
        /* The hello tells that the monitor has the client on its list: output
         * from then on reaches it. */
        for (;;) {
                struct attach_piece p;
                bool have;
                ssize_t n;

                if (c->in_start == c->in_end) {
                        n = recv(c->fd, c->in, sizeof(c->in), 0);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                return berr_errno(err, "read from the monitor");
                        if (n == 0)
                                return berr_plain(err, ENOTCONN,
                                                  "the monitor closed the attach connection: the "
                                                  "container is not running");
                        c->in_start = 0;
                        c->in_end = (size_t)n;
                }
                n = attach_decode(&c->dec, c->in + c->in_start, c->in_end - c->in_start, &p, &have, err);
                if (n < 0)
                        return (int)n;
                c->in_start += (size_t)n;
                if (!have)
                        continue;
                if (p.type == ATTACH_ERROR)
                        return berr_plain(err, ECONNREFUSED, "monitor: %.*s", (int)p.len,
                                          (const char *)p.data);
                if (p.type != ATTACH_HELLO)
                        return berr_plain(err, EPROTO, "the monitor did not start with a hello frame");
                if (p.data[0] != ATTACH_VERSION)
                        return berr_plain(err, EPROTO,
                                          "the monitor speaks attach protocol version %u, not %u", p.data[0],
                                          ATTACH_VERSION);
                c->terminal = p.data[1] & ATTACH_HELLO_TTY;
                c->stdin_open = p.data[1] & ATTACH_HELLO_STDIN;
                break;
        }
        *out = TAKE_PTR(c);
        return 0;
}

int attach_send(struct attach_conn *c, enum attach_type type, const void *payload, uint32_t len,
                struct berr **err)
{
        uint8_t hdr[ATTACH_HEADER_SIZE];
        struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)payload, len}};
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};

        attach_header(hdr, type, len);
        while (iov[0].iov_len + iov[1].iov_len > 0) {
                ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return berr_errno(err, "write to the monitor");
                }
                for (size_t i = 0; i < 2; i++) {
                        size_t k = MIN((size_t)n, iov[i].iov_len);
                        iov[i].iov_base = (char *)iov[i].iov_base + k;
                        iov[i].iov_len -= k;
                        n -= (ssize_t)k;
                }
        }
        return 0;
}

int attach_send_resize(struct attach_conn *c, unsigned rows, unsigned cols, struct berr **err)
{
        uint8_t p[4] = {(uint8_t)(rows >> 8), (uint8_t)rows, (uint8_t)(cols >> 8), (uint8_t)cols};

        if (rows > UINT16_MAX || cols > UINT16_MAX)
                return berr_plain(err, EINVAL, "terminal size %ux%u is out of range", rows, cols);
        return attach_send(c, ATTACH_RESIZE, p, sizeof(p), err);
}
