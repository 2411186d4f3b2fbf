/* C tests for sockit_udp: loopback only (127.0.0.1 and ::1). */
#include "check.h"

#include <fcntl.h>
#include <unistd.h>

static int has_ipv6(void) {
    sockit_udp *u = NULL;
    int ok = sockit_udp_new(SOCKIT_FAMILY_INET6, &u) == SOCKIT_OK &&
             sockit_udp_setsockname(u, "::1", 0) == SOCKIT_OK;
    sockit_udp_free(u);
    return ok;
}

/* A bound socket with a 2 s block timeout; its port goes to *port. */
static sockit_udp *bound(int family, const char *host, uint16_t *port) {
    sockit_udp *u = NULL;
    CHECK_OK(sockit_udp_new(family, &u));
    CHECK_OK(sockit_udp_setsockname(u, host, 0));
    CHECK_OK(sockit_udp_settimeout(u, 2.0, "b"));
    CHECK_OK(sockit_udp_getsockname(u, NULL, port, NULL));
    return u;
}

static void exchange(int family, const char *host, int want_family) {
    sockit_buffer *buf = sockit_buffer_new(), *addr = sockit_buffer_new();
    uint16_t pa = 0, pb = 0, port = 0;
    sockit_family fam = SOCKIT_FAMILY_UNIX;
    size_t sent = 99;
    sockit_udp *a = bound(family, host, &pa), *b = bound(family, host, &pb);
    CHECK(pa != 0 && pb != 0 && pa != pb);

    /* getsockname fills every out-parameter. */
    CHECK_OK(sockit_udp_getsockname(a, addr, &port, &fam));
    CHECK(strcmp(sockit_buffer_cstr(addr), host) == 0);
    CHECK(port == pa);
    CHECK((int)fam == want_family);

    /* Zero-length datagram, unconnected, with the sender's address. */
    CHECK_OK(sockit_udp_sendto(b, NULL, 0, host, pa, &sent));
    CHECK(sent == 0);
    sockit_buffer_append(buf, (const uint8_t *)"junk", 4);
    CHECK_OK(sockit_udp_receivefrom(a, 100, buf, addr, &port));
    CHECK(sockit_buffer_len(buf) == 0);
    CHECK(strcmp(sockit_buffer_cstr(addr), host) == 0);
    CHECK(port == pb);

    /* Truncation: the rest of the datagram is discarded. */
    CHECK_OK(sockit_udp_sendto(b, (const uint8_t *)"0123456789abcdef", 16, host, pa, &sent));
    CHECK(sent == 16);
    CHECK_OK(sockit_udp_sendto(b, (const uint8_t *)"next", 4, host, pa, NULL));
    CHECK_OK(sockit_udp_receive(a, 10, buf));
    CHECK_BUF_STR(buf, "0123456789");
    CHECK_OK(sockit_udp_receive(a, 8192, buf));
    CHECK_BUF_STR(buf, "next");

    /* Binary data with NULs goes through whole; a huge size is accepted. */
    CHECK_OK(sockit_udp_sendto(b, (const uint8_t *)"a\0b\0c", 5, host, pa, NULL));
    CHECK_OK(sockit_udp_receive(a, (size_t)-1, buf));
    CHECK_BUF(buf, "a\0b\0c", 5);

    /* Size 0 discards a datagram. */
    CHECK_OK(sockit_udp_sendto(b, (const uint8_t *)"gone", 4, host, pa, NULL));
    CHECK_OK(sockit_udp_sendto(b, (const uint8_t *)"kept", 4, host, pa, NULL));
    CHECK_OK(sockit_udp_receive(a, 0, buf));
    CHECK(sockit_buffer_len(buf) == 0);
    CHECK_OK(sockit_udp_receive(a, 100, buf));
    CHECK_BUF_STR(buf, "kept");

    /* Connected. */
    bool conn = true;
    CHECK_OK(sockit_udp_isconnected(b, &conn));
    CHECK(!conn);
    CHECK_STATUS(sockit_udp_send(b, (const uint8_t *)"x", 1, &sent), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_getpeername(b, addr, &port, &fam), SOCKIT_INVALID);
    CHECK_OK(sockit_udp_setpeername(b, host, pa));
    CHECK_OK(sockit_udp_isconnected(b, &conn));
    CHECK(conn);
    fam = SOCKIT_FAMILY_UNIX;
    CHECK_OK(sockit_udp_getpeername(b, addr, &port, &fam));
    CHECK(strcmp(sockit_buffer_cstr(addr), host) == 0 && port == pa && (int)fam == want_family);
    CHECK_OK(sockit_udp_getpeername(b, NULL, NULL, NULL));
    CHECK_OK(sockit_udp_send(b, (const uint8_t *)"hello", 5, &sent));
    CHECK(sent == 5);
    CHECK_OK(sockit_udp_receivefrom(a, 100, buf, NULL, &port));
    CHECK_BUF_STR(buf, "hello");
    CHECK(port == pb);
    CHECK_OK(sockit_udp_send(b, NULL, 0, NULL));
    CHECK_OK(sockit_udp_receive(a, 100, buf));
    CHECK(sockit_buffer_len(buf) == 0);
    CHECK_STATUS(sockit_udp_sendto(b, (const uint8_t *)"x", 1, host, pa, &sent), SOCKIT_ISCONN);
    CHECK(sent == 0);

    /* Back to unconnected; the local port survives. */
    CHECK_OK(sockit_udp_setpeername(b, "*", 0));
    CHECK_OK(sockit_udp_setpeername(b, "*", -5)); /* port ignored with "*" */
    CHECK_OK(sockit_udp_isconnected(b, &conn));
    CHECK(!conn);
    CHECK_OK(sockit_udp_getsockname(b, NULL, &port, NULL));
    CHECK(port == pb);
    CHECK_OK(sockit_udp_sendto(a, (const uint8_t *)"back", 4, host, pb, NULL));
    CHECK_OK(sockit_udp_receivefrom(b, 100, buf, addr, NULL));
    CHECK_BUF_STR(buf, "back");

    sockit_udp_free(a);
    sockit_udp_free(b);
    sockit_buffer_free(buf);
    sockit_buffer_free(addr);
}

