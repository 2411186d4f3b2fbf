/* The server side of HTTP connections (sockit_http_exchange) over a loopback TCP pair:
 * request heads and fields, bodies by length and by chunks, 100-continue, responses with
 * a Content-Length or chunked, HEAD, keep-alive and close, limits (413, 431), malformed
 * requests (400), timeouts, bad arguments. One thread: the client side writes whole
 * requests first, then the server side reads them. */
#include "check.h"

#include <stdint.h>
#include <stdlib.h>

static sockit_socket *listener;
static int port;

/* A connected pair: *cli (client side) and *srv (the accepted side). */
static void pair(sockit_socket **cli, sockit_socket **srv) {
    *cli = *srv = NULL;
    CHECK_OK(sockit_tcp_connect("127.0.0.1", port, NULL, 0, SOCKIT_FAMILY_INET, 5, cli));
    CHECK_OK(sockit_socket_accept(listener, srv));
    sockit_socket_settimeout(*cli, 5, "b");
}

static void send_str(sockit_socket *s, const char *text) {
    CHECK_OK(sockit_socket_send(s, (const uint8_t *)text, strlen(text), NULL));
}

/* Reads what the client side has within a short time into out (NUL-terminated). */
static void recv_some(sockit_socket *s, char *out, size_t n, double secs) {
    sockit_buffer *b = sockit_buffer_new();
    size_t used = 0;
    sockit_socket_settimeout(s, secs, "b");
    for (;;) {
        sockit_read_end end;
        sockit_status st = sockit_socket_read(s, 65536, -1, b, &end);
        size_t len = sockit_buffer_len(b);
        if (len > 0 && used + len < n) {
            memcpy(out + used, sockit_buffer_data(b), len);
            used += len;
        }
        if (st != SOCKIT_OK || end == SOCKIT_READ_EOF || len == 0)
            break;
    }
    out[used] = '\0';
    sockit_buffer_free(b);
}

static sockit_http_exchange *new_exchange(void) {
    sockit_http_exchange *ex = NULL;
    CHECK_OK(sockit_http_exchange_new(&ex));
    CHECK_OK(sockit_http_exchange_set_timeouts(ex, 2, 2, 2, 10));
    return ex;
}

