/* LTN12 through the C API: every source, sink and filter constructor, pumps, callback
 * stages, LuaSocket 1.3b callbacks, ownership of parts on failure, errors mid-pipeline
 * with the partial output kept. Run under valgrind: nothing may leak. */
#include "check.h"
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>

/* ----- helpers -------------------------------------------------------------------- */

static int freed_count = 0;
static void count_free(void *ud) {
    (void)ud;
    freed_count++;
}

static sockit_source *string_source(const char *s) {
    sockit_source *src = NULL;
    CHECK_OK(sockit_source_string((const uint8_t *)s, strlen(s), &src));
    return src;
}

/* Pumps src into a new buffer and returns the buffer; the status goes to *st. */
static sockit_buffer *pump_to_buffer(sockit_source *src, size_t chunk, sockit_status *st) {
    sockit_buffer *buf = sockit_buffer_new();
    sockit_sink *snk = NULL;
    CHECK_OK(sockit_sink_buffer(buf, &snk));
    *st = sockit_pump_all(src, snk, chunk, NULL);
    sockit_sink_free(snk);
    return buf;
}

static void expect_source(sockit_source *src, size_t chunk, const char *want) {
    sockit_status st;
    sockit_buffer *buf = pump_to_buffer(src, chunk, &st);
    CHECK_STATUS(st, SOCKIT_OK);
    CHECK_BUF_STR(buf, want);
    sockit_buffer_free(buf);
}

/* ----- sources -------------------------------------------------------------------- */

static void test_string_and_bytes(void) {
    sockit_source *src = string_source("hello, world");
    uint64_t size = 0;
    bool known = false;
    CHECK_OK(sockit_source_size(src, &size, &known));
    CHECK(known && size == 12);
    /* pull by hand, 5 bytes at a time */
    sockit_buffer *chunk = sockit_buffer_new();
    bool end = true;
    CHECK_OK(sockit_source_pull(src, 5, chunk, &end));
    CHECK(!end);
    CHECK_BUF_STR(chunk, "hello");
    sockit_source_free(src);

    /* bytes: borrowed; binary with NUL */
    static const uint8_t bin[] = {0, 1, 2, 0, 255};
    CHECK_OK(sockit_source_bytes(bin, sizeof bin, &src));
    sockit_status st;
    sockit_buffer *buf = pump_to_buffer(src, 2, &st);
    CHECK_STATUS(st, SOCKIT_OK);
    CHECK_BUF(buf, bin, sizeof bin);
    sockit_buffer_free(buf);
    /* after the end it no longer touches the bytes and keeps ending */
    CHECK_OK(sockit_source_pull(src, 5, chunk, &end));
    CHECK(end && sockit_buffer_len(chunk) == 0);
    sockit_source_free(src);

    /* NULL with a length is invalid; NULL with 0 is an empty string */
    src = (sockit_source *)1;
    CHECK_STATUS(sockit_source_string(NULL, 3, &src), SOCKIT_INVALID);
    CHECK(src == NULL);
    CHECK_STATUS(sockit_source_bytes(NULL, 3, &src), SOCKIT_INVALID);
    CHECK_OK(sockit_source_string(NULL, 0, &src));
    expect_source(src, 0, "");
    sockit_source_free(src);
    CHECK_STATUS(sockit_source_string((const uint8_t *)"x", 1, NULL), SOCKIT_INVALID);
    sockit_buffer_free(chunk);
}

