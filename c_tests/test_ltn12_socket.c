/* LTN12 socket sources and sinks end to end over loopback TCP through the C API.
 *
 * - http-chunked both ways AT ONCE over one connected pair: on each side one thread pumps
 *   a pseudo-random source (random chunk sizes) into a chunked socket sink while another
 *   pumps the chunked socket source into a checksum sink; the length and a 64-bit FNV-1a
 *   checksum computed on both sides must match. 100 MiB each way (about 3 s under
 *   valgrind, so no smaller size is needed there); SOCKIT_TEST_SCALE=<MiB> changes it.
 * - by-length exact (nothing past it consumed), short at close, timeouts; until-closed;
 *   keep-open vs close-when-done; a peer vanishing mid-transfer (partial data delivered,
 *   then SOCKIT_CLOSED); a socket freed under a live source or sink (SOCKIT_INVALID).
 * Every loop is bounded; sockets have block timeouts so that a bug fails, not hangs. */
#include "check.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* ----- helpers -------------------------------------------------------------------- */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A connected loopback pair: *c connected to *a; both with a 20 s block timeout. */
static void make_pair(sockit_socket **c, sockit_socket **a) {
    sockit_socket *srv = NULL;
    uint16_t port = 0;
    CHECK_OK(sockit_tcp_bind("127.0.0.1", 0, 4, &srv));
    CHECK_OK(sockit_socket_getsockname(srv, NULL, &port, NULL));
    CHECK_OK(sockit_tcp_connect("127.0.0.1", port, NULL, 0, SOCKIT_FAMILY_ANY, 5.0, c));
    CHECK_OK(sockit_socket_accept(srv, a));
    sockit_socket_free(srv);
    CHECK_OK(sockit_socket_settimeout(*c, 20.0, "b"));
    CHECK_OK(sockit_socket_settimeout(*a, 20.0, "b"));
}

static void send_str(sockit_socket *s, const char *str) {
    size_t sent = 0;
    CHECK_OK(sockit_socket_send(s, (const uint8_t *)str, strlen(str), &sent));
    CHECK(sent == strlen(str));
}

static sockit_state state_of(sockit_socket *s) {
    sockit_state st = SOCKIT_STATE_MASTER;
    CHECK_OK(sockit_socket_state(s, &st));
    return st;
}

/* Pumps src into a new buffer sink; status to *st, bytes moved to *n. */
static sockit_buffer *pump_to_buffer(sockit_source *src, size_t chunk, sockit_status *st,
                                     uint64_t *n) {
    sockit_buffer *buf = sockit_buffer_new();
    sockit_sink *snk = NULL;
    CHECK_OK(sockit_sink_buffer(buf, &snk));
    *st = sockit_pump_all(src, snk, chunk, n);
    sockit_sink_free(snk);
    return buf;
}

/* ----- checksum: FNV-1a over 64-bit little-endian words, the tail byte by byte ------ */

typedef struct {
    uint64_t h, len;
    uint8_t carry[8];
    size_t ncarry;
} hash_t;

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static void hash_init(hash_t *h) {
    memset(h, 0, sizeof *h);
    h->h = FNV_OFFSET;
}

static void hash_word(hash_t *h, const uint8_t *p) {
    uint64_t w;
    memcpy(&w, p, 8);
    h->h = (h->h ^ w) * FNV_PRIME;
}

/* The result does not depend on how the data is split into calls. */
static void hash_update(hash_t *h, const uint8_t *p, size_t n) {
    h->len += n;
    if (h->ncarry > 0) {
        size_t k = 8 - h->ncarry < n ? 8 - h->ncarry : n;
        memcpy(h->carry + h->ncarry, p, k);
        h->ncarry += k;
        p += k;
        n -= k;
        if (h->ncarry < 8) return;
        hash_word(h, h->carry);
        h->ncarry = 0;
    }
    for (; n >= 8; p += 8, n -= 8) hash_word(h, p);
    memcpy(h->carry, p, n);
    h->ncarry = n;
}

static uint64_t hash_final(hash_t *h) {
    uint64_t r = h->h;
    for (size_t i = 0; i < h->ncarry; i++) r = (r ^ h->carry[i]) * FNV_PRIME;
    return r;
}

