/* SPDX-License-Identifier: Apache-2.0 */
#include <stdbool.h>

#include "basic/timeutil.h"
#include "spec.h"
#include "state.h"

const char *oci_status_name(enum oci_status s)
{
        static const char *const names[] = {"creating", "created", "running", "stopped", "paused"};

        return names[s];
}

json_object *oci_state_to_json(const struct oci_state *st, bool full)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "ociVersion", json_object_new_string(OCI_VERSION));
        json_object_object_add(o, "id", json_object_new_string(st->id));
        json_object_object_add(o, "pid", json_object_new_int(st->status == OCI_STATUS_STOPPED ? 0 : st->pid));
        json_object_object_add(o, "status", json_object_new_string(oci_status_name(st->status)));
        json_object_object_add(o, "bundle", json_object_new_string(st->bundle));
        if (full) {
                char ts[64];
                json_object_object_add(o, "rootfs", json_object_new_string(st->rootfs ? st->rootfs : ""));
                json_object_object_add(o, "created",
                                       json_object_new_string(time_format_rfc3339(st->created_ns, ts, sizeof(ts))));
                json_object_object_add(o, "owner", json_object_new_string(st->owner ? st->owner : ""));
        }
        if (st->annotations && st->annotations[0]) {
                json_object *a = json_object_new_object();
                for (char *const *p = st->annotations; p[0] && p[1]; p += 2)
                        json_object_object_add(a, p[0], json_object_new_string(p[1]));
                json_object_object_add(o, "annotations", a);
        }
        return o;
}
