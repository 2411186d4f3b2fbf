/* The symmetric HTTP socket (sockit_httpsock) in both roles over real TCP connections on
 * 127.0.0.1: a server thread and a client in the main thread, each a sockit_httpsock
 * (or a raw socket where a test needs exact bytes). Covers the messages' accessors,
 * states and their names, framing (length, chunked with trailers, HEAD), pipelining,
 * 100-continue, refusals answered with write_error, timeouts, non-blocking mode, and
 * bad arguments. */
#include "check.h"
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static int port;
static sockit_socket *listener;

/* Whether the view (p, n) holds the string s. */
static int view_is(const uint8_t *p, size_t n, const char *s) {
    return n == strlen(s) && (n == 0 || memcmp(p, s, n) == 0);
}

static int req_body_is(sockit_httpreq *req, const char *s) {
    const uint8_t *p = NULL;
    size_t n = 0;
    return sockit_httpreq_body(req, &p, &n) == SOCKIT_OK && view_is(p, n, s);
}

static int res_body_is(sockit_httpres *res, const char *s) {
    const uint8_t *p = NULL;
    size_t n = 0;
    return sockit_httpres_body(res, &p, &n) == SOCKIT_OK && view_is(p, n, s);
}

static int states_are(sockit_httpsock *hs, const char *rd, const char *wr) {
    sockit_http_read_state r;
    sockit_http_write_state w;
    if (sockit_httpsock_state(hs, &r, &w) != SOCKIT_OK) return 0;
    return strcmp(sockit_http_read_state_str(r), rd) == 0 &&
           strcmp(sockit_http_write_state_str(w), wr) == 0;
}

static void add(sockit_httpreq *req, sockit_httpres *res, const char *name, const char *value) {
    if (req) CHECK_OK(sockit_httpreq_add_field(req, 0, name, (const uint8_t *)value, strlen(value)));
    if (res) CHECK_OK(sockit_httpres_add_field(res, 0, name, (const uint8_t *)value, strlen(value)));
}

static sockit_socket *connect_client(void) {
    sockit_socket *c = NULL;
    CHECK_OK(sockit_tcp_connect("127.0.0.1", port, NULL, 0, SOCKIT_FAMILY_ANY, 5.0, &c));
    if (c) CHECK_OK(sockit_socket_settimeout(c, 5.0, "b"));
    return c;
}

/* Reads the incoming body to its end with read_some (req on a server, res on a client). */
static sockit_status read_body(sockit_httpsock *hs, sockit_httpreq *req, sockit_httpres *res) {
    for (int i = 0; i < 100000; i++) {
        sockit_http_read_state r;
        sockit_httpsock_state(hs, &r, NULL);
        if (r != SOCKIT_HTTP_READ_MESSAGE_READY && r != SOCKIT_HTTP_READ_BODY_READY)
            return SOCKIT_OK;
        sockit_status st = sockit_httpsock_read_some(hs, req, res);
        if (st != SOCKIT_OK) return st;
    }
    return SOCKIT_INTERNAL;
}

/* ----- the server thread: one connection, answered according to `mode` -------------- */

enum { SERVE_ECHO, SERVE_REFUSE, SERVE_TIMEOUT, SERVE_NONBLOCKING };
static int mode;

/* Echo server: answers each request with its method, target and body; "/stream" gets
 * a chunked response with a trailer, "/continue" a 100 first. Ends when the client
 * closes. */
