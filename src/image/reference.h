/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

#include "basic/error.h"

/*
 * Image references as docker writes them: [domain[:port]/]path[:tag][@digest].
 * Parsing normalizes like docker: no domain -> docker.io, a one-component
 * path on docker.io -> library/NAME, index.docker.io -> docker.io, and a
 * reference with neither tag nor digest gets the tag "latest".
 */
#define IMAGE_REF_DEFAULT_DOMAIN "docker.io"
#define IMAGE_REF_DEFAULT_TAG    "latest"
#define IMAGE_REF_MAX_NAME       255
#define IMAGE_REF_MAX_TAG        128

struct image_ref {
        char *domain; /* "docker.io", "127.0.0.1:5000", "[::1]:5000" */
        char *path;   /* "library/busybox" */
        char *tag;    /* NULL when the reference has only a digest */
        char *digest; /* "sha256:..." or NULL */
};

int image_ref_parse(const char *s, struct image_ref **out, struct berr **err);
/* A repository name only ("busybox", "127.0.0.1:5000/a/b"): no tag or digest allowed. */
int image_ref_parse_repo(const char *s, struct image_ref **out, struct berr **err);
void image_ref_free(struct image_ref *r);
struct image_ref *image_ref_dup(const struct image_ref *r);

/* "docker.io/library/busybox" */
char *image_ref_repo(const struct image_ref *r);
/* "docker.io/library/busybox:latest", "...@sha256:..", "...:tag@sha256:.." */
char *image_ref_string(const struct image_ref *r);
/* "docker.io/library/busybox:latest", or "repo@digest" when there is no tag. */
char *image_ref_name_tag(const struct image_ref *r);
/* True when s is a docker-style repository tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}). */
bool image_ref_tag_valid(const char *s);

static inline void image_ref_freep(struct image_ref **r)
{
        image_ref_free(*r);
}
#define _cleanup_image_ref_ _cleanup_(image_ref_freep)
