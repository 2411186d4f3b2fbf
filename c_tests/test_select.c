/* select/poll through the C API: sockit_pollset (sockets, UDP sockets, raw descriptors)
 * and sockit_select; dirty sockets, closed sockets, listeners, timeouts, bad arguments, and
 * 5,000 sockets at once (beyond FD_SETSIZE). */
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

static sockit_socket *server_on(uint16_t *port) {
    sockit_socket *s = NULL;
    CHECK_OK(sockit_tcp_bind("127.0.0.1", 0, 1024, &s));
    CHECK_OK(sockit_socket_getsockname(s, NULL, port, NULL));
    return s;
}

static int send_str(sockit_socket *s, const char *str) {
    return sockit_socket_send(s, (const uint8_t *)str, strlen(str), NULL) == SOCKIT_OK;
}

static void test_bad_arguments(void) {
    sockit_pollset *set = sockit_pollset_new();
    size_t idx = 99, n = 99;
    int ev = 0;
    bool flag = false;
    CHECK(set != NULL);
    sockit_pollset_free(NULL);
    CHECK_STATUS(sockit_pollset_add_socket(set, NULL, SOCKIT_POLL_IN, &idx), SOCKIT_INVALID);
    CHECK_STATUS(sockit_pollset_add_udp(set, NULL, SOCKIT_POLL_IN, &idx), SOCKIT_INVALID);
    CHECK_STATUS(sockit_pollset_add_fd(set, 0, 64, &idx), SOCKIT_INVALID);
    CHECK_STATUS(sockit_pollset_add_fd(NULL, 0, SOCKIT_POLL_IN, &idx), SOCKIT_INVALID);
    CHECK_STATUS(sockit_pollset_wait(NULL, 0, &n), SOCKIT_INVALID);
    CHECK_STATUS(sockit_pollset_clear(NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_pollset_revents(set, 0, &ev), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "out of range") != NULL);
    CHECK_OK(sockit_pollset_add_fd(set, -1, SOCKIT_POLL_IN, NULL));
    CHECK_STATUS(sockit_pollset_revents(set, 0, NULL), SOCKIT_INVALID);
    /* A negative descriptor is never ready; an empty wait sleeps. */
    double t0 = sockit_gettime();
    CHECK_STATUS(sockit_pollset_wait(set, 0.05, &n), SOCKIT_TIMEOUT);
    CHECK(n == 0);
    CHECK(sockit_gettime() - t0 >= 0.04);
    CHECK_OK(sockit_pollset_revents(set, 0, &ev));
    CHECK(ev == 0);
    CHECK_OK(sockit_pollset_clear(set));
    CHECK_STATUS(sockit_pollset_wait(set, 0, NULL), SOCKIT_TIMEOUT);
    /* A descriptor that is not open is reported, not fatal. */
    CHECK_OK(sockit_pollset_add_fd(set, 900, SOCKIT_POLL_IN, &idx));
    CHECK_OK(sockit_pollset_wait(set, 1, &n));
    CHECK_OK(sockit_pollset_revents(set, idx, &ev));
    CHECK(ev & SOCKIT_POLL_ERR);
    sockit_pollset_free(set);
    sockit_pollset_free(set); /* twice: harmless */
    CHECK_STATUS(sockit_pollset_clear(set), SOCKIT_INVALID);

    /* sockit_select argument checks. */
    CHECK_STATUS(sockit_select(NULL, 0, NULL, 0, 0.01, NULL, NULL), SOCKIT_TIMEOUT);
    CHECK_STATUS(sockit_select(NULL, 1, NULL, 0, 0, &flag, NULL), SOCKIT_INVALID);
    sockit_socket *one[1] = {NULL};
    CHECK_STATUS(sockit_select(one, 1, NULL, 0, 0, NULL, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_select(one, 1, NULL, 0, 0.01, &flag, NULL), SOCKIT_TIMEOUT);
    CHECK(!flag);
}

static void test_pollset_readiness(void) {
    uint16_t port = 0;
    sockit_socket *srv = server_on(&port), *c = NULL, *a = NULL;
    sockit_pollset *set = sockit_pollset_new();
    sockit_buffer *b = sockit_buffer_new();
    size_t ia = 0, ic = 0, isrv = 0, n = 0;
    int ev = 0;

    /* A listener is readable when a connection waits. */
    CHECK_OK(sockit_pollset_add_socket(set, srv, SOCKIT_POLL_IN, &isrv));
    CHECK_STATUS(sockit_pollset_wait(set, 0.02, &n), SOCKIT_TIMEOUT);
    CHECK_OK(sockit_tcp_connect_nb("127.0.0.1", port, &c));
    CHECK_OK(sockit_pollset_wait(set, 5, &n));
    CHECK(n == 1);
    CHECK_OK(sockit_pollset_revents(set, isrv, &ev));
    CHECK(ev & SOCKIT_POLL_IN);
    CHECK_OK(sockit_socket_accept_nb(srv, &a));

    CHECK_OK(sockit_pollset_clear(set));
    CHECK_OK(sockit_pollset_add_socket(set, a, SOCKIT_POLL_IN, &ia));
    CHECK_OK(sockit_pollset_add_socket(set, c, SOCKIT_POLL_OUT, &ic));
    CHECK(ia == 0 && ic == 1);
    CHECK_OK(sockit_pollset_wait(set, 5, &n));
    CHECK(n == 1);
    CHECK_OK(sockit_pollset_revents(set, ic, &ev));
    CHECK(ev == SOCKIT_POLL_OUT);
    CHECK_OK(sockit_pollset_revents(set, ia, &ev));
    CHECK(ev == 0);

    /* Data makes the reader ready; the set is reused without re-adding. */
    CHECK(send_str(c, "first\nsecond\n"));
    sockit_sleep(0.02);
    CHECK_OK(sockit_pollset_wait(set, 5, &n));
    CHECK(n == 2);
    CHECK_OK(sockit_pollset_revents(set, ia, &ev));
    CHECK(ev & SOCKIT_POLL_IN);

    /* Dirty: after one line, the second is buffered; the wait returns at once. */
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_LINE, 0, NULL, 0, b));
    CHECK_BUF_STR(b, "first");
    bool dirty = false;
    CHECK_OK(sockit_socket_dirty(a, &dirty));
    CHECK(dirty);
    CHECK_OK(sockit_pollset_clear(set));
    CHECK_OK(sockit_pollset_add_socket(set, a, SOCKIT_POLL_IN, &ia));
    double t0 = sockit_gettime();
    CHECK_OK(sockit_pollset_wait(set, 10, &n));
    CHECK(sockit_gettime() - t0 < 1.0);
    CHECK_OK(sockit_pollset_revents(set, ia, &ev));
    CHECK(ev & SOCKIT_POLL_IN);
    sockit_socket *r[2] = {a, NULL};
    bool rr[2] = {false, true};
    t0 = sockit_gettime();
    CHECK_OK(sockit_select(r, 2, NULL, 0, 10, rr, NULL));
    CHECK(sockit_gettime() - t0 < 1.0);
    CHECK(rr[0] && !rr[1]);
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_LINE, 0, NULL, 0, b));
    CHECK_STATUS(sockit_select(r, 1, NULL, 0, 0.02, rr, NULL), SOCKIT_TIMEOUT);
    CHECK(!rr[0]);

    /* Closed sockets are ignored; freed ones count as closed. */
    CHECK_OK(sockit_socket_close(a));
    CHECK_OK(sockit_pollset_clear(set));
    CHECK_OK(sockit_pollset_add_socket(set, a, SOCKIT_POLL_IN | SOCKIT_POLL_OUT, &ia));
    CHECK_STATUS(sockit_pollset_wait(set, 0.03, &n), SOCKIT_TIMEOUT);
    CHECK_OK(sockit_pollset_revents(set, ia, &ev));
    CHECK(ev == 0);
    sockit_socket *w[1] = {a};
    bool wr = true;
    CHECK_STATUS(sockit_select(NULL, 0, w, 1, 0.02, NULL, &wr), SOCKIT_TIMEOUT);
    CHECK(!wr);
    CHECK_OK(sockit_pollset_add_socket(set, c, SOCKIT_POLL_IN, &ic));
    sockit_socket_free(a);
    /* The peer closed: the client is readable (end of stream). */
    CHECK_OK(sockit_pollset_wait(set, 5, &n));
    CHECK(n == 1);
    CHECK_OK(sockit_pollset_revents(set, ic, &ev));
    CHECK(ev & SOCKIT_POLL_IN);
    CHECK_OK(sockit_pollset_revents(set, ia, &ev));
    CHECK(ev == 0);

    sockit_socket_free(c);
    sockit_socket_free(srv);
    sockit_pollset_free(set);
    sockit_buffer_free(b);
}

