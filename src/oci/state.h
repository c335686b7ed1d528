/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <json-c/json.h>
#include <stdint.h>
#include <sys/types.h>

/* The runtime-spec state, as given to hooks on stdin and printed by `state`. */
enum oci_status { OCI_STATUS_CREATING, OCI_STATUS_CREATED, OCI_STATUS_RUNNING, OCI_STATUS_STOPPED, OCI_STATUS_PAUSED };

struct oci_state {
        const char *id;
        enum oci_status status;
        pid_t pid;
        const char *bundle;
        char *const *annotations; /* key, value pairs */
        /* runc's extra fields in `state` and `list` output */
        const char *rootfs;
        int64_t created_ns;
        const char *owner;
};

const char *oci_status_name(enum oci_status s);
/* full: include runc's rootfs/created/owner fields (for `state`, not hooks). */
json_object *oci_state_to_json(const struct oci_state *st, bool full);
