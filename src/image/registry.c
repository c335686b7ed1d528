/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "auth.h"
#include "berth-config.h"
#include "basic/digest.h"
#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "basic/timeutil.h"
#include "manifest.h"
#include "registry.h"
#include "util.h"

#define ERROR_BODY_MAX   (64 * 1024)
#define TOKEN_BODY_MAX   (1 << 20)
#define CERT_FILE_MAX    (1 << 20)
#define DEFAULT_RETRIES  4
#define DEFAULT_DELAY_MS 200
#define MAX_DELAY_MS     5000
#define USER_AGENT       "berth/" BERTH_VERSION

enum auth_kind { AUTH_UNKNOWN, AUTH_NONE, AUTH_BASIC, AUTH_BEARER };

struct token {
        char *scope;
        char *value;
        int64_t expires; /* monotonic ns */
};

struct registry {
        char *domain;
        char *scheme;
        bool verify;
        bool insecure;
        bool scheme_fixed;
        unsigned retries, delay_ms;
        char *authfile;
        struct auth_creds *creds;
        bool creds_loaded;
        char *ca_pem;
        size_t ca_len;
        char *client_cert, *client_key;
        CURLSH *share;
        pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];
        pthread_mutex_t mu;
        enum auth_kind auth;
        char *realm, *service;
        struct token *tokens;
        size_t n_tokens;
};

