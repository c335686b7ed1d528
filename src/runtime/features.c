/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "container.h"
#include "internal.h"
#include "seccomp.h"

static json_object *str_array(const char *const *v, size_t n)
{
        json_object *a = json_object_new_array();

        for (size_t i = 0; i < n && v[i]; i++)
                json_object_array_add(a, json_object_new_string(v[i]));
        return a;
}

/* runtime-spec features.md: what this build of berth-runtime supports. */
json_object *runtime_features(void)
{
        json_object *f = json_object_new_object(), *lin = json_object_new_object();
        json_object *caps = json_object_new_array(), *ns = json_object_new_array();
        json_object *on = NULL, *off = NULL, *me = json_object_new_object(), *idmap = json_object_new_object();
        const char *const hooks[] = {"prestart", "createRuntime", "createContainer", "startContainer", "poststart",
                                     "poststop"};
        const char *const *opts = mount_option_names();

        json_object_object_add(f, "ociVersionMin", json_object_new_string("1.0.0"));
        json_object_object_add(f, "ociVersionMax", json_object_new_string(OCI_VERSION));
        json_object_object_add(f, "hooks", str_array(hooks, ARRAY_SIZE(hooks)));
        {
                size_t n = 0;
                while (opts[n])
                        n++;
                json_object_object_add(f, "mountOptions", str_array(opts, n));
        }
        for (int t = 0; t < OCI_NS_COUNT; t++)
                json_object_array_add(ns, json_object_new_string(oci_ns_name(t)));
        json_object_object_add(lin, "namespaces", ns);
        for (int c = 0; c <= oci_cap_last() && oci_cap_name(c); c++)
                json_object_array_add(caps, json_object_new_string(oci_cap_name(c)));
        json_object_object_add(lin, "capabilities", caps);
        json_object_object_add(lin, "cgroup", cgroup_features());
        json_object_object_add(lin, "seccomp", seccomp_features());
        on = json_object_new_object();
        json_object_object_add(on, "enabled", json_object_new_boolean(1));
        json_object_object_add(lin, "apparmor", on);
        on = json_object_new_object();
        json_object_object_add(on, "enabled", json_object_new_boolean(1));
        json_object_object_add(lin, "selinux", on);
        off = json_object_new_object();
        json_object_object_add(off, "enabled", json_object_new_boolean(0));
        json_object_object_add(lin, "intelRdt", off);
        json_object_object_add(idmap, "enabled", json_object_new_boolean(0));
        json_object_object_add(me, "idmap", idmap);
        json_object_object_add(lin, "mountExtensions", me);
        json_object_object_add(f, "linux", lin);
        {
                json_object *ann = json_object_new_object();
                json_object_object_add(ann, "org.opencontainers.runtime-spec.features.v1.berth.version",
                                       json_object_new_string("berth-runtime"));
                json_object_object_add(f, "annotations", ann);
        }
        return f;
}