/* ----- pseudo-random source (xorshift64*), random chunk sizes 1..128 KiB ------------ */

#define GEN_MAX (128 * 1024)

typedef struct {
    uint64_t state, left;
    uint64_t *block; /* GEN_MAX bytes */
    hash_t hash;
    int chunks;
} gen_t;

static uint64_t xorshift(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static int gen_source(void *ud, sockit_buffer *chunk, bool *end) {
    gen_t *g = ud;
    if (g->left == 0) {
        *end = true;
        return SOCKIT_OK;
    }
    size_t n = (size_t)(xorshift(&g->state) % GEN_MAX) + 1;
    if (n > g->left) n = (size_t)g->left;
    for (size_t i = 0; i < (n + 7) / 8; i++) g->block[i] = xorshift(&g->state);
    hash_update(&g->hash, (const uint8_t *)g->block, n);
    g->left -= n;
    g->chunks++;
    return sockit_buffer_append(chunk, (const uint8_t *)g->block, n);
}

typedef struct {
    hash_t hash;
    bool ended;
    bool failed;
} check_sink_t;

static int check_sink(void *ud, const uint8_t *chunk, size_t len, const char *error) {
    check_sink_t *k = ud;
    if (chunk) {
        hash_update(&k->hash, chunk, len);
    } else if (error) {
        k->failed = true;
    } else {
        k->ended = true;
    }
    return SOCKIT_OK;
}

/* One direction's sending side: generator -> chunked sink on `sock`. */
typedef struct {
    sockit_socket *sock;
    uint64_t size, seed;
    gen_t gen;
    sockit_status status;
    uint64_t moved;
} sender_t;

static void *sender(void *arg) {
    sender_t *s = arg;
    s->gen.state = s->seed;
    s->gen.left = s->size;
    s->gen.block = malloc(GEN_MAX + 8);
    hash_init(&s->gen.hash);
    sockit_source *src = NULL;
    sockit_sink *snk = NULL;
    s->status = sockit_source_callback(gen_source, &s->gen, NULL, &src);
    if (s->status == SOCKIT_OK) s->status = sockit_sink_socket(s->sock, SOCKIT_SINK_HTTP_CHUNKED, &snk);
    if (s->status == SOCKIT_OK) s->status = sockit_pump_all(src, snk, 0, &s->moved);
    sockit_source_free(src);
    sockit_sink_free(snk);
    free(s->gen.block);
    return NULL;
}

/* One direction's receiving side: chunked source on `sock` -> checksum sink. */
typedef struct {
    sockit_socket *sock;
    size_t chunk;
    check_sink_t sink;
    sockit_status status, trailers_status;
    uint64_t moved;
    size_t trailers_len;
} receiver_t;

static void *receiver(void *arg) {
    receiver_t *r = arg;
    hash_init(&r->sink.hash);
    sockit_source *src = NULL;
    sockit_sink *snk = NULL;
    r->status = sockit_source_socket(r->sock, SOCKIT_SOURCE_HTTP_CHUNKED, 0, &src);
    if (r->status == SOCKIT_OK) r->status = sockit_sink_callback(check_sink, &r->sink, NULL, &snk);
    if (r->status == SOCKIT_OK) r->status = sockit_pump_all(src, snk, r->chunk, &r->moved);
    sockit_buffer *tr = sockit_buffer_new();
    r->trailers_status = sockit_source_trailers(src, tr);
    r->trailers_len = sockit_buffer_len(tr);
    sockit_buffer_free(tr);
    sockit_source_free(src);
    sockit_sink_free(snk);
    return NULL;
}

static uint64_t transfer_size(void) {
    const char *scale = getenv("SOCKIT_TEST_SCALE");
    if (scale && *scale) return (uint64_t)strtoull(scale, NULL, 10) << 20;
    return 100u << 20;
}

/* ----- tests ---------------------------------------------------------------------- */

static void test_chunked_both_ways(void) {
    uint64_t size = transfer_size();
    sockit_socket *c = NULL, *a = NULL;
    make_pair(&c, &a);
    sender_t s1 = {.sock = c, .size = size, .seed = 0x9E3779B97F4A7C15ULL};
    sender_t s2 = {.sock = a, .size = size, .seed = 0xD1B54A32D192ED03ULL};
    receiver_t r1 = {.sock = a, .chunk = 64 * 1024};
    receiver_t r2 = {.sock = c, .chunk = 0}; /* LuaSocket's 2048 */
    pthread_t t[4];
    double t0 = now();
    pthread_create(&t[0], NULL, receiver, &r1);
    pthread_create(&t[1], NULL, receiver, &r2);
    pthread_create(&t[2], NULL, sender, &s1);
    pthread_create(&t[3], NULL, sender, &s2);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    double dt = now() - t0;
    sender_t *ss[2] = {&s1, &s2};
    receiver_t *rr[2] = {&r1, &r2};
    for (int i = 0; i < 2; i++) {
        CHECK_STATUS(ss[i]->status, SOCKIT_OK);
        CHECK_STATUS(rr[i]->status, SOCKIT_OK);
        CHECK(ss[i]->moved == size);
        CHECK(ss[i]->gen.hash.len == size);
        CHECK(rr[i]->moved == size);
        CHECK(rr[i]->sink.hash.len == size);
        CHECK(rr[i]->sink.ended && !rr[i]->sink.failed);
        CHECK(hash_final(&ss[i]->gen.hash) == hash_final(&rr[i]->sink.hash));
        CHECK_STATUS(rr[i]->trailers_status, SOCKIT_OK);
        CHECK(rr[i]->trailers_len == 0);
    }
    printf("chunked both ways at once: %llu MiB each way in %.2f s (%.0f MiB/s in all), "
           "%d + %d chunks of 1..128 KiB\n",
           (unsigned long long)(size >> 20), dt, 2.0 * (double)(size >> 20) / dt,
           s1.gen.chunks, s2.gen.chunks);
    /* The sockets are still open and usable after the bodies. */
    CHECK(state_of(c) == SOCKIT_STATE_CLIENT && state_of(a) == SOCKIT_STATE_CLIENT);
    send_str(c, "after\n");
    sockit_buffer *line = sockit_buffer_new();
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_LINE, 0, NULL, 0, line));
    CHECK_BUF_STR(line, "after");
    sockit_buffer_free(line);
    sockit_socket_free(c);
    sockit_socket_free(a);
}

