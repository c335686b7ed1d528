/* SPDX-License-Identifier: Apache-2.0 */
#include <fnmatch.h>
#include <getopt.h>
#include <string.h>

#include "basic/json.h"
#include "basic/strv.h"
#include "basic/timeutil.h"
#include "berth.h"
#include "image/images.h"

static const struct berth_usage usage = {
    .usage = "berth images [options]",
    .summary = "List images in local storage",
    .options = "  -a, --all             show all images (there are no intermediate images)\n"
               "      --digests         show digests\n"
               "  -f, --filter FILTER   dangling=true|false, reference=PATTERN\n"
               "      --format FORMAT   json, or a Go template (e.g. '{{.Repository}}:{{.Tag}}')\n"
               "      --no-trunc        do not truncate image IDs\n"
               "  -q, --quiet           print only image IDs\n",
};

/* "docker.io/library/busybox:latest" -> repo, tag */
static void split_name(const char *name, char **repo, char **tag)
{
        const char *slash = strrchr(name, '/'), *colon = strrchr(slash ? slash : name, ':');

        *repo = colon ? strndup(name, (size_t)(colon - name)) : strdup(name);
        *tag = strdup(colon ? colon + 1 : "<none>");
}

/* The digest a name was pulled by; else a repo digest of its repository; else the manifest's. */
static const char *digest_for(const struct image_record *r, size_t name_idx, const char *repo)
{
        size_t n = strlen(repo);

        if (r->name_digests && name_idx < strv_length(r->name_digests) && *r->name_digests[name_idx])
                return r->name_digests[name_idx];
        STRV_FOREACH (d, r->repo_digests)
                if (strneq(*d, repo, n) && (*d)[n] == '@')
                        return *d + n + 1;
        return r->manifest_digest;
}

struct filters {
        int dangling; /* -1 any */
        char **references;
};

static bool keep(const struct filters *f, const struct image_record *r)
{
        bool dangling = strv_length(r->names) == 0;

        if (f->dangling >= 0 && dangling != (bool)f->dangling)
                return false;
        if (f->references) {
                STRV_FOREACH (pat, f->references)
                        STRV_FOREACH (n, r->names) {
                                _cleanup_free_ char *repo = NULL, *tag = NULL;
                                split_name(*n, &repo, &tag);
                                if (fnmatch(*pat, *n, 0) == 0 || (repo && fnmatch(*pat, repo, 0) == 0))
                                        return true;
                                /* podman also matches the familiar short form */
                                if (repo && strneq(repo, "docker.io/library/", 18) &&
                                    (fnmatch(*pat, repo + 18, 0) == 0 || fnmatch(*pat, *n + 18, 0) == 0))
                                        return true;
                                /* and podman's localhost/ domain of local short names */
                                if (repo && strneq(repo, "localhost/", 10) &&
                                    (fnmatch(*pat, repo + 10, 0) == 0 || fnmatch(*pat, *n + 10, 0) == 0))
                                        return true;
                        }
                return false;
        }
        return true;
}

static json_object *row_object(const struct image_record *r, size_t name_idx, const char *repo,
                               const char *tag, bool no_trunc)
{
        json_object *o = json_object_new_object();
        char id[13], size[32], since[64], created[64];

        json_object_object_add(o, "ID", json_object_new_string(no_trunc ? r->id : short_id(r->id, id)));
        json_object_object_add(o, "Repository", json_object_new_string(repo));
        json_object_object_add(o, "Tag", json_object_new_string(tag));
        json_object_object_add(o, "Digest", json_object_new_string(digest_for(r, name_idx, repo)));
        json_object_object_add(o, "CreatedSince",
                               json_object_new_string(human_since(r->created_ns, since, sizeof(since))));
        json_object_object_add(
            o, "CreatedAt",
            json_object_new_string(time_format_rfc3339(r->created_ns, created, sizeof(created))));
        json_object_object_add(o, "Size", json_object_new_string(human_size(r->size, size, sizeof(size))));
        return o;
}

static json_object *strv_json(char **l)
{
        json_object *a;

        if (!l || !l[0])
                return NULL;
        a = json_object_new_array();
        STRV_FOREACH (s, l)
                json_object_array_add(a, json_object_new_string(*s));
        return a;
}

static json_object *image_json(const struct image_record *r)
{
        json_object *o = json_object_new_object();
        char created[64];

        json_object_object_add(o, "Id", json_object_new_string(r->id + 7));
        json_object_object_add(o, "ParentId", json_object_new_string(""));
        json_object_object_add(o, "RepoTags", strv_json(r->names));
        json_object_object_add(o, "RepoDigests", strv_json(r->repo_digests));
        json_object_object_add(o, "Size", json_object_new_int64((int64_t)r->size));
        json_object_object_add(o, "SharedSize", json_object_new_int64(0));
        json_object_object_add(o, "VirtualSize", json_object_new_int64((int64_t)r->size));
        json_object_object_add(o, "Labels", NULL);
        json_object_object_add(o, "Containers", json_object_new_int(0));
        json_object_object_add(o, "Names", strv_json(r->names));
        json_object_object_add(o, "Digest", json_object_new_string(r->manifest_digest));
        json_object_object_add(o, "Created", json_object_new_int64(r->created_ns / 1000000000LL));
        json_object_object_add(
            o, "CreatedAt",
            json_object_new_string(time_format_rfc3339(r->created_ns, created, sizeof(created))));
        return o;
}