static void test_empty_and_error(void) {
    sockit_source *src = NULL;
    CHECK_OK(sockit_source_empty(&src));
    expect_source(src, 0, "");
    sockit_source_free(src);

    CHECK_OK(sockit_source_error(SOCKIT_TIMEOUT, "read: timeout", &src));
    sockit_status st;
    sockit_buffer *buf = pump_to_buffer(src, 0, &st);
    CHECK_STATUS(st, SOCKIT_TIMEOUT);
    CHECK(strcmp(sockit_last_error(), "read: timeout") == 0);
    CHECK(sockit_buffer_len(buf) == 0);
    sockit_buffer_free(buf);
    sockit_source_free(src);

    CHECK_OK(sockit_source_error(SOCKIT_CLOSED, NULL, &src));
    buf = pump_to_buffer(src, 0, &st);
    CHECK_STATUS(st, SOCKIT_CLOSED);
    CHECK(strcmp(sockit_last_error(), "closed") == 0);
    sockit_buffer_free(buf);
    sockit_source_free(src);

    CHECK_STATUS(sockit_source_error(SOCKIT_OK, "x", &src), SOCKIT_INVALID);
    CHECK_STATUS(sockit_source_error(99, "x", &src), SOCKIT_INVALID);
    CHECK(src == NULL);
}

static void test_fd_and_file(void) {
    char path[] = "/tmp/sockit-ltn12-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, "file contents", 13) == 13);
    close(fd);

    sockit_source *src = NULL;
    CHECK_OK(sockit_source_file(path, &src));
    uint64_t size = 0;
    bool known = false;
    CHECK_OK(sockit_source_size(src, &size, &known));
    CHECK(known && size == 13);
    expect_source(src, 4, "file contents");
    sockit_source_free(src);

    /* a sink to the same path, appending, then truncating */
    sockit_sink *snk = NULL;
    CHECK_OK(sockit_sink_file(path, true, &snk));
    CHECK_OK(sockit_sink_put(snk, (const uint8_t *)"+more", 5));
    CHECK_OK(sockit_sink_end(snk));
    sockit_sink_free(snk);
    CHECK_OK(sockit_source_file(path, &src));
    expect_source(src, 0, "file contents+more");
    sockit_source_free(src);
    CHECK_OK(sockit_sink_file(path, false, &snk));
    src = string_source("new");
    CHECK_OK(sockit_pump_all(src, snk, 0, NULL));
    sockit_source_free(src);
    sockit_sink_free(snk);
    CHECK_OK(sockit_source_file(path, &src));
    expect_source(src, 0, "new");
    sockit_source_free(src);
    unlink(path);

    CHECK_STATUS(sockit_source_file(path, &src), SOCKIT_SYSTEM);
    CHECK(strstr(sockit_last_error(), "open ") != NULL);
    CHECK(src == NULL);
    CHECK_STATUS(sockit_source_file(NULL, &src), SOCKIT_INVALID);
    CHECK(sockit_sink_file("/nonexistent-dir/x", false, &snk) != SOCKIT_OK);

    /* fd source over a pipe, owned: closed at the end */
    int p[2];
    CHECK(pipe(p) == 0);
    CHECK(write(p[1], "through a pipe", 14) == 14);
    close(p[1]);
    CHECK_OK(sockit_source_fd(p[0], true, &src));
    expect_source(src, 3, "through a pipe");
    sockit_source_free(src);
    CHECK(fcntl(p[0], F_GETFD) == -1); /* closed by the source */

    /* fd sink, not owned: left open */
    CHECK(pipe(p) == 0);
    CHECK_OK(sockit_sink_fd(p[1], false, &snk));
    src = string_source("sink to fd");
    CHECK_OK(sockit_pump_all(src, snk, 0, NULL));
    sockit_source_free(src);
    sockit_sink_free(snk);
    CHECK(fcntl(p[1], F_GETFD) != -1);
    close(p[1]);
    char got[32] = {0};
    CHECK(read(p[0], got, sizeof got) == 10);
    CHECK(strcmp(got, "sink to fd") == 0);
    close(p[0]);

    CHECK_STATUS(sockit_source_fd(-1, false, &src), SOCKIT_INVALID);
    CHECK_STATUS(sockit_source_fd(p[0], false, &src), SOCKIT_INVALID); /* closed above */
    CHECK_STATUS(sockit_sink_fd(-5, true, &snk), SOCKIT_INVALID);
    CHECK(snk == NULL);
}