static void test_chunked_trailers_and_errors(void) {
    sockit_socket *c = NULL, *a = NULL;
    make_pair(&c, &a);
    send_str(c, "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 11\r\nX-B: b\r\n\r\nNEXT\n");
    sockit_source *src = NULL;
    CHECK_OK(sockit_source_socket(a, SOCKIT_SOURCE_HTTP_CHUNKED, 0, &src));
    sockit_buffer *tr = sockit_buffer_new();
    CHECK_STATUS(sockit_source_trailers(src, tr), SOCKIT_INVALID); /* not yet */
    sockit_status st;
    uint64_t n = 0;
    sockit_buffer *buf = pump_to_buffer(src, 3, &st, &n);
    CHECK_STATUS(st, SOCKIT_OK);
    CHECK_BUF_STR(buf, "hello world");
    CHECK(n == 11);
    CHECK_OK(sockit_source_trailers(src, tr));
    CHECK(strcmp(sockit_buffer_cstr(tr), "X-Sum: 11\r\nX-B: b\r\n") == 0);
    sockit_source_free(src);
    /* nothing past the body was read */
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_LINE, 0, NULL, 0, buf));
    CHECK_BUF_STR(buf, "NEXT");

    /* malformed coding */
    send_str(c, "zz\r\n");
    CHECK_OK(sockit_source_socket(a, SOCKIT_SOURCE_HTTP_CHUNKED, 0, &src));
    sockit_buffer_free(buf);
    buf = pump_to_buffer(src, 0, &st, &n);
    CHECK_STATUS(st, SOCKIT_PROTOCOL);
    CHECK(n == 0);
    sockit_source_free(src);

    /* the chunked sink's framing, read raw */
    sockit_sink *snk = NULL;
    CHECK_OK(sockit_sink_socket(c, SOCKIT_SINK_HTTP_CHUNKED, &snk));
    CHECK_OK(sockit_sink_put(snk, (const uint8_t *)"abcdefghijklmnopq", 17));
    CHECK_OK(sockit_sink_put(snk, (const uint8_t *)"", 0)); /* empty: nothing sent */
    CHECK_OK(sockit_sink_end(snk));
    sockit_sink_free(snk);
    const char *want = "11\r\nabcdefghijklmnopq\r\n0\r\n\r\n";
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_COUNT, strlen(want), NULL, 0, buf));
    CHECK_BUF_STR(buf, want);
    sockit_buffer_free(buf);
    sockit_buffer_free(tr);
    sockit_socket_free(c);
    sockit_socket_free(a);
}