static void serve_echo(sockit_httpsock *hs) {
    sockit_httpreq *req = NULL;
    sockit_httpres *res = NULL;
    sockit_buffer *val = sockit_buffer_new();
    CHECK_OK(sockit_httpreq_new(&req));
    CHECK_OK(sockit_httpres_new(&res));
    for (int n = 0; n < 100; n++) {
        sockit_status st = sockit_httpsock_read_request(hs, req);
        if (st == SOCKIT_CLOSED) break;
        CHECK_OK(st);
        if (st != SOCKIT_OK) break;
        const uint8_t *m, *t;
        size_t ml, tl;
        int minor = -1;
        CHECK_OK(sockit_httpreq_line(req, &m, &ml, &t, &tl, &minor));
        char target[256];
        snprintf(target, sizeof target, "%.*s", (int)tl, (const char *)t);
        if (strcmp(target, "/continue") == 0) {
            CHECK(states_are(hs, "message_ready", "empty"));
            CHECK_OK(sockit_httpsock_write_response_continue(hs));
            CHECK(states_are(hs, "message_ready", "continue_issued"));
        }
        CHECK_OK(read_body(hs, req, NULL));
        CHECK(states_are(hs, "finished", strcmp(target, "/continue") == 0 ? "continue_issued" : "empty"));
        const uint8_t *b;
        size_t bl;
        sockit_httpreq_body(req, &b, &bl);
        char text[1024];
        int len = snprintf(text, sizeof text, "%.*s %s %.*s", (int)ml, (const char *)m, target,
                           (int)bl, (const char *)b);
        CHECK_OK(sockit_httpres_clear_fields(res, 0));
        CHECK_OK(sockit_httpres_clear_fields(res, 1));
        int found = 0;
        CHECK_OK(sockit_httpreq_field(req, 1, "x-sum", val, &found));
        if (found) add(NULL, res, "x-had-trailer", sockit_buffer_cstr(val));
        if (strcmp(target, "/stream") == 0) {
            CHECK_OK(sockit_httpres_set_status(res, 200, NULL));
            add(NULL, res, "content-type", "text/plain");
            CHECK_OK(sockit_httpsock_write_response_metadata(hs, res));
            CHECK(states_are(hs, "finished", "metadata_issued"));
            CHECK_OK(sockit_httpres_set_body(res, (const uint8_t *)"part1,", 6));
            CHECK_OK(sockit_httpsock_write(hs, NULL, res));
            CHECK_OK(sockit_httpsock_write_data(hs, (const uint8_t *)text, (size_t)len));
            CHECK_OK(sockit_httpres_add_field(res, 1, "x-trailer", (const uint8_t *)"done", 4));
            CHECK_OK(sockit_httpsock_write_trailers(hs, NULL, res));
        } else {
            CHECK_OK(sockit_httpres_set_status(res, 200, "Fine"));
            CHECK_OK(sockit_httpres_set_body(res, (const uint8_t *)text, (size_t)len));
            CHECK_OK(sockit_httpsock_write_response(hs, res));
        }
        CHECK(states_are(hs, "empty", "finished"));
    }
    sockit_buffer_free(val);
    sockit_httpreq_free(req);
    sockit_httpres_free(res);
}

/* Refuses what comes with the status the socket names, via write_error. */
static void serve_refuse(sockit_httpsock *hs) {
    sockit_httpreq *req = NULL;
    CHECK_OK(sockit_httpreq_new(&req));
    CHECK_STATUS(sockit_httpsock_read_request(hs, req), SOCKIT_PROTOCOL);
    CHECK(strstr(sockit_last_error(), "both Content-Length and Transfer-Encoding") != NULL);
    int open = -1, refusal = -1, role = -1, upgraded = -1;
    CHECK_OK(sockit_httpsock_info(hs, &open, &upgraded, &role, &refusal));
    CHECK(refusal == 400 && role == 1 && upgraded == 0 && open == 1);
    CHECK(states_are(hs, "finished", "empty"));
    CHECK_OK(sockit_httpsock_write_error(hs, 0));
    CHECK_OK(sockit_httpsock_info(hs, &open, NULL, NULL, NULL));
    CHECK(open == 0);
    CHECK_STATUS(sockit_httpsock_read_request(hs, req), SOCKIT_CLOSED);
    sockit_httpreq_free(req);
}

/* read_request honours the socket's timeout: the client sends nothing for a while. */
static void serve_timeout(sockit_socket *s, sockit_httpsock *hs) {
    sockit_httpreq *req = NULL;
    CHECK_OK(sockit_httpreq_new(&req));
    CHECK_OK(sockit_socket_settimeout(s, 0.2, "b"));
    CHECK_STATUS(sockit_httpsock_read_request(hs, req), SOCKIT_TIMEOUT);
    CHECK(states_are(hs, "empty", "empty"));
    /* then the request does come, and the same call works */
    CHECK_OK(sockit_socket_settimeout(s, 5.0, "b"));
    CHECK_OK(sockit_httpsock_read_request(hs, req));
    sockit_httpres *res = NULL;
    CHECK_OK(sockit_httpres_new(&res));
    CHECK_OK(sockit_httpres_set_status(res, 204, NULL));
    CHECK_OK(sockit_httpsock_write_response(hs, res));
    sockit_httpres_free(res);
    sockit_httpreq_free(req);
}