static void test_requests_and_responses(void) {
    sockit_socket *cli, *srv;
    sockit_http_exchange *ex = new_exchange();
    sockit_buffer *m = sockit_buffer_new(), *t = sockit_buffer_new(), *f = sockit_buffer_new(),
                  *body = sockit_buffer_new();
    int version = -1, refusal = -1;
    bool end = false, has = false, done = false, keep = false;
    char got[8192];

    CHECK_OK(sockit_http_exchange_add_static_header(ex, "Server", "sockit-test"));
    CHECK_STATUS(sockit_http_exchange_add_static_header(ex, "Bad Name", "x"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_exchange_add_static_header(ex, "X-Bad", "a\r\nb"), SOCKIT_INVALID);
    pair(&cli, &srv);
    send_str(cli, "POST /path?q=1 HTTP/1.1\r\nHost: x\r\nX-Two: a\r\nx-two: b\r\n"
                  "Content-Length: 5\r\n\r\nhello"
                  "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
                  "HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    /* 1: a body by length; fields in order, names lower-cased */
    CHECK_OK(sockit_http_exchange_read_request(ex, srv, m, t, &version, f, &refusal));
    CHECK(strcmp(sockit_buffer_cstr(m), "POST") == 0 && strcmp(sockit_buffer_cstr(t), "/path?q=1") == 0);
    CHECK(version == 1 && refusal == 0);
    CHECK_BUF(f, "host\0x\0x-two\0a\0x-two\0b\0content-length\0005\0", 40);
    CHECK_OK(sockit_http_exchange_body_state(ex, &has, &done));
    CHECK(has && !done);
    CHECK_OK(sockit_http_exchange_read_body(ex, srv, body, &end, &refusal));
    CHECK(!end);
    CHECK_BUF_STR(body, "hello");
    CHECK_OK(sockit_http_exchange_read_body(ex, srv, body, &end, &refusal));
    CHECK(end && sockit_buffer_len(body) == 0);
    CHECK_OK(sockit_http_exchange_status(ex, 200, "OK"));
    CHECK_STATUS(sockit_http_exchange_status(ex, 200, "OK"), SOCKIT_INVALID);
    CHECK_OK(sockit_http_exchange_header(ex, "Content-Type", (const uint8_t *)"text/plain", 10));
    CHECK_STATUS(sockit_http_exchange_header(ex, "X-Bad", (const uint8_t *)"a\nb", 3), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_exchange_header(ex, "Transfer-Encoding", (const uint8_t *)"gzip", 4),
                 SOCKIT_INVALID);
    CHECK_OK(sockit_http_exchange_send(ex, srv, (const uint8_t *)"short ", 6));
    CHECK_OK(sockit_http_exchange_send(ex, srv, (const uint8_t *)"answer", 6));
    CHECK_OK(sockit_http_exchange_finish(ex, srv));
    CHECK_OK(sockit_http_exchange_keep_alive(ex, &keep));
    CHECK(keep);
    recv_some(cli, got, sizeof got, 0.3);
    CHECK(strstr(got, "HTTP/1.1 200 OK\r\n") == got);
    CHECK(strstr(got, "Server: sockit-test\r\n") != NULL);
    CHECK(strstr(got, "Content-Length: 12\r\n\r\nshort answer") != NULL);

    /* 2: a chunked body, a chunked response (finish_headers writes the head at once) */
    CHECK_OK(sockit_http_exchange_read_request(ex, srv, m, t, &version, NULL, &refusal));
    size_t total = 0;
    for (int i = 0; i < 10; i++) {
        CHECK_OK(sockit_http_exchange_read_body(ex, srv, body, &end, &refusal));
        if (end)
            break;
        total += sockit_buffer_len(body);
    }
    CHECK(total == 5 && end);
    CHECK_OK(sockit_http_exchange_status(ex, 201, "Created"));
    CHECK_OK(sockit_http_exchange_finish_headers(ex, srv));
    CHECK_OK(sockit_http_exchange_send(ex, srv, (const uint8_t *)"part", 4));
    CHECK_OK(sockit_http_exchange_flush(ex, srv));
    CHECK_OK(sockit_http_exchange_finish(ex, srv));
    recv_some(cli, got, sizeof got, 0.3);
    CHECK(strstr(got, "HTTP/1.1 201 Created\r\n") == got);
    CHECK(strstr(got, "Transfer-Encoding: chunked\r\n") != NULL);
    CHECK(strstr(got, "\r\n\r\n4\r\npart\r\n0\r\n\r\n") != NULL);

    /* 3: HEAD with Connection: close: no body, the connection ends */
    CHECK_OK(sockit_http_exchange_read_request(ex, srv, m, t, &version, NULL, &refusal));
    CHECK(strcmp(sockit_buffer_cstr(m), "HEAD") == 0);
    CHECK_OK(sockit_http_exchange_status(ex, 200, "OK"));
    CHECK_OK(sockit_http_exchange_send(ex, srv, (const uint8_t *)"dropped", 7));
    CHECK_OK(sockit_http_exchange_finish(ex, srv));
    CHECK_OK(sockit_http_exchange_keep_alive(ex, &keep));
    CHECK(!keep);
    recv_some(cli, got, sizeof got, 0.3);
    CHECK(strstr(got, "Connection: close\r\n") != NULL && strstr(got, "dropped") == NULL);

    sockit_socket_free(cli);
    sockit_socket_free(srv);
    sockit_http_exchange_free(ex);
    sockit_buffer_free(m);
    sockit_buffer_free(t);
    sockit_buffer_free(f);
    sockit_buffer_free(body);
}

static void test_continue_close_after_and_chunks(void) {
    sockit_socket *cli, *srv;
    sockit_http_exchange *ex = new_exchange();
    sockit_buffer *body = sockit_buffer_new();
    int refusal = -1;
    bool end = false, keep = true;
    char got[4096];

    CHECK_OK(sockit_http_exchange_set_chunks(ex, 3, 4));
    pair(&cli, &srv);
    send_str(cli, "PUT /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 7\r\n\r\n");
    CHECK_OK(sockit_http_exchange_read_request(ex, srv, NULL, NULL, NULL, NULL, &refusal));
    recv_some(cli, got, sizeof got, 0.2);
    CHECK(got[0] == '\0'); /* nothing before the body is asked for */
    send_str(cli, "1234567");
    CHECK_OK(sockit_http_exchange_read_body(ex, srv, body, &end, &refusal));
    recv_some(cli, got, sizeof got, 0.3);
    CHECK(strcmp(got, "HTTP/1.1 100 Continue\r\n\r\n") == 0);
    CHECK_BUF_STR(body, "123"); /* pieces of at most max_input (3) */
    CHECK_OK(sockit_http_exchange_read_body(ex, srv, body, &end, &refusal));
    CHECK_BUF_STR(body, "456");
    CHECK_OK(sockit_http_exchange_close_after(ex));
    CHECK_OK(sockit_http_exchange_status(ex, 200, "OK"));
    /* min_output 4: the first piece waits, the second pushes both out, chunked */
    CHECK_OK(sockit_http_exchange_send(ex, srv, (const uint8_t *)"ab", 2));
    CHECK_OK(sockit_http_exchange_send(ex, srv, (const uint8_t *)"cd", 2));
    CHECK_OK(sockit_http_exchange_finish(ex, srv));
    CHECK_OK(sockit_http_exchange_keep_alive(ex, &keep));
    CHECK(!keep);
    recv_some(cli, got, sizeof got, 0.3);
    CHECK(strstr(got, "Connection: close\r\n") != NULL);
    CHECK(strstr(got, "4\r\nabcd\r\n0\r\n\r\n") != NULL);
    sockit_socket_free(cli);
    sockit_socket_free(srv);
    sockit_http_exchange_free(ex);
    sockit_buffer_free(body);
}

/* Sends `request`, expects read_request to fail with `status`, answers with refuse. */
static void refused(sockit_http_exchange *ex, const char *request, int status, const char *what) {
    sockit_socket *cli, *srv;
    int refusal = -1;
    char got[4096];
    pair(&cli, &srv);
    send_str(cli, request);
    sockit_status st = sockit_http_exchange_read_request(ex, srv, NULL, NULL, NULL, NULL, &refusal);
    CHECK_WHY(st != SOCKIT_OK && refusal == status, what);
    if (refusal > 0) {
        CHECK_OK(sockit_http_exchange_refuse(ex, srv, refusal));
        recv_some(cli, got, sizeof got, 0.5);
        char want[32];
        snprintf(want, sizeof want, "HTTP/1.1 %d ", status);
        CHECK_WHY(strstr(got, want) == got && strstr(got, "Connection: close") != NULL, what);
    }
    sockit_socket_free(cli);
    sockit_socket_free(srv);
}

static void test_limits_and_bad_requests(void) {
    sockit_http_exchange *ex;
    char big[4096];
    ex = new_exchange();
    CHECK_OK(sockit_http_exchange_set_limits(ex, 512, 10));
    CHECK_STATUS(sockit_http_exchange_set_limits(ex, 10, 10), SOCKIT_INVALID);
    refused(ex, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n", 413, "413 over the body limit");
    sockit_http_exchange_free(ex);

    ex = new_exchange();
    CHECK_OK(sockit_http_exchange_set_limits(ex, 512, 10));
    snprintf(big, sizeof big, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: %0900d\r\n\r\n", 0);
    refused(ex, big, 431, "431 over the head limit");
    sockit_http_exchange_free(ex);

    ex = new_exchange();
    refused(ex, "NOT HTTP AT ALL\r\n\r\n", 400, "400 for garbage");
    sockit_http_exchange_free(ex);
    ex = new_exchange();
    refused(ex, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400,
            "400 for conflicting lengths");
    sockit_http_exchange_free(ex);

    /* A chunked body past the limit: 413 while reading it. */
    ex = new_exchange();
    CHECK_OK(sockit_http_exchange_set_limits(ex, 512, 4));
    {
        sockit_socket *cli, *srv;
        sockit_buffer *b = sockit_buffer_new();
        int refusal = -1;
        bool end = false;
        sockit_status st = SOCKIT_OK;
        pair(&cli, &srv);
        send_str(cli, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n123456\r\n0\r\n\r\n");
        CHECK_OK(sockit_http_exchange_read_request(ex, srv, NULL, NULL, NULL, NULL, &refusal));
        for (int i = 0; i < 5 && st == SOCKIT_OK && !end; i++)
            st = sockit_http_exchange_read_body(ex, srv, b, &end, &refusal);
        CHECK(st == SOCKIT_PROTOCOL && refusal == 413);
        sockit_buffer_free(b);
        sockit_socket_free(cli);
        sockit_socket_free(srv);
    }
    sockit_http_exchange_free(ex);

    /* Silence: the idle timeout ends the wait with nothing to answer. */
    ex = NULL;
    CHECK_OK(sockit_http_exchange_new(&ex));
    CHECK_OK(sockit_http_exchange_set_timeouts(ex, 0.2, -1, -1, -1));
    refused(ex, "", 0, "idle timeout: status 0");
    sockit_http_exchange_free(ex);
    /* A head that never ends: the request-header timeout. */
    ex = NULL;
    CHECK_OK(sockit_http_exchange_new(&ex));
    CHECK_OK(sockit_http_exchange_set_timeouts(ex, 5, 5, 0.3, -1));
    refused(ex, "GET / HTTP/1.1\r\nHost: x\r\n", 0, "request header timeout: status 0");
    sockit_http_exchange_free(ex);
}

static void test_bad_arguments(void) {
    sockit_http_exchange *ex = NULL;
    bool b;
    int r;
    CHECK_STATUS(sockit_http_exchange_new(NULL), SOCKIT_INVALID);
    CHECK_OK(sockit_http_exchange_new(&ex));
    CHECK_STATUS(sockit_http_exchange_read_request(ex, NULL, NULL, NULL, NULL, NULL, &r), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_exchange_read_body(ex, NULL, NULL, NULL, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_exchange_status(ex, 200, "OK"), SOCKIT_INVALID); /* no request */
    CHECK_STATUS(sockit_http_exchange_status(ex, 200, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_exchange_header(ex, NULL, NULL, 0), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_exchange_send(ex, NULL, NULL, 0), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_exchange_flush(ex, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_exchange_finish(ex, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_exchange_finish_headers(ex, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_exchange_refuse(ex, NULL, 400), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_exchange_keep_alive(ex, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_exchange_add_static_header(ex, NULL, "x"), SOCKIT_INVALID);
    CHECK_OK(sockit_http_exchange_keep_alive(ex, &b));
    CHECK(!b);
    sockit_http_exchange_free(ex);
    sockit_http_exchange_free(NULL);
    CHECK_STATUS(sockit_http_exchange_close_after(ex), SOCKIT_INVALID); /* freed */
    CHECK_STATUS(sockit_http_exchange_body_state(NULL, &b, &b), SOCKIT_INVALID);
}

int main(void) {
    CHECK_OK(sockit_tcp_listen("127.0.0.1", 0, 16, &listener));
    uint16_t p = 0;
    CHECK_OK(sockit_socket_getsockname(listener, NULL, &p, NULL));
    port = p;
    sockit_socket_settimeout(listener, 5, "b");
    test_requests_and_responses();
    test_continue_close_after_and_chunks();
    test_limits_and_bad_requests();
    test_bad_arguments();
    sockit_socket_free(listener);
    return check_done();
}