/* One HTTP exchange (plus redirects). */
struct xfer {
        struct registry *r;
        CURL *h;
        long status;
        bool in_body;
        bool body_ok;
        char *content_type, *www_auth, *location, *docker_digest, *content_range;
        /* success body to memory (max bytes) or to sink */
        char *buf;
        size_t len, cap, max;
        bool too_big;
        registry_sink_t sink;
        void *ud;
        uint64_t skip;      /* leading bytes to drop (a 200 answer to a Range request) */
        uint64_t delivered; /* bytes given to sink in this exchange */
        uint64_t range_from;
        bool force_full; /* no Range header, skip range_from bytes of the answer */
        struct berr *sink_err;
        /* error body */
        char *ebuf;
        size_t elen;
        /* upload */
        const char *body;
        size_t body_len, body_off;
        int upload_fd;
        uint64_t upload_size, upload_off;
        const char *content_type_out;
        const char *accept;
        char curl_err[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
        curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void xfer_reset(struct xfer *x)
{
        free(x->content_type);
        free(x->www_auth);
        free(x->location);
        free(x->docker_digest);
        free(x->content_range);
        free(x->buf);
        free(x->ebuf);
        berr_freep(&x->sink_err);
        x->content_type = x->www_auth = x->location = x->docker_digest = x->content_range = NULL;
        x->buf = x->ebuf = NULL;
        x->len = x->cap = x->elen = 0;
        x->too_big = false;
        x->status = 0;
        x->in_body = false;
        x->body_ok = false;
        x->delivered = 0;
        x->body_off = 0;
        x->upload_off = 0;
        x->curl_err[0] = '\0';
}

static void xfer_done(struct xfer *x)
{
        xfer_reset(x);
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ud)
{
        struct registry *r = ud;
        (void)h;
        (void)access;
        pthread_mutex_lock(&r->share_mu[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ud)
{
        struct registry *r = ud;
        (void)h;
        pthread_mutex_unlock(&r->share_mu[data]);
}

const char *registry_domain(const struct registry *r)
{
        return r->domain;
}

void registry_free(struct registry *r)
{
        if (!r)
                return;
        if (r->share)
                curl_share_cleanup(r->share);
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
                pthread_mutex_destroy(&r->share_mu[i]);
        pthread_mutex_destroy(&r->mu);
        for (size_t i = 0; i < r->n_tokens; i++) {
                free(r->tokens[i].scope);
                if (r->tokens[i].value)
                        explicit_bzero(r->tokens[i].value, strlen(r->tokens[i].value));
                free(r->tokens[i].value);
        }
        free(r->tokens);
        free(r->realm);
        free(r->service);
        auth_creds_free(r->creds);
        free(r->ca_pem);
        free(r->client_cert);
        free(r->client_key);
        free(r->authfile);
        free(r->scheme);
        free(r->domain);
        free(r);
}

static bool has_suffix(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && streq(s + a - b, suffix);
}

/* certs.d layout (docker/podman): *.crt are CAs, NAME.cert + NAME.key a client certificate. */
static int load_cert_dir(struct registry *r, const char *dir, bool must_exist, struct berr **err)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;

        if (!d) {
                if (!must_exist && (errno == ENOENT || errno == ENOTDIR))
                        return 0;
                return berr_errno(err, "certificate directory `%s`", dir);
        }
        while ((de = readdir(d))) {
                _cleanup_free_ char *path = NULL;
                if (de->d_name[0] == '.')
                        continue;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
                        return berr_make(err, ENOMEM, "certificates");
                if (has_suffix(de->d_name, ".crt")) {
                        _cleanup_free_ char *pem = NULL;
                        size_t n;
                        char *nb;
                        if (read_file_at(AT_FDCWD, path, CERT_FILE_MAX, &pem, &n, err) < 0)
                                return -1;
                        nb = realloc(r->ca_pem, r->ca_len + n + 2);
                        if (!nb)
                                return berr_make(err, ENOMEM, "certificates");
                        r->ca_pem = nb;
                        memcpy(r->ca_pem + r->ca_len, pem, n);
                        r->ca_len += n;
                        r->ca_pem[r->ca_len++] = '\n';
                        r->ca_pem[r->ca_len] = '\0';
                } else if (has_suffix(de->d_name, ".cert")) {
                        _cleanup_free_ char *key = NULL;
                        if (asprintf(&key, "%.*s.key", (int)(strlen(path) - 5), path) < 0)
                                return berr_make(err, ENOMEM, "certificates");
                        if (access(key, R_OK) < 0)
                                return berr_errno(err, "client certificate `%s` has no key `%s`", path, key);
                        free(r->client_cert);
                        free(r->client_key);
                        r->client_cert = TAKE_PTR(path);
                        r->client_key = TAKE_PTR(key);
                }
        }
        return 0;
}

int registry_new(const char *domain, bool insecure, const struct registry_opts *o, struct registry **out,
                 struct berr **err)
{
        _cleanup_registry_ struct registry *r = calloc(1, sizeof(*r));
        static const struct registry_opts defaults = {.tls_verify = -1};

        if (!o)
                o = &defaults;
        if (!r)
                return berr_make(err, ENOMEM, "registry");
        pthread_once(&curl_once, curl_init);
        if (curl_init_result != CURLE_OK)
                return img_err(err, EIO, "curl_global_init: %s", curl_easy_strerror(curl_init_result));
        pthread_mutex_init(&r->mu, NULL);
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
                pthread_mutex_init(&r->share_mu[i], NULL);
        r->domain = strdup(domain);
        r->scheme = strdup("https");
        if (!r->domain || !r->scheme)
                return berr_make(err, ENOMEM, "registry");
        r->insecure = insecure || o->tls_verify == 0 ||
                      (o->tls_verify < 0 && registries_conf_insecure(o->conf, domain));
        r->verify = !r->insecure;
        r->retries = o->retries ? o->retries : DEFAULT_RETRIES;
        r->delay_ms = o->retry_delay_ms ? o->retry_delay_ms : DEFAULT_DELAY_MS;
        if (o->authfile && !(r->authfile = strdup(o->authfile)))
                return berr_make(err, ENOMEM, "registry");
        if (o->username) {
                r->creds = calloc(1, sizeof(*r->creds));
                if (!r->creds || !(r->creds->username = strdup(o->username)) ||
                    !(r->creds->password = strdup(o->password ? o->password : "")))
                        return berr_make(err, ENOMEM, "registry");
                r->creds_loaded = true;
        }
        if (o->cert_dir) {
                if (load_cert_dir(r, o->cert_dir, true, err) < 0)
                        return -1;
        } else {
                _cleanup_free_ char *a = NULL, *b = NULL;
                if (asprintf(&a, "/etc/containers/certs.d/%s", domain) < 0 ||
                    asprintf(&b, "/etc/docker/certs.d/%s", domain) < 0)
                        return berr_make(err, ENOMEM, "registry");
                if (load_cert_dir(r, a, false, err) < 0 || load_cert_dir(r, b, false, err) < 0)
                        return -1;
        }
        r->share = curl_share_init();
        if (!r->share)
                return berr_make(err, ENOMEM, "curl_share_init");
        curl_share_setopt(r->share, CURLSHOPT_LOCKFUNC, share_lock);
        curl_share_setopt(r->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
        curl_share_setopt(r->share, CURLSHOPT_USERDATA, r);
        curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
        curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
        *out = TAKE_PTR(r);
        return 0;
}

static char *header_value(const char *line, size_t n, const char *name)
{
        size_t l = strlen(name);
        const char *v;

        if (n <= l || strncasecmp(line, name, l) != 0 || line[l] != ':')
                return NULL;
        v = line + l + 1;
        while (v < line + n && (*v == ' ' || *v == '\t'))
                v++;
        while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n' || line[n - 1] == ' '))
                n--;
        if (line + n < v)
                return strdup("");
        return strndup(v, (size_t)(line + n - v));
}

static void set_header(char **dst, char *v)
{
        if (!v)
                return;
        free(*dst);
        *dst = v;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *ud)
{
        struct xfer *x = ud;
        size_t n = size * nmemb;

        if (n >= 5 && strneq(line, "HTTP/", 5)) {
                /* A new response (after a redirect or 100-continue): forget the last one's headers. */
                free(x->content_type);
                free(x->www_auth);
                free(x->location);
                free(x->docker_digest);
                free(x->content_range);
                x->content_type = x->www_auth = x->location = x->docker_digest = x->content_range = NULL;
                x->in_body = false;
                return n;
        }
        set_header(&x->content_type, header_value(line, n, "content-type"));
        set_header(&x->www_auth, header_value(line, n, "www-authenticate"));
        set_header(&x->location, header_value(line, n, "location"));
        set_header(&x->docker_digest, header_value(line, n, "docker-content-digest"));
        set_header(&x->content_range, header_value(line, n, "content-range"));
        return n;
}

static int buf_append(char **buf, size_t *len, size_t *cap, const void *data, size_t n)
{
        if (*len + n + 1 > *cap) {
                size_t nc = MAX(*cap * 2, *len + n + 1);
                char *nb = realloc(*buf, MAX(nc, 4096));
                if (!nb)
                        return -ENOMEM;
                *buf = nb;
                *cap = MAX(nc, 4096);
        }
        memcpy(*buf + *len, data, n);
        *len += n;
        (*buf)[*len] = '\0';
        return 0;
}

static int check_range_start(const struct xfer *x, uint64_t want)
{
        uint64_t start;

        if (!x->content_range || sscanf(x->content_range, "bytes %" SCNu64 "-", &start) != 1)
                return -1;
        return start == want ? 0 : -1;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
        struct xfer *x = ud;
        size_t n = size * nmemb, k = 0;

        if (!x->in_body) {
                x->in_body = true;
                curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
                x->body_ok = x->status >= 200 && x->status < 300;
                x->skip = 0;
                if (x->body_ok && x->range_from > 0) {
                        /* 206 must continue where we are; a 200 resends everything, so drop
                         * what is stored already (the final digest check covers it). */
                        if (x->status == 206 && !x->force_full && check_range_start(x, x->range_from) < 0) {
                                img_err(&x->sink_err, EPROTO, "the registry answered a Range request with `%s`",
                                          x->content_range ? x->content_range : "no Content-Range");
                                return CURL_WRITEFUNC_ERROR;
                        }
                        if (x->status == 200 || x->force_full)
                                x->skip = x->range_from;
                }
        }
        if (!x->body_ok) {
                size_t room = ERROR_BODY_MAX - x->elen;
                if (room > 0) {
                        char *nb = realloc(x->ebuf, x->elen + MIN(room, n) + 1);
                        if (!nb)
                                return CURL_WRITEFUNC_ERROR;
                        x->ebuf = nb;
                        memcpy(x->ebuf + x->elen, data, MIN(room, n));
                        x->elen += MIN(room, n);
                        x->ebuf[x->elen] = '\0';
                }
                return n;
        }
        if (x->skip > 0) {
                k = (size_t)MIN((uint64_t)n, x->skip);
                x->skip -= k;
                if (k == n)
                        return n;
        }
        if (x->sink) {
                if (x->sink(x->ud, data + k, n - k, &x->sink_err) < 0)
                        return CURL_WRITEFUNC_ERROR;
                x->delivered += n - k;
                return n;
        }
        if (x->len + n > x->max) {
                x->too_big = true;
                return CURL_WRITEFUNC_ERROR;
        }
        if (buf_append(&x->buf, &x->len, &x->cap, data, n) < 0)
                return CURL_WRITEFUNC_ERROR;
        return n;
}

static size_t on_upload(char *out, size_t size, size_t nmemb, void *ud)
{
        struct xfer *x = ud;
        size_t n = size * nmemb;

        if (x->body) {
                size_t k = MIN(n, x->body_len - x->body_off);
                memcpy(out, x->body + x->body_off, k);
                x->body_off += k;
                return k;
        }
        if (x->upload_fd >= 0) {
                ssize_t k;
                if (x->upload_off >= x->upload_size)
                        return 0;
                n = (size_t)MIN((uint64_t)n, x->upload_size - x->upload_off);
                do
                        k = pread(x->upload_fd, out, n, (off_t)x->upload_off);
                while (k < 0 && errno == EINTR);
                if (k <= 0)
                        return CURL_READFUNC_ABORT;
                x->upload_off += (uint64_t)k;
                return (size_t)k;
        }
        return 0;
}

static CURLcode on_ssl_ctx(CURL *h, void *sslctx, void *ud)
{
        struct registry *r = ud;
        X509_STORE *store = SSL_CTX_get_cert_store((SSL_CTX *)sslctx);
        BIO *bio;
        STACK_OF(X509_INFO) *infos;
        (void)h;

        /* certs.d CAs are trusted in addition to the system ones, as podman does. */
        bio = BIO_new_mem_buf(r->ca_pem, (int)r->ca_len);
        if (!bio)
                return CURLE_OUT_OF_MEMORY;
        infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
        BIO_free(bio);
        if (!infos)
                return CURLE_SSL_CACERT_BADFILE;
        for (int i = 0; i < sk_X509_INFO_num(infos); i++) {
                X509_INFO *xi = sk_X509_INFO_value(infos, i);
                if (xi->x509)
                        X509_STORE_add_cert(store, xi->x509);
        }
        sk_X509_INFO_pop_free(infos, X509_INFO_free);
        return CURLE_OK;
}

static bool curl_transient(CURLcode c)
{
        switch (c) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_PARTIAL_FILE:
        case CURLE_GOT_NOTHING:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_COULDNT_RESOLVE_HOST:
                return true;
        default:
                return false;
        }
}

static bool status_transient(long s)
{
        return s == 429 || (s >= 500 && s != 501 && s != 505);
}

static void backoff(struct registry *r, unsigned attempt)
{
        uint64_t ms = (uint64_t)r->delay_ms << MIN(attempt, 10u);
        struct timespec ts;

        ms = MIN(ms, (uint64_t)MAX_DELAY_MS);
        ts.tv_sec = (time_t)(ms / 1000);
        ts.tv_nsec = (long)(ms % 1000) * 1000000;
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* "HTTP 404: MANIFEST_UNKNOWN: manifest unknown" from a registry's error body. */
static char *describe_status(const struct xfer *x)
{
        _cleanup_json_ json_object *doc = NULL;
        _cleanup_free_ char *detail = NULL;
        char *out;

        if (x->ebuf && x->elen > 0 && json_parse_buf(x->ebuf, x->elen, "error", &doc, NULL) == 0 &&
            json_object_is_type(doc, json_type_object)) {
                json_object *errs;
                if (json_object_object_get_ex(doc, "errors", &errs) && json_object_is_type(errs, json_type_array)) {
                        size_t n = MIN(json_object_array_length(errs), (size_t)3);
                        for (size_t i = 0; i < n; i++) {
                                json_object *e = json_object_array_get_idx(errs, i), *c = NULL, *m = NULL;
                                char *nd;
                                json_object_object_get_ex(e, "code", &c);
                                json_object_object_get_ex(e, "message", &m);
                                if (asprintf(&nd, "%s%s%.100s%s%.200s", detail ? detail : "", detail ? "; " : "",
                                             c && json_object_is_type(c, json_type_string) ? json_object_get_string(c)
                                                                                             : "",
                                             m && json_object_is_type(m, json_type_string) ? ": " : "",
                                             m && json_object_is_type(m, json_type_string) ? json_object_get_string(m)
                                                                                             : "") < 0)
                                        break;
                                free(detail);
                                detail = nd;
                        }
                }
        }
        if (!detail && x->content_type && strncasecmp(x->content_type, "text/html", 9) == 0) {
                const char *t = x->ebuf ? strcasestr(x->ebuf, "<title>") : NULL;
                const char *e = t ? strcasestr(t, "</title>") : NULL;
                if (asprintf(&detail, "an HTML page%s%.*s%s", t && e ? " (\"" : "", t && e ? (int)MIN(e - t - 7, 100) : 0,
                             t && e ? t + 7 : "", t && e ? "\")" : "") < 0)
                        detail = NULL;
        }
        if (!detail && x->ebuf && x->elen > 0) {
                size_t n = MIN(x->elen, (size_t)200);
                detail = strndup(x->ebuf, n);
                for (char *p = detail; p && *p; p++)
                        if (!isprint((unsigned char)*p))
                                *p = ' ';
        }
        if (asprintf(&out, "HTTP %ld%s%s", x->status, detail ? ": " : "", detail ? detail : "") < 0)
                return NULL;
        return out;
}

static int status_errno(long s)
{
        switch (s) {
        case 401:
                return EACCES;
        case 403:
                return EPERM;
        case 404:
                return ENOENT;
        case 429:
                return EAGAIN;
        default:
                return s >= 500 ? EIO : EPROTO;
        }
}

static int load_creds(struct registry *r, const char *repo, struct berr **err)
{
        if (r->creds_loaded)
                return 0;
        r->creds_loaded = true;
        if (auth_lookup(r->authfile, r->domain, repo, &r->creds, err) < 0)
                return -1;
        return 0;
}

static struct token *find_token(struct registry *r, const char *scope)
{
        int64_t now = time_mono_ns();

        for (size_t i = 0; i < r->n_tokens; i++)
                if (streq(r->tokens[i].scope, scope) && r->tokens[i].expires > now)
                        return &r->tokens[i];
        return NULL;
}

static CURL *easy_new(struct registry *r, struct xfer *x, const char *method, const char *url,
                      struct curl_slist *headers)
{
        CURL *h = curl_easy_init();

        if (!h)
                return NULL;
        x->r = r;
        x->h = h;
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_SHARE, r->share);
        curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->curl_err);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
        /* A transfer that stalls for a minute is broken; resume or retry it. */
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
        curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024);
        curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, r->verify ? 1L : 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, r->verify ? 2L : 0L);
        if (r->ca_pem) {
                curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
                curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, r);
        }
        if (r->client_cert) {
                curl_easy_setopt(h, CURLOPT_SSLCERT, r->client_cert);
                curl_easy_setopt(h, CURLOPT_SSLKEY, r->client_key);
        }
        if (streq(method, "HEAD")) {
                curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else if (streq(method, "PUT")) {
                curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(h, CURLOPT_READFUNCTION, on_upload);
                curl_easy_setopt(h, CURLOPT_READDATA, x);
                curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
                                 (curl_off_t)(x->body ? x->body_len : x->upload_fd >= 0 ? x->upload_size : 0));
        } else if (streq(method, "POST")) {
                curl_easy_setopt(h, CURLOPT_POST, 1L);
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        } else if (!streq(method, "GET")) {
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        }
        if (streq(method, "GET") || streq(method, "HEAD")) {
                curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
                curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
        }
        return h;
}