static void timeouts(void) {
    sockit_buffer *buf = sockit_buffer_new();
    uint16_t port;
    sockit_udp *u = bound(SOCKIT_FAMILY_INET, "127.0.0.1", &port);
    CHECK_OK(sockit_udp_settimeout(u, 0, NULL));
    double t = sockit_gettime();
    CHECK_STATUS(sockit_udp_receive(u, 10, buf), SOCKIT_TIMEOUT);
    CHECK(strcmp(sockit_last_error(), "receive: timeout") == 0);
    CHECK(sockit_gettime() - t < 0.5); /* no wait; loose for valgrind on a busy machine */
    CHECK_OK(sockit_udp_settimeout(u, 0.05, "block"));
    t = sockit_gettime();
    CHECK_STATUS(sockit_udp_receivefrom(u, 10, buf, NULL, NULL), SOCKIT_TIMEOUT);
    double el = sockit_gettime() - t;
    CHECK(el >= 0.045 && el < 1.0);
    double blk = 0, tot = 0;
    CHECK_OK(sockit_udp_gettimeout(u, &blk, &tot));
    CHECK(blk == 0.05 && tot == -1);
    CHECK_OK(sockit_udp_settimeout(u, -1, "b"));
    CHECK_OK(sockit_udp_settimeout(u, 0.05, "t"));
    CHECK_OK(sockit_udp_gettimeout(u, &blk, NULL));
    CHECK_OK(sockit_udp_gettimeout(u, NULL, &tot));
    CHECK(blk == -1 && tot == 0.05);
    CHECK_STATUS(sockit_udp_gettimeout(NULL, &blk, &tot), SOCKIT_INVALID);
    CHECK_OK(sockit_udp_settimeout(u, 0.05, "r"));
    t = sockit_gettime();
    CHECK_STATUS(sockit_udp_receive(u, 10, buf), SOCKIT_TIMEOUT);
    el = sockit_gettime() - t;
    CHECK(el >= 0.045 && el < 1.0);
    CHECK_STATUS(sockit_udp_settimeout(u, 1, "x"), SOCKIT_INVALID);
    sockit_udp_free(u);
    sockit_buffer_free(buf);
}