static void test_by_length(void) {
    sockit_socket *c = NULL, *a = NULL;
    make_pair(&c, &a);
    /* exact: 100,000 bytes, then a line that must stay in the socket */
    size_t len = 100000;
    uint8_t *data = malloc(len);
    for (size_t i = 0; i < len; i++) data[i] = (uint8_t)(i * 131 + (i >> 9));
    size_t sent = 0;
    CHECK_OK(sockit_socket_send(c, data, len, &sent));
    send_str(c, "TAIL\n");
    sockit_source *src = NULL;
    CHECK_OK(sockit_source_socket(a, SOCKIT_SOURCE_BY_LENGTH, len, &src));
    uint64_t size = 0;
    bool known = false;
    CHECK_OK(sockit_source_size(src, &size, &known));
    CHECK(known && size == len);
    sockit_status st;
    uint64_t n = 0;
    sockit_buffer *buf = pump_to_buffer(src, 4096, &st, &n);
    CHECK_STATUS(st, SOCKIT_OK);
    CHECK(n == len);
    CHECK_BUF(buf, data, len);
    sockit_source_free(src);
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_LINE, 0, NULL, 0, buf));
    CHECK_BUF_STR(buf, "TAIL");
    sockit_buffer_free(buf);

    /* it shares the socket's read buffer: a line received first, then the body */
    send_str(c, "HEAD\nbody!");
    buf = sockit_buffer_new();
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_LINE, 0, NULL, 0, buf));
    CHECK_BUF_STR(buf, "HEAD");
    sockit_buffer_free(buf);
    CHECK_OK(sockit_source_socket(a, SOCKIT_SOURCE_BY_LENGTH, 5, &src));
    buf = pump_to_buffer(src, 0, &st, &n);
    CHECK_STATUS(st, SOCKIT_OK);
    CHECK_BUF_STR(buf, "body!");
    sockit_buffer_free(buf);
    sockit_source_free(src);

    /* length 0: ends at once */
    CHECK_OK(sockit_source_socket(a, SOCKIT_SOURCE_BY_LENGTH, 0, &src));
    buf = pump_to_buffer(src, 0, &st, &n);
    CHECK_STATUS(st, SOCKIT_OK);
    CHECK(n == 0);
    sockit_buffer_free(buf);
    sockit_source_free(src);

    /* timeout: the bytes that came are delivered, then SOCKIT_TIMEOUT */
    CHECK_OK(sockit_socket_settimeout(a, 0.05, "b"));
    send_str(c, "abc");
    CHECK_OK(sockit_source_socket(a, SOCKIT_SOURCE_BY_LENGTH, 10, &src));
    double t0 = now();
    buf = pump_to_buffer(src, 0, &st, &n);
    CHECK_STATUS(st, SOCKIT_TIMEOUT);
    CHECK(now() - t0 >= 0.04 && now() - t0 < 5.0);
    CHECK_BUF_STR(buf, "abc");
    CHECK(n == 3);
    sockit_buffer_free(buf);
    sockit_source_free(src);
    CHECK_OK(sockit_socket_settimeout(a, 20.0, "b"));

    /* short at close: the partial data, then SOCKIT_CLOSED */
    CHECK_OK(sockit_socket_send(c, data, 1000, &sent));
    sockit_socket_free(c);
    CHECK_OK(sockit_source_socket(a, SOCKIT_SOURCE_BY_LENGTH, 5000, &src));
    buf = pump_to_buffer(src, 0, &st, &n);
    CHECK_STATUS(st, SOCKIT_CLOSED);
    CHECK(n == 1000);
    CHECK_BUF(buf, data, 1000);
    /* pulled again: still closed, nothing more */
    bool end = false;
    CHECK_STATUS(sockit_source_pull(src, 0, buf, &end), SOCKIT_CLOSED);
    sockit_buffer_free(buf);
    sockit_source_free(src);
    free(data);
    sockit_socket_free(a);
}

