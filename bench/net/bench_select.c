/*
 * bench_select.c: the cost of one select over many idle sockets and one active one.
 *
 *   bench_select PORT [idle [calls]]    (defaults: 1000 idle sockets, 5,000 calls)
 *
 * Connects idle + 1 sockit TCP clients to the holder at 127.0.0.1:PORT (bench/net/holder.c,
 * which keeps its ends in another process). The last socket is made active: it sends a
 * byte, the holder echoes it, and nobody reads it, so that socket stays readable. Then,
 * per round, it times `calls` calls of each of:
 *
 *   sockit_select        the 1,001 sockets as the read set, timeout 1 s (returns at once)
 *   sockit_pollset_wait  a poll set holding the 1,001 sockets (built once), timeout 1 s
 *   poll(2)              the 1,001 descriptors (from sockit_socket_getfd), a reference
 *
 * Every call must report exactly the active socket as ready (checked on each call).
 * Rounds: $BENCH_ROUNDS (default 5). Prints "RESULT <key> <microseconds per call>" for
 * the best and the median round.
 */
#include "common.h"
#include "sockit.h"

#include <poll.h>

static void sockit_die(sockit_status st, const char *what)
{
    die("%s: %s (%s)", what, sockit_status_str(st), sockit_last_error());
}

int main(int argc, char **argv)
{
    int rounds = rounds_from_env(5), idle, calls;
    size_t n;
    uint16_t port;
    sockit_socket **socks;
    bool *ready;
    struct pollfd *pfds;
    sockit_pollset *set;
    sockit_status st;
    double tsel[50], tset[50], tpoll[50];

    if (argc < 2)
        die("usage: bench_select PORT [idle [calls]]");
    port = (uint16_t)atoi(argv[1]);
    idle = argc > 2 ? atoi(argv[2]) : 1000;
    calls = argc > 3 ? atoi(argv[3]) : 5000;
    if (idle < 0 || calls < 1)
        die("bad arguments");
    n = (size_t)idle + 1;
    raise_nofile(n + 64);
    alarm(600);

    socks = calloc(n, sizeof *socks);
    ready = calloc(n, sizeof *ready);
    pfds = calloc(n, sizeof *pfds);
    set = sockit_pollset_new();
    for (size_t i = 0; i < n; i++) {
        int fd = -1;
        st = sockit_tcp_connect("127.0.0.1", port, NULL, 0, SOCKIT_FAMILY_INET, 10.0, &socks[i]);
        if (st != SOCKIT_OK)
            sockit_die(st, "connect");
        sockit_socket_getfd(socks[i], &fd);
        pfds[i].fd = fd;
        pfds[i].events = POLLIN;
        if ((st = sockit_pollset_add_socket(set, socks[i], SOCKIT_POLL_IN, NULL)) != SOCKIT_OK)
            sockit_die(st, "pollset add");
    }
    /* Make the last one active and wait until its echo is there. */
    if ((st = sockit_socket_send(socks[n - 1], (const uint8_t *)"x", 1, NULL)) != SOCKIT_OK)
        sockit_die(st, "send");
    if ((st = sockit_select(&socks[n - 1], 1, NULL, 0, 10.0, ready, NULL)) != SOCKIT_OK)
        sockit_die(st, "waiting for the echo");
    printf("  %zu sockets (%d idle + 1 active), %d calls per round, %d rounds\n", n, idle,
           calls, rounds);

    for (int r = 0; r < rounds; r++) {
        double t0;
        size_t nready = 0;
        int events = 0;

        t0 = now();
        for (int c = 0; c < calls; c++) {
            st = sockit_select(socks, n, NULL, 0, 1.0, ready, NULL);
            if (st != SOCKIT_OK || !ready[n - 1] || (n > 1 && ready[0]))
                die("sockit_select: status %d, active %d", (int)st, ready[n - 1]);
        }
        tsel[r] = (now() - t0) / calls * 1e6;

        t0 = now();
        for (int c = 0; c < calls; c++) {
            st = sockit_pollset_wait(set, 1.0, &nready);
            if (st != SOCKIT_OK || nready != 1)
                die("sockit_pollset_wait: status %d, %zu ready", (int)st, nready);
        }
        tset[r] = (now() - t0) / calls * 1e6;
        sockit_pollset_revents(set, n - 1, &events);
        if (!(events & SOCKIT_POLL_IN))
            die("sockit_pollset_wait: the active socket is not the ready one");

        t0 = now();
        for (int c = 0; c < calls; c++) {
            int k = poll(pfds, (nfds_t)n, 1000);
            if (k != 1 || !(pfds[n - 1].revents & POLLIN))
                die("poll: %d ready", k);
        }
        tpoll[r] = (now() - t0) / calls * 1e6;

        printf("  select round %d: sockit_select %.2f us, sockit_pollset_wait %.2f us, "
               "poll(2) %.2f us per call\n",
               r + 1, tsel[r], tset[r], tpoll[r]);
        fflush(stdout);
    }
    printf("RESULT select_rounds %d\n", rounds);
    printf("RESULT select_sockets %zu\n", n);
    printf("RESULT select_sockit_median %.3f\n", median(tsel, rounds));
    printf("RESULT select_sockit_best %.3f\n", tsel[0]);
    printf("RESULT select_pollset_median %.3f\n", median(tset, rounds));
    printf("RESULT select_pollset_best %.3f\n", tset[0]);
    printf("RESULT select_poll_median %.3f\n", median(tpoll, rounds));
    printf("RESULT select_poll_best %.3f\n", tpoll[0]);

    sockit_pollset_free(set);
    for (size_t i = 0; i < n; i++)
        sockit_socket_free(socks[i]);
    free(socks);
    free(ready);
    free(pfds);
    return 0;
}