static void options(void) {
    sockit_udp *u = NULL;
    int64_t v = -7;
    CHECK_OK(sockit_udp_new(SOCKIT_FAMILY_INET, &u));
    CHECK_OK(sockit_udp_setoption_int(u, "broadcast", 1));
    CHECK_OK(sockit_udp_getoption_int(u, "broadcast", &v));
    CHECK(v == 1);
    CHECK_OK(sockit_udp_setoption_int(u, "SO_BROADCAST", 0));
    CHECK_OK(sockit_udp_getoption_int(u, "broadcast", &v));
    CHECK(v == 0);
    CHECK_OK(sockit_udp_setoption_int(u, "dontroute", 1));
    CHECK_OK(sockit_udp_getoption_int(u, "dontroute", &v));
    CHECK(v == 1);
    CHECK_OK(sockit_udp_setoption_int(u, "reuseaddr", 1));
    CHECK_OK(sockit_udp_getoption_int(u, "reuseaddr", &v));
    CHECK(v == 1);
    CHECK_OK(sockit_udp_setoption_int(u, "ip-multicast-ttl", 4));
    CHECK_OK(sockit_udp_getoption_int(u, "ip-multicast-ttl", &v));
    CHECK(v == 4);
    CHECK_OK(sockit_udp_setoption_int(u, "rcvbuf", 40000));
    CHECK_OK(sockit_udp_getoption_int(u, "recv-buffer-size", &v));
    CHECK(v >= 40000);
    CHECK_OK(sockit_udp_getoption_int(u, "error", &v));
    CHECK(v == 0);
    CHECK_STATUS(sockit_udp_setoption_int(u, "bogus", 1), SOCKIT_INVALID);
    CHECK(strcmp(sockit_last_error(), "unsupported option 'bogus'") == 0);
    CHECK_STATUS(sockit_udp_getoption_int(u, "bogus", &v), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_setoption_int(u, "broadcast", 2), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_setoption_int(u, "rcvbuf", -1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_setoption_int(u, "error", 0), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_setoption_int(u, "tcp-nodelay", 1), SOCKIT_UNSUPPORTED);
    CHECK_STATUS(sockit_udp_setoption_int(u, NULL, 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_getoption_int(u, "broadcast", NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_getoption_int(u, NULL, &v), SOCKIT_INVALID);
    sockit_udp_free(u);

    /* Options on a family-less socket wait for its descriptor. */
    CHECK_OK(sockit_udp_new(SOCKIT_FAMILY_ANY, &u));
    int fd = 5;
    CHECK_OK(sockit_udp_getfd(u, &fd));
    CHECK(fd == -1);
    CHECK_OK(sockit_udp_setoption_int(u, "broadcast", 1));
    CHECK_OK(sockit_udp_getoption_int(u, "broadcast", &v));
    CHECK(v == 1);
    CHECK_STATUS(sockit_udp_getoption_int(u, "dontroute", &v), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_getsockname(u, NULL, NULL, NULL), SOCKIT_INVALID);
    CHECK_OK(sockit_udp_setsockname(u, "*", 0));
    CHECK_OK(sockit_udp_getfd(u, &fd));
    CHECK(fd >= 0);
    v = 0;
    CHECK_OK(sockit_udp_getoption_int(u, "broadcast", &v));
    CHECK(v == 1);
    sockit_family fam = SOCKIT_FAMILY_UNIX;
    CHECK_OK(sockit_udp_getsockname(u, NULL, NULL, &fam));
    CHECK(fam == SOCKIT_FAMILY_INET);
    sockit_udp_free(u);

    if (has_ipv6()) {
        CHECK_OK(sockit_udp_new(SOCKIT_FAMILY_INET6, &u));
        CHECK_OK(sockit_udp_getoption_int(u, "ipv6-v6only", &v));
        CHECK(v == 1);
        CHECK_OK(sockit_udp_setoption_int(u, "ipv6-unicast-hops", 7));
        CHECK_OK(sockit_udp_getoption_int(u, "ipv6-unicast-hops", &v));
        CHECK(v == 7);
        CHECK_STATUS(sockit_udp_sendto(u, (const uint8_t *)"x", 1, "127.0.0.1", 9, NULL),
                     SOCKIT_FAMILY);
        sockit_udp_free(u);
    }
}

static void bad_arguments(void) {
    sockit_udp *u = NULL;
    sockit_buffer *buf = sockit_buffer_new();
    uint16_t port;
    size_t sent;
    int fd;

    CHECK_STATUS(sockit_udp_new(SOCKIT_FAMILY_INET, NULL), SOCKIT_INVALID);
    u = (sockit_udp *)1;
    CHECK_STATUS(sockit_udp_new(7, &u), SOCKIT_INVALID);
    CHECK(u == NULL);
    CHECK_STATUS(sockit_udp_new(-1, &u), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_new(SOCKIT_FAMILY_UNIX, &u), SOCKIT_FAMILY);

    u = bound(SOCKIT_FAMILY_INET, "127.0.0.1", &port);
    CHECK_STATUS(sockit_udp_setsockname(u, NULL, 0), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_setsockname(u, "127.0.0.1", 65536), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "65536") != NULL);
    CHECK_STATUS(sockit_udp_setsockname(u, "127.0.0.1", -1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_setsockname(u, "127.0.0.1", 0), SOCKIT_INVALID); /* bound */
    CHECK_STATUS(sockit_udp_setpeername(u, NULL, 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_setpeername(u, "127.0.0.1", 70000), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_sendto(u, (const uint8_t *)"x", 1, "127.0.0.1", 65536, &sent),
                 SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_sendto(u, (const uint8_t *)"x", 1, "127.0.0.1", -2, &sent),
                 SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_sendto(u, (const uint8_t *)"x", 1, NULL, 9, &sent), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_sendto(u, NULL, 3, "127.0.0.1", 9, &sent), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_send(u, NULL, 3, &sent), SOCKIT_INVALID);

    /* Malformed and unknown addresses say which. */
    sockit_status s = sockit_udp_sendto(u, (const uint8_t *)"x", 1, "1.2.3.4.5", 9, NULL);
    CHECK(s == SOCKIT_HOST_NOT_FOUND || s == SOCKIT_DNS_AGAIN || s == SOCKIT_DNS_FAIL);
    CHECK(strstr(sockit_last_error(), "1.2.3.4.5") != NULL);
    s = sockit_udp_setpeername(u, "no-such-host.invalid", 9);
    CHECK(s == SOCKIT_HOST_NOT_FOUND || s == SOCKIT_DNS_AGAIN || s == SOCKIT_DNS_FAIL);
    CHECK(strstr(sockit_last_error(), "no-such-host.invalid") != NULL);
    CHECK_STATUS(sockit_udp_sendto(u, (const uint8_t *)"x", 1, "", 9, NULL), SOCKIT_INVALID);

    CHECK_STATUS(sockit_udp_receive(u, 10, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_receivefrom(u, 10, NULL, buf, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_receivefrom(u, 10, buf, buf, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_getfd(u, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_isconnected(u, NULL), SOCKIT_INVALID);

    /* NULL handles. */
    CHECK_STATUS(sockit_udp_close(NULL), SOCKIT_INVALID);
    CHECK(strcmp(sockit_last_error(), "udp is NULL") == 0);
    CHECK_STATUS(sockit_udp_receive(NULL, 10, buf), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_sendto(NULL, NULL, 0, "127.0.0.1", 9, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_getfd(NULL, &fd), SOCKIT_INVALID);
    sockit_udp_free(NULL);

    /* Close: idempotent, later calls are "closed", getfd is -1. */
    CHECK_OK(sockit_udp_getfd(u, &fd));
    CHECK(fd >= 0);
    CHECK_OK(sockit_udp_close(u));
    CHECK_OK(sockit_udp_close(u));
    CHECK_OK(sockit_udp_getfd(u, &fd));
    CHECK(fd == -1);
    CHECK_STATUS(sockit_udp_receive(u, 10, buf), SOCKIT_CLOSED);
    CHECK_STATUS(sockit_udp_sendto(u, (const uint8_t *)"x", 1, "127.0.0.1", 9, NULL),
                 SOCKIT_CLOSED);
    CHECK_STATUS(sockit_udp_getsockname(u, buf, NULL, NULL), SOCKIT_CLOSED);

    /* Freed handle: every call is SOCKIT_INVALID, free twice is harmless. */
    sockit_udp_free(u);
    CHECK_STATUS(sockit_udp_close(u), SOCKIT_INVALID);
    CHECK(strcmp(sockit_last_error(), "udp handle has been freed") == 0);
    CHECK_STATUS(sockit_udp_setsockname(u, "*", 0), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_setpeername(u, "*", 0), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_getsockname(u, buf, NULL, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_getpeername(u, buf, NULL, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_send(u, NULL, 0, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_sendto(u, NULL, 0, "127.0.0.1", 9, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_receive(u, 1, buf), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_receivefrom(u, 1, buf, NULL, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_settimeout(u, 1, "b"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_setoption_int(u, "broadcast", 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_getoption_int(u, "broadcast", NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_getfd(u, &fd), SOCKIT_INVALID);
    CHECK_STATUS(sockit_udp_isconnected(u, NULL), SOCKIT_INVALID);
    sockit_udp_free(u);
    sockit_buffer_free(buf);
}

static void refused(void) {
    sockit_buffer *buf = sockit_buffer_new();
    uint16_t port;
    sockit_udp *gone = bound(SOCKIT_FAMILY_INET, "127.0.0.1", &port);
    sockit_udp_free(gone); /* nobody listens on `port` now */
    sockit_udp *u = NULL;
    CHECK_OK(sockit_udp_new(SOCKIT_FAMILY_ANY, &u));
    CHECK_OK(sockit_udp_setpeername(u, "127.0.0.1", port));
    CHECK_OK(sockit_udp_settimeout(u, 1, "b"));
    CHECK_OK(sockit_udp_send(u, (const uint8_t *)"x", 1, NULL));
    CHECK_STATUS(sockit_udp_receive(u, 10, buf), SOCKIT_REFUSED);
    CHECK(strcmp(sockit_last_error(), "receive: connection refused") == 0);
    sockit_udp_free(u);
    sockit_buffer_free(buf);
}

/* setfd: a socket takes another's descriptor (datagrams to that port arrive through
 * it); the descriptor it held stays open for the caller; -1 detaches; bad arguments. */
static void setfd(void) {
    sockit_buffer *buf = sockit_buffer_new();
    uint16_t pa = 0, pb = 0;
    int fda = -1, fdb = -1, fd = 0;
    size_t sent = 0;
    sockit_udp *a = bound(SOCKIT_FAMILY_INET, "127.0.0.1", &pa);
    sockit_udp *b = bound(SOCKIT_FAMILY_INET, "127.0.0.1", &pb);
    sockit_udp *c = bound(SOCKIT_FAMILY_INET, "127.0.0.1", NULL);
    CHECK_OK(sockit_udp_getfd(a, &fda));
    CHECK_OK(sockit_udp_getfd(b, &fdb));

    /* Detach b: closed for I/O, getfd -1, the descriptor stays open. */
    CHECK_OK(sockit_udp_setfd(b, -1));
    CHECK_OK(sockit_udp_getfd(b, &fd));
    CHECK(fd == -1);
    CHECK_STATUS(sockit_udp_receive(b, 100, buf), SOCKIT_CLOSED);
    CHECK(fcntl(fdb, F_GETFD) != -1);

    /* a takes b's descriptor: a datagram to b's port arrives through a. */
    CHECK_OK(sockit_udp_setfd(a, fdb));
    CHECK_OK(sockit_udp_getfd(a, &fd));
    CHECK(fd == fdb);
    CHECK_OK(sockit_udp_sendto(c, (const uint8_t *)"to b", 4, "127.0.0.1", pb, &sent));
    CHECK_OK(sockit_udp_receive(a, 100, buf));
    CHECK_BUF(buf, "to b", 4);
    /* a's old descriptor is the caller's now: open, bound to pa, closed here. */
    CHECK(fcntl(fda, F_GETFD) != -1);
    CHECK(close(fda) == 0);

    /* Bad arguments. */
    CHECK_STATUS(sockit_udp_setfd(a, -2), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "-2") != NULL);
    CHECK_STATUS(sockit_udp_setfd(NULL, -1), SOCKIT_INVALID);
    CHECK_OK(sockit_udp_getfd(a, &fd));
    CHECK(fd == fdb);

    /* A closed socket refuses a descriptor (not taken); a freed handle too. */
    CHECK_OK(sockit_udp_close(b));
    CHECK_STATUS(sockit_udp_setfd(b, fdb), SOCKIT_CLOSED);
    CHECK_OK(sockit_udp_setfd(b, -1));
    sockit_udp_free(b);
    CHECK_STATUS(sockit_udp_setfd(b, fdb), SOCKIT_INVALID);
    CHECK(fcntl(fdb, F_GETFD) != -1); /* still a's */
    CHECK_OK(sockit_udp_sendto(c, (const uint8_t *)"again", 5, "127.0.0.1", pb, &sent));
    CHECK_OK(sockit_udp_receive(a, 100, buf));
    CHECK_BUF(buf, "again", 5);

    sockit_udp_free(a);
    sockit_udp_free(c);
    sockit_buffer_free(buf);
}

int main(void) {
    exchange(SOCKIT_FAMILY_INET, "127.0.0.1", SOCKIT_FAMILY_INET);
    exchange(SOCKIT_FAMILY_ANY, "127.0.0.1", SOCKIT_FAMILY_INET);
    if (has_ipv6()) {
        exchange(SOCKIT_FAMILY_INET6, "::1", SOCKIT_FAMILY_INET6);
        exchange(SOCKIT_FAMILY_ANY, "::1", SOCKIT_FAMILY_INET6);
    } else {
        printf("no IPv6 loopback: IPv6 exchange skipped\n");
    }
    timeouts();
    options();
    bad_arguments();
    refused();
    setfd();
    return check_done();
}