static void test_until_closed_and_sink_modes(void) {
    sockit_socket *c = NULL, *a = NULL;
    make_pair(&c, &a);
    /* keep-open: the socket stays usable */
    sockit_sink *snk = NULL;
    CHECK_OK(sockit_sink_socket(c, SOCKIT_SINK_KEEP_OPEN, &snk));
    sockit_source *src = NULL;
    CHECK_OK(sockit_source_string((const uint8_t *)"one", 3, &src));
    CHECK_OK(sockit_pump_all(src, snk, 2, NULL));
    sockit_source_free(src);
    sockit_sink_free(snk);
    CHECK(state_of(c) == SOCKIT_STATE_CLIENT);
    send_str(c, "+two");
    /* close-when-done: closed (not freed) at the end */
    CHECK_OK(sockit_sink_socket(c, SOCKIT_SINK_CLOSE_WHEN_DONE, &snk));
    CHECK_OK(sockit_source_string((const uint8_t *)"+three", 6, &src));
    CHECK_OK(sockit_pump_all(src, snk, 4, NULL));
    sockit_source_free(src);
    CHECK(state_of(c) == SOCKIT_STATE_CLOSED);
    CHECK_STATUS(sockit_sink_put(snk, (const uint8_t *)"x", 1), SOCKIT_CLOSED);
    sockit_sink_free(snk);
    /* until-closed: everything, the end is no error, and the socket is closed after */
    CHECK_OK(sockit_source_socket(a, SOCKIT_SOURCE_UNTIL_CLOSED, 0, &src));
    sockit_status st;
    uint64_t n = 0;
    sockit_buffer *buf = pump_to_buffer(src, 0, &st, &n);
    CHECK_STATUS(st, SOCKIT_OK);
    CHECK_BUF_STR(buf, "one+two+three");
    CHECK(state_of(a) == SOCKIT_STATE_CLOSED);
    sockit_buffer_free(buf);
    sockit_source_free(src);
    sockit_socket_free(c);
    sockit_socket_free(a);

    /* close-when-done also closes when the source fails */
    make_pair(&c, &a);
    CHECK_OK(sockit_sink_socket(c, SOCKIT_SINK_CLOSE_WHEN_DONE, &snk));
    CHECK_OK(sockit_source_error(SOCKIT_ABORTED, "stop", &src));
    CHECK_STATUS(sockit_pump_all(src, snk, 0, NULL), SOCKIT_ABORTED);
    CHECK(state_of(c) == SOCKIT_STATE_CLOSED);
    sockit_source_free(src);
    sockit_sink_free(snk);
    sockit_socket_free(c);
    sockit_socket_free(a);
}

/* A sender that streams a chunked body and vanishes in the middle of it. */
typedef struct {
    sockit_socket *sock;
    size_t bytes;
} vanish_t;

static void *vanishing_sender(void *arg) {
    vanish_t *v = arg;
    uint8_t *block = calloc(1, 10000);
    sockit_sink *snk = NULL;
    sockit_sink_socket(v->sock, SOCKIT_SINK_HTTP_CHUNKED, &snk);
    for (size_t done = 0; done < v->bytes; done += 10000) sockit_sink_put(snk, block, 10000);
    /* a chunk announced but cut short, then gone without the last chunk */
    size_t sent = 0;
    sockit_socket_send(v->sock, (const uint8_t *)"100\r\nabc", 8, &sent);
    sockit_sink_free(snk);
    sockit_socket_close(v->sock);
    free(block);
    return NULL;
}

