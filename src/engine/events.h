/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A docker-like event stream without a daemon. Every command that changes a
 * container appends one line of docker's event JSON to
 * <runroot>/events/events.log: O_APPEND and a single write(2) per event, so
 * concurrent berth processes never interleave. Readers filter the log and
 * follow it with inotify. Past ENGINE_EVENTS_LOG_MAX bytes the writer that
 * notices renames it to events.log.1 (one old generation is kept), as
 * podman's file logger bounds its log. The log lives in the runroot (a
 * tmpfs): events do not survive a reboot, as with podman.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "basic/error.h"
#include "container.h"
#include "engine.h"

#define ENGINE_EVENTS_LOG_MAX (4u << 20)
/* A longer line is not an event we wrote: it is skipped. */
#define ENGINE_EVENT_LINE_MAX (64u * 1024)

/*
 * Appends an event: type "container", "image", "volume" or "network", action ("start", "die",
 * ...), the actor's id and attrs as key, value pairs (NULL-terminated list,
 * may be NULL). An event never fails the command that emits it: errors are
 * only logged at debug level.
 */
void engine_event_emit(struct engine *e, const char *type, const char *action, const char *id,
                       const char *const *attrs);
/* A container event with docker's attributes (image, name, the container's
 * labels) followed by extra key, value pairs (exitCode, signal, oldName...). */
void engine_event_container(struct engine *e, const struct container *c, const char *action,
                            const char *const *extra);

/* docker's --filter keys: values of one key are alternatives, keys must all match. */
struct engine_events_filter {
        char **types;      /* type=container|image|volume|network */
        char **events;     /* event=ACTION */
        char **containers; /* container=NAME|ID (an id prefix matches) */
        char **images;     /* image=NAME|ID */
        char **labels;     /* label=KEY or label=KEY=VALUE */
        char **volumes;    /* volume=NAME */
        char **networks;   /* network=NAME|ID */
};
/* Adds "key=value". */
int engine_events_filter_add(struct engine_events_filter *f, const char *spec, struct berr **err);
void engine_events_filter_done(struct engine_events_filter *f);
bool engine_events_match(const struct engine_events_filter *f, json_object *ev);

struct engine_events_query {
        /* Past events from since_ns on are read first; 0: none (only new ones, docker's default). */
        int64_t since_ns;
        /* Events after until_ns are not reported and following ends there; 0: no end. */
        int64_t until_ns;
        bool follow; /* wait for new events (until until_ns) */
        const struct engine_events_filter *filter;
};

/* Gets each matching event; a negative return (an error) or a positive one ends the reading. */
typedef int (*engine_event_cb)(void *userdata, json_object *ev, struct berr **err);
int engine_events_read(struct engine *e, const struct engine_events_query *q, engine_event_cb cb,
                       void *userdata, struct berr **err);