static int fetch_token(struct registry *r, const char *scopes, const char *repo, struct berr **err);

/* Authorization header for scope per what the registry asked for; fetches a token when needed. */
static int auth_header(struct registry *r, const char *scope, const char *repo, char **out, struct berr **err)
{
        struct token *t;

        *out = NULL;
        switch (r->auth) {
        case AUTH_UNKNOWN:
        case AUTH_NONE:
                return 0;
        case AUTH_BASIC: {
                _cleanup_free_ char *b64 = NULL;
                if (load_creds(r, repo, err) < 0)
                        return -1;
                if (!r->creds)
                        return img_err(err, EACCES,
                                         "%s requires authentication: no credentials (use `berth login %s`)",
                                         r->domain, r->domain);
                b64 = auth_encode_basic(r->creds->username, r->creds->password);
                if (!b64 || asprintf(out, "Authorization: Basic %s", b64) < 0)
                        return berr_make(err, ENOMEM, "auth");
                explicit_bzero(b64, strlen(b64));
                return 0;
        }
        case AUTH_BEARER:
                t = find_token(r, scope ? scope : "");
                if (!t) {
                        if (fetch_token(r, scope, repo, err) < 0)
                                return -1;
                        t = find_token(r, scope ? scope : "");
                }
                if (!t || !*t->value)
                        return 0;
                if (asprintf(out, "Authorization: Bearer %s", t->value) < 0)
                        return berr_make(err, ENOMEM, "auth");
                return 0;
        }
        return 0;
}

