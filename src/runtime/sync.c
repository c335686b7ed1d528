/* SPDX-License-Identifier: Apache-2.0 */
#include <stddef.h>
#include <string.h>

#include "basic/socket.h"
#include "sync.h"

int sync_send(int fd, enum sync_type type, int32_t value, const char *text)
{
        struct sync_msg m = {.type = type, .value = value};
        size_t len = offsetof(struct sync_msg, text);

        if (text) {
                size_t n = strnlen(text, sizeof(m.text) - 1);
                memcpy(m.text, text, n);
                len += n + 1;
        }
        return socket_send_fds(fd, NULL, 0, &m, len);
}

int sync_send_fd(int fd, enum sync_type type, int passfd)
{
        struct sync_msg m = {.type = type};

        return socket_send_fds(fd, &passfd, 1, &m, offsetof(struct sync_msg, text));
}

int sync_recv(int fd, struct sync_msg *msg, int *passfd)
{
        int fds[1] = {-1};
        size_t n_fds = 1;
        ssize_t n;

        memset(msg, 0, offsetof(struct sync_msg, text) + 1);
        n = socket_recv_fds(fd, fds, &n_fds, msg, sizeof(*msg) - 1);
        if (passfd)
                *passfd = n_fds ? fds[0] : -1;
        else if (n_fds)
                close(fds[0]);
        if (n < 0)
                return (int)n;
        if (n == 0)
                return 0;
        if ((size_t)n < offsetof(struct sync_msg, text))
                return -EBADMSG;
        ((char *)msg)[n] = '\0';
        return 1;
}

int sync_expect(int fd, enum sync_type type, struct sync_msg *msg, struct berr **err)
{
        int r = sync_recv(fd, msg, NULL);

        if (r < 0)
                return berr_make(err, -r, "sync with container init");
        if (r == 0)
                return berr_make(err, EPIPE, "the runtime went away");
        if (msg->type == SYNC_ERROR)
                return berr_make_raw(err, msg->value, msg->text);
        if (msg->type != type)
                return berr_make(err, EBADMSG, "sync with container init: unexpected message %u (want %u)",
                                 msg->type, (unsigned)type);
        return 0;
}

void sync_send_error(int fd, const struct berr *err)
{
        (void)sync_send(fd, SYNC_ERROR, err ? err->code : 0, err && err->msg ? err->msg : "unknown error");
}
