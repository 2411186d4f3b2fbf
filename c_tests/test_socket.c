/* TCP sockets through the C API: every sockit_socket function, bad arguments, LuaSocket
 * patterns, partial data on timeout and reset, no SIGPIPE, Moonbridge calls with a C wait
 * callback. Loopback only; every loop is bounded. */
#include "check.h"

#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* A listening socket on host, port 0; its port goes to *port. */
static sockit_socket *server_on(const char *host, uint16_t *port) {
    sockit_socket *s = NULL;
    CHECK_OK(sockit_tcp_bind(host, 0, -1, &s));
    CHECK_OK(sockit_socket_getsockname(s, NULL, port, NULL));
    return s;
}

/* A connected pair: *c connected to *a through the listener *srv. */
static void make_pair(sockit_socket **srv, sockit_socket **c, sockit_socket **a) {
    uint16_t port = 0;
    *srv = server_on("127.0.0.1", &port);
    CHECK_OK(sockit_tcp_connect("127.0.0.1", port, NULL, 0, SOCKIT_FAMILY_ANY, 5.0, c));
    CHECK_OK(sockit_socket_accept(*srv, a));
}

static void free3(sockit_socket *a, sockit_socket *b, sockit_socket *c) {
    sockit_socket_free(a);
    sockit_socket_free(b);
    sockit_socket_free(c);
}

/* A loopback port nobody listens on. */
static int closed_port(void) {
    uint16_t port = 0;
    sockit_socket *s = server_on("127.0.0.1", &port);
    sockit_socket_free(s);
    return port;
}

static int send_str(sockit_socket *s, const char *str) {
    size_t sent = 0;
    sockit_status st = sockit_socket_send(s, (const uint8_t *)str, strlen(str), &sent);
    return st == SOCKIT_OK && sent == strlen(str);
}