static void test_fds_and_udp(void) {
    int p[2];
    CHECK(pipe(p) == 0);
    sockit_pollset *set = sockit_pollset_new();
    size_t ip = 0, iw = 0, iu = 0, n = 0;
    int ev = 0;
    CHECK_OK(sockit_pollset_add_fd(set, p[0], SOCKIT_POLL_IN, &ip));
    CHECK_OK(sockit_pollset_add_fd(set, p[1], SOCKIT_POLL_OUT, &iw));
    CHECK_OK(sockit_pollset_wait(set, 1, &n));
    CHECK(n == 1);
    CHECK_OK(sockit_pollset_revents(set, iw, &ev));
    CHECK(ev == SOCKIT_POLL_OUT);
    CHECK(write(p[1], "x", 1) == 1);
    CHECK_OK(sockit_pollset_wait(set, 1, &n));
    CHECK(n == 2);
    CHECK_OK(sockit_pollset_revents(set, ip, &ev));
    CHECK(ev == SOCKIT_POLL_IN);
    close(p[1]);
    CHECK_OK(sockit_pollset_clear(set));
    CHECK_OK(sockit_pollset_add_fd(set, p[0], SOCKIT_POLL_IN, &ip));
    char c;
    CHECK(read(p[0], &c, 1) == 1);
    CHECK_OK(sockit_pollset_wait(set, 1, &n));
    CHECK_OK(sockit_pollset_revents(set, ip, &ev));
    CHECK(ev & SOCKIT_POLL_HUP);
    close(p[0]);

    /* UDP sockets. */
    sockit_udp *u = NULL, *v = NULL;
    uint16_t port = 0;
    CHECK_OK(sockit_udp_new(SOCKIT_FAMILY_INET, &u));
    CHECK_OK(sockit_udp_new(SOCKIT_FAMILY_INET, &v));
    CHECK_OK(sockit_udp_setsockname(u, "127.0.0.1", 0));
    CHECK_OK(sockit_udp_getsockname(u, NULL, &port, NULL));
    CHECK_OK(sockit_pollset_clear(set));
    CHECK_OK(sockit_pollset_add_udp(set, u, SOCKIT_POLL_IN, &iu));
    CHECK_STATUS(sockit_pollset_wait(set, 0.02, &n), SOCKIT_TIMEOUT);
    CHECK_OK(sockit_udp_sendto(v, (const uint8_t *)"dgram", 5, "127.0.0.1", port, NULL));
    CHECK_OK(sockit_pollset_wait(set, 5, &n));
    CHECK_OK(sockit_pollset_revents(set, iu, &ev));
    CHECK(ev == SOCKIT_POLL_IN);
    CHECK_OK(sockit_udp_close(u));
    CHECK_STATUS(sockit_pollset_wait(set, 0.02, &n), SOCKIT_TIMEOUT);
    sockit_udp_free(u);
    sockit_udp_free(v);
    CHECK_STATUS(sockit_pollset_wait(set, 0.01, &n), SOCKIT_TIMEOUT);
    sockit_pollset_free(set);
}