/* Learns from a 401's challenge; returns 1 when a retry can succeed. */
static int handle_challenge(struct registry *r, const struct xfer *x, const char *scope, const char *repo,
                            bool had_auth, struct berr **err)
{
        struct auth_challenge *ch = NULL;
        size_t n = 0;
        int ret = 0;

        if (!x->www_auth)
                return img_err(err, EACCES, "%s: unauthorized (HTTP 401 without a WWW-Authenticate challenge)",
                                 r->domain);
        if (www_authenticate_parse(x->www_auth, &ch, &n, err) < 0)
                return berr_wrap(err, "%s", r->domain);
        for (size_t i = 0; i < n; i++) {
                if (streq(ch[i].scheme, "bearer")) {
                        const char *realm = auth_challenge_param(&ch[i], "realm");
                        const char *service = auth_challenge_param(&ch[i], "service");
                        if (!realm || !(strneq(realm, "https://", 8) || strneq(realm, "http://", 7))) {
                                ret = img_err(err, EPROTO, "%s: Bearer challenge without a usable realm", r->domain);
                                break;
                        }
                        /* A token we just got was refused: asking again would loop. */
                        if (r->auth == AUTH_BEARER && had_auth)
                                break;
                        free(r->realm);
                        free(r->service);
                        r->realm = strdup(realm);
                        r->service = service ? strdup(service) : NULL;
                        r->auth = AUTH_BEARER;
                        ret = r->realm ? 1 : berr_make(err, ENOMEM, "auth");
                        break;
                }
                if (streq(ch[i].scheme, "basic")) {
                        if (r->auth == AUTH_BASIC && had_auth)
                                break;
                        r->auth = AUTH_BASIC;
                        if (load_creds(r, repo, err) < 0) {
                                ret = -1;
                                break;
                        }
                        ret = r->creds ? 1
                                       : img_err(err, EACCES,
                                                   "%s requires authentication: no credentials (use `berth login %s`)",
                                                   r->domain, r->domain);
                        break;
                }
        }
        auth_challenges_free(ch, n);
        return ret;
}

/*
 * One request with authentication: on a 401 learns the challenge, gets a
 * token and tries once more. Returns the curl result; HTTP status in x->status.
 */
static CURLcode perform(struct registry *r, struct xfer *x, const char *method, const char *url, const char *scope,
                        const char *repo, struct curl_slist *extra, struct berr **err)
{
        CURLcode c = CURLE_OK;
        bool had_auth = false;

        for (int round = 0; round < 3; round++) {
                _cleanup_free_ char *authz = NULL;
                struct curl_slist *headers = NULL;
                CURL *h;
                int cr;

                pthread_mutex_lock(&r->mu);
                cr = auth_header(r, scope, repo, &authz, err);
                pthread_mutex_unlock(&r->mu);
                if (cr < 0)
                        return CURLE_LOGIN_DENIED;
                had_auth = authz != NULL;
                for (struct curl_slist *s = extra; s; s = s->next)
                        headers = curl_slist_append(headers, s->data);
                if (authz)
                        headers = curl_slist_append(headers, authz);
                h = easy_new(r, x, method, url, headers);
                if (!h) {
                        curl_slist_free_all(headers);
                        berr_make(err, ENOMEM, "curl_easy_init");
                        return CURLE_OUT_OF_MEMORY;
                }
                if (x->range_from > 0 && !x->force_full) {
                        char range[48];
                        snprintf(range, sizeof(range), "%" PRIu64 "-", x->range_from);
                        curl_easy_setopt(h, CURLOPT_RANGE, range);
                }
                c = curl_easy_perform(h);
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &x->status);
                curl_easy_cleanup(h);
                x->h = NULL;
                curl_slist_free_all(headers);
                if (authz)
                        explicit_bzero(authz, strlen(authz));
                if (c != CURLE_OK || x->status != 401)
                        return c;
                /* 401: the body went to the error buffer; the next round starts afresh. */
                pthread_mutex_lock(&r->mu);
                cr = handle_challenge(r, x, scope, repo, had_auth, err);
                if (cr == 1 && r->auth == AUTH_BEARER) {
                        for (size_t i = 0; i < r->n_tokens; i++)
                                if (streq(r->tokens[i].scope, scope ? scope : ""))
                                        r->tokens[i].expires = 0;
                }
                pthread_mutex_unlock(&r->mu);
                if (cr < 0)
                        return CURLE_LOGIN_DENIED;
                if (cr == 0)
                        return CURLE_OK; /* status stays 401 for the caller */
                free(x->ebuf);
                x->ebuf = NULL;
                x->elen = 0;
                x->in_body = false;
        }
        return c;
}