static void test_null_and_freed_handles(void) {
    sockit_buffer *b = sockit_buffer_new();
    sockit_socket *out = (sockit_socket *)&out; /* must be overwritten */
    size_t n;
    int fd;
    bool flag;
    double d;
    int64_t v;
    uint16_t port;
    sockit_read_end end;
    sockit_state state;
    sockit_family fam;

    CHECK_STATUS(sockit_tcp_new(SOCKIT_FAMILY_ANY, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unix_new(NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_tcp_connect(NULL, 80, NULL, 0, 0, 1.0, &out), SOCKIT_INVALID);
    CHECK(out == NULL);
    CHECK(strstr(sockit_last_error(), "host is NULL") != NULL);
    CHECK_STATUS(sockit_tcp_connect("127.0.0.1", 80, NULL, 0, 0, 1.0, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_tcp_connect_nb(NULL, 80, &out), SOCKIT_INVALID);
    CHECK_STATUS(sockit_tcp_bind(NULL, 0, 1, &out), SOCKIT_INVALID);
    CHECK_STATUS(sockit_tcp_listen(NULL, 0, 1, &out), SOCKIT_INVALID);
    CHECK_STATUS(sockit_tcp_listen("127.0.0.1", 0, 1, NULL), SOCKIT_INVALID);

    CHECK_STATUS(sockit_socket_bind(NULL, "127.0.0.1", 0), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_bind_path(NULL, "/x"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_listen(NULL, 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_connect(NULL, "127.0.0.1", 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_connect_path(NULL, "/x"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_accept(NULL, &out), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_accept_nb(NULL, &out), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_settimeout(NULL, 1.0, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_gettimeout(NULL, &d, &d), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_send(NULL, (const uint8_t *)"x", 1, &n), SOCKIT_INVALID);
    CHECK(n == 0);
    CHECK_STATUS(sockit_socket_send_range(NULL, (const uint8_t *)"x", 1, 1, -1, NULL),
                 SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_receive(NULL, SOCKIT_PATTERN_LINE, 0, NULL, 0, b),
                 SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_read(NULL, SIZE_MAX, -1, b, &end), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_read_nb(NULL, SIZE_MAX, -1, b, &end), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_read_call(NULL, SIZE_MAX, -1, NULL, NULL, b, &end),
                 SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_drain(NULL, SIZE_MAX, -1, &n, &end), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_drain_nb(NULL, SIZE_MAX, -1, &n, &end), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_drain_call(NULL, SIZE_MAX, -1, NULL, NULL, &n, &end),
                 SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_write(NULL, (const uint8_t *)"x", 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_write_nb(NULL, (const uint8_t *)"x", 1, &n), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_write_call(NULL, (const uint8_t *)"x", 1, NULL, NULL),
                 SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_flush(NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_flush_nb(NULL, &n), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_flush_call(NULL, NULL, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_finish(NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_shutdown(NULL, SOCKIT_SHUTDOWN_BOTH), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_close(NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_reset(NULL), SOCKIT_INVALID);
    sockit_socket_free(NULL);
    CHECK_STATUS(sockit_socket_getsockname(NULL, b, &port, &fam), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_getpeername(NULL, b, &port, &fam), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_local_ip_raw(NULL, b, &port), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_remote_ip_raw(NULL, b, &port), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_setoption_int(NULL, "keepalive", 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_getoption_int(NULL, "keepalive", &v), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_setoption_linger(NULL, true, 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_getoption_linger(NULL, &flag, &fd), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_getstats(NULL, &d, &d, &d), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_setstats(NULL, 0, 0, 0), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_getfd(NULL, &fd), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_dirty(NULL, &flag), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_state(NULL, &state), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_family(NULL, &fam), SOCKIT_INVALID);

    /* NULL out-parameters on a live socket. */
    sockit_socket *m = NULL;
    CHECK_OK(sockit_tcp_new(SOCKIT_FAMILY_INET, &m));
    CHECK_STATUS(sockit_socket_getfd(m, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_dirty(m, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_state(m, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_family(m, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_getoption_int(m, "keepalive", NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_getoption_int(m, NULL, &v), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_setoption_int(m, NULL, 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_accept(m, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_bind(m, NULL, 0), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_connect(m, NULL, 0), SOCKIT_INVALID);
    CHECK_OK(sockit_socket_gettimeout(m, NULL, NULL));
    CHECK_OK(sockit_socket_getstats(m, NULL, NULL, NULL));

    /* Freed handle: every call is SOCKIT_INVALID, free again is harmless. */
    sockit_socket_free(m);
    CHECK_STATUS(sockit_socket_close(m), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "freed") != NULL);
    CHECK_STATUS(sockit_socket_getfd(m, &fd), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_send(m, (const uint8_t *)"x", 1, NULL), SOCKIT_INVALID);
    sockit_socket_free(m);
    sockit_buffer_free(b);
}

static void test_constructors_and_bad_arguments(void) {
    sockit_socket *s = NULL;
    sockit_state state;
    sockit_family fam;
    int fd = 0;

    CHECK_OK(sockit_tcp_new(SOCKIT_FAMILY_ANY, &s));
    CHECK_OK(sockit_socket_state(s, &state));
    CHECK(state == SOCKIT_STATE_MASTER);
    CHECK_OK(sockit_socket_family(s, &fam));
    CHECK(fam == SOCKIT_FAMILY_ANY);
    CHECK_OK(sockit_socket_getfd(s, &fd));
    CHECK(fd == -1);
    sockit_socket_free(s);

    CHECK_OK(sockit_tcp_new(SOCKIT_FAMILY_INET6, &s));
    CHECK_OK(sockit_socket_family(s, &fam));
    CHECK(fam == SOCKIT_FAMILY_INET6);
    CHECK_OK(sockit_socket_getfd(s, &fd));
    CHECK(fd >= 0);
    int64_t v6only = 0;
    CHECK_OK(sockit_socket_getoption_int(s, "ipv6-v6only", &v6only));
    CHECK(v6only == 1);
    sockit_socket_free(s);

    s = (sockit_socket *)&s;
    CHECK_STATUS(sockit_tcp_new(7, &s), SOCKIT_INVALID);
    CHECK(s == NULL);
    CHECK_STATUS(sockit_tcp_new(SOCKIT_FAMILY_UNIX, &s), SOCKIT_FAMILY);
    CHECK_STATUS(sockit_tcp_new(-1, &s), SOCKIT_INVALID);

    /* Bad ports. */
    CHECK_STATUS(sockit_tcp_connect("127.0.0.1", -1, NULL, 0, 0, 1.0, &s), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "port") != NULL);
    CHECK_STATUS(sockit_tcp_connect("127.0.0.1", 65536, NULL, 0, 0, 1.0, &s), SOCKIT_INVALID);
    CHECK_STATUS(sockit_tcp_connect("127.0.0.1", 80, "127.0.0.1", 70000, 0, 1.0, &s),
                 SOCKIT_INVALID);
    CHECK_STATUS(sockit_tcp_connect_nb("127.0.0.1", 65536, &s), SOCKIT_INVALID);
    CHECK_STATUS(sockit_tcp_bind("*", 70000, 1, &s), SOCKIT_INVALID);
    CHECK_STATUS(sockit_tcp_listen("*", -5, 1, &s), SOCKIT_INVALID);
    CHECK_STATUS(sockit_tcp_connect("127.0.0.1", 80, NULL, 0, 9, 1.0, &s), SOCKIT_INVALID);

    /* Malformed and unresolvable addresses. */
    sockit_status st = sockit_tcp_connect("1.2.3.4.5", 80, NULL, 0, 0, 1.0, &s);
    CHECK(st == SOCKIT_HOST_NOT_FOUND || st == SOCKIT_DNS_AGAIN || st == SOCKIT_DNS_FAIL);
    CHECK(strstr(sockit_last_error(), "1.2.3.4.5") != NULL);
    st = sockit_tcp_connect("no-such-host.invalid", 80, NULL, 0, 0, 1.0, &s);
    CHECK(st == SOCKIT_HOST_NOT_FOUND || st == SOCKIT_DNS_AGAIN || st == SOCKIT_DNS_FAIL);
    CHECK_STATUS(sockit_tcp_connect("", 80, NULL, 0, 0, 1.0, &s), SOCKIT_INVALID);
    CHECK_STATUS(sockit_tcp_connect("::1", 80, NULL, 0, SOCKIT_FAMILY_INET, 1.0, &s),
                 SOCKIT_FAMILY);
    st = sockit_tcp_bind("300.1.1.1", 0, 1, &s);
    CHECK(st == SOCKIT_HOST_NOT_FOUND || st == SOCKIT_DNS_AGAIN || st == SOCKIT_DNS_FAIL);
    CHECK(s == NULL);
}

static void test_refused_and_connect_variants(void) {
    sockit_socket *s = NULL;
    int port = closed_port();
    char want[64];
    snprintf(want, sizeof want, "127.0.0.1:%d", port);
    CHECK_STATUS(sockit_tcp_connect("127.0.0.1", port, NULL, 0, SOCKIT_FAMILY_ANY, -1.0, &s),
                 SOCKIT_REFUSED);
    CHECK(strstr(sockit_last_error(), want) != NULL);
    CHECK(strstr(sockit_last_error(), "connection refused") != NULL);
    CHECK(s == NULL);

    /* connect_nb: the failure shows on the first read. */
    sockit_buffer *b = sockit_buffer_new();
    sockit_read_end end;
    CHECK_OK(sockit_tcp_connect_nb("127.0.0.1", port, &s));
    CHECK_STATUS(sockit_socket_read(s, SIZE_MAX, -1, b, &end), SOCKIT_REFUSED);
    sockit_socket_free(s);

    /* With a local address, and by name. */
    uint16_t sport = 0, lport = 0, pport = 0;
    sockit_socket *srv = server_on("127.0.0.1", &sport);
    sockit_socket *c = NULL, *a = NULL;
    CHECK_OK(sockit_tcp_connect("localhost", sport, "127.0.0.1", 0, SOCKIT_FAMILY_INET, 5.0, &c));
    CHECK_OK(sockit_socket_accept(srv, &a));
    CHECK_OK(sockit_socket_getsockname(c, NULL, &lport, NULL));
    CHECK_OK(sockit_socket_getpeername(a, NULL, &pport, NULL));
    CHECK(lport == pport && lport != 0);
    sockit_socket_free(c);
    sockit_socket_free(a);

    /* connect_nb that succeeds: writable soon, then usable. */
    CHECK_OK(sockit_tcp_connect_nb("127.0.0.1", sport, &c));
    CHECK_OK(sockit_socket_accept(srv, &a));
    CHECK(send_str(c, "nb"));
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_COUNT, 2, NULL, 0, b));
    CHECK_BUF_STR(b, "nb");
    free3(c, a, srv);
    sockit_buffer_free(b);
}

static void test_names_and_raw_addresses(void) {
    sockit_socket *srv, *c, *a;
    sockit_buffer *b = sockit_buffer_new();
    uint16_t port = 0, sport = 0;
    sockit_family fam = SOCKIT_FAMILY_ANY;
    make_pair(&srv, &c, &a);

    CHECK_OK(sockit_socket_getsockname(srv, b, &sport, &fam));
    CHECK(strcmp(sockit_buffer_cstr(b), "127.0.0.1") == 0);
    CHECK(fam == SOCKIT_FAMILY_INET && sport != 0);
    CHECK_OK(sockit_socket_getpeername(c, b, &port, &fam));
    CHECK(strcmp(sockit_buffer_cstr(b), "127.0.0.1") == 0);
    CHECK(port == sport);
    CHECK_STATUS(sockit_socket_getpeername(srv, b, &port, &fam), SOCKIT_CLOSED);

    CHECK_OK(sockit_socket_local_ip_raw(c, b, &port));
    CHECK_BUF(b, "\x7f\x00\x00\x01", 4);
    CHECK_OK(sockit_socket_remote_ip_raw(c, b, &port));
    CHECK_BUF(b, "\x7f\x00\x00\x01", 4);
    CHECK(port == sport);
    free3(srv, c, a);

    /* IPv6 through Moonbridge's tcplisten. */
    srv = NULL;
    CHECK_OK(sockit_tcp_listen("::1", 0, 4, &srv));
    CHECK_OK(sockit_socket_getsockname(srv, b, &sport, &fam));
    CHECK(strcmp(sockit_buffer_cstr(b), "::1") == 0);
    CHECK(fam == SOCKIT_FAMILY_INET6);
    CHECK_OK(sockit_tcp_connect("::1", sport, NULL, 0, SOCKIT_FAMILY_INET6, 5.0, &c));
    CHECK_OK(sockit_socket_accept(srv, &a));
    CHECK_OK(sockit_socket_remote_ip_raw(a, b, &port));
    CHECK_BUF(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
    CHECK_OK(sockit_socket_local_ip_raw(a, b, NULL));
    CHECK(sockit_buffer_len(b) == 16);
    CHECK_OK(sockit_socket_family(a, &fam));
    CHECK(fam == SOCKIT_FAMILY_INET6);
    free3(srv, c, a);

    /* "*" binds every IPv4 interface. */
    CHECK_OK(sockit_tcp_bind("*", 0, -1, &srv));
    CHECK_OK(sockit_socket_getsockname(srv, b, &sport, NULL));
    CHECK(strcmp(sockit_buffer_cstr(b), "0.0.0.0") == 0);
    int64_t reuse = 0;
    CHECK_OK(sockit_socket_getoption_int(srv, "reuseaddr", &reuse));
    CHECK(reuse == 1);
    sockit_socket *again = NULL;
    CHECK_STATUS(sockit_tcp_bind("*", sport, -1, &again), SOCKIT_ADDRINUSE);
    sockit_socket_free(srv);
    sockit_buffer_free(b);
}

static void test_timeouts_and_accept(void) {
    uint16_t port = 0;
    sockit_socket *srv = server_on("127.0.0.1", &port), *c = NULL;
    double block = 0, total = 0;
    CHECK_OK(sockit_socket_gettimeout(srv, &block, &total));
    CHECK(block == -1 && total == -1);
    CHECK_OK(sockit_socket_settimeout(srv, 0.05, NULL));
    CHECK_OK(sockit_socket_settimeout(srv, 2.5, "t"));
    CHECK_OK(sockit_socket_gettimeout(srv, &block, &total));
    CHECK(block == 0.05 && total == 2.5);
    CHECK_STATUS(sockit_socket_settimeout(srv, 1, "x"), SOCKIT_INVALID);
    CHECK_OK(sockit_socket_settimeout(srv, 0.1, "r"));
    c = (sockit_socket *)&c;
    double t0 = sockit_gettime();
    CHECK_STATUS(sockit_socket_accept(srv, &c), SOCKIT_TIMEOUT);
    double dt = sockit_gettime() - t0;
    CHECK(dt >= 0.04 && dt < 2.0);
    CHECK(c == NULL);
    CHECK_STATUS(sockit_socket_accept_nb(srv, &c), SOCKIT_WOULDBLOCK);
    sockit_socket_free(srv);
}

static void test_patterns_prefix_and_partial_data(void) {
    sockit_socket *srv, *c, *a;
    sockit_buffer *b = sockit_buffer_new();
    bool dirty = true;
    make_pair(&srv, &c, &a);

    CHECK(send_str(c, "line one\r\nx\ry\r\nraw\r\n   word1  word2\n12345tail"));
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_LINE, 0, (const uint8_t *)"P:", 2, b));
    CHECK_BUF_STR(b, "P:line one");
    CHECK_OK(sockit_socket_dirty(a, &dirty));
    CHECK(dirty);
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_LINE_CRLF13, 0, NULL, 0, b));
    CHECK_BUF_STR(b, "x\ry");
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_LINE_RAW, 0, NULL, 0, b));
    CHECK_BUF_STR(b, "raw\r");
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_WORD, 0, NULL, 0, b));
    CHECK_BUF_STR(b, "word1");
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_WORD, 0, NULL, 0, b));
    CHECK_BUF_STR(b, "word2");
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_LINE, 0, NULL, 0, b));
    CHECK_BUF_STR(b, "");
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_COUNT, 5, (const uint8_t *)"#", 1, b));
    CHECK_BUF_STR(b, "#12345");
    CHECK_STATUS(sockit_socket_receive(a, 99, 0, NULL, 0, b), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_receive(a, SOCKIT_PATTERN_LINE, 0, NULL, 3, b), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_receive(a, SOCKIT_PATTERN_LINE, 0, NULL, 0, NULL),
                 SOCKIT_INVALID);

    /* Timeouts deliver what came. */
    CHECK_OK(sockit_socket_settimeout(a, 0.1, "b"));
    CHECK_STATUS(sockit_socket_receive(a, SOCKIT_PATTERN_LINE, 0, (const uint8_t *)">", 1, b),
                 SOCKIT_TIMEOUT);
    CHECK_BUF_STR(b, ">tail");
    CHECK(send_str(c, "ab"));
    CHECK_STATUS(sockit_socket_receive(a, SOCKIT_PATTERN_COUNT, 10, NULL, 0, b),
                 SOCKIT_TIMEOUT);
    CHECK_BUF_STR(b, "ab");
    CHECK_OK(sockit_socket_settimeout(a, -1, "b"));

    /* "*a" ends with the peer's close, and then the socket reads as closed. */
    CHECK(send_str(c, "the end"));
    CHECK_OK(sockit_socket_close(c));
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_ALL, 0, NULL, 0, b));
    CHECK_BUF_STR(b, "the end");
    CHECK_STATUS(sockit_socket_receive(a, SOCKIT_PATTERN_LINE, 0, NULL, 0, b), SOCKIT_CLOSED);
    free3(srv, c, a);
    sockit_buffer_free(b);
}

/* Lines seen by sockit_socket_peek_lines: three arrays of 8. */
typedef struct {
    const uint8_t *data[8];
    size_t len[8], size[8];
} peeked;

static sockit_status peek(sockit_socket *s, sockit_pattern p, peeked *v, size_t max, size_t *n) {
    return sockit_socket_peek_lines(s, p, v->data, v->len, v->size, max, n);
}

/* True when line k of v holds the bytes of str and occupies size bytes of input. */
static int line_is(const peeked *v, size_t k, const char *str, size_t size) {
    return v->len[k] == strlen(str) && memcmp(v->data[k], str, v->len[k]) == 0 &&
           v->size[k] == size;
}

static void test_peek_lines_and_consume(void) {
    sockit_socket *srv, *c, *a, *m = NULL;
    sockit_buffer *b = sockit_buffer_new();
    peeked v;
    size_t n = 99, total = 0, got = 0, k;
    bool dirty = false;
    int ok = 1;
    make_pair(&srv, &c, &a);

    /* Bad arguments, and a socket that is not a client. */
    CHECK_STATUS(peek(NULL, SOCKIT_PATTERN_LINE, &v, 8, &n), SOCKIT_INVALID);
    CHECK(n == 0); /* set at once, so it reads 0 after any failure */
    CHECK_STATUS(peek(a, SOCKIT_PATTERN_LINE, &v, 8, NULL), SOCKIT_INVALID);
    CHECK_STATUS(peek(a, SOCKIT_PATTERN_ALL, &v, 8, &n), SOCKIT_INVALID);
    CHECK(n == 0);
    CHECK_STATUS(peek(a, 99, &v, 8, &n), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_peek_lines(a, SOCKIT_PATTERN_LINE, NULL, v.len, v.size, 8, &n),
                 SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "data is NULL") != NULL);
    CHECK_STATUS(sockit_socket_peek_lines(a, SOCKIT_PATTERN_LINE, v.data, NULL, v.size, 8, &n),
                 SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "len is NULL") != NULL);
    CHECK_STATUS(sockit_socket_peek_lines(a, SOCKIT_PATTERN_LINE, v.data, v.len, NULL, 8, &n),
                 SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "size is NULL") != NULL);
    CHECK_STATUS(peek(a, SOCKIT_PATTERN_LINE, &v, SIZE_MAX, &n), SOCKIT_INVALID);
    CHECK_OK(sockit_socket_peek_lines(a, SOCKIT_PATTERN_LINE, NULL, NULL, NULL, 0, &n));
    CHECK(n == 0);
    CHECK_STATUS(sockit_socket_consume(NULL, 0), SOCKIT_INVALID);
    CHECK_OK(sockit_tcp_new(SOCKIT_FAMILY_INET, &m));
    CHECK(peek(m, SOCKIT_PATTERN_LINE, &v, 8, &n) != SOCKIT_OK);
    CHECK(sockit_socket_consume(m, 0) != SOCKIT_OK);
    CHECK(peek(srv, SOCKIT_PATTERN_LINE, &v, 8, &n) != SOCKIT_OK);
    sockit_socket_free(m);

    /* Nothing buffered yet: no lines, at once (peeking never reads). */
    CHECK_OK(peek(a, SOCKIT_PATTERN_LINE, &v, 8, &n));
    CHECK(n == 0);

    CHECK(send_str(c, "first\nb\r\nc\rd\ne\r\nf"));
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_LINE, 0, NULL, 0, b));
    CHECK_BUF_STR(b, "first");
    /* "*l" views: CRLF ends early; "c\rd" would need its CR cut out, so the look stops. */
    CHECK_OK(peek(a, SOCKIT_PATTERN_LINE, &v, 8, &n));
    CHECK(n == 1 && line_is(&v, 0, "b", 3));
    CHECK_OK(peek(a, SOCKIT_PATTERN_LINE_RAW, &v, 8, &n));
    CHECK(n == 3 && line_is(&v, 0, "b\r", 3) && line_is(&v, 1, "c\rd", 4) &&
          line_is(&v, 2, "e\r", 3));
    CHECK_OK(peek(a, SOCKIT_PATTERN_LINE_CRLF13, &v, 8, &n));
    CHECK(n == 3 && line_is(&v, 0, "b", 3) && line_is(&v, 1, "c\rd", 4) &&
          line_is(&v, 2, "e", 3));
    CHECK_OK(peek(a, SOCKIT_PATTERN_LINE_RAW, &v, 2, &n));
    CHECK(n == 2);
    /* Consuming what was looked at moves past it, as receiving would. */
    CHECK_OK(sockit_socket_consume(a, v.size[0] + v.size[1]));
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_LINE, 0, NULL, 0, b));
    CHECK_BUF_STR(b, "e");
    /* "f" is buffered: consuming 2 is refused and consumes nothing. */
    CHECK_STATUS(sockit_socket_consume(a, 2), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "1 are buffered") != NULL);
    CHECK_OK(sockit_socket_dirty(a, &dirty));
    CHECK(dirty);
    CHECK_OK(sockit_socket_consume(a, 0));
    CHECK_OK(sockit_socket_consume(a, 1));
    CHECK_OK(sockit_socket_dirty(a, &dirty));
    CHECK(!dirty);
    CHECK_OK(sockit_socket_settimeout(a, 0.05, "b"));
    CHECK_STATUS(sockit_socket_receive(a, SOCKIT_PATTERN_LINE, 0, NULL, 0, b), SOCKIT_TIMEOUT);
    CHECK_BUF_STR(b, "");
    CHECK_OK(sockit_socket_settimeout(a, 5, "b"));

    /* 20,000 numbered lines, read as one receive then peeks of up to 8, come out whole
     * and in order. */
    {
        char chunk[16 * 1024];
        size_t len = 0, i;
        for (i = 0; i < 20000; i++) {
            len += (size_t)snprintf(chunk + len, sizeof chunk - len, "%zu\n", i);
            if (len > sizeof chunk - 32 || i == 19999) {
                size_t sent = 0;
                CHECK_OK(sockit_socket_send(c, (const uint8_t *)chunk, len, &sent));
                len = 0;
            }
        }
    }
    while (got < 20000 && ok) {
        char want[32];
        if (sockit_socket_receive(a, SOCKIT_PATTERN_LINE, 0, NULL, 0, b) != SOCKIT_OK)
            break;
        snprintf(want, sizeof want, "%zu", got);
        ok = sockit_buffer_len(b) == strlen(want) &&
             memcmp(sockit_buffer_data(b), want, strlen(want)) == 0;
        got++;
        if (peek(a, SOCKIT_PATTERN_LINE, &v, 8, &n) != SOCKIT_OK)
            ok = 0;
        total = 0;
        for (k = 0; k < n && ok; k++, got++) {
            snprintf(want, sizeof want, "%zu", got);
            ok = line_is(&v, k, want, strlen(want) + 1);
            total += v.size[k];
        }
        if (sockit_socket_consume(a, total) != SOCKIT_OK)
            ok = 0;
    }
    CHECK_WHY(ok && got == 20000, "lines through peek and consume came out wrong");

    /* A closed socket says so, even with lines it had buffered. */
    CHECK(send_str(c, "late\nlines\n"));
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_LINE, 0, NULL, 0, b));
    CHECK_OK(sockit_socket_close(a));
    n = 5;
    CHECK_STATUS(peek(a, SOCKIT_PATTERN_LINE, &v, 8, &n), SOCKIT_CLOSED);
    CHECK(n == 0);
    CHECK_STATUS(sockit_socket_consume(a, 1), SOCKIT_CLOSED);
    free3(srv, c, a);
    /* A freed one is refused. */
    CHECK_STATUS(peek(a, SOCKIT_PATTERN_LINE, &v, 8, &n), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_consume(a, 0), SOCKIT_INVALID);
    sockit_buffer_free(b);
}

