/* C tests for sockit_unixdgram: Unix-domain datagram sockets in a temporary directory. */
#include "check.h"

#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/time.h>
#include <unistd.h>

static char dir[] = "/tmp/sockit-udg-XXXXXX";

static const char *in_dir(char *out, size_t n, const char *name) {
    snprintf(out, n, "%s/%s", dir, name);
    return out;
}

static double now(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

/* A socket bound at `path` with a 2 s block timeout. */
static sockit_unixdgram *bound(const char *path) {
    sockit_unixdgram *u = NULL;
    CHECK_OK(sockit_unixdgram_new(&u));
    CHECK_OK(sockit_unixdgram_bind(u, path));
    CHECK_OK(sockit_unixdgram_settimeout(u, 2.0, "b"));
    return u;
}

static void exchange(void) {
    char pa[128], pb[128];
    in_dir(pa, sizeof pa, "a");
    in_dir(pb, sizeof pb, "b");
    sockit_buffer *buf = sockit_buffer_new(), *path = sockit_buffer_new();
    size_t sent = 99;
    sockit_unixdgram *a = bound(pa), *b = bound(pb);

    CHECK_OK(sockit_unixdgram_getsockname(a, path));
    CHECK(strcmp(sockit_buffer_cstr(path), pa) == 0);

    /* Zero-length datagram with the sender's path. */
    CHECK_OK(sockit_unixdgram_sendto(b, NULL, 0, pa, &sent));
    CHECK(sent == 0);
    sockit_buffer_append(buf, (const uint8_t *)"junk", 4);
    CHECK_OK(sockit_unixdgram_receivefrom(a, 100, buf, path));
    CHECK(sockit_buffer_len(buf) == 0);
    CHECK(strcmp(sockit_buffer_cstr(path), pb) == 0);

    /* Truncation: the rest of the datagram is discarded. */
    CHECK_OK(sockit_unixdgram_sendto(b, (const uint8_t *)"0123456789abcdef", 16, pa, &sent));
    CHECK(sent == 16);
    CHECK_OK(sockit_unixdgram_sendto(b, (const uint8_t *)"next", 4, pa, NULL));
    CHECK_OK(sockit_unixdgram_receive(a, 10, buf));
    CHECK_BUF_STR(buf, "0123456789");
    CHECK_OK(sockit_unixdgram_receive(a, 8192, buf));
    CHECK_BUF_STR(buf, "next");

    /* Binary data; a huge size is accepted; size 0 discards a datagram. */
    CHECK_OK(sockit_unixdgram_sendto(b, (const uint8_t *)"a\0b\0c", 5, pa, NULL));
    CHECK_OK(sockit_unixdgram_receive(a, (size_t)-1, buf));
    CHECK_BUF(buf, "a\0b\0c", 5);
    CHECK_OK(sockit_unixdgram_sendto(b, (const uint8_t *)"gone", 4, pa, NULL));
    CHECK_OK(sockit_unixdgram_sendto(b, (const uint8_t *)"kept", 4, pa, NULL));
    CHECK_OK(sockit_unixdgram_receive(a, 0, buf));
    CHECK(sockit_buffer_len(buf) == 0);
    CHECK_OK(sockit_unixdgram_receive(a, 100, buf));
    CHECK_BUF_STR(buf, "kept");

    /* Receivefrom with a NULL path buffer. */
    CHECK_OK(sockit_unixdgram_sendto(b, (const uint8_t *)"np", 2, pa, NULL));
    CHECK_OK(sockit_unixdgram_receivefrom(a, 100, buf, NULL));
    CHECK_BUF_STR(buf, "np");

    /* Connected. */
    bool conn = true;
    CHECK_OK(sockit_unixdgram_isconnected(b, &conn));
    CHECK(!conn);
    CHECK_STATUS(sockit_unixdgram_send(b, (const uint8_t *)"x", 1, &sent), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_getpeername(b, path), SOCKIT_INVALID);
    CHECK_OK(sockit_unixdgram_connect(b, pa));
    CHECK_OK(sockit_unixdgram_isconnected(b, &conn));
    CHECK(conn);
    CHECK_OK(sockit_unixdgram_getpeername(b, path));
    CHECK(strcmp(sockit_buffer_cstr(path), pa) == 0);
    CHECK_STATUS(sockit_unixdgram_sendto(b, (const uint8_t *)"x", 1, pa, &sent), SOCKIT_ISCONN);
    CHECK(sent == 0);
    CHECK_OK(sockit_unixdgram_send(b, (const uint8_t *)"hello", 5, &sent));
    CHECK(sent == 5);
    CHECK_OK(sockit_unixdgram_receivefrom(a, 100, buf, path));
    CHECK_BUF_STR(buf, "hello");
    CHECK(strcmp(sockit_buffer_cstr(path), pb) == 0);

    /* NULL and "" disconnect. */
    CHECK_OK(sockit_unixdgram_connect(b, NULL));
    CHECK_OK(sockit_unixdgram_isconnected(b, &conn));
    CHECK(!conn);
    CHECK_OK(sockit_unixdgram_connect(b, pa));
    CHECK_OK(sockit_unixdgram_connect(b, ""));
    CHECK_OK(sockit_unixdgram_isconnected(b, &conn));
    CHECK(!conn);
    CHECK_OK(sockit_unixdgram_sendto(b, (const uint8_t *)"again", 5, pa, NULL));
    CHECK_OK(sockit_unixdgram_receive(a, 100, buf));
    CHECK_BUF_STR(buf, "again");

    /* An unbound sender: "" as its path and as its sockname. */
    sockit_unixdgram *c = NULL;
    CHECK_OK(sockit_unixdgram_new(&c));
    CHECK_OK(sockit_unixdgram_getsockname(c, path));
    CHECK(strcmp(sockit_buffer_cstr(path), "") == 0);
    CHECK_OK(sockit_unixdgram_sendto(c, (const uint8_t *)"anon", 4, pa, NULL));
    CHECK_OK(sockit_unixdgram_receivefrom(a, 100, buf, path));
    CHECK_BUF_STR(buf, "anon");
    CHECK(strcmp(sockit_buffer_cstr(path), "") == 0);
    sockit_unixdgram_free(c);

    /* Options. */
    int64_t v = 0;
    CHECK_OK(sockit_unixdgram_setoption_int(a, "sndbuf", 65536));
    CHECK_OK(sockit_unixdgram_getoption_int(a, "sndbuf", &v));
    CHECK(v > 0);
    CHECK_STATUS(sockit_unixdgram_setoption_int(a, "no-such-option", 1), SOCKIT_INVALID);
    CHECK(sockit_unixdgram_setoption_int(a, "tcp-nodelay", 1) != SOCKIT_OK);
    CHECK_STATUS(sockit_unixdgram_getoption_int(a, "sndbuf", NULL), SOCKIT_INVALID);

    sockit_unixdgram_free(a);
    sockit_unixdgram_free(b);
    sockit_buffer_free(buf);
    sockit_buffer_free(path);
    unlink(pa);
    unlink(pb);
}

static void timeouts_and_poll(void) {
    char pa[128], pb[128];
    in_dir(pa, sizeof pa, "ta");
    in_dir(pb, sizeof pb, "tb");
    sockit_buffer *buf = sockit_buffer_new(), *path = sockit_buffer_new();
    sockit_unixdgram *a = bound(pa), *b = bound(pb);
    double block = 0, total = 0;

    CHECK_OK(sockit_unixdgram_gettimeout(a, &block, &total));
    CHECK(block == 2.0 && total == -1);
    CHECK_OK(sockit_unixdgram_settimeout(a, 0.1, NULL));
    CHECK_OK(sockit_unixdgram_settimeout(a, 5, "t"));
    CHECK_OK(sockit_unixdgram_gettimeout(a, &block, NULL));
    CHECK(block == 0.1);
    CHECK_OK(sockit_unixdgram_gettimeout(a, NULL, &total));
    CHECK(total == 5);
    CHECK_STATUS(sockit_unixdgram_settimeout(a, 1, "x"), SOCKIT_INVALID);

    sockit_buffer_append(buf, (const uint8_t *)"old", 3);
    double t0 = now();
    CHECK_STATUS(sockit_unixdgram_receive(a, 10, buf), SOCKIT_TIMEOUT);
    double el = now() - t0;
    CHECK(el > 0.05 && el < 1.5);
    CHECK(sockit_buffer_len(buf) == 0);
    CHECK_OK(sockit_unixdgram_settimeout(a, 0, "b"));
    CHECK_STATUS(sockit_unixdgram_receivefrom(a, 10, buf, path), SOCKIT_TIMEOUT);

    /* Pollset: not readable, then readable once a datagram waits. */
    sockit_pollset *set = sockit_pollset_new();
    size_t idx = 99, nready = 99;
    int ev = -1;
    CHECK_OK(sockit_pollset_add_unixdgram(set, a, SOCKIT_POLL_IN, &idx));
    CHECK(idx == 0);
    CHECK_STATUS(sockit_pollset_wait(set, 0.05, &nready), SOCKIT_TIMEOUT);
    CHECK(nready == 0);
    CHECK_OK(sockit_unixdgram_sendto(b, (const uint8_t *)"ping", 4, pa, NULL));
    CHECK_OK(sockit_pollset_wait(set, 2.0, &nready));
    CHECK(nready == 1);
    CHECK_OK(sockit_pollset_revents(set, 0, &ev));
    CHECK(ev & SOCKIT_POLL_IN);
    CHECK_OK(sockit_unixdgram_receive(a, 100, buf));
    CHECK_BUF_STR(buf, "ping");
    /* Writable. */
    CHECK_OK(sockit_pollset_add_unixdgram(set, b, SOCKIT_POLL_OUT, &idx));
    CHECK(idx == 1);
    CHECK_OK(sockit_pollset_wait(set, 2.0, &nready));
    CHECK(nready == 1);
    CHECK_OK(sockit_pollset_revents(set, 1, &ev));
    CHECK(ev & SOCKIT_POLL_OUT);
    /* A closed socket is never ready. */
    CHECK_OK(sockit_pollset_clear(set));
    CHECK_OK(sockit_unixdgram_sendto(b, (const uint8_t *)"x", 1, pa, NULL));
    CHECK_OK(sockit_pollset_add_unixdgram(set, a, SOCKIT_POLL_IN, NULL));
    CHECK_OK(sockit_unixdgram_close(a));
    CHECK_STATUS(sockit_pollset_wait(set, 0.05, &nready), SOCKIT_TIMEOUT);
    /* Bad arguments. */
    CHECK_STATUS(sockit_pollset_add_unixdgram(set, NULL, SOCKIT_POLL_IN, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_pollset_add_unixdgram(set, b, 0x100, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_pollset_add_unixdgram(NULL, b, SOCKIT_POLL_IN, NULL), SOCKIT_INVALID);
    sockit_pollset_free(set);

    sockit_unixdgram_free(a);
    sockit_unixdgram_free(b);
    sockit_buffer_free(buf);
    sockit_buffer_free(path);
    unlink(pa);
    unlink(pb);
}

static void bad_input(void) {
    char pa[128], missing[128], longp[300];
    in_dir(pa, sizeof pa, "bad");
    in_dir(missing, sizeof missing, "missing");
    memset(longp, 'a', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = 0;
    sockit_buffer *buf = sockit_buffer_new();
    size_t sent = 9;
    int fd = 0;
    bool conn = false;
    double d = 0;
    int64_t v = 0;

    CHECK_STATUS(sockit_unixdgram_new(NULL), SOCKIT_INVALID);
    sockit_unixdgram *u = NULL;
    CHECK_OK(sockit_unixdgram_new(&u));

    /* NULL handle everywhere. */
    CHECK_STATUS(sockit_unixdgram_close(NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_bind(NULL, pa), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_connect(NULL, pa), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_send(NULL, (const uint8_t *)"x", 1, &sent), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_sendto(NULL, (const uint8_t *)"x", 1, pa, &sent),
                 SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_receive(NULL, 1, buf), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_receivefrom(NULL, 1, buf, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_getsockname(NULL, buf), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_getpeername(NULL, buf), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_settimeout(NULL, 1, "b"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_gettimeout(NULL, &d, &d), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_getfd(NULL, &fd), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_setfd(NULL, -1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_isconnected(NULL, &conn), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_setoption_int(NULL, "sndbuf", 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_getoption_int(NULL, "sndbuf", &v), SOCKIT_INVALID);
    sockit_unixdgram_free(NULL);

    /* NULL arguments. */
    CHECK_STATUS(sockit_unixdgram_bind(u, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_sendto(u, (const uint8_t *)"x", 1, NULL, &sent),
                 SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_sendto(u, NULL, 3, pa, &sent), SOCKIT_INVALID);
    CHECK(sent == 0);
    CHECK_STATUS(sockit_unixdgram_receive(u, 1, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_receivefrom(u, 1, NULL, buf), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_receivefrom(u, 1, buf, buf), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_getsockname(u, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_getpeername(u, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_getfd(u, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_isconnected(u, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_setoption_int(u, NULL, 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_setfd(u, -2), SOCKIT_INVALID);

    /* Too long, empty and missing paths. */
    CHECK_STATUS(sockit_unixdgram_bind(u, longp), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "at most") != NULL);
    CHECK_STATUS(sockit_unixdgram_bind(u, ""), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_connect(u, longp), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_sendto(u, (const uint8_t *)"x", 1, longp, &sent),
                 SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_sendto(u, (const uint8_t *)"x", 1, "", &sent), SOCKIT_INVALID);
    CHECK(sockit_unixdgram_sendto(u, (const uint8_t *)"x", 1, missing, &sent) != SOCKIT_OK);
    CHECK(strstr(sockit_last_error(), "missing") != NULL);
    CHECK(sockit_unixdgram_connect(u, missing) != SOCKIT_OK);
    CHECK_OK(sockit_unixdgram_isconnected(u, &conn));
    CHECK(!conn);

    /* Bound twice at one path. */
    CHECK_OK(sockit_unixdgram_bind(u, pa));
    sockit_unixdgram *w = NULL;
    CHECK_OK(sockit_unixdgram_new(&w));
    CHECK_STATUS(sockit_unixdgram_bind(w, pa), SOCKIT_ADDRINUSE);
    sockit_unixdgram_free(w);

    /* getfd / setfd: detach, reattach, move to a dup. */
    int fd0 = -1, fd1 = -1;
    CHECK_OK(sockit_unixdgram_getfd(u, &fd0));
    CHECK(fd0 >= 0);
    CHECK_OK(sockit_unixdgram_setfd(u, -1));
    CHECK_OK(sockit_unixdgram_getfd(u, &fd1));
    CHECK(fd1 == -1);
    CHECK_STATUS(sockit_unixdgram_receive(u, 1, buf), SOCKIT_CLOSED);
    CHECK(fcntl(fd0, F_GETFD) != -1); /* not closed */
    CHECK_OK(sockit_unixdgram_setfd(u, fd0));
    CHECK_OK(sockit_unixdgram_getsockname(u, buf));
    CHECK(strcmp(sockit_buffer_cstr(buf), pa) == 0);
    int dupfd = dup(fd0);
    CHECK_OK(sockit_unixdgram_setfd(u, dupfd));
    CHECK_OK(sockit_unixdgram_getfd(u, &fd1));
    CHECK(fd1 == dupfd);
    CHECK(fcntl(fd0, F_GETFD) != -1); /* handed back, still open */
    close(fd0);

    /* Closed handle. */
    CHECK_OK(sockit_unixdgram_close(u));
    CHECK_OK(sockit_unixdgram_close(u));
    CHECK_OK(sockit_unixdgram_getfd(u, &fd1));
    CHECK(fd1 == -1);
    CHECK_STATUS(sockit_unixdgram_send(u, (const uint8_t *)"x", 1, &sent), SOCKIT_CLOSED);
    CHECK_STATUS(sockit_unixdgram_sendto(u, (const uint8_t *)"x", 1, pa, &sent), SOCKIT_CLOSED);
    CHECK_STATUS(sockit_unixdgram_receive(u, 1, buf), SOCKIT_CLOSED);
    CHECK_STATUS(sockit_unixdgram_bind(u, pa), SOCKIT_CLOSED);
    CHECK_STATUS(sockit_unixdgram_getsockname(u, buf), SOCKIT_CLOSED);
    CHECK_OK(sockit_unixdgram_setfd(u, -1));
    int spare = dup(0);
    CHECK_STATUS(sockit_unixdgram_setfd(u, spare), SOCKIT_CLOSED);
    CHECK(fcntl(spare, F_GETFD) != -1); /* not taken */
    close(spare);

    /* Freed handle. */
    sockit_unixdgram_free(u);
    CHECK_STATUS(sockit_unixdgram_close(u), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_bind(u, pa), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unixdgram_receive(u, 1, buf), SOCKIT_INVALID);
    sockit_unixdgram_free(u);

    sockit_buffer_free(buf);
    unlink(pa);
}

int main(void) {
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    exchange();
    timeouts_and_poll();
    bad_input();
    rmdir(dir);
    return check_done();
}