/* Switches to plain http when TLS fails against an insecure registry (podman's fallback). */
static bool maybe_fallback_http(struct registry *r, CURLcode c)
{
        bool switched = false;

        pthread_mutex_lock(&r->mu);
        if (r->insecure && !r->scheme_fixed && streq(r->scheme, "https") &&
            (c == CURLE_SSL_CONNECT_ERROR || c == CURLE_RECV_ERROR || c == CURLE_GOT_NOTHING ||
             c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_COULDNT_CONNECT)) {
                char *h = strdup("http");
                if (h) {
                        free(r->scheme);
                        r->scheme = h;
                        r->scheme_fixed = true;
                        switched = true;
                        log_debug("%s: TLS failed (%s), using plain http", r->domain, curl_easy_strerror(c));
                }
        }
        pthread_mutex_unlock(&r->mu);
        return switched;
}

static char *make_url(struct registry *r, const char *fmt, ...) _printf_(2, 3);
static char *make_url(struct registry *r, const char *fmt, ...)
{
        _cleanup_free_ char *path = NULL;
        char *url;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&path, fmt, ap);
        va_end(ap);
        if (n < 0)
                return NULL;
        pthread_mutex_lock(&r->mu);
        n = asprintf(&url, "%s://%s%s", r->scheme, r->domain, path);
        pthread_mutex_unlock(&r->mu);
        return n < 0 ? NULL : url;
}

static int curl_failure(struct registry *r, const struct xfer *x, CURLcode c, const char *what, struct berr **err)
{
        if (x->sink_err) {
                struct berr *e = x->sink_err;
                ((struct xfer *)x)->sink_err = NULL;
                berr_move(err, &e);
                return -1;
        }
        if (c == CURLE_LOGIN_DENIED)
                return -1; /* err already says why */
        if (x->too_big)
                return img_err(err, EFBIG, "%s: response larger than %zu bytes", what, x->max);
        if (c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_SSL_CACERT_BADFILE)
                return img_err(err, EPROTO,
                                 "%s: TLS verification of %s failed: %s (use --cert-dir with the registry's CA, or "
                                 "--tls-verify=false for a registry you trust)",
                                 what, r->domain, x->curl_err[0] ? x->curl_err : curl_easy_strerror(c));
        return berr_make(err, c == CURLE_COULDNT_CONNECT ? ECONNREFUSED : EIO, "%s: %s", what,
                         x->curl_err[0] ? x->curl_err : curl_easy_strerror(c));
}

/*
 * A request with retries for transient failures. On return x holds the final
 * response; returns 0 for any HTTP status (the caller judges it) or an error
 * for transport failures.
 */
static int request(struct registry *r, struct xfer *x, const char *method, const char *path, const char *scope,
                   const char *repo, struct curl_slist *extra, const char *what, struct berr **err)
{
        for (unsigned attempt = 0;; attempt++) {
                _cleanup_free_ char *url = strneq(path, "http://", 7) || strneq(path, "https://", 8)
                                                   ? strdup(path)
                                                   : make_url(r, "%s", path);
                CURLcode c;

                if (!url)
                        return berr_make(err, ENOMEM, "%s", what);
                xfer_reset(x);
                c = perform(r, x, method, url, scope, repo, extra, err);
                if (c != CURLE_OK && !strneq(path, "http", 4) && maybe_fallback_http(r, c)) {
                        attempt--;
                        continue;
                }
                if (c == CURLE_OK && !status_transient(x->status)) {
                        pthread_mutex_lock(&r->mu);
                        r->scheme_fixed = true;
                        pthread_mutex_unlock(&r->mu);
                        return 0;
                }
                if (attempt >= r->retries || (c != CURLE_OK && (!curl_transient(c) || x->sink_err))) {
                        if (c != CURLE_OK)
                                return curl_failure(r, x, c, what, err);
                        return 0;
                }
                log_debug("%s: %s, retrying (%u/%u)", what,
                          c != CURLE_OK ? curl_easy_strerror(c) : "server error", attempt + 1, r->retries);
                backoff(r, attempt);
        }
}

static int status_error(const struct xfer *x, const char *what, struct berr **err)
{
        _cleanup_free_ char *d = describe_status(x);

        return berr_make(err, status_errno(x->status), "%s: %s", what, d ? d : "error");
}

