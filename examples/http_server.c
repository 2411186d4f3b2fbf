/* http_server.c: an HTTP/1.1 server on sockit's symmetric HTTP socket (sockit_httpsock),
 * one thread per connection. The test suite and the benchmarks run it against real
 * clients (curl, Python, wrk, ab); it is also a worked example of the C API.
 *
 *   http_server [port]     listens on 127.0.0.1:port (0 or none: a free port), prints
 *                          "port N" on its first output line, serves until killed
 *
 * Routes (any method; HEAD gets the head only):
 *   /                     "Hello, World!\n"
 *   /echo                 the request body back; X-Method, X-Target, X-Expect and,
 *                         for each trailer field of the request, X-Trailer-<name>
 *   /stream?n=N           N chunks "chunk i\n" (chunked), trailer X-Chunks: N
 *   /upload               reads the body with read_some, emptying it after each piece
 *                         (flat memory); answers "bytes=B pieces=P max_rss_kb=K"
 *   /status/CODE          an empty response with that status
 *   /skip                 417 without reading the body (100-continue skipped)
 *   /close                "bye\n" with Connection: close
 * Every response carries X-Conn (the connection's number) and X-Request (the request's
 * number on its connection). Refused requests get write_error's answer. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "sockit.h"

static int conn_counter;
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;

static void set_field(sockit_httpres *res, const char *name, const char *value) {
    sockit_httpres_add_field(res, 0, name, (const uint8_t *)value, strlen(value));
}

static void set_text(sockit_httpres *res, int status, const char *body, size_t len) {
    sockit_httpres_set_status(res, status, NULL);
    sockit_httpres_set_body(res, (const uint8_t *)body, len);
}

/* Reads the rest of the request body, keeping it in `req` (keep != 0) or dropping each
 * piece (flat memory); counts bytes and pieces. */
static sockit_status read_body(sockit_httpsock *hs, sockit_httpreq *req, int keep,
                               unsigned long long *bytes, unsigned long *pieces) {
    for (;;) {
        sockit_http_read_state rs;
        sockit_httpsock_state(hs, &rs, NULL);
        if (rs != SOCKIT_HTTP_READ_MESSAGE_READY && rs != SOCKIT_HTTP_READ_BODY_READY)
            return SOCKIT_OK;
        size_t before = 0, after = 0;
        sockit_httpreq_body(req, NULL, &before);
        sockit_status st = sockit_httpsock_read_some(hs, req, NULL);
        if (st == SOCKIT_PROTOCOL) sockit_httpsock_write_error(hs, 0); /* bad chunk, too big */
        if (st != SOCKIT_OK) return st;
        sockit_httpreq_body(req, NULL, &after);
        if (bytes) *bytes += after - before;
        if (pieces && after > before) (*pieces)++;
        if (!keep) sockit_httpreq_set_body(req, NULL, 0);
    }
}