static void test_send_range(void) {
    sockit_socket *srv, *c, *a;
    sockit_buffer *b = sockit_buffer_new();
    const uint8_t *data = (const uint8_t *)"hello world";
    long last = 0;
    make_pair(&srv, &c, &a);

    CHECK_OK(sockit_socket_send_range(c, data, 11, 7, -1, &last));
    CHECK(last == 11);
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_COUNT, 5, NULL, 0, b));
    CHECK_BUF_STR(b, "world");
    CHECK_OK(sockit_socket_send_range(c, data, 11, -11, -7, &last));
    CHECK(last == 5);
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_COUNT, 5, NULL, 0, b));
    CHECK_BUF_STR(b, "hello");
    CHECK_OK(sockit_socket_send_range(c, data, 11, 0, 100, &last)); /* clamped to 1..11 */
    CHECK(last == 11);
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_COUNT, 11, NULL, 0, b));
    CHECK_BUF_STR(b, "hello world");
    CHECK_OK(sockit_socket_send_range(c, data, 11, 6, 3, &last)); /* empty: i - 1 */
    CHECK(last == 5);
    CHECK_OK(sockit_socket_send_range(c, NULL, 0, 1, -1, &last));
    CHECK(last == 0);
    CHECK_STATUS(sockit_socket_send_range(c, NULL, 4, 1, -1, &last), SOCKIT_INVALID);
    free3(srv, c, a);
    sockit_buffer_free(b);
}