static void test_rewind(void) {
    sockit_source *src = NULL;
    CHECK_OK(sockit_source_rewind(string_source("abc"), &src));
    sockit_buffer *chunk = sockit_buffer_new();
    bool end = false;
    CHECK_OK(sockit_source_pull(src, 1, chunk, &end));
    CHECK_BUF_STR(chunk, "a");
    CHECK_OK(sockit_source_unget(src, (const uint8_t *)"a", 1));
    CHECK_OK(sockit_source_unget(src, (const uint8_t *)"XY", 2));
    expect_source(src, 1, "XYabc");
    sockit_source_free(src);

    /* unget needs a rewindable source */
    src = string_source("x");
    CHECK_STATUS(sockit_source_unget(src, (const uint8_t *)"a", 1), SOCKIT_INVALID);
    sockit_source_free(src);
    /* the part is taken even when the call fails */
    src = string_source("x");
    CHECK_STATUS(sockit_source_rewind(src, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_source_pull(src, 1, chunk, &end), SOCKIT_INVALID);
    CHECK_STATUS(sockit_source_rewind(NULL, &src), SOCKIT_INVALID);
    sockit_buffer_free(chunk);
}

static void test_cat(void) {
    sockit_source *parts[3] = {string_source("one "), NULL, string_source("three")};
    CHECK_OK(sockit_source_empty(&parts[1]));
    sockit_source *src = NULL;
    CHECK_OK(sockit_source_cat(parts, 3, &src));
    uint64_t size = 0;
    bool known = false;
    CHECK_OK(sockit_source_size(src, &size, &known));
    CHECK(known && size == 9);
    expect_source(src, 2, "one three");
    sockit_source_free(src);

    /* a bad entry fails the call and the good ones are freed (valgrind checks) */
    sockit_source *bad[3] = {string_source("a"), NULL, string_source("c")};
    CHECK_STATUS(sockit_source_cat(bad, 3, &src), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "sources[1]") != NULL);
    CHECK(src == NULL);
    /* the same handle twice: the second is already consumed */
    sockit_source *a = string_source("a");
    sockit_source *twice[2] = {a, a};
    CHECK_STATUS(sockit_source_cat(twice, 2, &src), SOCKIT_INVALID);
    CHECK_STATUS(sockit_source_cat(NULL, 2, &src), SOCKIT_INVALID);
    CHECK_OK(sockit_source_cat(NULL, 0, &src));
    expect_source(src, 0, "");
    sockit_source_free(src);

    /* an error part stops the cat; nothing after it is pulled */
    sockit_source *e = NULL;
    CHECK_OK(sockit_source_error(SOCKIT_PROTOCOL, "bad part", &e));
    sockit_source *mixed[3] = {string_source("kept "), e, string_source("never")};
    CHECK_OK(sockit_source_cat(mixed, 3, &src));
    sockit_status st;
    sockit_buffer *buf = pump_to_buffer(src, 0, &st);
    CHECK_STATUS(st, SOCKIT_PROTOCOL);
    CHECK_BUF_STR(buf, "kept ");
    sockit_buffer_free(buf);
    sockit_source_free(src);
}

/* ----- callback source ------------------------------------------------------------ */

struct counter {
    int calls;
    int limit;
    int fail_at;
};

static int counting_source(void *ud, sockit_buffer *chunk, bool *end) {
    struct counter *c = ud;
    c->calls++;
    if (c->fail_at && c->calls == c->fail_at) {
        sockit_callback_error("counting source gave up");
        return SOCKIT_ABORTED;
    }
    if (c->calls > c->limit) {
        *end = true;
        return SOCKIT_OK;
    }
    char tmp[16];
    int n = snprintf(tmp, sizeof tmp, "[%d]", c->calls);
    return sockit_buffer_append(chunk, (const uint8_t *)tmp, (size_t)n);
}

static void free_counter(void *ud) {
    free(ud);
    freed_count++;
}