/* Non-blocking: read_request reports "block" until the request is there. */
static void serve_nonblocking(sockit_socket *s, sockit_httpsock *hs) {
    sockit_httpreq *req = NULL;
    sockit_httpres *res = NULL;
    CHECK_OK(sockit_httpreq_new(&req));
    CHECK_OK(sockit_httpres_new(&res));
    int fd = -1;
    CHECK_OK(sockit_socket_getfd(s, &fd));
    CHECK_OK(sockit_httpsock_set_nonblocking(hs, 1));
    int blocks = 0;
    sockit_status st;
    for (int i = 0; i < 1000; i++) {
        st = sockit_httpsock_read_request(hs, req);
        if (st != SOCKIT_WOULDBLOCK) break;
        blocks++;
        struct pollfd p = {fd, POLLIN, 0};
        poll(&p, 1, 1000);
    }
    CHECK_OK(st);
    CHECK(blocks > 0);
    CHECK_OK(read_body(hs, req, NULL));
    /* a large response: queued, then flushed as the client reads */
    static uint8_t big[1 << 20];
    memset(big, 'z', sizeof big);
    CHECK_OK(sockit_httpres_set_body(res, big, sizeof big));
    CHECK_OK(sockit_httpsock_write_response(hs, res));
    size_t pending = 1;
    for (int i = 0; i < 10000 && pending > 0; i++) {
        CHECK_OK(sockit_httpsock_flush(hs, &pending));
        if (pending > 0) {
            struct pollfd p = {fd, POLLOUT, 0};
            poll(&p, 1, 1000);
        }
    }
    CHECK(pending == 0);
    sockit_httpreq_free(req);
    sockit_httpres_free(res);
}

static void *server(void *arg) {
    (void)arg;
    sockit_socket *s = NULL;
    CHECK_OK(sockit_socket_accept(listener, &s));
    if (!s) return NULL;
    CHECK_OK(sockit_socket_settimeout(s, 5.0, "b"));
    sockit_httpsock *hs = NULL;
    CHECK_OK(sockit_httpsock_new(s, &hs));
    switch (mode) {
    case SERVE_ECHO: serve_echo(hs); break;
    case SERVE_REFUSE: serve_refuse(hs); break;
    case SERVE_TIMEOUT: serve_timeout(s, hs); break;
    case SERVE_NONBLOCKING: serve_nonblocking(s, hs); break;
    }
    CHECK_OK(sockit_httpsock_close(hs));
    CHECK_OK(sockit_httpsock_close(hs)); /* idempotent */
    sockit_httpsock_free(hs);
    sockit_socket_free(s);
    return NULL;
}

static pthread_t start(int m) {
    pthread_t t;
    mode = m;
    pthread_create(&t, NULL, server, NULL);
    return t;
}

/* ----- the tests ---------------------------------------------------------------------- */

