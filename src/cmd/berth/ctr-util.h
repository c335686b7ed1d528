/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Helpers shared by the container commands. */

#include <stdbool.h>
#include <stdint.h>

#include "berth.h"
#include "engine/container.h"
#include "engine/lifecycle.h"
#include "monitor/attach.h"

/* Looks up what the user typed; prints docker's error and returns 0 when there is no such container. */
int ctr_lookup(struct engine *e, const char *input, struct container **out, struct berr **err);
/* docker's STATUS column: "Up 5 seconds", "Exited (0) 2 minutes ago", "Created" ... */
void ctr_status_text(const struct container_state *st, char *buf, size_t size);
/* docker's units.HumanDuration. */
void ctr_human_duration(int64_t ns, char *buf, size_t size);

/* An attached client session: our stdio <-> the container through the monitor. */
struct attach_session {
        struct attach_conn *conn;
        bool forward_stdin;
        bool tty;
        /* Detach sequence (docker's ctrl-p,ctrl-q by default); empty: none. */
        uint8_t detach_keys[16];
        size_t n_detach_keys;
        /* Signals received are passed to the container (docker's --sig-proxy). */
        bool sig_proxy;
        struct engine *engine;
        const char *id;
};
/* Parses docker's --detach-keys ("ctrl-p,ctrl-q", "a", "ctrl-@"...). */
int ctr_parse_detach_keys(const char *s, struct attach_session *as);
#define ATTACH_DETACHED (-2)
/* Runs until the container exits (returns its exit code), the user detaches
 * (ATTACH_DETACHED), or an error (-1 with err). */
int ctr_attach_session(struct attach_session *as, struct berr **err);

/* Exit status of a finished `berth run`/`start -a` when the stream ended
 * without an exit frame: from the container's state. */
int ctr_exit_code(struct engine *e, const char *id);