static void test_callback_source(void) {
    struct counter *c = calloc(1, sizeof *c);
    c->limit = 3;
    sockit_source *src = NULL;
    int before = freed_count;
    CHECK_OK(sockit_source_callback(counting_source, c, free_counter, &src));
    expect_source(src, 0, "[1][2][3]");
    CHECK(c->calls == 4);
    /* not called again after the end */
    sockit_buffer *chunk = sockit_buffer_new();
    bool end = false;
    CHECK_OK(sockit_source_pull(src, 0, chunk, &end));
    CHECK(end && c->calls == 4);
    CHECK(freed_count == before);
    sockit_source_free(src);
    CHECK(freed_count == before + 1);

    /* failure with a message, mid-stream: partial output kept, not called again */
    c = calloc(1, sizeof *c);
    c->limit = 10;
    c->fail_at = 3;
    CHECK_OK(sockit_source_callback(counting_source, c, free_counter, &src));
    sockit_status st;
    sockit_buffer *buf = pump_to_buffer(src, 0, &st);
    CHECK_STATUS(st, SOCKIT_ABORTED);
    CHECK(strcmp(sockit_last_error(), "counting source gave up") == 0);
    CHECK_BUF_STR(buf, "[1][2]");
    CHECK_STATUS(sockit_source_pull(src, 0, chunk, &end), SOCKIT_ABORTED);
    CHECK(c->calls == 3);
    sockit_buffer_free(buf);
    sockit_source_free(src);

    /* a NULL callback fails, and userdata is released at once */
    before = freed_count;
    CHECK_STATUS(sockit_source_callback(NULL, NULL, count_free, &src), SOCKIT_INVALID);
    CHECK(freed_count == before + 1);
    CHECK_STATUS(sockit_source_callback(counting_source, NULL, count_free, NULL),
                 SOCKIT_INVALID);
    CHECK(freed_count == before + 2);
    sockit_buffer_free(chunk);
}

/* 1.3b send callback: a "file" of 10 bytes sent 4 at a time */
struct sender {
    const char *data;
    size_t pos, len;
    int calls;
    int abort_at;
};

static int send_cb(void *ud, sockit_buffer *chunk, uint64_t *total) {
    struct sender *s = ud;
    s->calls++;
    if (s->abort_at && s->calls == s->abort_at)
        return SOCKIT_ABORTED; /* default message */
    size_t n = s->len - s->pos < 4 ? s->len - s->pos : 4;
    sockit_buffer_append(chunk, (const uint8_t *)s->data + s->pos, n);
    s->pos += n;
    *total = s->len;
    return SOCKIT_OK;
}

static void test_send_cb(void) {
    struct sender s = {"0123456789", 0, 10, 0, 0};
    sockit_source *src = NULL;
    CHECK_OK(sockit_source_send_cb(send_cb, &s, NULL, &src));
    uint64_t size = 0;
    bool known = false;
    CHECK_OK(sockit_source_size(src, &size, &known));
    CHECK(known && size == 10 && s.calls == 1);
    expect_source(src, 0, "0123456789");
    CHECK(s.calls == 3); /* stops at the total without another call */
    sockit_source_free(src);

    struct sender t = {"0123456789", 0, 10, 0, 2};
    CHECK_OK(sockit_source_send_cb(send_cb, &t, NULL, &src));
    sockit_status st;
    sockit_buffer *buf = pump_to_buffer(src, 0, &st);
    CHECK_STATUS(st, SOCKIT_ABORTED);
    CHECK(strcmp(sockit_last_error(), "send callback failed: aborted") == 0);
    CHECK_BUF_STR(buf, "0123");
    sockit_buffer_free(buf);
    sockit_source_free(src);
    CHECK_STATUS(sockit_source_send_cb(NULL, NULL, NULL, &src), SOCKIT_INVALID);
}

/* ----- sinks ---------------------------------------------------------------------- */

struct log {
    char text[512];
    int fail_on_chunk;
    int chunks;
};

static void log_add(struct log *l, const char *s) {
    strncat(l->text, s, sizeof l->text - strlen(l->text) - 1);
}