static int fetch_token(struct registry *r, const char *scopes, const char *repo, struct berr **err)
{
        _cleanup_free_ char *url = NULL, *copy = NULL, *basic = NULL;
        _cleanup_json_ json_object *doc = NULL;
        struct curl_slist *headers = NULL;
        struct xfer x = {.upload_fd = -1, .max = TOKEN_BODY_MAX};
        CURLU *u = curl_url();
        char *save = NULL, *tok = NULL;
        int64_t expires = 60;
        int ret = -1;

        if (!u)
                return berr_make(err, ENOMEM, "token");
        if (curl_url_set(u, CURLUPART_URL, r->realm, 0) != CURLUE_OK) {
                curl_url_cleanup(u);
                return img_err(err, EPROTO, "%s: bad token realm `%s`", r->domain, r->realm);
        }
        if (r->service) {
                _cleanup_free_ char *q = NULL;
                if (asprintf(&q, "service=%s", r->service) < 0)
                        goto out;
                curl_url_set(u, CURLUPART_QUERY, q, CURLU_APPENDQUERY | CURLU_URLENCODE);
        }
        copy = scopes ? strdup(scopes) : NULL;
        for (char *s = copy ? strtok_r(copy, " ", &save) : NULL; s; s = strtok_r(NULL, " ", &save)) {
                _cleanup_free_ char *q = NULL;
                if (asprintf(&q, "scope=%s", s) < 0)
                        goto out;
                curl_url_set(u, CURLUPART_QUERY, q, CURLU_APPENDQUERY | CURLU_URLENCODE);
        }
        if (load_creds(r, repo, err) < 0)
                goto out;
        if (r->creds) {
                _cleanup_free_ char *q = NULL;
                if (asprintf(&q, "account=%s", r->creds->username) < 0)
                        goto out;
                curl_url_set(u, CURLUPART_QUERY, q, CURLU_APPENDQUERY | CURLU_URLENCODE);
                basic = auth_encode_basic(r->creds->username, r->creds->password);
                if (!basic)
                        goto out;
                {
                        _cleanup_free_ char *hdr = NULL;
                        if (asprintf(&hdr, "Authorization: Basic %s", basic) < 0)
                                goto out;
                        headers = curl_slist_append(headers, hdr);
                        explicit_bzero(hdr, strlen(hdr));
                }
        }
        if (curl_url_get(u, CURLUPART_URL, &tok, 0) != CURLUE_OK)
                goto out;
        url = strdup(tok);
        curl_free(tok);
        if (!url)
                goto out;
        for (unsigned attempt = 0;; attempt++) {
                CURL *h;
                CURLcode c;
                xfer_reset(&x);
                h = easy_new(r, &x, "GET", url, headers);
                if (!h)
                        goto out;
                c = curl_easy_perform(h);
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &x.status);
                curl_easy_cleanup(h);
                if (c == CURLE_OK && !status_transient(x.status))
                        break;
                if (attempt >= r->retries) {
                        if (c != CURLE_OK) {
                                curl_failure(r, &x, c, "get registry token", err);
                                goto out;
                        }
                        break;
                }
                backoff(r, attempt);
        }
        if (x.status == 401 || x.status == 403) {
                _cleanup_free_ char *d = describe_status(&x);
                img_err(err, EACCES, "%s: authentication failed%s: %s", r->domain,
                          r->creds ? " (check the credentials of `berth login`)" : "", d ? d : "");
                goto out;
        }
        if (x.status != 200) {
                status_error(&x, "get registry token", err);
                goto out;
        }
        if (json_parse_buf(x.buf ? x.buf : "", x.len, "token response", &doc, err) < 0 ||
            !json_object_is_type(doc, json_type_object)) {
                img_err(err, EPROTO, "%s: the token server did not answer with a JSON object", r->domain);
                goto out;
        }
        {
                json_object *t = NULL, *e = NULL;
                struct token *nt;
                if ((!json_object_object_get_ex(doc, "token", &t) || !json_object_is_type(t, json_type_string)) &&
                    (!json_object_object_get_ex(doc, "access_token", &t) || !json_object_is_type(t, json_type_string))) {
                        img_err(err, EPROTO, "%s: the token response has no token", r->domain);
                        goto out;
                }
                if (json_object_object_get_ex(doc, "expires_in", &e) && json_object_is_type(e, json_type_int))
                        expires = json_object_get_int64(e);
                expires = expires < 60 ? 60 : MIN(expires, (int64_t)86400);
                nt = realloc(r->tokens, (r->n_tokens + 1) * sizeof(*nt));
                if (!nt)
                        goto out;
                r->tokens = nt;
                nt[r->n_tokens].scope = strdup(scopes ? scopes : "");
                nt[r->n_tokens].value = strdup(json_object_get_string(t));
                /* Renew a little early rather than race the expiry. */
                nt[r->n_tokens].expires = time_mono_ns() + (expires - 10) * 1000000000LL;
                if (!nt[r->n_tokens].scope || !nt[r->n_tokens].value) {
                        free(nt[r->n_tokens].scope);
                        free(nt[r->n_tokens].value);
                        goto out;
                }
                r->n_tokens++;
        }
        ret = 0;
out:
        if (ret < 0 && err && !*err)
                berr_make(err, ENOMEM, "%s: get registry token", r->domain);
        if (basic)
                explicit_bzero(basic, strlen(basic));
        curl_slist_free_all(headers);
        curl_url_cleanup(u);
        xfer_done(&x);
        return ret;
}

static char *pull_scope(const char *repo)
{
        char *s;
        return asprintf(&s, "repository:%s:pull", repo) < 0 ? NULL : s;
}

static char *push_scope(const char *repo, const char *from)
{
        char *s;
        if (from)
                return asprintf(&s, "repository:%s:pull,push repository:%s:pull", repo, from) < 0 ? NULL : s;
        return asprintf(&s, "repository:%s:pull,push", repo) < 0 ? NULL : s;
}

int registry_ping(struct registry *r, struct berr **err)
{
        struct xfer x = {.upload_fd = -1, .max = 64 * 1024};
        _cleanup_free_ char *what = NULL;
        int ret;

        if (asprintf(&what, "ping %s", r->domain) < 0)
                return berr_make(err, ENOMEM, "ping");
        ret = request(r, &x, "GET", "/v2/", NULL, NULL, NULL, what, err);
        if (ret == 0 && x.status == 401)
                ret = img_err(err, EACCES, "%s: authentication failed", r->domain);
        else if (ret == 0 && x.status != 200)
                ret = status_error(&x, what, err);
        if (ret == 0 && r->auth == AUTH_UNKNOWN)
                r->auth = AUTH_NONE;
        xfer_done(&x);
        return ret;
}

static bool is_digest_ref(const char *reference)
{
        return strchr(reference, ':') != NULL;
}

int registry_get_manifest(struct registry *r, const char *repo, const char *reference, char **buf, size_t *len,
                          char **content_type, char digest[136], struct berr **err)
{
        struct xfer x = {.upload_fd = -1, .max = MANIFEST_MAX_SIZE};
        _cleanup_free_ char *path = NULL, *scope = pull_scope(repo), *what = NULL;
        struct curl_slist *extra = curl_slist_append(NULL, "Accept: " MANIFEST_ACCEPT);
        enum digest_algo algo = DIGEST_SHA256;
        int ret = -1;

        if (asprintf(&what, "reading manifest %s in %s/%s", reference, r->domain, repo) < 0 || !scope || !extra ||
            asprintf(&path, "/v2/%s/manifests/%s", repo, reference) < 0) {
                curl_slist_free_all(extra);
                return berr_make(err, ENOMEM, "manifest");
        }
        if (is_digest_ref(reference) && digest_validate(reference, &algo, err) < 0)
                goto out;
        if (request(r, &x, "GET", path, scope, repo, extra, what, err) < 0)
                goto out;
        if (x.status == 401) {
                img_err(err, EACCES, "%s: unauthorized: authentication required%s", what,
                          r->creds ? "" : " (use `berth login`)");
                goto out;
        }
        if (x.status != 200) {
                status_error(&x, what, err);
                goto out;
        }
        if (x.content_type && strncasecmp(x.content_type, "text/html", 9) == 0) {
                img_err(err, EPROTO, "%s: the registry sent an HTML page instead of a manifest", what);
                goto out;
        }
        if (digest_buf(algo, x.buf ? x.buf : "", x.len, digest, 136) < 0) {
                img_err(err, EIO, "%s: hash", what);
                goto out;
        }
        if (is_digest_ref(reference) && !streq(digest, reference)) {
                img_err(err, EBADMSG, "%s: digest mismatch: the registry sent a manifest with digest %s", what,
                          digest);
                goto out;
        }
        if (!x.buf && !(x.buf = strdup("")))
                goto out;
        *buf = TAKE_PTR(x.buf);
        *len = x.len;
        *content_type = x.content_type ? strdup(x.content_type) : NULL;
        ret = 0;
out:
        curl_slist_free_all(extra);
        xfer_done(&x);
        return ret;
}

