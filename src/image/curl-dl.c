/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcurl, loaded when the first registry is contacted.
 *
 * Linked normally, libcurl brings ~30 shared libraries (GnuTLS, Kerberos,
 * LDAP, ...) whose loading costs every `berth` command several
 * milliseconds, also `berth run` of a local image that never talks to a
 * registry. These definitions stand in for the libcurl functions src/image
 * uses and forward to the real ones, resolved with dlopen() on first use.
 */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "curl-dl.h"

#define CURL_SONAME "libcurl.so.4"

static struct {
        void *handle;
        char error[256];
        CURLcode (*global_init)(long);
        CURL *(*easy_init)(void);
        CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
        CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
        CURLcode (*easy_perform)(CURL *);
        void (*easy_cleanup)(CURL *);
        const char *(*easy_strerror)(CURLcode);
        char *(*easy_escape)(CURL *, const char *, int);
        void (*free)(void *);
        struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
        void (*slist_free_all)(struct curl_slist *);
        CURLSH *(*share_init)(void);
        CURLSHcode (*share_setopt)(CURLSH *, CURLSHoption, ...);
        CURLSHcode (*share_cleanup)(CURLSH *);
        CURLU *(*url)(void);
        void (*url_cleanup)(CURLU *);
        CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
        CURLUcode (*url_get)(CURLU *, CURLUPart, char **, unsigned int);
} lib;

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
        void *h = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);

        if (!h) {
                snprintf(lib.error, sizeof(lib.error), "%s", dlerror());
                return;
        }
#define SYM(field, name)                                                                                             \
        do {                                                                                                         \
                *(void **)&lib.field = dlsym(h, name);                                                               \
                if (!lib.field) {                                                                                    \
                        snprintf(lib.error, sizeof(lib.error), "%s: missing symbol %s", CURL_SONAME, name);          \
                        return;                                                                                      \
                }                                                                                                    \
        } while (0)
        SYM(global_init, "curl_global_init");
        SYM(easy_init, "curl_easy_init");
        SYM(easy_setopt, "curl_easy_setopt");
        SYM(easy_getinfo, "curl_easy_getinfo");
        SYM(easy_perform, "curl_easy_perform");
        SYM(easy_cleanup, "curl_easy_cleanup");
        SYM(easy_strerror, "curl_easy_strerror");
        SYM(easy_escape, "curl_easy_escape");
        SYM(free, "curl_free");
        SYM(slist_append, "curl_slist_append");
        SYM(slist_free_all, "curl_slist_free_all");
        SYM(share_init, "curl_share_init");
        SYM(share_setopt, "curl_share_setopt");
        SYM(share_cleanup, "curl_share_cleanup");
        SYM(url, "curl_url");
        SYM(url_cleanup, "curl_url_cleanup");
        SYM(url_set, "curl_url_set");
        SYM(url_get, "curl_url_get");
#undef SYM
        lib.handle = h;
}

const char *curl_dl_error(void)
{
        pthread_once(&once, load);
        return lib.handle ? NULL : lib.error;
}

/* Every entry point below is reached only after curl_global_init(), which
 * fails cleanly when the library could not be loaded. */

CURLcode curl_global_init(long flags)
{
        if (curl_dl_error())
                return CURLE_FAILED_INIT;
        return lib.global_init(flags);
}

CURL *curl_easy_init(void)
{
        return lib.easy_init();
}

/* The option number says the argument's type (curl.h's CURLOPTTYPE_* ranges). */
CURLcode curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
        va_list ap;
        CURLcode r;

        va_start(ap, opt);
        if (opt < CURLOPTTYPE_OBJECTPOINT) {
                r = lib.easy_setopt(h, opt, va_arg(ap, long));
        } else if (opt < CURLOPTTYPE_FUNCTIONPOINT) {
                r = lib.easy_setopt(h, opt, va_arg(ap, void *));
        } else if (opt < CURLOPTTYPE_OFF_T) {
                /* Function pointers travel through varargs as themselves. */
                void (*fn)(void) = va_arg(ap, void (*)(void));
                r = lib.easy_setopt(h, opt, fn);
        } else if (opt < CURLOPTTYPE_BLOB) {
                r = lib.easy_setopt(h, opt, va_arg(ap, curl_off_t));
        } else {
                r = lib.easy_setopt(h, opt, va_arg(ap, void *));
        }
        va_end(ap);
        return r;
}

CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
        va_list ap;
        CURLcode r;

        va_start(ap, info);
        r = lib.easy_getinfo(h, info, va_arg(ap, void *));
        va_end(ap);
        return r;
}

CURLcode curl_easy_perform(CURL *h)
{
        return lib.easy_perform(h);
}

void curl_easy_cleanup(CURL *h)
{
        lib.easy_cleanup(h);
}

const char *curl_easy_strerror(CURLcode c)
{
        return lib.handle ? lib.easy_strerror(c) : lib.error;
}

char *curl_easy_escape(CURL *h, const char *s, int len)
{
        return lib.easy_escape(h, s, len);
}

void curl_free(void *p)
{
        lib.free(p);
}

struct curl_slist *curl_slist_append(struct curl_slist *l, const char *s)
{
        return lib.slist_append(l, s);
}

void curl_slist_free_all(struct curl_slist *l)
{
        if (lib.handle)
                lib.slist_free_all(l);
}

CURLSH *curl_share_init(void)
{
        return lib.share_init();
}

CURLSHcode curl_share_setopt(CURLSH *sh, CURLSHoption opt, ...)
{
        va_list ap;
        CURLSHcode r;

        va_start(ap, opt);
        if (opt == CURLSHOPT_SHARE || opt == CURLSHOPT_UNSHARE) {
                r = lib.share_setopt(sh, opt, va_arg(ap, int));
        } else if (opt == CURLSHOPT_LOCKFUNC || opt == CURLSHOPT_UNLOCKFUNC) {
                void (*fn)(void) = va_arg(ap, void (*)(void));
                r = lib.share_setopt(sh, opt, fn);
        } else {
                r = lib.share_setopt(sh, opt, va_arg(ap, void *));
        }
        va_end(ap);
        return r;
}

CURLSHcode curl_share_cleanup(CURLSH *sh)
{
        return lib.share_cleanup(sh);
}

CURLU *curl_url(void)
{
        return lib.url();
}

void curl_url_cleanup(CURLU *u)
{
        lib.url_cleanup(u);
}

CURLUcode curl_url_set(CURLU *u, CURLUPart part, const char *content, unsigned int flags)
{
        return lib.url_set(u, part, content, flags);
}

CURLUcode curl_url_get(CURLU *u, CURLUPart part, char **out, unsigned int flags)
{
        return lib.url_get(u, part, out, flags);
}