static int logging_sink(void *ud, const uint8_t *chunk, size_t len, const char *error) {
    struct log *l = ud;
    char tmp[128];
    if (chunk) {
        l->chunks++;
        if (l->fail_on_chunk && l->chunks == l->fail_on_chunk) {
            sockit_callback_error("sink is full");
            return SOCKIT_NOMEM;
        }
        snprintf(tmp, sizeof tmp, "<%.*s>", (int)len, (const char *)chunk);
    } else if (error) {
        snprintf(tmp, sizeof tmp, "{error %s}", error);
    } else {
        snprintf(tmp, sizeof tmp, "{end}");
    }
    log_add(l, tmp);
    return SOCKIT_OK;
}

static void test_callback_sink(void) {
    struct log l = {{0}, 0, 0};
    sockit_sink *snk = NULL;
    int before = freed_count;
    CHECK_OK(sockit_sink_callback(logging_sink, &l, count_free, &snk));
    sockit_source *src = string_source("abcde");
    CHECK_OK(sockit_pump_all(src, snk, 2, NULL));
    sockit_source_free(src);
    CHECK(strcmp(l.text, "<ab><cd><e>{end}") == 0);

    /* a source error reaches the sink */
    l.text[0] = 0;
    CHECK_OK(sockit_source_error(SOCKIT_TIMEOUT, "slow peer", &src));
    CHECK_STATUS(sockit_pump_all(src, snk, 0, NULL), SOCKIT_TIMEOUT);
    CHECK(strcmp(l.text, "{error slow peer}") == 0);
    sockit_source_free(src);
    sockit_sink_free(snk);
    CHECK(freed_count == before + 1);

    /* a sink failure stops the pump with its status and message */
    struct log m = {{0}, 2, 0};
    CHECK_OK(sockit_sink_callback(logging_sink, &m, NULL, &snk));
    src = string_source("abcdef");
    uint64_t moved = 99;
    CHECK_STATUS(sockit_pump_all(src, snk, 2, &moved), SOCKIT_NOMEM);
    CHECK(strcmp(sockit_last_error(), "sink is full") == 0);
    CHECK(strcmp(m.text, "<ab>") == 0);
    CHECK(moved == 2);
    sockit_source_free(src);
    sockit_sink_free(snk);

    CHECK_STATUS(sockit_sink_callback(NULL, NULL, count_free, &snk), SOCKIT_INVALID);
    CHECK(freed_count == before + 2);
}

static int receive_cb(void *ud, const uint8_t *chunk, size_t len, const char *error) {
    struct log *l = ud;
    char tmp[128];
    if (chunk && len > 0) {
        l->chunks++;
        if (l->fail_on_chunk && l->chunks == l->fail_on_chunk)
            return SOCKIT_ABORTED;
        snprintf(tmp, sizeof tmp, "<%.*s>", (int)len, (const char *)chunk);
    } else if (chunk) {
        snprintf(tmp, sizeof tmp, "<>"); /* "" marks the end in 1.3b */
    } else {
        snprintf(tmp, sizeof tmp, "{nil, %s}", error);
    }
    log_add(l, tmp);
    return SOCKIT_OK;
}

static void test_receive_cb(void) {
    struct log l = {{0}, 0, 0};
    sockit_sink *snk = NULL;
    CHECK_OK(sockit_sink_receive_cb(receive_cb, &l, NULL, &snk));
    sockit_source *src = string_source("abc");
    CHECK_OK(sockit_pump_all(src, snk, 2, NULL));
    sockit_source_free(src);
    CHECK(strcmp(l.text, "<ab><c><>") == 0);
    l.text[0] = 0;
    CHECK_OK(sockit_source_error(SOCKIT_CLOSED, "closed", &src));
    CHECK_STATUS(sockit_pump_all(src, snk, 0, NULL), SOCKIT_CLOSED);
    CHECK(strcmp(l.text, "{nil, closed}") == 0);
    sockit_source_free(src);
    sockit_sink_free(snk);

    struct log m = {{0}, 2, 0};
    CHECK_OK(sockit_sink_receive_cb(receive_cb, &m, NULL, &snk));
    src = string_source("abcdef");
    CHECK_STATUS(sockit_pump_all(src, snk, 2, NULL), SOCKIT_ABORTED);
    CHECK(strcmp(sockit_last_error(), "receive callback failed: aborted") == 0);
    sockit_source_free(src);
    sockit_sink_free(snk);
}