static void test_messages(void) {
    sockit_httpreq *req = NULL;
    sockit_httpres *res = NULL;
    sockit_buffer *b = sockit_buffer_new();
    CHECK_OK(sockit_httpreq_new(&req));
    CHECK_OK(sockit_httpres_new(&res));
    const uint8_t *m, *t, *n, *v;
    size_t ml, tl, nl, vl, count = 99;
    int minor = -1, status = 0, found = -1;
    CHECK_OK(sockit_httpreq_line(req, &m, &ml, &t, &tl, &minor));
    CHECK(view_is(m, ml, "GET") && view_is(t, tl, "/") && minor == 1);
    CHECK_OK(sockit_httpreq_set_method(req, "PUT"));
    CHECK_OK(sockit_httpreq_set_target(req, "/x?y"));
    CHECK_OK(sockit_httpreq_set_version(req, 0));
    CHECK_OK(sockit_httpreq_line(req, &m, &ml, &t, &tl, &minor));
    CHECK(view_is(m, ml, "PUT") && view_is(t, tl, "/x?y") && minor == 0);
    CHECK_STATUS(sockit_httpreq_set_method(req, "GE T"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_httpreq_set_target(req, "/a\r\nX: y"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_httpreq_set_version(req, 2), SOCKIT_INVALID);

    add(req, NULL, "Set-Thing", "1");
    add(req, NULL, "set-thing", "2");
    CHECK_OK(sockit_httpreq_field_count(req, 0, &count));
    CHECK(count == 2);
    CHECK_OK(sockit_httpreq_field_at(req, 0, 1, &n, &nl, &v, &vl));
    CHECK(view_is(n, nl, "set-thing") && view_is(v, vl, "2"));
    CHECK_STATUS(sockit_httpreq_field_at(req, 0, 2, &n, &nl, &v, &vl), SOCKIT_INVALID);
    CHECK_OK(sockit_httpreq_field(req, 0, "SET-THING", b, &found));
    CHECK(found == 1 && strcmp(sockit_buffer_cstr(b), "1, 2") == 0);
    CHECK_OK(sockit_httpreq_set_field(req, 0, "set-thing", (const uint8_t *)"3", 1));
    CHECK_OK(sockit_httpreq_field_count(req, 0, &count));
    CHECK(count == 1);
    CHECK_OK(sockit_httpreq_set_field(req, 0, "set-thing", NULL, 0));
    CHECK_OK(sockit_httpreq_field(req, 0, "set-thing", b, &found));
    CHECK(found == 0 && sockit_buffer_len(b) == 0);
    /* injection refused, NUL included (values are byte strings) */
    CHECK_STATUS(sockit_httpreq_add_field(req, 0, "X", (const uint8_t *)"a\r\nB: c", 7), SOCKIT_INVALID);
    CHECK_STATUS(sockit_httpreq_add_field(req, 0, "X", (const uint8_t *)"a\0b", 3), SOCKIT_INVALID);
    CHECK_STATUS(sockit_httpreq_add_field(req, 0, "X Y", (const uint8_t *)"v", 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_httpreq_add_field(req, 0, NULL, (const uint8_t *)"v", 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_httpreq_add_field(req, 0, "X", NULL, 3), SOCKIT_INVALID);
    CHECK_OK(sockit_httpreq_add_field(req, 1, "x-trailer", (const uint8_t *)"t", 1));
    CHECK_OK(sockit_httpreq_field_count(req, 1, &count));
    CHECK(count == 1);
    CHECK_OK(sockit_httpreq_clear_fields(req, 1));
    CHECK_OK(sockit_httpreq_field_count(req, 1, &count));
    CHECK(count == 0);
    CHECK_OK(sockit_httpreq_set_body(req, (const uint8_t *)"a\0b", 3));
    const uint8_t *bd;
    size_t bl;
    CHECK_OK(sockit_httpreq_body(req, &bd, &bl));
    CHECK(bl == 3 && memcmp(bd, "a\0b", 3) == 0);
    CHECK_OK(sockit_httpreq_set_body(req, NULL, 0));
    CHECK(req_body_is(req, ""));

    const uint8_t *r;
    size_t rl;
    CHECK_OK(sockit_httpres_status(res, &status, &r, &rl, &minor));
    CHECK(status == 200 && rl == 0);
    CHECK_OK(sockit_httpres_set_status(res, 404, "Nowhere"));
    CHECK_OK(sockit_httpres_status(res, &status, &r, &rl, NULL));
    CHECK(status == 404 && view_is(r, rl, "Nowhere"));
    CHECK_STATUS(sockit_httpres_set_status(res, 99, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_httpres_set_status(res, 200, "O\r\nK"), SOCKIT_INVALID);
    add(NULL, res, "x-a", "1");
    CHECK_OK(sockit_httpres_field_count(res, 0, &count));
    CHECK(count == 1);
    CHECK_OK(sockit_httpres_field_at(res, 0, 0, &n, &nl, NULL, NULL));
    CHECK(view_is(n, nl, "x-a"));
    CHECK_OK(sockit_httpres_field(res, 0, "X-A", b, &found));
    CHECK(found == 1);
    CHECK_OK(sockit_httpres_set_field(res, 0, "x-a", NULL, 0));
    CHECK_OK(sockit_httpres_clear_fields(res, 0));
    CHECK_OK(sockit_httpres_set_body(res, (const uint8_t *)"xy", 2));
    CHECK(res_body_is(res, "xy"));

    /* NULL and freed handles */
    CHECK_STATUS(sockit_httpreq_new(NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_httpreq_set_method(NULL, "GET"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_httpres_status(NULL, &status, NULL, NULL, NULL), SOCKIT_INVALID);
    sockit_httpreq_free(req);
    sockit_httpres_free(res);
    CHECK_STATUS(sockit_httpreq_body(req, &bd, &bl), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "freed") != NULL);
    sockit_httpreq_free(req);
    sockit_httpreq_free(NULL);
    sockit_httpres_free(NULL);
    sockit_buffer_free(b);

    CHECK(strcmp(sockit_http_read_state_str(SOCKIT_HTTP_READ_BODY_READY), "body_ready") == 0);
    CHECK(strcmp(sockit_http_read_state_str(SOCKIT_HTTP_READ_MESSAGE_READY), "message_ready") == 0);
    CHECK(strcmp(sockit_http_write_state_str(SOCKIT_HTTP_WRITE_CONTINUE_ISSUED), "continue_issued") == 0);
    CHECK(strcmp(sockit_http_write_state_str(SOCKIT_HTTP_WRITE_METADATA_ISSUED), "metadata_issued") == 0);
    CHECK(strcmp(sockit_http_read_state_str(7), "") == 0);
    CHECK(strcmp(sockit_http_write_state_str(-1), "") == 0);
}

static void test_bad_arguments(void) {
    sockit_httpsock *hs = (sockit_httpsock *)1;
    CHECK_STATUS(sockit_httpsock_new(NULL, &hs), SOCKIT_INVALID);
    CHECK(hs == NULL);
    sockit_socket *master = NULL;
    CHECK_OK(sockit_tcp_bind("127.0.0.1", 0, 1, &master));
    CHECK_STATUS(sockit_httpsock_new(master, &hs), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "not a connected stream socket") != NULL);
    sockit_socket_free(master);
    CHECK_STATUS(sockit_httpsock_read_request(NULL, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_httpsock_set_limits(NULL, 0, 1, 1), SOCKIT_INVALID);
    sockit_httpsock_free(NULL);
}

static void test_exchanges(void) {
    pthread_t t = start(SERVE_ECHO);
    sockit_socket *c = connect_client();
    sockit_httpsock *hs = NULL;
    CHECK_OK(sockit_httpsock_new(c, &hs));
    CHECK_OK(sockit_httpsock_set_limits(hs, 65536, 8192, 100));
    CHECK_OK(sockit_httpsock_set_body_limits(hs, -1, 65536, 3));
    CHECK_STATUS(sockit_httpsock_set_body_limits(hs, -1, 0, 0), SOCKIT_INVALID);
    sockit_httpreq *req = NULL;
    sockit_httpres *res = NULL;
    sockit_buffer *b = sockit_buffer_new();
    CHECK_OK(sockit_httpreq_new(&req));
    CHECK_OK(sockit_httpres_new(&res));

    /* out of order: nothing sent */
    CHECK_STATUS(sockit_httpsock_read_some(hs, req, NULL), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "read_state is 'empty'") != NULL);
    CHECK_STATUS(sockit_httpsock_read_some(hs, req, res), SOCKIT_INVALID);
    CHECK_STATUS(sockit_httpsock_write(hs, NULL, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_httpsock_write_end_of_message(hs), SOCKIT_INVALID);
    CHECK_STATUS(sockit_httpsock_write_request(hs, req), SOCKIT_INVALID); /* no Host */
    CHECK(strstr(sockit_last_error(), "Host") != NULL);
    add(req, NULL, "host", "127.0.0.1");

    /* a GET, a POST, pipelined; the responses read in order */
    CHECK_OK(sockit_httpsock_write_request(hs, req));
    CHECK_OK(sockit_httpreq_set_method(req, "POST"));
    CHECK_OK(sockit_httpreq_set_target(req, "/post"));
    CHECK_OK(sockit_httpreq_set_body(req, (const uint8_t *)"payload", 7));
    CHECK_OK(sockit_httpsock_write_request(hs, req));
    CHECK(states_are(hs, "empty", "empty"));
    int role = 0;
    CHECK_OK(sockit_httpsock_info(hs, NULL, NULL, &role, NULL));
    CHECK(role == 2);
    CHECK_OK(sockit_httpsock_read_response(hs, res));
    CHECK(states_are(hs, "message_ready", "empty"));
    int status = 0;
    const uint8_t *r;
    size_t rl;
    CHECK_OK(sockit_httpres_status(res, &status, &r, &rl, NULL));
    CHECK(status == 200 && view_is(r, rl, "Fine"));
    CHECK_OK(read_body(hs, NULL, res));
    CHECK(res_body_is(res, "GET / "));
    CHECK(states_are(hs, "empty", "empty"));
    CHECK_OK(sockit_httpsock_read_response(hs, res));
    /* read_some appends at most read_chunk (3) bytes */
    CHECK_OK(sockit_httpsock_read_some(hs, NULL, res));
    const uint8_t *bd;
    size_t bl = 0;
    sockit_httpres_body(res, &bd, &bl);
    CHECK(bl == 3);
    CHECK_OK(read_body(hs, NULL, res));
    CHECK(res_body_is(res, "POST /post payload"));

    /* a streamed request with a trailer, a streamed (chunked) response with one */
    CHECK_OK(sockit_httpreq_set_target(req, "/stream"));
    CHECK_OK(sockit_httpreq_set_body(req, NULL, 0));
    CHECK_OK(sockit_httpsock_write_request_metadata(hs, req));
    CHECK(states_are(hs, "empty", "metadata_issued"));
    CHECK_OK(sockit_httpsock_write_data(hs, (const uint8_t *)"ab", 2));
    CHECK_OK(sockit_httpreq_set_body(req, (const uint8_t *)"cd", 2));
    CHECK_OK(sockit_httpsock_write(hs, req, NULL));
    CHECK_OK(sockit_httpreq_add_field(req, 1, "x-sum", (const uint8_t *)"4", 1));
    CHECK_OK(sockit_httpsock_write_trailers(hs, req, NULL));
    CHECK(states_are(hs, "empty", "empty"));
    CHECK_OK(sockit_httpreq_clear_fields(req, 1));
    CHECK_OK(sockit_httpsock_read_response(hs, res));
    int found = 0;
    CHECK_OK(sockit_httpres_field(res, 0, "transfer-encoding", b, &found));
    CHECK(found && strcmp(sockit_buffer_cstr(b), "chunked") == 0);
    CHECK_OK(sockit_httpres_field(res, 0, "x-had-trailer", b, &found));
    CHECK(found && strcmp(sockit_buffer_cstr(b), "4") == 0);
    CHECK_OK(read_body(hs, NULL, res));
    CHECK(res_body_is(res, "part1,POST /stream abcd"));
    CHECK_OK(sockit_httpres_field(res, 1, "x-trailer", b, &found));
    CHECK(found && strcmp(sockit_buffer_cstr(b), "done") == 0);

    /* 100-continue: the server sends 100 before reading; the client waits for it */
    CHECK_OK(sockit_httpreq_set_target(req, "/continue"));
    add(req, NULL, "expect", "100-continue");
    CHECK_OK(sockit_httpsock_write_request_metadata(hs, req));
    CHECK_OK(sockit_httpsock_read_response(hs, res));
    CHECK_OK(sockit_httpres_status(res, &status, NULL, NULL, NULL));
    CHECK(status == 100);
    CHECK(states_are(hs, "empty", "metadata_issued"));
    CHECK_OK(sockit_httpsock_write_data(hs, (const uint8_t *)"body", 4));
    CHECK_OK(sockit_httpsock_write_end_of_message(hs));
    CHECK_OK(sockit_httpsock_read_response(hs, res));
    CHECK_OK(sockit_httpres_status(res, &status, NULL, NULL, NULL));
    CHECK(status == 200);
    CHECK_OK(read_body(hs, NULL, res));
    CHECK(res_body_is(res, "POST /continue body"));
    CHECK_OK(sockit_httpreq_set_field(req, 0, "expect", NULL, 0));

    /* HEAD: no body however long it would be */
    CHECK_OK(sockit_httpreq_set_method(req, "HEAD"));
    CHECK_OK(sockit_httpreq_set_body(req, NULL, 0));
    CHECK_OK(sockit_httpreq_set_target(req, "/h"));
    CHECK_OK(sockit_httpsock_write_request(hs, req));
    CHECK_OK(sockit_httpsock_read_response(hs, res));
    CHECK(states_are(hs, "empty", "empty"));
    CHECK_OK(sockit_httpres_field(res, 0, "content-length", b, &found));
    CHECK(found && strcmp(sockit_buffer_cstr(b), "8") == 0); /* "HEAD /h " */

    /* the socket's buffered input stays readable by the socket: nothing is left here */
    size_t pending = 9;
    CHECK_OK(sockit_httpsock_flush(hs, &pending));
    CHECK(pending == 0);
    sockit_httpsock_free(hs);
    sockit_socket_close(c);
    pthread_join(t, NULL);
    sockit_socket_free(c);
    sockit_httpreq_free(req);
    sockit_httpres_free(res);
    sockit_buffer_free(b);
}

static void test_refusal(void) {
    pthread_t t = start(SERVE_REFUSE);
    sockit_socket *c = connect_client();
    const char *smuggle = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\n\r\n";
    size_t sent = 0;
    CHECK_OK(sockit_socket_send(c, (const uint8_t *)smuggle, strlen(smuggle), &sent));
    sockit_buffer *b = sockit_buffer_new();
    CHECK_STATUS(sockit_socket_receive(c, SOCKIT_PATTERN_ALL, 0, NULL, 0, b), SOCKIT_OK);
    const char *got = sockit_buffer_cstr(b);
    CHECK(strncmp(got, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
    CHECK(strstr(got, "Connection: close\r\n") != NULL);
    CHECK(strstr(got, "admin") == NULL);
    pthread_join(t, NULL);
    sockit_buffer_free(b);
    sockit_socket_free(c);
}

static void test_timeout(void) {
    pthread_t t = start(SERVE_TIMEOUT);
    sockit_socket *c = connect_client();
    usleep(400 * 1000);
    const char *get = "GET /late HTTP/1.1\r\nHost: x\r\n\r\n";
    size_t sent = 0;
    CHECK_OK(sockit_socket_send(c, (const uint8_t *)get, strlen(get), &sent));
    sockit_buffer *b = sockit_buffer_new();
    CHECK_OK(sockit_socket_receive(c, SOCKIT_PATTERN_LINE, 0, NULL, 0, b));
    CHECK(strcmp(sockit_buffer_cstr(b), "HTTP/1.1 204 No Content") == 0);
    pthread_join(t, NULL);
    sockit_buffer_free(b);
    sockit_socket_free(c);
}

static void test_nonblocking(void) {
    pthread_t t = start(SERVE_NONBLOCKING);
    sockit_socket *c = connect_client();
    usleep(100 * 1000);
    sockit_httpsock *hs = NULL;
    CHECK_OK(sockit_httpsock_new(c, &hs));
    sockit_httpreq *req = NULL;
    sockit_httpres *res = NULL;
    CHECK_OK(sockit_httpreq_new(&req));
    CHECK_OK(sockit_httpres_new(&res));
    add(req, NULL, "host", "x");
    CHECK_OK(sockit_httpsock_write_request(hs, req));
    CHECK_OK(sockit_httpsock_read_response(hs, res));
    /* flat memory: empty the body after each piece */
    size_t total = 0, bl = 0;
    const uint8_t *bd;
    for (int i = 0; i < 100000; i++) {
        sockit_http_read_state r;
        sockit_httpsock_state(hs, &r, NULL);
        if (r == SOCKIT_HTTP_READ_EMPTY) break;
        CHECK_OK(sockit_httpsock_read_some(hs, NULL, res));
        sockit_httpres_body(res, &bd, &bl);
        CHECK(bl <= 65536);
        total += bl;
        sockit_httpres_set_body(res, NULL, 0);
    }
    CHECK(total == 1 << 20);
    pthread_join(t, NULL);
    sockit_httpsock_free(hs);
    sockit_httpreq_free(req);
    sockit_httpres_free(res);
    sockit_socket_free(c);
}

int main(void) {
    CHECK_OK(sockit_tcp_listen("127.0.0.1", 0, 8, &listener));
    uint16_t p = 0;
    CHECK_OK(sockit_socket_getsockname(listener, NULL, &p, NULL));
    port = p;
    test_messages();
    test_bad_arguments();
    test_exchanges();
    test_refusal();
    test_timeout();
    test_nonblocking();
    sockit_socket_free(listener);
    return check_done();
}