static void test_reset_mid_transfer_and_vanished_peer(void) {
    sockit_socket *srv, *c, *a;
    sockit_buffer *b = sockit_buffer_new();
    make_pair(&srv, &c, &a);

    /* The peer sends part of what we wait for, then resets. */
    CHECK(send_str(c, "partial"));
    CHECK_OK(sockit_socket_reset(c));
    CHECK_STATUS(sockit_socket_receive(a, SOCKIT_PATTERN_COUNT, 100, NULL, 0, b),
                 SOCKIT_CLOSED);
    CHECK_BUF_STR(b, "partial");
    sockit_socket_free(c);
    sockit_socket_free(a);

    /* The peer closes; sending ends with CLOSED (no SIGPIPE kills us). */
    uint16_t port = 0;
    CHECK_OK(sockit_socket_getsockname(srv, NULL, &port, NULL));
    CHECK_OK(sockit_tcp_connect("127.0.0.1", port, NULL, 0, 0, 5.0, &c));
    CHECK_OK(sockit_socket_accept(srv, &a));
    CHECK_OK(sockit_socket_close(a));
    static uint8_t chunk[65536];
    memset(chunk, 'z', sizeof chunk);
    sockit_status st = SOCKIT_OK;
    size_t sent = 0;
    for (int i = 0; i < 200 && st == SOCKIT_OK; i++) {
        st = sockit_socket_send(c, chunk, sizeof chunk, &sent);
        if (st == SOCKIT_OK) sockit_sleep(0.005);
    }
    CHECK(st == SOCKIT_CLOSED);
    CHECK(sent <= sizeof chunk);
    /* Moonbridge writes see it too. */
    CHECK_STATUS(sockit_socket_write(c, chunk, 10), SOCKIT_OK);
    CHECK_STATUS(sockit_socket_flush(c), SOCKIT_CLOSED);
    free3(srv, c, a);
    sockit_buffer_free(b);
}