static void test_null_error_and_direct_sinks(void) {
    sockit_sink *snk = NULL;
    CHECK_OK(sockit_sink_null(&snk));
    sockit_source *src = string_source("discarded");
    uint64_t moved = 0;
    CHECK_OK(sockit_pump_all(src, snk, 4, &moved));
    CHECK(moved == 9);
    sockit_source_free(src);
    sockit_sink_free(snk);

    CHECK_OK(sockit_sink_error(SOCKIT_REFUSED, "nobody home", &snk));
    src = string_source("x");
    CHECK_STATUS(sockit_pump_all(src, snk, 0, NULL), SOCKIT_REFUSED);
    CHECK(strcmp(sockit_last_error(), "nobody home") == 0);
    CHECK_STATUS(sockit_sink_end(snk), SOCKIT_REFUSED);
    sockit_source_free(src);
    sockit_sink_free(snk);
    CHECK_STATUS(sockit_sink_error(0, NULL, &snk), SOCKIT_INVALID);

    /* buffer sink: appends, does not clear; a freed buffer fails cleanly */
    sockit_buffer *buf = sockit_buffer_new();
    sockit_buffer_append(buf, (const uint8_t *)">", 1);
    CHECK_OK(sockit_sink_buffer(buf, &snk));
    CHECK_OK(sockit_sink_put(snk, (const uint8_t *)"ab", 2));
    CHECK_OK(sockit_sink_put(snk, NULL, 0));
    CHECK_OK(sockit_sink_fail(snk, "whatever"));
    CHECK_BUF_STR(buf, ">ab");
    sockit_buffer_free(buf);
    CHECK_STATUS(sockit_sink_put(snk, (const uint8_t *)"c", 1), SOCKIT_INVALID);
    sockit_sink_free(snk);
    CHECK_STATUS(sockit_sink_buffer(NULL, &snk), SOCKIT_INVALID);
    CHECK_STATUS(sockit_sink_put(NULL, (const uint8_t *)"c", 1), SOCKIT_INVALID);
}

/* ----- filters -------------------------------------------------------------------- */

/* Upper-cases; at the end writes "!". Fails on a chunk containing '#'. */
static int upper_filter(void *ud, const uint8_t *chunk, size_t len, sockit_buffer *out) {
    int *calls = ud;
    (*calls)++;
    if (!chunk)
        return sockit_buffer_append(out, (const uint8_t *)"!", 1);
    uint8_t tmp[4096];
    for (size_t i = 0; i < len && i < sizeof tmp; i++) {
        if (chunk[i] == '#')
            return SOCKIT_PROTOCOL; /* default message */
        tmp[i] = (chunk[i] >= 'a' && chunk[i] <= 'z') ? chunk[i] - 32 : chunk[i];
    }
    return sockit_buffer_append(out, tmp, len);
}