static void test_peer_vanishes(void) {
    sockit_socket *c = NULL, *a = NULL;
    make_pair(&c, &a);
    vanish_t v = {.sock = c, .bytes = 1000000};
    pthread_t t;
    pthread_create(&t, NULL, vanishing_sender, &v);
    sockit_source *src = NULL;
    CHECK_OK(sockit_source_socket(a, SOCKIT_SOURCE_HTTP_CHUNKED, 0, &src));
    sockit_status st;
    uint64_t n = 0;
    sockit_buffer *buf = pump_to_buffer(src, 8192, &st, &n);
    pthread_join(t, NULL);
    CHECK_STATUS(st, SOCKIT_CLOSED);
    CHECK(n == 1000000 + 3); /* every byte before the loss, "abc" included */
    CHECK(sockit_buffer_len(buf) == 1000000 + 3);
    sockit_buffer_free(buf);
    sockit_source_free(src);

    /* The receiver vanishes while a sink sends: SOCKIT_CLOSED, no SIGPIPE. */
    sockit_socket_free(a);
    sockit_sink *snk = NULL;
    sockit_socket_free(c);
    make_pair(&c, &a);
    sockit_socket_free(a);
    CHECK_OK(sockit_sink_socket(c, SOCKIT_SINK_KEEP_OPEN, &snk));
    uint8_t *block = calloc(1, 1 << 16);
    sockit_status put = SOCKIT_OK;
    for (int i = 0; i < 1000 && put == SOCKIT_OK; i++) put = sockit_sink_put(snk, block, 1 << 16);
    CHECK_STATUS(put, SOCKIT_CLOSED);
    free(block);
    sockit_sink_free(snk);
    sockit_socket_free(c);
}

static void test_freed_socket(void) {
    sockit_socket *c = NULL, *a = NULL;
    make_pair(&c, &a);
    sockit_source *src = NULL;
    sockit_sink *snk = NULL;
    CHECK_OK(sockit_source_socket(a, SOCKIT_SOURCE_BY_LENGTH, 10, &src));
    CHECK_OK(sockit_sink_socket(c, SOCKIT_SINK_CLOSE_WHEN_DONE, &snk));
    sockit_socket_free(a);
    sockit_socket_free(c);
    sockit_buffer *buf = sockit_buffer_new();
    bool end = false;
    CHECK_STATUS(sockit_source_pull(src, 0, buf, &end), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "freed") != NULL);
    CHECK_STATUS(sockit_sink_put(snk, (const uint8_t *)"x", 1), SOCKIT_INVALID);
    CHECK_OK(sockit_sink_end(snk)); /* closing a freed socket: nothing to do */
    sockit_source_free(src);
    sockit_sink_free(snk);
    /* constructors on a freed socket, NULL and bad modes */
    CHECK_STATUS(sockit_source_socket(a, SOCKIT_SOURCE_UNTIL_CLOSED, 0, &src), SOCKIT_INVALID);
    CHECK(src == NULL);
    CHECK_STATUS(sockit_sink_socket(c, SOCKIT_SINK_KEEP_OPEN, &snk), SOCKIT_INVALID);
    CHECK(snk == NULL);
    CHECK_STATUS(sockit_source_socket(NULL, SOCKIT_SOURCE_BY_LENGTH, 1, &src), SOCKIT_INVALID);
    CHECK_STATUS(sockit_sink_socket(NULL, SOCKIT_SINK_KEEP_OPEN, &snk), SOCKIT_INVALID);
    make_pair(&c, &a);
    CHECK_STATUS(sockit_source_socket(a, 3, 0, &src), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "mode") != NULL);
    CHECK_STATUS(sockit_sink_socket(a, -1, &snk), SOCKIT_INVALID);
    CHECK_STATUS(sockit_source_socket(a, SOCKIT_SOURCE_BY_LENGTH, 1, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_sink_socket(a, SOCKIT_SINK_KEEP_OPEN, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_source_trailers(NULL, buf), SOCKIT_INVALID);
    /* a socket that is not connected fails the first pull, not the constructor */
    sockit_socket *m = NULL;
    CHECK_OK(sockit_tcp_new(SOCKIT_FAMILY_ANY, &m));
    CHECK_OK(sockit_source_socket(m, SOCKIT_SOURCE_UNTIL_CLOSED, 0, &src));
    CHECK_STATUS(sockit_source_pull(src, 0, buf, &end), SOCKIT_INVALID);
    sockit_source_free(src);
    sockit_socket_free(m);
    sockit_buffer_free(buf);
    sockit_socket_free(c);
    sockit_socket_free(a);
}

int main(void) {
    test_by_length();
    test_chunked_trailers_and_errors();
    test_until_closed_and_sink_modes();
    test_peer_vanishes();
    test_freed_socket();
    test_chunked_both_ways();
    return check_done();
}