/* Wait callback: counts calls; on the first call of a read wait, the peer sends data. */
struct waiter {
    int calls;
    int abort_after; /* abort on this call (0 = never) */
    sockit_socket *peer;
    const char *feed;
};

static int wait_cb(void *userdata, int fd, int events) {
    struct waiter *w = (struct waiter *)userdata;
    w->calls++;
    if (w->abort_after && w->calls >= w->abort_after) return 1;
    if (w->calls == 1 && w->feed && w->peer) {
        size_t n = 0;
        sockit_socket_send(w->peer, (const uint8_t *)w->feed, strlen(w->feed), &n);
    }
    if ((events & SOCKIT_WAIT_WRITE) && w->peer) {
        size_t n = 0;
        sockit_read_end end;
        sockit_socket_drain_nb(w->peer, SIZE_MAX, -1, &n, &end);
    }
    struct pollfd p = {fd, (short)(((events & SOCKIT_WAIT_READ) ? POLLIN : 0) |
                                   ((events & SOCKIT_WAIT_WRITE) ? POLLOUT : 0)),
                       0};
    poll(&p, 1, 100);
    return 0;
}

/* Wait callback that touches the buffer being filled by the call that runs it: every
 * use must be refused (SOCKIT_INVALID, length 0, data NULL), never a second borrow. */
struct buffer_poker {
    sockit_buffer *out;
    sockit_socket *peer;
    int calls, refused;
};

static int poke_buffer_cb(void *userdata, int fd, int events) {
    struct buffer_poker *k = (struct buffer_poker *)userdata;
    (void)events;
    k->calls++;
    if (sockit_buffer_append(k->out, (const uint8_t *)"x", 1) == SOCKIT_INVALID &&
        sockit_buffer_clear(k->out) == SOCKIT_INVALID && sockit_buffer_len(k->out) == 0 &&
        sockit_buffer_data(k->out) == NULL && strstr(sockit_last_error(), "in use") != NULL)
        k->refused++;
    if (k->calls == 1) {
        size_t n = 0;
        sockit_socket_send(k->peer, (const uint8_t *)"late\n", 5, &n);
    }
    struct pollfd p = {fd, POLLIN, 0};
    poll(&p, 1, 100);
    return k->calls > 50;
}

static void test_buffer_in_use(void) {
    sockit_socket *srv, *c, *a;
    sockit_buffer *b = sockit_buffer_new();
    sockit_read_end end;
    make_pair(&srv, &c, &a);
    CHECK_OK(sockit_socket_send(c, (const uint8_t *)"ear", 3, NULL));
    struct buffer_poker k = {b, c, 0, 0};
    CHECK_OK(sockit_socket_read_call(a, SIZE_MAX, '\n', poke_buffer_cb, &k, b, &end));
    CHECK(k.calls >= 1 && k.refused == k.calls);
    /* The call's own bytes are intact, and the buffer is usable again afterwards. */
    CHECK_BUF_STR(b, "earlate\n");
    CHECK_OK(sockit_buffer_append(b, (const uint8_t *)"!", 1));
    CHECK(sockit_buffer_len(b) == 9);
    free3(srv, c, a);
    sockit_buffer_free(b);
}