int registry_get_blob(struct registry *r, const char *repo, const char *digest, uint64_t offset,
                      registry_sink_t sink, void *userdata, struct berr **err)
{
        _cleanup_free_ char *path = NULL, *scope = pull_scope(repo), *what = NULL;
        struct xfer x = {.upload_fd = -1, .sink = sink, .ud = userdata};
        unsigned failures = 0;
        int ret = -1;

        if (!scope || asprintf(&path, "/v2/%s/blobs/%s", repo, digest) < 0 ||
            asprintf(&what, "fetching blob %s from %s/%s", digest, r->domain, repo) < 0)
                return berr_make(err, ENOMEM, "blob");
        for (;;) {
                _cleanup_free_ char *url = make_url(r, "%s", path);
                CURLcode c;

                if (!url) {
                        berr_make(err, ENOMEM, "blob");
                        break;
                }
                xfer_reset(&x);
                x.range_from = offset;
                x.force_full = false;
                c = perform(r, &x, "GET", url, scope, repo, NULL, err);
                if (c != CURLE_OK && offset == 0 && x.delivered == 0 && maybe_fallback_http(r, c))
                        continue;
                offset += x.delivered;
                if (c == CURLE_OK && x.status == 416 && x.range_from > 0) {
                        /* The server cannot serve the range: fetch it all and skip what we have. */
                        xfer_reset(&x);
                        x.range_from = offset;
                        x.force_full = true;
                        c = perform(r, &x, "GET", url, scope, repo, NULL, err);
                        offset += x.delivered;
                }
                if (c == CURLE_OK && x.status >= 200 && x.status < 300) {
                        ret = 0;
                        break;
                }
                if (c == CURLE_OK && x.status == 401) {
                        img_err(err, EACCES, "%s: unauthorized: authentication required%s", what,
                                  r->creds ? "" : " (use `berth login`)");
                        break;
                }
                if (x.sink_err || c == CURLE_LOGIN_DENIED) {
                        curl_failure(r, &x, c, what, err);
                        break;
                }
                if (c == CURLE_OK && !status_transient(x.status)) {
                        status_error(&x, what, err);
                        break;
                }
                if (c != CURLE_OK && !curl_transient(c)) {
                        curl_failure(r, &x, c, what, err);
                        break;
                }
                /* Progress earns the connection another chance. */
                if (x.delivered >= (1u << 20))
                        failures = 0;
                if (failures++ >= r->retries) {
                        if (c != CURLE_OK)
                                curl_failure(r, &x, c, what, err);
                        else
                                status_error(&x, what, err);
                        berr_wrap(err, "giving up after %u attempts (%" PRIu64 " bytes received)", failures, offset);
                        break;
                }
                log_debug("%s: %s after %" PRIu64 " bytes, resuming", what,
                          c != CURLE_OK ? curl_easy_strerror(c) : "server error", offset);
                backoff(r, failures - 1);
        }
        xfer_done(&x);
        return ret;
}

struct buf_sink {
        char *buf;
        size_t len, cap, max;
};

static int buf_sink_write(void *ud, const void *data, size_t n, struct berr **err)
{
        struct buf_sink *b = ud;

        if (b->len + n > b->max)
                return img_err(err, EFBIG, "blob larger than %zu bytes", b->max);
        if (buf_append(&b->buf, &b->len, &b->cap, data, n) < 0)
                return berr_make(err, ENOMEM, "blob");
        return 0;
}

int registry_get_blob_buf(struct registry *r, const char *repo, const char *digest, int64_t size, size_t max,
                          char **buf, size_t *len, struct berr **err)
{
        struct buf_sink b = {.max = size >= 0 ? (size_t)MIN((uint64_t)size, (uint64_t)max) : max};
        enum digest_algo algo;
        char got[136];

        if (size >= 0 && (uint64_t)size > max)
                return img_err(err, EFBIG, "blob %s is %" PRId64 " bytes, more than the limit of %zu", digest, size,
                                 max);
        if (digest_validate(digest, &algo, err) < 0)
                return -1;
        if (registry_get_blob(r, repo, digest, 0, buf_sink_write, &b, err) < 0) {
                free(b.buf);
                return -1;
        }
        if (!b.buf && !(b.buf = strdup(""))) {
                return berr_make(err, ENOMEM, "blob");
        }
        if (size >= 0 && b.len != (size_t)size) {
                free(b.buf);
                return img_err(err, EBADMSG, "blob %s: got %zu bytes, want %" PRId64, digest, b.len, size);
        }
        if (digest_buf(algo, b.buf, b.len, got, sizeof(got)) < 0 || !streq(got, digest)) {
                free(b.buf);
                return img_err(err, EBADMSG, "blob %s: digest mismatch: the content hashes to %s", digest, got);
        }
        *buf = b.buf;
        *len = b.len;
        return 0;
}

int registry_blob_exists(struct registry *r, const char *repo, const char *digest, struct berr **err)
{
        _cleanup_free_ char *path = NULL, *scope = push_scope(repo, NULL), *what = NULL;
        struct xfer x = {.upload_fd = -1};
        int ret;

        if (!scope || asprintf(&path, "/v2/%s/blobs/%s", repo, digest) < 0 ||
            asprintf(&what, "checking blob %s in %s/%s", digest, r->domain, repo) < 0)
                return berr_make(err, ENOMEM, "blob");
        ret = request(r, &x, "HEAD", path, scope, repo, NULL, what, err);
        if (ret == 0) {
                if (x.status == 200)
                        ret = 1;
                else if (x.status == 404)
                        ret = 0;
                else if (x.status == 401)
                        ret = img_err(err, EACCES, "%s: unauthorized: authentication required", what);
                else
                        ret = status_error(&x, what, err);
        }
        xfer_done(&x);
        return ret;
}