/* 5,000 sockets in one set (2,500 connected pairs), descriptors far beyond FD_SETSIZE. */
static void test_five_thousand(void) {
    enum { PAIRS = 2500 };
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    rlim_t want = 2 * PAIRS + 200;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    CHECK(rl.rlim_cur >= want);
    if (rl.rlim_cur < want) {
        fprintf(stderr, "descriptor limit %lu is too low for 5,000 sockets\n",
                (unsigned long)rl.rlim_cur);
        return;
    }
    double t0 = sockit_gettime();
    uint16_t port = 0;
    sockit_socket *srv = server_on(&port);
    sockit_socket **cs = calloc(PAIRS, sizeof *cs), **as = calloc(PAIRS, sizeof *as);
    sockit_socket **all = calloc(2 * PAIRS, sizeof *all);
    bool *ready = calloc(2 * PAIRS, sizeof *ready);
    int made = 0;
    for (int i = 0; i < PAIRS; i++) {
        if (sockit_tcp_connect("127.0.0.1", port, NULL, 0, SOCKIT_FAMILY_INET, 5.0, &cs[i]) !=
            SOCKIT_OK)
            break;
        if (sockit_socket_accept(srv, &as[i]) != SOCKIT_OK) {
            sockit_socket_free(cs[i]);
            cs[i] = NULL;
            break;
        }
        made++;
    }
    CHECK(made == PAIRS);
    int fd = 0;
    CHECK_OK(sockit_socket_getfd(as[made - 1], &fd));
    CHECK(fd > 1024 * 4);

    sockit_pollset *set = sockit_pollset_new();
    for (int i = 0; i < made; i++) {
        CHECK(sockit_pollset_add_socket(set, as[i], SOCKIT_POLL_IN, NULL) == SOCKIT_OK);
        CHECK(sockit_pollset_add_socket(set, cs[i], SOCKIT_POLL_IN, NULL) == SOCKIT_OK);
        all[2 * i] = as[i];
        all[2 * i + 1] = cs[i];
    }
    size_t n = 0;
    int ev = 0;
    CHECK_STATUS(sockit_pollset_wait(set, 0.01, &n), SOCKIT_TIMEOUT);
    CHECK(send_str(cs[made - 1], "last"));
    CHECK(send_str(as[made / 2], "middle"));
    sockit_sleep(0.02);
    CHECK_OK(sockit_pollset_wait(set, 5, &n));
    CHECK(n == 2);
    CHECK_OK(sockit_pollset_revents(set, 2 * (size_t)(made - 1), &ev));
    CHECK(ev == SOCKIT_POLL_IN);
    CHECK_OK(sockit_pollset_revents(set, 2 * (size_t)(made / 2) + 1, &ev));
    CHECK(ev == SOCKIT_POLL_IN);
    CHECK_OK(sockit_pollset_revents(set, 0, &ev));
    CHECK(ev == 0);

    CHECK_OK(sockit_select(all, 2 * made, NULL, 0, 5, ready, NULL));
    int count = 0;
    for (int i = 0; i < 2 * made; i++) count += ready[i];
    CHECK(count == 2);
    CHECK(ready[2 * (made - 1)] && ready[2 * (made / 2) + 1]);

    sockit_pollset_free(set);
    for (int i = 0; i < made; i++) {
        sockit_socket_free(cs[i]);
        sockit_socket_free(as[i]);
    }
    sockit_socket_free(srv);
    free(cs);
    free(as);
    free(all);
    free(ready);
    double dt = sockit_gettime() - t0;
    printf("5,000 sockets: set up, polled and closed in %.2f s\n", dt);
    CHECK(dt < 120);
}

int main(void) {
    test_bad_arguments();
    test_pollset_readiness();
    test_fds_and_udp();
    test_five_thousand();
    return check_done();
}