static void test_moonbridge_calls(void) {
    sockit_socket *srv, *c, *a;
    sockit_buffer *b = sockit_buffer_new();
    sockit_read_end end;
    size_t n = 99, pending = 99;
    make_pair(&srv, &c, &a);

    /* write / flush / read with a terminator / maxlen. */
    CHECK_OK(sockit_socket_write(c, (const uint8_t *)"key=value;", 10));
    CHECK_OK(sockit_socket_write_nb(c, (const uint8_t *)"more", 4, &pending));
    CHECK_OK(sockit_socket_flush(c));
    CHECK_OK(sockit_socket_read(a, SIZE_MAX, '=', b, &end));
    CHECK_BUF_STR(b, "key=");
    CHECK(end == SOCKIT_READ_TERM);
    CHECK_OK(sockit_socket_read(a, 3, ';', b, &end));
    CHECK_BUF_STR(b, "val");
    CHECK(end == SOCKIT_READ_MAXLEN);
    CHECK_OK(sockit_socket_drain(a, SIZE_MAX, ';', &n, &end));
    CHECK(n == 3 && end == SOCKIT_READ_TERM);
    CHECK_OK(sockit_socket_read_nb(a, SIZE_MAX, -1, b, &end));
    CHECK_BUF_STR(b, "more");
    CHECK(end == SOCKIT_READ_BLOCK);
    CHECK_OK(sockit_socket_drain_nb(a, SIZE_MAX, -1, &n, &end));
    CHECK(n == 0 && end == SOCKIT_READ_BLOCK);
    CHECK_STATUS(sockit_socket_read(a, SIZE_MAX, 256, b, &end), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_read(a, SIZE_MAX, -2, b, &end), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_read(a, SIZE_MAX, -1, b, NULL), SOCKIT_INVALID);
    CHECK_OK(sockit_socket_read(a, 0, -1, b, &end));
    CHECK(end == SOCKIT_READ_MAXLEN && sockit_buffer_len(b) == 0);

    /* read_call: the callback runs while the read would block. */
    struct waiter w = {0, 0, c, "called\n"};
    CHECK_OK(sockit_socket_read_call(a, SIZE_MAX, '\n', wait_cb, &w, b, &end));
    CHECK_BUF_STR(b, "called\n");
    CHECK(end == SOCKIT_READ_TERM);
    CHECK(w.calls >= 1);
    CHECK_STATUS(sockit_socket_read_call(a, SIZE_MAX, '\n', NULL, NULL, b, &end),
                 SOCKIT_INVALID);

    /* drain_call, and a callback that aborts (partial data kept). */
    struct waiter w2 = {0, 0, c, "12345"};
    CHECK_OK(sockit_socket_drain_call(a, 5, -1, wait_cb, &w2, &n, &end));
    CHECK(n == 5 && end == SOCKIT_READ_MAXLEN && w2.calls >= 1);
    CHECK(send_str(c, "abc"));
    sockit_sleep(0.05);
    struct waiter w3 = {0, 1, NULL, NULL};
    CHECK_STATUS(sockit_socket_read_call(a, SIZE_MAX, '\n', wait_cb, &w3, b, &end),
                 SOCKIT_ABORTED);
    CHECK_BUF_STR(b, "abc");
    CHECK(w3.calls == 1);

    /* write_call / flush_call: a large write waits for the peer to drain. */
    size_t big = 8u << 20;
    uint8_t *data = malloc(big);
    memset(data, 'q', big);
    struct waiter w4 = {0, 0, a, NULL};
    CHECK_OK(sockit_socket_write_call(c, data, big, wait_cb, &w4));
    CHECK_OK(sockit_socket_flush_call(c, wait_cb, &w4));
    CHECK(w4.calls >= 1);
    /* write_nb reports what stays buffered; flush_nb pushes more. */
    CHECK_OK(sockit_socket_write_nb(c, data, big, &pending));
    CHECK(pending > 0 && pending <= big);
    size_t before = pending;
    CHECK_OK(sockit_socket_drain_nb(a, SIZE_MAX, -1, &n, &end));
    CHECK_OK(sockit_socket_flush_nb(c, &pending));
    CHECK(pending < before);
    struct waiter w5 = {0, 0, a, NULL};
    CHECK_OK(sockit_socket_flush_call(c, wait_cb, &w5));
    CHECK_OK(sockit_socket_flush_nb(c, &pending));
    CHECK(pending == 0);
    free(data);
    CHECK_OK(sockit_socket_write(c, (const uint8_t *)"bye", 3));
    CHECK_OK(sockit_socket_finish(c));
    CHECK_OK(sockit_socket_settimeout(a, 5, "t"));
    CHECK_OK(sockit_socket_drain(a, SIZE_MAX, -1, &n, &end));
    CHECK(end == SOCKIT_READ_EOF && n >= 3);
    CHECK_STATUS(sockit_socket_write(c, (const uint8_t *)"x", 1), SOCKIT_CLOSED);
    free3(srv, c, a);
    sockit_buffer_free(b);
}