int registry_blob_mount(struct registry *r, const char *repo, const char *digest, const char *from,
                        char **upload_url, struct berr **err)
{
        _cleanup_free_ char *path = NULL, *scope = push_scope(repo, from), *what = NULL;
        struct xfer x = {.upload_fd = -1};
        char *ef = NULL;
        int ret;

        *upload_url = NULL;
        ef = curl_easy_escape(NULL, from, 0);
        if (!scope || !ef || asprintf(&path, "/v2/%s/blobs/uploads/?mount=%s&from=%s", repo, digest, ef) < 0 ||
            asprintf(&what, "mounting blob %s from %s into %s/%s", digest, from, r->domain, repo) < 0) {
                curl_free(ef);
                return berr_make(err, ENOMEM, "blob");
        }
        curl_free(ef);
        ret = request(r, &x, "POST", path, scope, repo, NULL, what, err);
        if (ret == 0) {
                if (x.status == 201)
                        ret = 1;
                else if (x.status == 202) {
                        *upload_url = x.location ? strdup(x.location) : NULL;
                        ret = 0;
                } else if (x.status == 401)
                        ret = img_err(err, EACCES, "%s: unauthorized: authentication required", what);
                else
                        ret = status_error(&x, what, err);
        }
        xfer_done(&x);
        return ret;
}

/* Resolves a Location header against the registry and appends digest=... */
static char *upload_put_url(struct registry *r, const char *location, const char *digest)
{
        _cleanup_free_ char *base = make_url(r, "/v2/");
        _cleanup_free_ char *q = NULL;
        CURLU *u = curl_url();
        char *out = NULL, *tmp = NULL;

        if (!u || !base || asprintf(&q, "digest=%s", digest) < 0)
                goto out;
        if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
            curl_url_set(u, CURLUPART_URL, location, 0) != CURLUE_OK ||
            curl_url_set(u, CURLUPART_QUERY, q, CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_URL, &tmp, 0) != CURLUE_OK)
                goto out;
        out = strdup(tmp);
out:
        curl_free(tmp);
        curl_url_cleanup(u);
        return out;
}

static int upload_once(struct registry *r, const char *repo, const char *digest, int fd, uint64_t size,
                       char **session, const char *scope, struct curl_slist *extra, const char *what,
                       bool *retry, struct berr **err)
{
        _cleanup_free_ char *path = NULL, *put = NULL;
        struct xfer x = {.upload_fd = -1};
        CURLcode c;
        int ret = -1;

        *retry = false;
        if (!*session) {
                if (asprintf(&path, "/v2/%s/blobs/uploads/", repo) < 0)
                        return berr_make(err, ENOMEM, "upload");
                if (request(r, &x, "POST", path, scope, repo, NULL, what, err) < 0)
                        goto out;
                if (x.status != 202 || !x.location) {
                        if (x.status == 401)
                                img_err(err, EACCES, "%s: unauthorized: authentication required", what);
                        else
                                status_error(&x, what, err);
                        goto out;
                }
                *session = strdup(x.location);
                if (!*session) {
                        berr_make(err, ENOMEM, "upload");
                        goto out;
                }
        }
        put = upload_put_url(r, *session, digest);
        free(*session);
        *session = NULL;
        if (!put) {
                img_err(err, EPROTO, "%s: bad upload location", what);
                goto out;
        }
        xfer_reset(&x);
        x.upload_fd = fd;
        x.upload_size = size;
        c = perform(r, &x, "PUT", put, scope, repo, extra, err);
        if (c == CURLE_OK && (x.status == 201 || x.status == 204)) {
                ret = 0;
                goto out;
        }
        if (c == CURLE_LOGIN_DENIED)
                goto out;
        *retry = c != CURLE_OK ? curl_transient(c) : status_transient(x.status);
        if (c != CURLE_OK)
                curl_failure(r, &x, c, what, err);
        else if (x.status == 401)
                img_err(err, EACCES, "%s: unauthorized: authentication required", what);
        else
                status_error(&x, what, err);
out:
        xfer_done(&x);
        return ret;
}

int registry_blob_upload(struct registry *r, const char *repo, const char *digest, int fd, uint64_t size,
                         const char *upload_url, struct berr **err)
{
        _cleanup_free_ char *scope = push_scope(repo, NULL), *what = NULL;
        char *session = upload_url ? strdup(upload_url) : NULL;
        struct curl_slist *extra = curl_slist_append(NULL, "Content-Type: application/octet-stream");
        int ret = -1;

        if (!scope || !extra || (upload_url && !session) ||
            asprintf(&what, "uploading blob %s to %s/%s", digest, r->domain, repo) < 0) {
                free(session);
                curl_slist_free_all(extra);
                return berr_make(err, ENOMEM, "upload");
        }
        for (unsigned attempt = 0;; attempt++) {
                _cleanup_berr_ struct berr *e = NULL;
                bool retry;
                /* A failed PUT ends its upload session: every retry starts a new one. */
                ret = upload_once(r, repo, digest, fd, size, &session, scope, extra, what, &retry, &e);
                if (ret == 0 || !retry || attempt >= r->retries) {
                        if (ret < 0)
                                berr_move(err, &e);
                        break;
                }
                log_debug("%s: %s, retrying", what, e ? e->msg : "failed");
                backoff(r, attempt);
        }
        free(session);
        curl_slist_free_all(extra);
        return ret;
}

int registry_put_manifest(struct registry *r, const char *repo, const char *reference, const char *media_type,
                          const void *buf, size_t len, struct berr **err)
{
        _cleanup_free_ char *path = NULL, *scope = push_scope(repo, NULL), *what = NULL, *ct = NULL;
        struct xfer x = {.upload_fd = -1, .body = buf, .body_len = len};
        struct curl_slist *extra = NULL;
        int ret;

        if (!scope || asprintf(&path, "/v2/%s/manifests/%s", repo, reference) < 0 ||
            asprintf(&what, "writing manifest %s to %s/%s", reference, r->domain, repo) < 0 ||
            asprintf(&ct, "Content-Type: %s", media_type) < 0 || !(extra = curl_slist_append(NULL, ct)))
                return berr_make(err, ENOMEM, "manifest");
        ret = request(r, &x, "PUT", path, scope, repo, extra, what, err);
        if (ret == 0 && x.status != 201 && x.status != 200 && x.status != 202)
                ret = x.status == 401 ? img_err(err, EACCES, "%s: unauthorized: authentication required", what)
                                      : status_error(&x, what, err);
        curl_slist_free_all(extra);
        xfer_done(&x);
        return ret;
}
