/* HTTP client tests. Without servers only the offline checks run; scripts/test-proto.sh
 * starts httpbin under gunicorn (SOCKIT_HTTPBIN_PORT) and the fault server
 * (SOCKIT_FAULT_PORT) and runs this again. */
#include "check.h"
#include <stdint.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static int httpbin, fault;
static char url[512];

static const char *U(int port, const char *path) {
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    return url;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int contains(sockit_buffer *b, const char *s) {
    size_t n = strlen(s), len = sockit_buffer_len(b);
    const uint8_t *d = sockit_buffer_data(b);
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (memcmp(d + i, s, n) == 0) return 1;
    return 0;
}

/* How many times `s` occurs in `b`, ASCII letters compared without case. */
static int count_ci(sockit_buffer *b, const char *s) {
    size_t n = strlen(s), len = sockit_buffer_len(b);
    const uint8_t *d = sockit_buffer_data(b);
    int count = 0;
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (strncasecmp((const char *)d + i, s, n) == 0) count++;
    return count;
}

/* Whether the buffer ends with `s`. */
static int ends_with(sockit_buffer *b, const char *s) {
    size_t n = strlen(s), len = sockit_buffer_len(b);
    return n <= len && memcmp(sockit_buffer_data(b) + len - n, s, n) == 0;
}

/* Performs one request (no sink: body collected), returns the status. */
static sockit_status run(sockit_http *c, sockit_http_request *req, sockit_http_response *resp,
                         sockit_buffer *body) {
    sockit_status s = sockit_http_perform(c, req, NULL, resp);
    if (body) sockit_http_response_body(resp, body);
    return s;
}

static sockit_status get(sockit_http *c, const char *u, sockit_http_response *resp,
                         sockit_buffer *body) {
    sockit_http_request *req = NULL;
    sockit_status s = sockit_http_request_new("GET", u, &req);
    if (s != SOCKIT_OK) return s;
    s = run(c, req, resp, body);
    sockit_http_request_free(req);
    return s;
}

static void test_offline(void) {
    sockit_http *c = NULL;
    sockit_http_request *req = NULL;
    sockit_http_response *resp = NULL;
    sockit_buffer *b = sockit_buffer_new();
    int found = -1;

    /* the canonic table */
    CHECK(sockit_headers_canonic_count() == 91);
    CHECK_OK(sockit_headers_canonic("content-md5", b, &found));
    CHECK(strcmp(sockit_buffer_cstr(b), "Content-MD5") == 0 && found == 1);
    CHECK_OK(sockit_headers_canonic("WWW-AUTHENTICATE", b, &found));
    CHECK(strcmp(sockit_buffer_cstr(b), "WWW-Authenticate") == 0);
    CHECK_OK(sockit_headers_canonic("x-mine", b, &found));
    CHECK(strcmp(sockit_buffer_cstr(b), "x-mine") == 0 && found == 0);
    CHECK_OK(sockit_headers_canonic_at(0, b));
    CHECK(strcmp(sockit_buffer_cstr(b), "Accept") == 0);
    CHECK_STATUS(sockit_headers_canonic_at(91, b), SOCKIT_INVALID);
    CHECK_STATUS(sockit_headers_canonic(NULL, b, NULL), SOCKIT_INVALID);

    /* bad arguments and injection */
    CHECK_STATUS(sockit_http_request_new("GE T", "http://h/", &req), SOCKIT_INVALID);
    CHECK(req == NULL);
    CHECK_STATUS(sockit_http_request_new("GET", NULL, &req), SOCKIT_INVALID);
    CHECK_OK(sockit_http_request_new("GET", "https://127.0.0.1:1/", &req));
    CHECK_STATUS(sockit_http_request_add_header(req, "X-Evil", "a\r\nInjected: 1"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_request_add_header(req, "X\nEvil", "a"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_request_add_header(req, "X Evil", "a"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_request_set_method(req, "GET\r\n"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_request_set_redirect(req, 1, -1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_request_set_limits(req, 0, 10), SOCKIT_INVALID);
    CHECK_OK(sockit_http_response_new(&resp));
    CHECK_STATUS(sockit_http_perform(NULL, req, NULL, resp), SOCKIT_UNSUPPORTED);
    CHECK(strstr(sockit_last_error(), "unsupported scheme 'https'") != NULL);
    CHECK_STATUS(sockit_http_perform(NULL, req, NULL, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_perform(NULL, NULL, NULL, resp), SOCKIT_INVALID);
    CHECK_OK(sockit_http_request_set_url(req, "http://127.0.0.1:1/a b"));
    CHECK_STATUS(sockit_http_perform(NULL, req, NULL, resp), SOCKIT_INVALID);
    CHECK_OK(sockit_http_request_set_url(req, "http://127.0.0.1:1/"));
    CHECK_STATUS(sockit_http_perform(NULL, req, NULL, resp), SOCKIT_REFUSED);
    CHECK(sockit_http_response_code(resp) == 0);
    CHECK(sockit_http_response_code(NULL) == 0);
    CHECK_OK(sockit_http_new(&c));
    sockit_http_free(c);
    sockit_http_free(NULL);
    sockit_http_request_free(req);
    sockit_http_request_free(req); /* twice: harmless */
    sockit_http_response_free(resp);
    sockit_buffer_free(b);
}

/* Request setters and pool calls with bad arguments and freed handles: a clear status,
 * never a crash. */
static void test_offline_setters(void) {
    sockit_http *c = NULL;
    sockit_http_request *req = NULL;
    size_t idle = 99;

    CHECK_OK(sockit_http_request_new("GET", "http://127.0.0.1:1/", &req));
    /* set_header: the checks of add_header */
    CHECK_STATUS(sockit_http_request_set_header(NULL, "X-A", "1"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_request_set_header(req, NULL, "1"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_request_set_header(req, NULL, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_request_set_header(req, "", "1"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_request_set_header(req, "X Evil", "1"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_request_set_header(req, "X-Evil:", "1"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_request_set_header(req, "X\r\nEvil", "1"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_request_set_header(req, "X-Evil", "a\r\nInjected: 1"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_request_set_header(req, "X-Evil", "a\nInjected: 1"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_request_set_header(req, "X-Evil", "a\rInjected: 1"), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "X-Evil") != NULL);
    CHECK_OK(sockit_http_request_set_header(req, "X-A", "1"));
    CHECK_OK(sockit_http_request_set_header(req, "X-A", ""));    /* an empty value is a value */
    CHECK_OK(sockit_http_request_set_header(req, "X-A", NULL));  /* removes */
    CHECK_OK(sockit_http_request_set_header(req, "X-Absent", NULL)); /* nothing to remove */
    /* clear_body, set_keep_alive */
    CHECK_STATUS(sockit_http_request_clear_body(NULL), SOCKIT_INVALID);
    CHECK_OK(sockit_http_request_clear_body(req));
    CHECK_OK(sockit_http_request_clear_body(req)); /* twice: still no body */
    CHECK_STATUS(sockit_http_request_set_keep_alive(NULL, 0), SOCKIT_INVALID);
    CHECK_OK(sockit_http_request_set_keep_alive(req, 0));
    CHECK_OK(sockit_http_request_set_keep_alive(req, 7)); /* any non-zero is on */
    /* a source body is released by clear_body (valgrind sees a leak otherwise) */
    sockit_source *src = NULL;
    CHECK_OK(sockit_source_string((const uint8_t *)"abc", 3, &src));
    CHECK_OK(sockit_http_request_set_body_source(req, src, -1));
    CHECK_OK(sockit_http_request_clear_body(req));
    sockit_http_request_free(req);
    /* freed request */
    CHECK_STATUS(sockit_http_request_set_header(req, "X-A", "1"), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "freed") != NULL);
    CHECK_STATUS(sockit_http_request_set_header(req, "X-A", NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_request_clear_body(req), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "freed") != NULL);
    CHECK_STATUS(sockit_http_request_set_keep_alive(req, 1), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "freed") != NULL);

    /* close_idle and idle_count */
    CHECK_STATUS(sockit_http_close_idle(NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_idle_count(NULL, &idle), SOCKIT_INVALID);
    CHECK_OK(sockit_http_new(&c));
    CHECK_STATUS(sockit_http_idle_count(c, NULL), SOCKIT_INVALID);
    CHECK_OK(sockit_http_idle_count(c, &idle));
    CHECK(idle == 0);
    CHECK_OK(sockit_http_close_idle(c)); /* an empty pool */
    CHECK_OK(sockit_http_close_idle(c));
    CHECK_OK(sockit_http_idle_count(c, &idle));
    CHECK(idle == 0);
    sockit_http_free(c);
    CHECK_STATUS(sockit_http_close_idle(c), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "freed") != NULL);
    idle = 99;
    CHECK_STATUS(sockit_http_idle_count(c, &idle), SOCKIT_INVALID);
    CHECK(idle == 99);
}

/* A source callback yielding "part one, " and "part two". */
static int two_parts(void *ud, sockit_buffer *chunk, bool *end) {
    int *step = ud;
    switch ((*step)++) {
    case 0: return sockit_buffer_append(chunk, (const uint8_t *)"part one, ", 10);
    case 1: return sockit_buffer_append(chunk, (const uint8_t *)"part two", 8);
    default: *end = true; return SOCKIT_OK;
    }
}

static void test_httpbin_basics(sockit_http *c) {
    sockit_http_request *req = NULL;
    sockit_http_response *resp = NULL;
    sockit_buffer *body = sockit_buffer_new(), *v = sockit_buffer_new(), *n = sockit_buffer_new();
    int found = 0;
    size_t count = 0;

    CHECK_OK(sockit_http_response_new(&resp));
    CHECK_OK(sockit_http_request_new("GET", U(httpbin, "/get?x=1"), &req));
    CHECK_OK(sockit_http_request_add_header(req, "x-sockit-test", "hello"));
    CHECK_OK(run(c, req, resp, body));
    CHECK(sockit_http_response_code(resp) == 200);
    CHECK(contains(body, "\"X-Sockit-Test\": \"hello\""));
    CHECK(contains(body, "\"User-Agent\": \"sockit/"));
    CHECK_OK(sockit_http_response_field(resp, 0, "Content-Type", v, &found));
    CHECK(found && strcmp(sockit_buffer_cstr(v), "application/json") == 0);
    CHECK_OK(sockit_http_response_field(resp, 0, "x-absent", v, &found));
    CHECK(!found && sockit_buffer_len(v) == 0);
    CHECK_OK(sockit_http_response_field_count(resp, 0, &count));
    CHECK(count >= 3);
    CHECK_OK(sockit_http_response_field_at(resp, 0, 0, n, v));
    CHECK(strcmp(sockit_buffer_cstr(n), "server") == 0); /* lower-cased, in order */
    CHECK_STATUS(sockit_http_response_field_at(resp, 0, count, n, v), SOCKIT_INVALID);
    CHECK_OK(sockit_http_response_status(resp, v, n));
    CHECK(strcmp(sockit_buffer_cstr(v), "HTTP/1.1 200 OK") == 0);
    CHECK(strcmp(sockit_buffer_cstr(n), "OK") == 0);
    uint64_t received = 0;
    CHECK_OK(sockit_http_response_info(resp, &received, NULL, NULL));
    CHECK(received == sockit_buffer_len(body));
    sockit_http_request_free(req);

    /* HEAD: headers, no body */
    CHECK_OK(sockit_http_request_new("HEAD", U(httpbin, "/get"), &req));
    CHECK_OK(run(c, req, resp, body));
    CHECK(sockit_http_response_code(resp) == 200 && sockit_buffer_len(body) == 0);
    CHECK_OK(sockit_http_response_field(resp, 0, "content-length", v, &found));
    CHECK(found && atoi(sockit_buffer_cstr(v)) > 0);
    sockit_http_request_free(req);

    /* 204 and 304: no body */
    CHECK_OK(get(c, U(httpbin, "/status/204"), resp, body));
    CHECK(sockit_http_response_code(resp) == 204 && sockit_buffer_len(body) == 0);
    CHECK_OK(get(c, U(httpbin, "/status/304"), resp, body));
    CHECK(sockit_http_response_code(resp) == 304 && sockit_buffer_len(body) == 0);
    CHECK_OK(get(c, U(httpbin, "/status/418"), resp, body));
    CHECK(sockit_http_response_code(resp) == 418);

    /* chunked response body */
    CHECK_OK(get(c, U(httpbin, "/stream-bytes/50000?seed=7&chunk_size=999"), resp, body));
    CHECK(sockit_buffer_len(body) == 50000);
    CHECK_OK(sockit_http_response_field(resp, 0, "transfer-encoding", v, &found));
    CHECK(found && strcmp(sockit_buffer_cstr(v), "chunked") == 0);

    /* POST bytes */
    CHECK_OK(sockit_http_request_new("POST", U(httpbin, "/post"), &req));
    CHECK_OK(sockit_http_request_add_header(req, "content-type", "text/plain"));
    CHECK_OK(sockit_http_request_set_body(req, (const uint8_t *)"posted data", 11));
    CHECK_OK(run(c, req, resp, body));
    CHECK(contains(body, "\"data\": \"posted data\""));
    CHECK(contains(body, "\"Content-Length\": \"11\""));
    /* the request is reusable */
    CHECK_OK(run(c, req, resp, body));
    CHECK(contains(body, "\"data\": \"posted data\""));
    sockit_http_request_free(req);

    /* PUT from a source (a cat of strings: its size is known) */
    sockit_source *src = NULL, *cat = NULL, *parts[2] = {NULL, NULL};
    CHECK_OK(sockit_source_string((const uint8_t *)"part one, ", 10, &parts[0]));
    CHECK_OK(sockit_source_string((const uint8_t *)"part two", 8, &parts[1]));
    CHECK_OK(sockit_source_cat(parts, 2, &cat));
    CHECK_OK(sockit_http_request_new("PUT", U(httpbin, "/put"), &req));
    CHECK_OK(sockit_http_request_set_body_source(req, cat, -1));
    CHECK_OK(run(c, req, resp, body));
    CHECK(contains(body, "\"data\": \"part one, part two\""));
    sockit_http_request_free(req);
    /* a source of unknown size goes out chunked, as the fault server's echo shows */
    int step = 0;
    CHECK_OK(sockit_source_callback(two_parts, &step, NULL, &cat));
    CHECK_OK(sockit_http_request_new("PUT", U(fault, "/echo"), &req));
    CHECK_OK(sockit_http_request_set_body_source(req, cat, -1));
    CHECK_OK(run(c, req, resp, body));
    CHECK(contains(body, "\r\nTransfer-Encoding: chunked\r\n\r\na\r\npart one, \r\n8\r\npart two\r\n0\r\n\r\n"));
    sockit_http_request_free(req);

    /* source with declared size: Content-Length */
    CHECK_OK(sockit_source_string((const uint8_t *)"sized", 5, &src));
    CHECK_OK(sockit_http_request_new("POST", U(httpbin, "/post"), &req));
    CHECK_OK(sockit_http_request_set_body_source(req, src, 5));
    CHECK_OK(run(c, req, resp, body));
    CHECK(contains(body, "\"Content-Length\": \"5\"") && contains(body, "\"data\": \"sized\""));
    sockit_http_request_free(req);

    /* a source that lies about its size: refused, nothing hangs */
    CHECK_OK(sockit_source_string((const uint8_t *)"short", 5, &src));
    CHECK_OK(sockit_http_request_new("POST", U(httpbin, "/post"), &req));
    CHECK_OK(sockit_http_request_set_body_source(req, src, 50));
    CHECK_STATUS(run(c, req, resp, body), SOCKIT_INVALID);
    sockit_http_request_free(req);

    /* 100-continue with a real server */
    CHECK_OK(sockit_http_request_new("POST", U(httpbin, "/post"), &req));
    CHECK_OK(sockit_http_request_set_expect_continue(req, 1));
    CHECK_OK(sockit_http_request_set_body(req, (const uint8_t *)"continued", 9));
    CHECK_OK(run(c, req, resp, body));
    CHECK(contains(body, "\"data\": \"continued\""));
    sockit_http_request_free(req);

    /* the simple form */
    int code = 0;
    CHECK_OK(sockit_http_simple(c, U(httpbin, "/get"), NULL, 0, body, &code));
    CHECK(code == 200 && contains(body, "\"url\":"));
    CHECK_OK(sockit_http_simple(NULL, U(httpbin, "/post"), (const uint8_t *)"a=1&b=2", 7, body, &code));
    CHECK(code == 200 && contains(body, "\"a\": \"1\"") && contains(body, "\"b\": \"2\""));

    /* proxy: httpbin sees the absolute-form target and our Host */
    CHECK_OK(sockit_http_request_new("GET", "http://example.invalid/get", &req));
    snprintf(url, sizeof url, "http://127.0.0.1:%d", httpbin);
    CHECK_OK(sockit_http_request_set_proxy(req, url));
    CHECK_OK(run(c, req, resp, body));
    CHECK(sockit_http_response_code(resp) == 200);
    CHECK(contains(body, "\"Host\": \"example.invalid\""));
    sockit_http_request_free(req);

    sockit_http_response_free(resp);
    sockit_buffer_free(body);
    sockit_buffer_free(v);
    sockit_buffer_free(n);
}

static void test_keepalive(void) {
    sockit_http *c = NULL;
    sockit_http_request *req = NULL;
    sockit_http_response *resp = NULL;
    sockit_buffer *body = sockit_buffer_new();
    int reused = 0, all_reused = 1;
    char tag[64];
    snprintf(tag, sizeof tag, "keepalive-%d-%ld", httpbin, (long)time(NULL));

    CHECK_OK(sockit_http_new(&c));
    CHECK_OK(sockit_http_response_new(&resp));
    CHECK_OK(sockit_http_request_new("GET", U(httpbin, "/get"), &req));
    CHECK_OK(sockit_http_request_add_header(req, "X-Sockit-Tag", tag));
    for (int i = 0; i < 20; i++) {
        CHECK_OK(run(c, req, resp, body));
        CHECK_OK(sockit_http_response_info(resp, NULL, NULL, &reused));
        if (i > 0 && !reused) all_reused = 0;
    }
    CHECK(all_reused);
    size_t idle = 0;
    CHECK_OK(sockit_http_idle_count(c, &idle));
    CHECK(idle == 1);
    sockit_http_request_free(req);
    /* the server counted one TCP connection for the 20 requests */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/sockit/peers?tag=%s", httpbin, tag);
    CHECK_OK(get(NULL, url, resp, body));
    CHECK(contains(body, "\"requests\": 20"));
    CHECK(contains(body, "\"connections\": 1,"));

    /* without a pool every request has its own connection */
    snprintf(tag + strlen(tag), sizeof tag - strlen(tag), "-nopool");
    CHECK_OK(sockit_http_set_pool(c, 0, 0));
    CHECK_OK(sockit_http_request_new("GET", U(httpbin, "/get"), &req));
    CHECK_OK(sockit_http_request_add_header(req, "X-Sockit-Tag", tag));
    for (int i = 0; i < 3; i++) CHECK_OK(run(c, req, resp, body));
    sockit_http_request_free(req);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/sockit/peers?tag=%s", httpbin, tag);
    CHECK_OK(get(NULL, url, resp, body));
    CHECK(contains(body, "\"connections\": 3,"));

    sockit_http_free(c);
    sockit_http_response_free(resp);
    sockit_buffer_free(body);
}

/* set_header and clear_body, seen by httpbin's echoes and on the wire (the fault
 * server's /echo returns the raw request). */
static void test_request_setters(sockit_http *c) {
    sockit_http_request *req = NULL;
    sockit_http_response *resp = NULL;
    sockit_buffer *body = sockit_buffer_new();

    CHECK_OK(sockit_http_response_new(&resp));

    /* set_header replaces every field of the name, whatever its case */
    CHECK_OK(sockit_http_request_new("GET", U(httpbin, "/headers"), &req));
    CHECK_OK(sockit_http_request_add_header(req, "X-Multi", "one"));
    CHECK_OK(sockit_http_request_add_header(req, "x-multi", "two"));
    CHECK_OK(run(c, req, resp, body));
    CHECK(contains(body, "\"X-Multi\": \"one,two\"")); /* both went out */
    CHECK_OK(sockit_http_request_set_header(req, "X-MULTI", "three"));
    CHECK_OK(run(c, req, resp, body));
    CHECK(contains(body, "\"X-Multi\": \"three\""));
    CHECK(!contains(body, "one") && !contains(body, "two"));
    /* a name not there yet is added */
    CHECK_OK(sockit_http_request_set_header(req, "X-Fresh", "new"));
    /* the client's own User-Agent is replaced */
    CHECK_OK(sockit_http_request_set_header(req, "user-agent", "tester/2"));
    CHECK_OK(run(c, req, resp, body));
    CHECK(contains(body, "\"X-Fresh\": \"new\"") && contains(body, "\"X-Multi\": \"three\""));
    CHECK(contains(body, "\"User-Agent\": \"tester/2\"") && !contains(body, "sockit/"));
    /* NULL removes every field of the name; the client's User-Agent comes back */
    CHECK_OK(sockit_http_request_set_header(req, "x-multi", NULL));
    CHECK_OK(sockit_http_request_set_header(req, "User-Agent", NULL));
    CHECK_OK(run(c, req, resp, body));
    CHECK(sockit_http_response_code(resp) == 200);
    CHECK(!contains(body, "X-Multi") && contains(body, "\"X-Fresh\": \"new\""));
    CHECK(contains(body, "\"User-Agent\": \"sockit/"));
    sockit_http_request_free(req);

    /* on the wire: one field left, the others untouched; a refused value changes nothing */
    CHECK_OK(sockit_http_request_new("GET", U(fault, "/echo"), &req));
    CHECK_OK(sockit_http_request_add_header(req, "X-Dup", "a"));
    CHECK_OK(sockit_http_request_add_header(req, "X-Other", "kept"));
    CHECK_OK(sockit_http_request_add_header(req, "x-dup", "b"));
    CHECK_OK(sockit_http_request_add_header(req, "X-DUP", "c"));
    CHECK_OK(sockit_http_request_set_header(req, "x-Dup", "final"));
    CHECK_STATUS(sockit_http_request_set_header(req, "X-Dup", "evil\r\nX-Injected: 1"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_request_set_header(req, "X-Dup", "evil\nX-Injected: 1"), SOCKIT_INVALID);
    CHECK_OK(run(c, req, resp, body));
    CHECK(sockit_http_response_code(resp) == 200);
    CHECK(count_ci(body, "\r\nX-Dup:") == 1);
    CHECK(count_ci(body, "\r\nX-Dup: final\r\n") == 1);
    CHECK(contains(body, "\r\nX-Other: kept\r\n"));
    CHECK(!contains(body, "evil") && !contains(body, "X-Injected"));
    /* removing it sends none; the others stay */
    CHECK_OK(sockit_http_request_set_header(req, "X-DUP", NULL));
    CHECK_OK(run(c, req, resp, body));
    CHECK(count_ci(body, "X-Dup") == 0 && contains(body, "\r\nX-Other: kept\r\n"));
    sockit_http_request_free(req);

    /* clear_body: a POST that had a body sends none (Content-Length: 0) */
    CHECK_OK(sockit_http_request_new("POST", U(httpbin, "/anything"), &req));
    CHECK_OK(sockit_http_request_add_header(req, "Content-Type", "text/plain"));
    CHECK_OK(sockit_http_request_set_body(req, (const uint8_t *)"body to clear", 13));
    CHECK_OK(run(c, req, resp, body));
    CHECK(contains(body, "\"data\": \"body to clear\""));
    CHECK(contains(body, "\"Content-Length\": \"13\""));
    CHECK_OK(sockit_http_request_clear_body(req));
    CHECK_OK(run(c, req, resp, body));
    CHECK(sockit_http_response_code(resp) == 200);
    CHECK(contains(body, "\"data\": \"\"") && !contains(body, "body to clear"));
    CHECK(contains(body, "\"Content-Length\": \"0\"") || !contains(body, "\"Content-Length\""));
    CHECK(contains(body, "\"method\": \"POST\""));
    /* the request takes a body again afterwards */
    CHECK_OK(sockit_http_request_set_body(req, (const uint8_t *)"again", 5));
    CHECK_OK(run(c, req, resp, body));
    CHECK(contains(body, "\"data\": \"again\""));
    sockit_http_request_free(req);

    /* on the wire: nothing after the head, no framing for a GET; a source body is dropped */
    sockit_source *src = NULL;
    CHECK_OK(sockit_source_string((const uint8_t *)"source body", 11, &src));
    CHECK_OK(sockit_http_request_new("POST", U(fault, "/echo"), &req));
    CHECK_OK(sockit_http_request_set_body_source(req, src, -1));
    CHECK_OK(sockit_http_request_clear_body(req));
    CHECK_OK(run(c, req, resp, body));
    CHECK(sockit_http_response_code(resp) == 200);
    CHECK(contains(body, "POST /echo HTTP/1.1\r\n") && ends_with(body, "\r\n\r\n"));
    CHECK(!contains(body, "source body") && !contains(body, "Transfer-Encoding"));
    CHECK(contains(body, "\r\nContent-Length: 0\r\n") || !contains(body, "Content-Length"));
    CHECK_OK(sockit_http_request_set_method(req, "GET"));
    CHECK_OK(sockit_http_request_set_body(req, (const uint8_t *)"xyz", 3));
    CHECK_OK(sockit_http_request_clear_body(req));
    CHECK_OK(run(c, req, resp, body));
    CHECK(contains(body, "GET /echo HTTP/1.1\r\n") && ends_with(body, "\r\n\r\n"));
    CHECK(!contains(body, "xyz") && !contains(body, "Content-Length") &&
          !contains(body, "Transfer-Encoding"));
    sockit_http_request_free(req);

    sockit_http_response_free(resp);
    sockit_buffer_free(body);
}

/* The connections httpbin saw for requests tagged `tag` (-1 when the answer is unreadable). */
static int peer_connections(const char *tag, int *requests) {
    sockit_http_response *resp = NULL;
    sockit_buffer *body = sockit_buffer_new();
    char u[256];
    int conns = -1;
    snprintf(u, sizeof u, "http://127.0.0.1:%d/sockit/peers?tag=%s", httpbin, tag);
    if (sockit_http_response_new(&resp) == SOCKIT_OK && get(NULL, u, resp, body) == SOCKIT_OK) {
        const char *t = sockit_buffer_cstr(body), *p = strstr(t, "\"connections\": ");
        if (p) conns = atoi(p + strlen("\"connections\": "));
        p = strstr(t, "\"requests\": ");
        if (requests) *requests = p ? atoi(p + strlen("\"requests\": ")) : -1;
    }
    sockit_http_response_free(resp);
    sockit_buffer_free(body);
    return conns;
}

/* set_keep_alive and close_idle: what goes out, what the pool holds, and how many TCP
 * connections the server counted. */
static void test_pool_control(void) {
    sockit_http *c = NULL;
    sockit_http_request *req = NULL;
    sockit_http_response *resp = NULL;
    sockit_buffer *body = sockit_buffer_new();
    size_t idle = 99;
    int reused = -1, requests = -1;
    char tag[96];

    CHECK_OK(sockit_http_new(&c));
    CHECK_OK(sockit_http_response_new(&resp));

    /* keep-alive off: "Connection: close" goes out and nothing is pooled */
    snprintf(tag, sizeof tag, "ka-off-%d-%ld-%d", httpbin, (long)time(NULL), (int)getpid());
    CHECK_OK(sockit_http_request_new("GET", U(httpbin, "/headers"), &req));
    CHECK_OK(sockit_http_request_add_header(req, "X-Sockit-Tag", tag));
    CHECK_OK(sockit_http_request_set_keep_alive(req, 0));
    for (int i = 0; i < 3; i++) {
        CHECK_OK(run(c, req, resp, body));
        CHECK(contains(body, "\"Connection\": \"close\""));
        CHECK_OK(sockit_http_response_info(resp, NULL, NULL, &reused));
        CHECK(reused == 0);
        CHECK_OK(sockit_http_idle_count(c, &idle));
        CHECK(idle == 0);
    }
    CHECK(peer_connections(tag, &requests) == 3 && requests == 3);

    /* on again (same request, same client): the connection is kept and reused */
    snprintf(tag + strlen(tag), sizeof tag - strlen(tag), "-on");
    CHECK_OK(sockit_http_request_set_header(req, "X-Sockit-Tag", tag));
    CHECK_OK(sockit_http_request_set_keep_alive(req, 1));
    for (int i = 0; i < 3; i++) {
        CHECK_OK(run(c, req, resp, body));
        CHECK(sockit_http_response_code(resp) == 200 && !contains(body, "\"Connection\": \"close\""));
        CHECK_OK(sockit_http_response_info(resp, NULL, NULL, &reused));
        CHECK(reused == (i > 0));
        CHECK_OK(sockit_http_idle_count(c, &idle));
        CHECK(idle == 1);
    }
    CHECK(peer_connections(tag, &requests) == 1 && requests == 3);

    /* close_idle: the pool empties and the next request opens a new connection */
    snprintf(tag + strlen(tag), sizeof tag - strlen(tag), "-close-idle");
    CHECK_OK(sockit_http_request_set_header(req, "X-Sockit-Tag", tag));
    CHECK_OK(run(c, req, resp, body)); /* on the pooled connection */
    CHECK_OK(sockit_http_response_info(resp, NULL, NULL, &reused));
    CHECK(reused == 1);
    CHECK_OK(sockit_http_close_idle(c));
    CHECK_OK(sockit_http_idle_count(c, &idle));
    CHECK(idle == 0);
    CHECK_OK(run(c, req, resp, body));
    CHECK(sockit_http_response_code(resp) == 200);
    CHECK_OK(sockit_http_response_info(resp, NULL, NULL, &reused));
    CHECK(reused == 0);
    CHECK_OK(sockit_http_idle_count(c, &idle));
    CHECK(idle == 1);
    CHECK_OK(run(c, req, resp, body)); /* and that one is kept */
    CHECK_OK(sockit_http_response_info(resp, NULL, NULL, &reused));
    CHECK(reused == 1);
    CHECK(peer_connections(tag, &requests) == 2 && requests == 3);
    sockit_http_request_free(req);

    /* on the wire: off adds exactly one "Connection: close", on adds none */
    CHECK_OK(sockit_http_request_new("GET", U(fault, "/echo"), &req));
    CHECK_OK(sockit_http_request_set_keep_alive(req, 0));
    CHECK_OK(run(c, req, resp, body));
    CHECK(count_ci(body, "\r\nConnection: close\r\n") == 1);
    CHECK_OK(sockit_http_request_set_keep_alive(req, 1));
    CHECK_OK(run(c, req, resp, body));
    CHECK(count_ci(body, "Connection:") == 0);
    sockit_http_request_free(req);

    /* close_idle with connections to two servers empties both */
    CHECK_OK(get(c, U(httpbin, "/get"), resp, body));
    CHECK_OK(get(c, U(fault, "/echo"), resp, body));
    CHECK_OK(sockit_http_idle_count(c, &idle));
    CHECK(idle == 2);
    CHECK_OK(sockit_http_close_idle(c));
    CHECK_OK(sockit_http_idle_count(c, &idle));
    CHECK(idle == 0);
    /* the client still works afterwards */
    CHECK_OK(get(c, U(fault, "/echo"), resp, body));
    CHECK(sockit_http_response_code(resp) == 200);
    CHECK_OK(sockit_http_response_info(resp, NULL, NULL, &reused));
    CHECK(reused == 0);

    sockit_http_free(c);
    sockit_http_response_free(resp);
    sockit_buffer_free(body);
}

static void test_redirects_and_auth(sockit_http *c) {
    sockit_http_request *req = NULL;
    sockit_http_response *resp = NULL;
    sockit_buffer *body = sockit_buffer_new(), *v = sockit_buffer_new();
    int redirects = -1;

    CHECK_OK(sockit_http_response_new(&resp));
    CHECK_OK(get(c, U(httpbin, "/redirect/3"), resp, body));
    CHECK(sockit_http_response_code(resp) == 200);
    CHECK_OK(sockit_http_response_info(resp, NULL, &redirects, NULL));
    CHECK(redirects == 3);
    CHECK_OK(sockit_http_response_url(resp, v));
    CHECK(strcmp(sockit_buffer_cstr(v), U(httpbin, "/get")) == 0);
    CHECK_OK(get(c, U(httpbin, "/absolute-redirect/2"), resp, body));
    CHECK(sockit_http_response_code(resp) == 200);
    CHECK_STATUS(get(c, U(httpbin, "/redirect/6"), resp, body), SOCKIT_PROTOCOL);
    CHECK(strstr(sockit_last_error(), "too many redirects") != NULL);
    CHECK(sockit_http_response_code(resp) == 302);

    /* refused per request (1.3b's stay) */
    CHECK_OK(sockit_http_request_new("GET", U(httpbin, "/redirect/1"), &req));
    CHECK_OK(sockit_http_request_set_redirect(req, 0, 5));
    CHECK_OK(run(c, req, resp, body));
    CHECK(sockit_http_response_code(resp) == 302);
    CHECK_OK(sockit_http_response_field(resp, 0, "location", v, NULL));
    CHECK(strcmp(sockit_buffer_cstr(v), "/get") == 0);
    sockit_http_request_free(req);

    /* 303 from a POST: followed with GET */
    CHECK_OK(sockit_http_request_new("POST", U(httpbin, "/redirect-to?url=/get&status_code=303"), &req));
    CHECK_OK(sockit_http_request_set_body(req, (const uint8_t *)"x", 1));
    CHECK_OK(run(c, req, resp, body));
    CHECK(sockit_http_response_code(resp) == 200 && contains(body, "\"url\": \""));
    sockit_http_request_free(req);
    /* 307 from a POST: not followed */
    CHECK_OK(sockit_http_request_new("POST", U(httpbin, "/redirect-to?url=/get&status_code=307"), &req));
    CHECK_OK(sockit_http_request_set_body(req, (const uint8_t *)"x", 1));
    CHECK_OK(run(c, req, resp, body));
    CHECK(sockit_http_response_code(resp) == 307);
    sockit_http_request_free(req);

    /* LuaSocket's rules: 303 from a POST is not followed, 308 neither; a HEAD that is
     * redirected becomes a GET; past max_redirects the 3xx is the result, not an error;
     * the Location of the last redirect is kept as it came */
    CHECK_OK(sockit_http_request_new("POST", U(httpbin, "/redirect-to?url=/get&status_code=303"), &req));
    CHECK_OK(sockit_http_request_set_redirect_rules(req, SOCKIT_REDIRECT_LUASOCKET));
    CHECK_OK(sockit_http_request_set_body(req, (const uint8_t *)"x", 1));
    CHECK_OK(run(c, req, resp, body));
    CHECK(sockit_http_response_code(resp) == 303);
    sockit_http_request_free(req);
    CHECK_OK(sockit_http_request_new("GET", U(httpbin, "/redirect-to?url=/get&status_code=308"), &req));
    CHECK_OK(sockit_http_request_set_redirect_rules(req, SOCKIT_REDIRECT_LUASOCKET));
    CHECK_OK(run(c, req, resp, body));
    CHECK(sockit_http_response_code(resp) == 308);
    sockit_http_request_free(req);
    CHECK_OK(sockit_http_request_new("HEAD", U(httpbin, "/redirect-to?url=/get&status_code=302"), &req));
    CHECK_OK(sockit_http_request_set_redirect_rules(req, SOCKIT_REDIRECT_LUASOCKET));
    CHECK_OK(run(c, req, resp, body));
    CHECK(sockit_http_response_code(resp) == 200 && contains(body, "\"url\": \""));
    CHECK_OK(sockit_http_response_location(resp, v));
    CHECK(strcmp(sockit_buffer_cstr(v), "/get") == 0);
    sockit_http_request_free(req);
    CHECK_OK(sockit_http_request_new("GET", U(httpbin, "/redirect/6"), &req));
    CHECK_OK(sockit_http_request_set_redirect_rules(req, SOCKIT_REDIRECT_LUASOCKET));
    CHECK_OK(run(c, req, resp, body));
    CHECK(sockit_http_response_code(resp) == 302);
    CHECK_OK(sockit_http_response_info(resp, NULL, &redirects, NULL));
    CHECK(redirects == 5);
    CHECK_OK(sockit_http_response_location(resp, v));
    CHECK(strcmp(sockit_buffer_cstr(v), "/relative-redirect/1") == 0);
    CHECK_STATUS(sockit_http_request_set_redirect_rules(req, 7), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_request_set_redirect_rules(NULL, SOCKIT_REDIRECT_STRICT), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_response_location(resp, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_http_response_location(NULL, v), SOCKIT_INVALID);
    sockit_http_request_free(req);

    /* Basic authentication from the URL, explicit, and wrong */
    snprintf(url, sizeof url, "http://user:pa%%73s@127.0.0.1:%d/basic-auth/user/pass", httpbin);
    CHECK_OK(get(c, url, resp, body));
    CHECK(sockit_http_response_code(resp) == 200 && contains(body, "\"authenticated\": true"));
    CHECK_OK(sockit_http_request_new("GET", U(httpbin, "/basic-auth/user/pass"), &req));
    CHECK_OK(run(c, req, resp, body));
    CHECK(sockit_http_response_code(resp) == 401);
    CHECK_OK(sockit_http_request_set_auth(req, "user", "pass"));
    CHECK_OK(run(c, req, resp, body));
    CHECK(sockit_http_response_code(resp) == 200);
    CHECK_OK(sockit_http_request_set_auth(req, "user", "wrong"));
    CHECK_OK(run(c, req, resp, body));
    CHECK(sockit_http_response_code(resp) == 401);
    sockit_http_request_free(req);

    /* credentials do not follow a redirect to another origin (localhost vs 127.0.0.1) */
    char target[256];
    snprintf(target, sizeof target, "http://localhost:%d/echo", fault);
    snprintf(url, sizeof url, "http://user:pass@127.0.0.1:%d/redirect-to?url=%s", httpbin, target);
    CHECK_OK(sockit_http_request_new("GET", url, &req));
    CHECK_OK(sockit_http_request_add_header(req, "Cookie", "session=secret"));
    CHECK_OK(run(c, req, resp, body));
    CHECK(sockit_http_response_code(resp) == 200);
    CHECK(contains(body, "GET /echo HTTP/1.1\r\n"));
    CHECK(!contains(body, "Authorization") && !contains(body, "secret"));
    sockit_http_request_free(req);

    sockit_http_response_free(resp);
    sockit_buffer_free(body);
    sockit_buffer_free(v);
}

/* A 1.3b receive callback counting bytes and recording how it ended. */
struct rx {
    size_t bytes, calls;
    int ended, failed;
    char error[256];
};

static int receive_cb(void *ud, const uint8_t *chunk, size_t len, const char *error) {
    struct rx *r = ud;
    r->calls++;
    if (chunk && len) r->bytes += len;
    else if (chunk) r->ended++;
    else {
        r->failed++;
        snprintf(r->error, sizeof r->error, "%s", error ? error : "");
    }
    return SOCKIT_OK;
}

/* A 1.3b send callback giving "abc" three times, total 9. */
static int send_cb(void *ud, sockit_buffer *chunk, uint64_t *total) {
    int *left = ud;
    *total = 9;
    if (*left > 0) {
        (*left)--;
        return sockit_buffer_append(chunk, (const uint8_t *)"abc", 3);
    }
    return SOCKIT_OK;
}

static void test_sinks_and_callbacks(sockit_http *c) {
    sockit_http_request *req = NULL;
    sockit_http_response *resp = NULL;
    sockit_sink *sink = NULL;
    sockit_buffer *body = sockit_buffer_new();
    struct rx r = {0};

    CHECK_OK(sockit_http_response_new(&resp));
    /* a buffer sink */
    CHECK_OK(sockit_sink_buffer(body, &sink));
    CHECK_OK(sockit_http_request_new("GET", U(httpbin, "/bytes/100000?seed=3"), &req));
    CHECK_OK(sockit_http_perform(c, req, sink, resp));
    CHECK(sockit_buffer_len(body) == 100000);
    sockit_sink_free(sink);

    /* the 1.3b indirect form: receive callback sink, send callback source */
    CHECK_OK(sockit_sink_receive_cb(receive_cb, &r, NULL, &sink));
    CHECK_OK(sockit_http_perform(c, req, sink, resp));
    CHECK(r.bytes == 100000 && r.ended == 1 && r.failed == 0);
    sockit_sink_free(sink);
    sockit_http_request_free(req);

    int left = 3;
    sockit_source *src = NULL;
    CHECK_OK(sockit_source_send_cb(send_cb, &left, NULL, &src));
    CHECK_OK(sockit_http_request_new("POST", U(httpbin, "/post"), &req));
    CHECK_OK(sockit_http_request_set_body_source(req, src, -1));
    sockit_buffer_clear(body);
    CHECK_OK(sockit_sink_buffer(body, &sink));
    CHECK_OK(sockit_http_perform(c, req, sink, resp));
    CHECK(contains(body, "\"data\": \"abcabcabc\""));
    CHECK(contains(body, "\"Content-Length\": \"9\""));
    sockit_sink_free(sink);
    sockit_http_request_free(req);

    /* a failing transfer tells the receive callback */
    memset(&r, 0, sizeof r);
    CHECK_OK(sockit_sink_receive_cb(receive_cb, &r, NULL, &sink));
    CHECK_OK(sockit_http_request_new("GET", U(fault, "/truncated"), &req));
    CHECK_STATUS(sockit_http_perform(c, req, sink, resp), SOCKIT_CLOSED);
    CHECK(r.bytes == 100 && r.failed == 1 && r.ended == 0);
    CHECK(strstr(r.error, "100 of 1000") != NULL);
    sockit_sink_free(sink);
    sockit_http_request_free(req);

    sockit_http_response_free(resp);
    sockit_buffer_free(body);
}

static void test_faults(sockit_http *c) {
    sockit_http_request *req = NULL;
    sockit_http_response *resp = NULL;
    sockit_buffer *body = sockit_buffer_new(), *v = sockit_buffer_new();
    uint64_t received = 0;
    double t0;

    CHECK_OK(sockit_http_response_new(&resp));

    /* stall: the block timeout is honoured */
    CHECK_OK(sockit_http_request_new("GET", U(fault, "/stall"), &req));
    CHECK_OK(sockit_http_request_set_timeout(req, 0.3, -1));
    t0 = now();
    CHECK_STATUS(run(c, req, resp, body), SOCKIT_TIMEOUT);
    CHECK(now() - t0 < 2.0);
    CHECK(sockit_http_response_code(resp) == 0);
    /* the total timeout too */
    CHECK_OK(sockit_http_request_set_timeout(req, 10, 0.4));
    t0 = now();
    CHECK_STATUS(run(c, req, resp, body), SOCKIT_TIMEOUT);
    CHECK(now() - t0 < 2.0);
    sockit_http_request_free(req);

    /* stall in the body: the partial body is kept */
    CHECK_OK(sockit_http_request_new("GET", U(fault, "/stall-body"), &req));
    CHECK_OK(sockit_http_request_set_timeout(req, 0.3, -1));
    CHECK_STATUS(run(c, req, resp, body), SOCKIT_TIMEOUT);
    CHECK(sockit_http_response_code(resp) == 200);
    CHECK_BUF_STR(body, "0123456789");
    sockit_http_request_free(req);

    /* reset in the middle of the body: CLOSED, what arrived is kept */
    CHECK_STATUS(get(c, U(fault, "/reset-mid-body"), resp, body), SOCKIT_CLOSED);
    CHECK_OK(sockit_http_response_info(resp, &received, NULL, NULL));
    CHECK(received > 0 && received <= 50000 && received == sockit_buffer_len(body));
    CHECK(memcmp(sockit_buffer_data(body), "0123456789012345", 16) == 0);
    CHECK_STATUS(get(c, U(fault, "/truncated"), resp, body), SOCKIT_CLOSED);
    CHECK(sockit_buffer_len(body) == 100);

    /* 10 MB of headers: stopped by the limit, quickly */
    t0 = now();
    CHECK_STATUS(get(c, U(fault, "/big-headers"), resp, body), SOCKIT_PROTOCOL);
    CHECK(strstr(sockit_last_error(), "too many header fields") != NULL);
    CHECK(now() - t0 < 5.0);
    CHECK_OK(sockit_http_request_new("GET", U(fault, "/big-headers"), &req));
    CHECK_OK(sockit_http_request_set_limits(req, 65536, 100000));
    t0 = now();
    CHECK_STATUS(run(c, req, resp, body), SOCKIT_PROTOCOL);
    CHECK(strstr(sockit_last_error(), "larger than 65536 bytes") != NULL);
    CHECK(now() - t0 < 5.0);
    sockit_http_request_free(req);
    CHECK_STATUS(get(c, U(fault, "/many-headers"), resp, body), SOCKIT_PROTOCOL);
    CHECK(strstr(sockit_last_error(), "too many header fields") != NULL);
    /* limits are per request */
    CHECK_OK(sockit_http_request_new("GET", U(fault, "/many-headers"), &req));
    CHECK_OK(sockit_http_request_set_limits(req, 1 << 20, 6000));
    CHECK_OK(run(c, req, resp, body));
    size_t count = 0;
    CHECK_OK(sockit_http_response_field_count(resp, 0, &count));
    CHECK(count == 5001);
    sockit_http_request_free(req);

    /* chunked faults */
    CHECK_STATUS(get(c, U(fault, "/bad-chunk"), resp, body), SOCKIT_PROTOCOL);
    CHECK(strstr(sockit_last_error(), "invalid chunk size") != NULL);
    CHECK_STATUS(get(c, U(fault, "/chunk-overflow"), resp, body), SOCKIT_PROTOCOL);
    CHECK(strstr(sockit_last_error(), "overflow") != NULL);
    CHECK_BUF_STR(body, "hello");
    CHECK_STATUS(get(c, U(fault, "/chunk-truncated"), resp, body), SOCKIT_CLOSED);
    CHECK_BUF_STR(body, "helloabc");

    /* trailers kept */
    CHECK_OK(get(c, U(fault, "/trailers"), resp, body));
    CHECK_BUF_STR(body, "hello world");
    CHECK_OK(sockit_http_response_field_count(resp, 1, &count));
    CHECK(count == 2);
    CHECK_OK(sockit_http_response_field(resp, 1, "X-Trailer-Two", v, NULL));
    CHECK(strcmp(sockit_buffer_cstr(v), "two") == 0);

    /* garbage */
    CHECK_STATUS(get(c, U(fault, "/garbage-status"), resp, body), SOCKIT_PROTOCOL);
    CHECK_STATUS(get(c, U(fault, "/not-http"), resp, body), SOCKIT_PROTOCOL);

    /* bodies until close, HTTP/1.0, interim responses */
    CHECK_OK(get(c, U(fault, "/close-delimited"), resp, body));
    CHECK(sockit_buffer_len(body) == 12345);
    CHECK_OK(get(c, U(fault, "/http10"), resp, body));
    CHECK(sockit_buffer_len(body) == 777);
    CHECK_OK(get(c, U(fault, "/interim"), resp, body));
    CHECK(sockit_http_response_code(resp) == 200);
    CHECK_BUF_STR(body, "final");

    /* redirect loops */
    CHECK_STATUS(get(c, U(fault, "/loop"), resp, body), SOCKIT_PROTOCOL);
    CHECK(strstr(sockit_last_error(), "redirect loop") != NULL);
    CHECK_STATUS(get(c, U(fault, "/loop-a"), resp, body), SOCKIT_PROTOCOL);

    /* a server that closes a kept-alive connection: the next request still works */
    CHECK_OK(get(c, U(fault, "/stale"), resp, body));
    CHECK_OK(get(c, U(fault, "/stale"), resp, body));
    CHECK_BUF_STR(body, "stale");

    /* canonical header names on the wire, order kept */
    CHECK_OK(sockit_http_request_new("GET", U(fault, "/echo"), &req));
    CHECK_OK(sockit_http_request_add_header(req, "content-type", "a"));
    CHECK_OK(sockit_http_request_add_header(req, "x-lower", "b"));
    CHECK_OK(sockit_http_request_add_header(req, "www-authenticate", "c"));
    CHECK_OK(sockit_http_request_add_header(req, "X-Lower", "d"));
    CHECK_OK(run(c, req, resp, body));
    CHECK(contains(body, "\r\nContent-Type: a\r\nx-lower: b\r\nWWW-Authenticate: c\r\nX-Lower: d\r\n"));
    sockit_http_request_free(req);

    /* expect 100-continue against a server that answers 100 */
    CHECK_OK(sockit_http_request_new("PUT", U(fault, "/echo"), &req));
    CHECK_OK(sockit_http_request_set_expect_continue(req, 1));
    CHECK_OK(sockit_http_request_set_body(req, (const uint8_t *)"payload", 7));
    t0 = now();
    CHECK_OK(run(c, req, resp, body));
    CHECK(now() - t0 < 0.9); /* did not sit out the 1 s wait */
    CHECK(contains(body, "Expect: 100-continue\r\n") && contains(body, "\r\n\r\npayload"));
    sockit_http_request_free(req);

    sockit_http_response_free(resp);
    sockit_buffer_free(body);
    sockit_buffer_free(v);
}

int main(void) {
    const char *h = getenv("SOCKIT_HTTPBIN_PORT"), *f = getenv("SOCKIT_FAULT_PORT");
    test_offline();
    test_offline_setters();
    if (!h || !f) {
        printf("SOCKIT_HTTPBIN_PORT/SOCKIT_FAULT_PORT not set: server tests skipped "
               "(scripts/test-proto.sh runs them)\n");
        return check_done();
    }
    httpbin = atoi(h);
    fault = atoi(f);
    sockit_http *c = NULL;
    CHECK_OK(sockit_http_new(&c));
    test_httpbin_basics(c);
    test_keepalive();
    test_request_setters(c);
    test_pool_control();
    test_redirects_and_auth(c);
    test_sinks_and_callbacks(c);
    test_faults(c);
    sockit_http_free(c);
    return check_done();
}