static void test_filters(void) {
    int calls = 0;
    sockit_filter *f = NULL;
    int before = freed_count;
    CHECK_OK(sockit_filter_callback(upper_filter, &calls, count_free, &f));
    sockit_source *src = NULL;
    CHECK_OK(sockit_source_chain(string_source("hello"), f, &src));
    expect_source(src, 2, "HELLO!");
    CHECK(calls == 4);
    sockit_source_free(src);
    CHECK(freed_count == before + 1);

    /* the same filter in a sink chain */
    sockit_buffer *buf = sockit_buffer_new();
    sockit_sink *inner = NULL, *snk = NULL;
    CHECK_OK(sockit_sink_buffer(buf, &inner));
    CHECK_OK(sockit_filter_callback(upper_filter, &calls, NULL, &f));
    CHECK_OK(sockit_sink_chain(f, inner, &snk));
    src = string_source("sink side");
    CHECK_OK(sockit_pump_all(src, snk, 3, NULL));
    CHECK_BUF_STR(buf, "SINK SIDE!");
    sockit_source_free(src);
    sockit_sink_free(snk);

    /* a filter failing mid-pipeline: partial output kept, the sink is told */
    sockit_buffer_clear(buf);
    CHECK_OK(sockit_sink_buffer(buf, &inner));
    CHECK_OK(sockit_filter_callback(upper_filter, &calls, NULL, &f));
    CHECK_OK(sockit_sink_chain(f, inner, &snk));
    src = string_source("abcd#efgh");
    CHECK_STATUS(sockit_pump_all(src, snk, 2, NULL), SOCKIT_PROTOCOL);
    CHECK(strcmp(sockit_last_error(), "filter callback failed: protocol error") == 0);
    CHECK_BUF_STR(buf, "ABCD");
    sockit_source_free(src);
    sockit_sink_free(snk);

    /* chain of filters; n == 0 passes through */
    sockit_filter *parts[2] = {NULL, NULL};
    CHECK_OK(sockit_filter_callback(upper_filter, &calls, NULL, &parts[0]));
    CHECK_OK(sockit_filter_chunked_encode(&parts[1]));
    sockit_filter *chain = NULL;
    CHECK_OK(sockit_filter_chain(parts, 2, &chain));
    CHECK_OK(sockit_source_chain(string_source("ab"), chain, &src));
    expect_source(src, 0, "2\r\nAB\r\n1\r\n!\r\n0\r\n\r\n");
    sockit_source_free(src);
    CHECK_OK(sockit_filter_chain(NULL, 0, &chain));
    CHECK_OK(sockit_filter_put(chain, (const uint8_t *)"as is", 5, buf));
    CHECK_BUF_STR(buf, "as is");
    CHECK_OK(sockit_filter_end(chain, buf));
    CHECK(sockit_buffer_len(buf) == 0);
    sockit_filter_free(chain);

    /* ownership on failure: a bad entry frees the good ones */
    CHECK_OK(sockit_filter_base64_encode(&parts[0]));
    parts[1] = NULL;
    CHECK_STATUS(sockit_filter_chain(parts, 2, &chain), SOCKIT_INVALID);
    CHECK(chain == NULL);
    CHECK_STATUS(sockit_filter_put(parts[0], (const uint8_t *)"x", 1, buf), SOCKIT_INVALID);
    /* source chain with a NULL filter takes the source */
    sockit_source *s2 = string_source("x");
    CHECK_STATUS(sockit_source_chain(s2, NULL, &src), SOCKIT_INVALID);
    bool end;
    CHECK_STATUS(sockit_source_pull(s2, 0, buf, &end), SOCKIT_INVALID);
    /* sink chain with a NULL sink takes the filter */
    CHECK_OK(sockit_filter_base64_decode(&f));
    CHECK_STATUS(sockit_sink_chain(f, NULL, &snk), SOCKIT_INVALID);
    CHECK_STATUS(sockit_filter_end(f, buf), SOCKIT_INVALID);
    CHECK_STATUS(sockit_filter_callback(NULL, NULL, count_free, &f), SOCKIT_INVALID);
    sockit_buffer_free(buf);
}