/* Answers one request; returns non-zero when the connection is done. */
static int answer(sockit_httpsock *hs, sockit_httpreq *req, sockit_httpres *res, int conn, int n) {
    const uint8_t *m, *t;
    size_t ml, tl;
    char target[1024], num[64];
    sockit_httpreq_line(req, &m, &ml, &t, &tl, NULL);
    snprintf(target, sizeof target, "%.*s", (int)tl, (const char *)t);
    sockit_httpres_clear_fields(res, 0);
    sockit_httpres_clear_fields(res, 1);
    snprintf(num, sizeof num, "%d", conn);
    set_field(res, "x-conn", num);
    snprintf(num, sizeof num, "%d", n);
    set_field(res, "x-request", num);

    if (strcmp(target, "/") == 0) {
        static const char hello[] = "Hello, World!\n";
        set_field(res, "content-type", "text/plain");
        set_text(res, 200, hello, sizeof hello - 1);
        return sockit_httpsock_write_response(hs, res) != SOCKIT_OK;
    }
    if (strcmp(target, "/skip") == 0) {
        set_text(res, 417, "", 0);
        return sockit_httpsock_write_response(hs, res) != SOCKIT_OK;
    }
    if (strncmp(target, "/status/", 8) == 0) {
        set_text(res, atoi(target + 8), "", 0);
        return sockit_httpsock_write_response(hs, res) != SOCKIT_OK;
    }
    if (strcmp(target, "/upload") == 0) {
        unsigned long long bytes = 0;
        unsigned long pieces = 0;
        if (read_body(hs, req, 0, &bytes, &pieces) != SOCKIT_OK) return 1;
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        char text[128];
        int len = snprintf(text, sizeof text, "bytes=%llu pieces=%lu max_rss_kb=%ld\n", bytes,
                           pieces, ru.ru_maxrss);
        set_text(res, 200, text, (size_t)len);
        return sockit_httpsock_write_response(hs, res) != SOCKIT_OK;
    }
    if (strncmp(target, "/stream", 7) == 0) {
        const char *q = strstr(target, "n=");
        int chunks = q ? atoi(q + 2) : 3;
        if (read_body(hs, req, 0, NULL, NULL) != SOCKIT_OK) return 1;
        set_text(res, 200, "", 0);
        set_field(res, "content-type", "text/plain");
        if (sockit_httpsock_write_response_metadata(hs, res) != SOCKIT_OK) return 1;
        for (int i = 0; i < chunks; i++) {
            char piece[64];
            int len = snprintf(piece, sizeof piece, "chunk %d\n", i);
            if (sockit_httpsock_write_data(hs, (const uint8_t *)piece, (size_t)len) != SOCKIT_OK)
                return 1;
        }
        snprintf(num, sizeof num, "%d", chunks);
        sockit_httpres_add_field(res, 1, "x-chunks", (const uint8_t *)num, strlen(num));
        return sockit_httpsock_write_trailers(hs, NULL, res) != SOCKIT_OK;
    }
    if (strcmp(target, "/close") == 0) {
        set_field(res, "connection", "close");
        set_text(res, 200, "bye\n", 4);
        sockit_httpsock_write_response(hs, res);
        return 1;
    }
    if (strcmp(target, "/echo") == 0 || strncmp(target, "/echo?", 6) == 0) {
        sockit_buffer *v = sockit_buffer_new();
        int found = 0;
        sockit_httpreq_field(req, 0, "expect", v, &found);
        if (found) set_field(res, "x-expect", sockit_buffer_cstr(v));
        sockit_buffer_free(v);
        if (read_body(hs, req, 1, NULL, NULL) != SOCKIT_OK) return 1;
        char method[64];
        snprintf(method, sizeof method, "%.*s", (int)ml, (const char *)m);
        set_field(res, "x-method", method);
        set_field(res, "x-target", target);
        size_t count = 0;
        sockit_httpreq_field_count(req, 1, &count);
        for (size_t i = 0; i < count; i++) {
            const uint8_t *n, *val;
            size_t nl, vl;
            char name[256];
            sockit_httpreq_field_at(req, 1, i, &n, &nl, &val, &vl);
            snprintf(name, sizeof name, "x-trailer-%.*s", (int)nl, (const char *)n);
            sockit_httpres_add_field(res, 0, name, val, vl);
        }
        const uint8_t *b;
        size_t bl;
        sockit_httpreq_body(req, &b, &bl);
        sockit_httpres_set_status(res, 200, NULL);
        sockit_httpres_set_body(res, b, bl);
        return sockit_httpsock_write_response(hs, res) != SOCKIT_OK;
    }
    set_text(res, 404, "not found\n", 10);
    return sockit_httpsock_write_response(hs, res) != SOCKIT_OK;
}

static void *serve(void *arg) {
    sockit_socket *s = arg;
    sockit_httpsock *hs = NULL;
    sockit_httpreq *req = NULL;
    sockit_httpres *res = NULL;
    pthread_mutex_lock(&counter_lock);
    int conn = ++conn_counter;
    pthread_mutex_unlock(&counter_lock);
    sockit_socket_settimeout(s, 30.0, "b");
    if (sockit_httpsock_new(s, &hs) != SOCKIT_OK || sockit_httpreq_new(&req) != SOCKIT_OK ||
        sockit_httpres_new(&res) != SOCKIT_OK)
        goto out;
    for (int n = 1;; n++) {
        sockit_status st = sockit_httpsock_read_request(hs, req);
        if (st == SOCKIT_PROTOCOL) {
            sockit_httpsock_write_error(hs, 0);
            break;
        }
        if (st != SOCKIT_OK || answer(hs, req, res, conn, n)) break;
    }
out:
    sockit_httpreq_free(req);
    sockit_httpres_free(res);
    sockit_httpsock_free(hs);
    sockit_socket_free(s); /* closes the connection */
    return NULL;
}

int main(int argc, char **argv) {
    sockit_socket *l = NULL;
    int port = argc > 1 ? atoi(argv[1]) : 0;
    if (sockit_tcp_listen("127.0.0.1", port, 128, &l) != SOCKIT_OK) {
        fprintf(stderr, "listen: %s\n", sockit_last_error());
        return 1;
    }
    uint16_t p = 0;
    sockit_socket_getsockname(l, NULL, &p, NULL);
    printf("port %u\n", p);
    fflush(stdout);
    for (;;) {
        sockit_socket *c = NULL;
        if (sockit_socket_accept(l, &c) != SOCKIT_OK) continue;
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, serve, c) != 0) sockit_socket_free(c);
        pthread_attr_destroy(&attr);
    }
}