int cmd_images(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},         {"all", no_argument, NULL, 'a'},
            {"digests", no_argument, NULL, 'd'},      {"filter", required_argument, NULL, 'f'},
            {"format", required_argument, NULL, 'F'}, {"no-trunc", no_argument, NULL, 'n'},
            {"quiet", no_argument, NULL, 'q'},        {},
        };
        _cleanup_berr_ struct berr *err = NULL;
        struct image_record **v = NULL;
        struct filters f = {.dangling = -1};
        bool digests = false, no_trunc = false, quiet = false;
        const char *format = NULL;
        struct image_store *s;
        size_t n = 0;
        int c, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hadf:qn", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        strv_free(f.references);
                        return 0;
                case 'a':
                        break;
                case 'd':
                        digests = true;
                        break;
                case 'f':
                        if (strneq(optarg, "dangling=", 9)) {
                                bool b;
                                if (parse_bool(optarg + 9, &b) < 0) {
                                        strv_free(f.references);
                                        return berth_usage_error(&usage, "invalid filter `%s`", optarg);
                                }
                                f.dangling = b;
                        } else if (strneq(optarg, "reference=", 10)) {
                                strv_extend(&f.references, optarg + 10);
                        } else {
                                strv_free(f.references);
                                return berth_usage_error(&usage, "unsupported filter `%s`", optarg);
                        }
                        break;
                case 'F':
                        format = optarg;
                        break;
                case 'n':
                        no_trunc = true;
                        break;
                case 'q':
                        quiet = true;
                        break;
                default:
                        strv_free(f.references);
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind < argc && streq(argv[0], "images")) {
                /* `berth images NAME` filters by reference like docker. */
                strv_extend(&f.references, argv[optind]);
        } else if (optind < argc) {
                strv_free(f.references);
                return berth_usage_error(&usage, "too many arguments");
        }
        if (berth_store(ctx, &s, &err) < 0 || images_list(s, &v, &n, &err) < 0) {
                strv_free(f.references);
                return berth_fail(&err, EXIT_BERTH);
        }

        if (format && streq(format, "json")) {
                json_object *arr = json_object_new_array();
                for (size_t i = 0; i < n; i++)
                        if (keep(&f, v[i]))
                                json_object_array_add(arr, image_json(v[i]));
                printf("%s\n", json_to_string(arr, true));
                json_object_put(arr);
        } else if (quiet) {
                for (size_t i = 0; i < n; i++) {
                        char id[13];
                        if (keep(&f, v[i]))
                                printf("%s\n", no_trunc ? v[i]->id : short_id(v[i]->id, id));
                }
        } else {
                struct table *t = format ? NULL : table_new(digests ? 6 : 5);
                if (t) {
                        const char *hdr[] = {"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"};
                        const char *hdrd[] = {"REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"};
                        table_add(t, digests ? hdrd : hdr);
                } else if (format_is_table(format)) {
                        format_table_header(format, stdout);
                }
                for (size_t i = 0; i < n && ret == 0; i++) {
                        static char *const none[] = {NULL};
                        char *const *names = v[i]->names && v[i]->names[0] ? v[i]->names : none;
                        if (!keep(&f, v[i]))
                                continue;
                        for (size_t k = 0; k == 0 || names[k]; k++) {
                                _cleanup_free_ char *repo = NULL, *tag = NULL;
                                json_object *row;
                                if (names[k])
                                        split_name(names[k], &repo, &tag);
                                else
                                        repo = strdup("<none>"), tag = strdup("<none>");
                                if (!repo || !tag)
                                        break;
                                row = row_object(v[i], k, repo, tag, no_trunc);
                                if (t) {
                                        const char *cells[6];
                                        size_t j = 0;
                                        json_object *x;
#define CELL(k) (json_object_object_get_ex(row, k, &x) ? json_object_get_string(x) : "")
                                        cells[j++] = repo;
                                        cells[j++] = tag;
                                        if (digests)
                                                cells[j++] = names[k] ? CELL("Digest") : "<none>";
                                        cells[j++] = CELL("ID");
                                        cells[j++] = CELL("CreatedSince");
                                        cells[j++] = CELL("Size");
#undef CELL
                                        table_add(t, cells);
                                } else if (format_template(format, row, stdout, &err) < 0) {
                                        ret = berth_fail(&err, EXIT_BERTH);
                                }
                                json_object_put(row);
                                if (!names[k])
                                        break;
                        }
                }
                table_print(t, stdout);
                table_free(t);
        }
        image_records_free(v, n);
        strv_free(f.references);
        return ret;
}