static void test_chunked(void) {
    sockit_buffer *trailers = sockit_buffer_new();
    sockit_filter *f = NULL;
    CHECK_OK(sockit_filter_chunked_decode(trailers, &f));
    const char *body = "4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nX-Check: 42\r\n\r\n";
    sockit_source *src = NULL;
    CHECK_OK(sockit_source_chain(string_source(body), f, &src));
    expect_source(src, 3, "Wikipedia");
    CHECK(strcmp(sockit_buffer_cstr(trailers), "X-Check: 42\r\n") == 0);
    sockit_source_free(src);

    /* malformed: PROTOCOL, the data before it kept */
    CHECK_OK(sockit_filter_chunked_decode(NULL, &f));
    CHECK_OK(sockit_source_chain(string_source("3\r\nabc\r\nzz\r\n"), f, &src));
    sockit_status st;
    sockit_buffer *buf = pump_to_buffer(src, 0, &st);
    CHECK_STATUS(st, SOCKIT_PROTOCOL);
    CHECK_BUF_STR(buf, "abc");
    sockit_buffer_free(buf);
    sockit_source_free(src);
    /* truncated: CLOSED */
    CHECK_OK(sockit_filter_chunked_decode(NULL, &f));
    CHECK_OK(sockit_source_chain(string_source("3\r\nab"), f, &src));
    buf = pump_to_buffer(src, 0, &st);
    CHECK_STATUS(st, SOCKIT_CLOSED);
    CHECK_BUF_STR(buf, "ab");
    sockit_buffer_free(buf);
    sockit_source_free(src);

    /* the trailers buffer may also be the output buffer of a direct call (no deadlock) */
    CHECK_OK(sockit_filter_chunked_decode(trailers, &f));
    const char *tail = "0\r\nA: b\r\n\r\n";
    CHECK_OK(sockit_filter_put(f, (const uint8_t *)tail, strlen(tail), trailers));
    CHECK_BUF_STR(trailers, "A: b\r\n");
    sockit_filter_free(f);
    CHECK_OK(sockit_filter_chunked_decode(trailers, &f));
    CHECK_OK(sockit_source_chain(string_source("0\r\nC: d\r\n\r\n"), f, &src));
    bool end = false;
    CHECK_OK(sockit_source_pull(src, 0, trailers, &end));
    CHECK(end);
    CHECK_BUF_STR(trailers, "C: d\r\n");
    sockit_source_free(src);
    sockit_buffer_free(trailers);
}

/* ----- pumps ---------------------------------------------------------------------- */

static void test_pump_step(void) {
    sockit_source *src = string_source("abcde");
    sockit_buffer *buf = sockit_buffer_new();
    sockit_sink *snk = NULL;
    CHECK_OK(sockit_sink_buffer(buf, &snk));
    bool more = false;
    int steps = 0;
    do {
        CHECK_OK(sockit_pump_step(src, snk, 2, &more));
        steps++;
    } while (more && steps < 10);
    CHECK(steps == 4);
    CHECK_BUF_STR(buf, "abcde");
    /* a freed source or sink fails cleanly */
    sockit_source_free(src);
    CHECK_STATUS(sockit_pump_step(src, snk, 0, &more), SOCKIT_INVALID);
    CHECK_STATUS(sockit_pump_all(NULL, snk, 0, NULL), SOCKIT_INVALID);
    sockit_sink_free(snk);
    sockit_buffer_free(buf);
}

/* A big pipeline: 3 MB through base64 encode, wrap, decode, compared at the end. */
static void test_big_pipeline(void) {
    size_t n = 3u << 20;
    uint8_t *data = malloc(n);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (uint8_t)(x >> 24);
    }
    sockit_filter *fs[3];
    CHECK_OK(sockit_filter_base64_encode(&fs[0]));
    CHECK_OK(sockit_filter_wrap(76, &fs[1]));
    CHECK_OK(sockit_filter_base64_decode(&fs[2]));
    sockit_filter *chain = NULL;
    CHECK_OK(sockit_filter_chain(fs, 3, &chain));
    sockit_source *raw = NULL, *src = NULL;
    CHECK_OK(sockit_source_bytes(data, n, &raw));
    CHECK_OK(sockit_source_chain(raw, chain, &src));
    sockit_status st;
    sockit_buffer *buf = pump_to_buffer(src, 0, &st);
    CHECK_STATUS(st, SOCKIT_OK);
    CHECK_BUF(buf, data, n);
    sockit_buffer_free(buf);
    sockit_source_free(src);
    free(data);
}

int main(void) {
    test_string_and_bytes();
    test_empty_and_error();
    test_fd_and_file();
    test_rewind();
    test_cat();
    test_callback_source();
    test_send_cb();
    test_callback_sink();
    test_receive_cb();
    test_null_error_and_direct_sinks();
    test_filters();
    test_chunked();
    test_pump_step();
    test_big_pipeline();
    return check_done();
}