static void test_shutdown_options_stats_state(void) {
    sockit_socket *srv, *c, *a;
    sockit_buffer *b = sockit_buffer_new();
    sockit_read_end end;
    int64_t v = -5;
    bool on = false;
    int secs = -1, fd = -1;
    double r = -1, w = -1, age = -1;
    sockit_state state;
    make_pair(&srv, &c, &a);

    CHECK_OK(sockit_socket_state(srv, &state));
    CHECK(state == SOCKIT_STATE_SERVER);
    CHECK_OK(sockit_socket_state(c, &state));
    CHECK(state == SOCKIT_STATE_CLIENT);

    /* Options. */
    CHECK_OK(sockit_socket_setoption_int(c, "keepalive", 1));
    CHECK_OK(sockit_socket_getoption_int(c, "keepalive", &v));
    CHECK(v == 1);
    CHECK_OK(sockit_socket_setoption_int(c, "tcp-nodelay", 1));
    CHECK_OK(sockit_socket_getoption_int(c, "tcp-nodelay", &v));
    CHECK(v == 1);
    CHECK_OK(sockit_socket_setoption_int(c, "sndbuf", 65536));
    CHECK_OK(sockit_socket_getoption_int(c, "sndbuf", &v));
    CHECK(v >= 65536);
    CHECK_OK(sockit_socket_setoption_linger(c, true, 7));
    CHECK_OK(sockit_socket_getoption_linger(c, &on, &secs));
    CHECK(on && secs == 7);
    CHECK_OK(sockit_socket_getoption_int(c, "linger", &v));
    CHECK(v == 7);
    CHECK_OK(sockit_socket_setoption_linger(c, false, 0));
    CHECK_OK(sockit_socket_getoption_linger(c, &on, NULL));
    CHECK(!on);
    CHECK_STATUS(sockit_socket_setoption_linger(c, true, -1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_setoption_int(c, "no-such-option", 1), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "no-such-option") != NULL);
    CHECK_STATUS(sockit_socket_setoption_int(c, "keepalive", 2), SOCKIT_INVALID);

    /* Stats. */
    CHECK(send_str(c, "12345"));
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_COUNT, 5, NULL, 0, b));
    CHECK_OK(sockit_socket_getstats(c, &r, &w, &age));
    CHECK(r == 0 && w == 5 && age >= 0 && age < 60);
    CHECK_OK(sockit_socket_getstats(a, &r, &w, NULL));
    CHECK(r == 5 && w == 0);
    CHECK_OK(sockit_socket_setstats(a, 100, 200, 30));
    CHECK_OK(sockit_socket_getstats(a, &r, &w, &age));
    CHECK(r == 100 && w == 200 && age >= 30 && age < 31);
    CHECK_STATUS(sockit_socket_setstats(a, -1, 0, 0), SOCKIT_INVALID);
    CHECK_OK(sockit_socket_getstats(srv, &r, &w, &age));

    /* Shutdown: the peer reads end of stream. */
    CHECK_STATUS(sockit_socket_shutdown(c, 7), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_shutdown(srv, SOCKIT_SHUTDOWN_BOTH), SOCKIT_INVALID);
    CHECK_OK(sockit_socket_shutdown(c, SOCKIT_SHUTDOWN_WRITE));
    CHECK_OK(sockit_socket_read(a, SIZE_MAX, -1, b, &end));
    CHECK(end == SOCKIT_READ_EOF && sockit_buffer_len(b) == 0);
    CHECK_OK(sockit_socket_shutdown(c, SOCKIT_SHUTDOWN_READ));

    /* Close: idempotent; later calls see CLOSED; getfd -1. */
    CHECK_OK(sockit_socket_getfd(c, &fd));
    CHECK(fd >= 0);
    CHECK_OK(sockit_socket_close(c));
    CHECK_OK(sockit_socket_close(c));
    CHECK_OK(sockit_socket_reset(c));
    CHECK_OK(sockit_socket_getfd(c, &fd));
    CHECK(fd == -1);
    CHECK_OK(sockit_socket_state(c, &state));
    CHECK(state == SOCKIT_STATE_CLOSED);
    CHECK_STATUS(sockit_socket_send(c, (const uint8_t *)"x", 1, NULL), SOCKIT_CLOSED);
    CHECK_STATUS(sockit_socket_receive(c, SOCKIT_PATTERN_ALL, 0, NULL, 0, b), SOCKIT_CLOSED);
    CHECK_STATUS(sockit_socket_getsockname(c, b, NULL, NULL), SOCKIT_CLOSED);
    CHECK_STATUS(sockit_socket_setoption_int(c, "keepalive", 1), SOCKIT_CLOSED);
    sockit_socket *none = (sockit_socket *)&none;
    CHECK_STATUS(sockit_socket_accept(c, &none), SOCKIT_CLOSED);
    CHECK(none == NULL);
    /* Wrong states. */
    CHECK_STATUS(sockit_socket_send(srv, (const uint8_t *)"x", 1, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_listen(a, 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_bind(a, "127.0.0.1", 0), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_connect(srv, "127.0.0.1", 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_bind_path(a, "/tmp/x"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_connect_path(a, "/tmp/x"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_local_ip_raw(a, NULL, NULL), SOCKIT_INVALID);
    free3(srv, c, a);
    sockit_buffer_free(b);
}

static void test_master_sockets(void) {
    sockit_socket *m = NULL, *c = NULL, *a = NULL;
    sockit_state state;
    sockit_family fam;
    int64_t v = 0;
    uint16_t port = 0;
    int fd = 0;

    /* A master of family any keeps options until bind gives it a descriptor. */
    CHECK_OK(sockit_tcp_new(SOCKIT_FAMILY_ANY, &m));
    CHECK_OK(sockit_socket_setoption_int(m, "reuseaddr", 1));
    CHECK_OK(sockit_socket_getoption_int(m, "reuseaddr", &v));
    CHECK(v == 1);
    CHECK_STATUS(sockit_socket_getsockname(m, NULL, NULL, NULL), SOCKIT_INVALID);
    CHECK_OK(sockit_socket_bind(m, "127.0.0.1", 0));
    CHECK_OK(sockit_socket_family(m, &fam));
    CHECK(fam == SOCKIT_FAMILY_INET);
    CHECK_OK(sockit_socket_getfd(m, &fd));
    CHECK(fd >= 0);
    CHECK_OK(sockit_socket_getoption_int(m, "reuseaddr", &v));
    CHECK(v == 1);
    CHECK_OK(sockit_socket_listen(m, -1));
    CHECK_OK(sockit_socket_state(m, &state));
    CHECK(state == SOCKIT_STATE_SERVER);
    CHECK_OK(sockit_socket_getsockname(m, NULL, &port, NULL));

    /* A master connects and becomes a client. */
    CHECK_OK(sockit_tcp_new(SOCKIT_FAMILY_INET, &c));
    CHECK_OK(sockit_socket_settimeout(c, 5, "t"));
    CHECK_OK(sockit_socket_connect(c, "127.0.0.1", port));
    CHECK_OK(sockit_socket_state(c, &state));
    CHECK(state == SOCKIT_STATE_CLIENT);
    double block = 0, total = 0;
    CHECK_OK(sockit_socket_gettimeout(c, &block, &total));
    CHECK(block == -1 && total == 5);
    CHECK_OK(sockit_socket_accept(m, &a));
    sockit_socket_free(c);
    sockit_socket_free(a);

    /* A refused connect leaves the master a master. */
    CHECK_OK(sockit_tcp_new(SOCKIT_FAMILY_ANY, &c));
    CHECK_STATUS(sockit_socket_connect(c, "127.0.0.1", closed_port()), SOCKIT_REFUSED);
    CHECK_OK(sockit_socket_state(c, &state));
    CHECK(state == SOCKIT_STATE_MASTER);
    /* Zero timeout: the connect goes on in the background. */
    CHECK_OK(sockit_socket_settimeout(c, 0, NULL));
    sockit_status st = sockit_socket_connect(c, "127.0.0.1", port);
    CHECK(st == SOCKIT_OK || st == SOCKIT_TIMEOUT);
    CHECK_OK(sockit_socket_state(c, &state));
    CHECK(state == (st == SOCKIT_OK ? SOCKIT_STATE_CLIENT : SOCKIT_STATE_CONNECTING));
    sockit_socket *w[1] = {c};
    bool wr = false;
    CHECK_OK(sockit_select(NULL, 0, w, 1, 5.0, NULL, &wr));
    CHECK(wr);
    /* The next connect completes the same attempt; the one after says it is done. */
    if (st == SOCKIT_TIMEOUT)
        CHECK_OK(sockit_socket_connect(c, "127.0.0.1", port));
    CHECK_OK(sockit_socket_state(c, &state));
    CHECK(state == SOCKIT_STATE_CLIENT);
    CHECK_STATUS(sockit_socket_connect(c, "127.0.0.1", port), SOCKIT_ISCONN);
    CHECK(strcmp(sockit_status_str(SOCKIT_ISCONN), "already connected") == 0);
    CHECK_OK(sockit_socket_accept(m, &a));
    sockit_socket_free(c);
    sockit_socket_free(a);

    /* Zero timeout to a closed port: the next connect reports the refusal, the socket is
     * a master again, and the one after starts a new attempt. */
    CHECK_OK(sockit_tcp_new(SOCKIT_FAMILY_INET, &c));
    CHECK_OK(sockit_socket_settimeout(c, 0, NULL));
    uint16_t nobody = closed_port();
    st = sockit_socket_connect(c, "127.0.0.1", nobody);
    CHECK(st == SOCKIT_TIMEOUT || st == SOCKIT_REFUSED);
    if (st == SOCKIT_TIMEOUT) {
        w[0] = c;
        CHECK_OK(sockit_select(NULL, 0, w, 1, 5.0, NULL, &wr));
        CHECK(wr);
        CHECK_STATUS(sockit_socket_connect(c, "127.0.0.1", nobody), SOCKIT_REFUSED);
    }
    CHECK_OK(sockit_socket_state(c, &state));
    CHECK(state == SOCKIT_STATE_MASTER);
    CHECK_OK(sockit_socket_settimeout(c, 5, NULL));
    CHECK_OK(sockit_socket_connect(c, "127.0.0.1", port));
    CHECK_OK(sockit_socket_accept(m, &a));
    sockit_socket_free(c);
    sockit_socket_free(a);

    /* A master that listens without bind gets an ephemeral IPv4 port. */
    CHECK_OK(sockit_tcp_new(SOCKIT_FAMILY_ANY, &c));
    CHECK_OK(sockit_socket_listen(c, 1));
    CHECK_OK(sockit_socket_getsockname(c, NULL, &port, &fam));
    CHECK(port != 0 && fam == SOCKIT_FAMILY_INET);
    sockit_socket_free(c);
    sockit_socket_free(m);
}

/* setfd: a client moves onto another connection's descriptor; the descriptor it held
 * before stays open (the caller closes it); -1 detaches; bad arguments. */
static void test_setfd(void) {
    sockit_socket *s1, *c1, *a1, *s2, *c2, *a2;
    sockit_buffer *b = sockit_buffer_new();
    sockit_state state;
    bool dirty = true;
    int fd1 = -1, fd2 = -1, fd = 0;
    make_pair(&s1, &c1, &a1);
    make_pair(&s2, &c2, &a2);
    CHECK_OK(sockit_socket_settimeout(c1, 2.0, "b"));

    /* Leave input buffered on c1's old descriptor: setfd drops it. */
    CHECK(send_str(a1, "first\nleft over"));
    CHECK_OK(sockit_socket_receive(c1, SOCKIT_PATTERN_LINE, 0, NULL, 0, b));
    CHECK_BUF_STR(b, "first");
    CHECK_OK(sockit_socket_dirty(c1, &dirty));
    CHECK(dirty);

    /* Detach c2: it reads as closed, its descriptor stays open. */
    CHECK_OK(sockit_socket_getfd(c1, &fd1));
    CHECK_OK(sockit_socket_getfd(c2, &fd2));
    CHECK(fd1 >= 0 && fd2 >= 0 && fd1 != fd2);
    CHECK_OK(sockit_socket_setfd(c2, -1));
    CHECK_OK(sockit_socket_getfd(c2, &fd));
    CHECK(fd == -1);
    CHECK_OK(sockit_socket_state(c2, &state));
    CHECK(state == SOCKIT_STATE_CLOSED);
    CHECK_STATUS(sockit_socket_receive(c2, SOCKIT_PATTERN_LINE, 0, NULL, 0, b), SOCKIT_CLOSED);
    CHECK(fcntl(fd2, F_GETFD) != -1);
    CHECK_OK(sockit_socket_setfd(c2, -1)); /* again: nothing to release */

    /* c1 takes c2's old descriptor: data sent to a2 arrives through c1. */
    CHECK_OK(sockit_socket_setfd(c1, fd2));
    CHECK_OK(sockit_socket_getfd(c1, &fd));
    CHECK(fd == fd2);
    CHECK_OK(sockit_socket_state(c1, &state));
    CHECK(state == SOCKIT_STATE_CLIENT);
    CHECK_OK(sockit_socket_dirty(c1, &dirty));
    CHECK(!dirty);
    CHECK(send_str(a2, "moved\n"));
    CHECK_OK(sockit_socket_receive(c1, SOCKIT_PATTERN_LINE, 0, NULL, 0, b));
    CHECK_BUF_STR(b, "moved");
    CHECK(send_str(c1, "back\n"));
    CHECK_OK(sockit_socket_receive(a2, SOCKIT_PATTERN_LINE, 0, NULL, 0, b));
    CHECK_BUF_STR(b, "back");
    /* The old descriptor was not closed: the caller owns it now and reads from a1 (the
     * input buffered on it before setfd was dropped). */
    CHECK(fcntl(fd1, F_GETFD) != -1);
    CHECK(send_str(a1, "later"));
    {
        char raw[32];
        struct pollfd p = {.fd = fd1, .events = POLLIN};
        CHECK(poll(&p, 1, 5000) == 1);
        ssize_t n = read(fd1, raw, sizeof raw);
        CHECK(n == 5 && memcmp(raw, "later", 5) == 0);
    }
    CHECK(close(fd1) == 0);

    /* Bad arguments leave everything alone. */
    CHECK_STATUS(sockit_socket_setfd(c1, -2), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "-2") != NULL);
    CHECK_STATUS(sockit_socket_setfd(NULL, -1), SOCKIT_INVALID);
    CHECK_OK(sockit_socket_getfd(c1, &fd));
    CHECK(fd == fd2);

    /* A detached client takes a descriptor again; a closed socket refuses one. */
    CHECK_OK(sockit_socket_setfd(c1, -1));
    CHECK_OK(sockit_socket_setfd(c2, fd2));
    CHECK_OK(sockit_socket_state(c2, &state));
    CHECK(state == SOCKIT_STATE_CLIENT);
    CHECK(send_str(c2, "home\n"));
    CHECK_OK(sockit_socket_receive(a2, SOCKIT_PATTERN_LINE, 0, NULL, 0, b));
    CHECK_BUF_STR(b, "home");
    CHECK_OK(sockit_socket_close(c1));
    CHECK_STATUS(sockit_socket_setfd(c1, fd2), SOCKIT_CLOSED);
    CHECK_OK(sockit_socket_setfd(c1, -1));
    CHECK(fcntl(fd2, F_GETFD) != -1); /* still c2's */

    /* Freed handle: SOCKIT_INVALID, the descriptor is not taken. */
    sockit_socket_free(c1);
    CHECK_STATUS(sockit_socket_setfd(c1, fd2), SOCKIT_INVALID);
    CHECK(fcntl(fd2, F_GETFD) != -1);

    free3(s1, a1, s2);
    free3(c2, a2, NULL);
    sockit_buffer_free(b);
}

int main(void) {
    test_null_and_freed_handles();
    test_constructors_and_bad_arguments();
    test_refused_and_connect_variants();
    test_names_and_raw_addresses();
    test_timeouts_and_accept();
    test_patterns_prefix_and_partial_data();
    test_peek_lines_and_consume();
    test_send_range();
    test_reset_mid_transfer_and_vanished_peer();
    test_moonbridge_calls();
    test_buffer_in_use();
    test_shutdown_options_stats_state();
    test_master_sockets();
    test_setfd();
    return check_done();
}
