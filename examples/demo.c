/*
 * demo.c: a local echo server and a client, both made with sockit (`make demo`).
 *
 * The server listens on 127.0.0.1 with a port the system picks, and runs in a thread of
 * its own: one sockit_pollset watches the listening socket and every connection, and
 * whatever a connection sends comes straight back (Moonbridge-style read_nb, LuaSocket-
 * style send). The client, in the main thread, connects and walks through:
 *
 *   1. a few lines, received back one by one with the line pattern (CRs are dropped);
 *   2. sockit_select: nothing to read at first, then an echo arriving;
 *   3. a timeout: half a line comes back, and the partial data is delivered with
 *      SOCKIT_TIMEOUT; the rest of the line follows later;
 *   4. 256 KiB of binary data received with the count pattern;
 *   5. an error: connecting to a port nobody listens on, with status and message;
 *   6. closing: the server sees the end of the stream and stops.
 *
 * Every step prints what happens. The program exits 0 only if every echo came back
 * exactly; any mismatch or failed call prints what went wrong and exits 1.
 *
 * Build: cc -Iinclude examples/demo.c -Lbuild/lib -lsockit -pthread (examples/demo.sh).
 */
#include "sockit.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;

/* Prints one line with a speaker tag; stdout is line-buffered, so lines of the two
 * threads never mix. */
static void say(const char *who, const char *fmt, ...)
{
    va_list ap;
    char line[512];
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (line[0])
        printf("[%s] %s\n", who, line);
    else
        printf("\n");
}

/* Reports a failed step and counts it. */
static void fail(const char *fmt, ...)
{
    va_list ap;
    char line[512];
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    printf("[client] FAILED: %s\n", line);
    failures++;
}

/* Checks a status; on anything but `want` prints the call, status and message. */
static int expect(sockit_status st, sockit_status want, const char *what)
{
    if (st == want)
        return 1;
    fail("%s: got \"%s\" (%s), wanted \"%s\"", what, sockit_status_str(st),
         sockit_last_error(), sockit_status_str(want));
    return 0;
}

/* A buffer's bytes as a printable, quoted C string (at most 60 bytes shown); one per thread. */
static const char *shown(sockit_buffer *b)
{
    static _Thread_local char text[320]; /* 60 bytes, each at most 4 characters */
    const uint8_t *p = sockit_buffer_data(b);
    size_t n = sockit_buffer_len(b), i, o = 0;
    text[o++] = '"';
    for (i = 0; i < n && i < 60; i++) {
        if (p[i] == '\n' || p[i] == '\r') {
            text[o++] = '\\';
            text[o++] = p[i] == '\n' ? 'n' : 'r';
        } else if (p[i] >= 32 && p[i] < 127 && p[i] != '"' && p[i] != '\\')
            text[o++] = (char)p[i];
        else
            o += (size_t)snprintf(text + o, sizeof text - o, "\\x%02x", p[i]);
    }
    text[o++] = '"';
    if (n > 60)
        o += (size_t)snprintf(text + o, sizeof text - o, "... (%zu bytes)", n);
    text[o] = 0;
    return text;
}

static int buffer_is(sockit_buffer *b, const char *want)
{
    size_t n = strlen(want);
    return sockit_buffer_len(b) == n && memcmp(sockit_buffer_data(b), want, n) == 0;
}

/* ----- the server --------------------------------------------------------------------- */

#define MAX_CONNS 16

struct server {
    sockit_socket *listener;
    int served; /* connections handled from accept to end of stream */
    int ok;     /* 0 when a server call failed unexpectedly */
};

/* Echo server: a poll set over the listener and its connections. It stops once a
 * connection has come and gone (the demo has one client), or after 30 s without activity. */
static void *serve(void *arg)
{
    struct server *srv = arg;
    sockit_socket *conns[MAX_CONNS];
    size_t nconns = 0, i, nready;
    sockit_pollset *set = sockit_pollset_new();
    sockit_buffer *data = sockit_buffer_new();
    srv->ok = 1;

    while (srv->served == 0) {
        sockit_status st;
        int ev;
        sockit_pollset_clear(set);
        sockit_pollset_add_socket(set, srv->listener, SOCKIT_POLL_IN, NULL);
        for (i = 0; i < nconns; i++)
            sockit_pollset_add_socket(set, conns[i], SOCKIT_POLL_IN, NULL);
        st = sockit_pollset_wait(set, 30.0, &nready);
        if (st != SOCKIT_OK) {
            say("server", "poll: %s (%s); giving up", sockit_status_str(st), sockit_last_error());
            srv->ok = 0;
            break;
        }
        /* Entry 0 is the listener: a connection is waiting. */
        sockit_pollset_revents(set, 0, &ev);
        if (ev & SOCKIT_POLL_IN) {
            sockit_socket *c = NULL;
            st = sockit_socket_accept_nb(srv->listener, &c);
            if (st == SOCKIT_OK && nconns < MAX_CONNS) {
                sockit_buffer *addr = sockit_buffer_new();
                uint16_t port = 0;
                sockit_socket_getpeername(c, addr, &port, NULL);
                say("server", "accepted a connection from %s port %u (poll set of %zu entries)",
                    sockit_buffer_cstr(addr), port, nconns + 2);
                sockit_buffer_free(addr);
                conns[nconns++] = c;
            } else if (st == SOCKIT_OK) {
                sockit_socket_free(c);
            } else if (st != SOCKIT_WOULDBLOCK) {
                say("server", "accept: %s (%s)", sockit_status_str(st), sockit_last_error());
            }
        }
        /* Entries 1.. are the connections, in the order they were added. */
        for (i = 0; i < nconns; i++) {
            sockit_read_end end = SOCKIT_READ_BLOCK;
            sockit_pollset_revents(set, i + 1, &ev);
            if (!ev)
                continue;
            /* Everything that is there now, without waiting for more. */
            st = sockit_socket_read_nb(conns[i], SIZE_MAX, -1, data, &end);
            if (sockit_buffer_len(data) > 0) {
                size_t sent = 0;
                sockit_status sst;
                if (sockit_buffer_len(data) <= 64)
                    say("server", "echoing %s", shown(data));
                else
                    say("server", "echoing %zu bytes", sockit_buffer_len(data));
                sst = sockit_socket_send(conns[i], sockit_buffer_data(data),
                                         sockit_buffer_len(data), &sent);
                if (sst != SOCKIT_OK)
                    say("server", "send: %s after %zu bytes", sockit_status_str(sst), sent);
            }
            if (st != SOCKIT_OK || end == SOCKIT_READ_EOF) {
                double received = 0, sentb = 0, age = 0;
                sockit_socket_getstats(conns[i], &received, &sentb, &age);
                say("server", "%s: connection done after %.0f bytes in, %.0f out, %.3f s",
                    st != SOCKIT_OK ? sockit_status_str(st) : "end of stream", received, sentb,
                    age);
                sockit_socket_close(conns[i]);
                sockit_socket_free(conns[i]);
                conns[i] = conns[--nconns];
                srv->served++;
                break; /* indices changed; poll again */
            }
        }
    }
    for (i = 0; i < nconns; i++)
        sockit_socket_free(conns[i]);
    sockit_buffer_free(data);
    sockit_pollset_free(set);
    say("server", "stopping");
    return NULL;
}

/* ----- the client ---------------------------------------------------------------------- */

/* Sends a whole string; reports a failure. */
static int send_text(sockit_socket *c, const char *text)
{
    size_t sent = 0;
    sockit_status st = sockit_socket_send(c, (const uint8_t *)text, strlen(text), &sent);
    return expect(st, SOCKIT_OK, "send");
}

static void step_lines(sockit_socket *c, sockit_buffer *line)
{
    static const char *const want[] = {"hello, sockit", "a line with CRLF", "", "last line"};
    size_t i;
    say("client", "");
    say("client", "1. lines: sending 4 lines in one send (one ends in CRLF, one is empty)");
    if (!send_text(c, "hello, sockit\na line with CRLF\r\n\nlast line\n"))
        return;
    for (i = 0; i < 4; i++) {
        sockit_status st = sockit_socket_receive(c, SOCKIT_PATTERN_LINE, 0, NULL, 0, line);
        if (!expect(st, SOCKIT_OK, "receive line"))
            return;
        say("client", "   received line %zu: %s", i + 1, shown(line));
        if (!buffer_is(line, want[i]))
            fail("line %zu should be \"%s\"", i + 1, want[i]);
    }
}

static void step_select(sockit_socket *c, sockit_buffer *line)
{
    bool ready = false;
    double t0;
    sockit_status st;
    say("client", "");
    say("client", "2. select: is anything to read?");
    st = sockit_select(&c, 1, NULL, 0, 0.0, &ready, NULL);
    say("client", "   select(timeout 0) -> %s, readable %s", sockit_status_str(st),
        ready ? "yes" : "no");
    if (!expect(st, SOCKIT_TIMEOUT, "select on an idle socket") || ready)
        fail("nothing should be readable yet");
    if (!send_text(c, "ping\n"))
        return;
    say("client", "   sent \"ping\\n\"; select(timeout 5) waits for the echo");
    t0 = sockit_gettime();
    st = sockit_select(&c, 1, NULL, 0, 5.0, &ready, NULL);
    say("client", "   select -> %s after %.1f ms, readable %s", sockit_status_str(st),
        (sockit_gettime() - t0) * 1000, ready ? "yes" : "no");
    if (!expect(st, SOCKIT_OK, "select after ping") || !ready)
        fail("the echo should make the socket readable");
    st = sockit_socket_receive(c, SOCKIT_PATTERN_LINE, 0, NULL, 0, line);
    say("client", "   received %s", shown(line));
    if (expect(st, SOCKIT_OK, "receive ping") && !buffer_is(line, "ping"))
        fail("the echo should be \"ping\"");
}

static void step_timeout(sockit_socket *c, sockit_buffer *line)
{
    double t0, t;
    sockit_status st;
    say("client", "");
    say("client", "3. timeout: sending half a line, then asking for a whole line "
                  "with a 0.3 s timeout");
    if (!send_text(c, "half a li"))
        return;
    sockit_socket_settimeout(c, 0.3, "b");
    t0 = sockit_gettime();
    st = sockit_socket_receive(c, SOCKIT_PATTERN_LINE, 0, NULL, 0, line);
    t = sockit_gettime() - t0;
    say("client", "   receive -> \"%s\" after %.2f s, partial data %s", sockit_status_str(st), t,
        shown(line));
    if (expect(st, SOCKIT_TIMEOUT, "receive of half a line") && !buffer_is(line, "half a li"))
        fail("the partial data should be \"half a li\"");
    if (t < 0.25 || t > 3.0)
        fail("the timeout took %.2f s, expected about 0.3 s", t);
    sockit_socket_settimeout(c, 5.0, "b");
    say("client", "   sending the rest of the line: \"ne\\n\"");
    if (!send_text(c, "ne\n"))
        return;
    st = sockit_socket_receive(c, SOCKIT_PATTERN_LINE, 0, NULL, 0, line);
    say("client", "   receive -> \"%s\", %s (the partial part was already delivered)",
        sockit_status_str(st), shown(line));
    if (expect(st, SOCKIT_OK, "receive of the rest") && !buffer_is(line, "ne"))
        fail("the rest should be \"ne\"");
}

static void step_count(sockit_socket *c, sockit_buffer *data)
{
    enum { N = 256 * 1024 };
    uint8_t *blob = malloc(N);
    size_t i, sent = 0;
    sockit_status st;
    say("client", "");
    say("client", "4. binary: sending %d bytes (every byte value, NULs too), receiving them "
                  "with the count pattern",
        N);
    for (i = 0; i < N; i++)
        blob[i] = (uint8_t)(i * 7 + i / 251);
    st = sockit_socket_send(c, blob, N, &sent);
    if (expect(st, SOCKIT_OK, "send blob")) {
        st = sockit_socket_receive(c, SOCKIT_PATTERN_COUNT, N, NULL, 0, data);
        say("client", "   receive(count %d) -> \"%s\", %zu bytes, %s", N, sockit_status_str(st),
            sockit_buffer_len(data),
            sockit_buffer_len(data) == N && memcmp(sockit_buffer_data(data), blob, N) == 0
                ? "identical"
                : "DIFFERENT");
        if (expect(st, SOCKIT_OK, "receive blob") &&
            (sockit_buffer_len(data) != N || memcmp(sockit_buffer_data(data), blob, N) != 0))
            fail("the binary echo differs");
    }
    free(blob);
}

static void step_refused(void)
{
    sockit_socket *tmp = NULL, *c = NULL;
    uint16_t port = 0;
    sockit_status st;
    say("client", "");
    say("client", "5. errors: connecting to a port nobody listens on");
    /* A port that was free a moment ago: bind one, note it, close it. */
    if (!expect(sockit_tcp_bind("127.0.0.1", 0, -1, &tmp), SOCKIT_OK, "bind"))
        return;
    sockit_socket_getsockname(tmp, NULL, &port, NULL);
    sockit_socket_free(tmp);
    st = sockit_tcp_connect("127.0.0.1", port, NULL, 0, SOCKIT_FAMILY_ANY, 2.0, &c);
    say("client", "   connect 127.0.0.1:%u -> status %d \"%s\", message \"%s\", handle %s", port,
        (int)st, sockit_status_str(st), sockit_last_error(), c ? "set" : "NULL");
    expect(st, SOCKIT_REFUSED, "connect to a closed port");
    if (c) {
        fail("a failed connect should leave the handle NULL");
        sockit_socket_free(c);
    }
    st = sockit_socket_send(NULL, (const uint8_t *)"x", 1, NULL);
    say("client", "   send on a NULL socket -> \"%s\", message \"%s\"", sockit_status_str(st),
        sockit_last_error());
    expect(st, SOCKIT_INVALID, "send on NULL");
}

int main(void)
{
    struct server srv = {0};
    pthread_t thread;
    sockit_socket *c = NULL;
    sockit_buffer *buf = sockit_buffer_new(), *addr = sockit_buffer_new();
    uint16_t port = 0;
    sockit_status st;
    double t0 = sockit_gettime();

    setvbuf(stdout, NULL, _IOLBF, 0);
    alarm(60); /* never hang: every step below is bounded well under this */
    say("demo", "sockit %s: an echo server and a client on 127.0.0.1", sockit_version());

    st = sockit_tcp_bind("127.0.0.1", 0, -1, &srv.listener);
    if (st != SOCKIT_OK) {
        say("server", "bind failed: %s (%s)", sockit_status_str(st), sockit_last_error());
        return 1;
    }
    sockit_socket_getsockname(srv.listener, addr, &port, NULL);
    say("server", "listening on %s port %u (chosen by the system)", sockit_buffer_cstr(addr),
        port);
    if (pthread_create(&thread, NULL, serve, &srv) != 0) {
        say("demo", "cannot start the server thread");
        return 1;
    }

    st = sockit_tcp_connect("127.0.0.1", port, NULL, 0, SOCKIT_FAMILY_ANY, 5.0, &c);
    if (!expect(st, SOCKIT_OK, "connect")) {
        /* The server waits for a connection; give it one that ends at once. */
        sockit_tcp_connect("127.0.0.1", port, NULL, 0, SOCKIT_FAMILY_ANY, 5.0, &c);
        sockit_socket_free(c);
        pthread_join(thread, NULL);
        return 1;
    }
    sockit_socket_getsockname(c, addr, &port, NULL);
    say("client", "connected from %s port %u; every wait below is bounded by a 5 s timeout",
        sockit_buffer_cstr(addr), port);
    sockit_socket_settimeout(c, 5.0, "b");

    step_lines(c, buf);
    step_select(c, buf);
    step_timeout(c, buf);
    step_count(c, buf);
    step_refused();

    say("client", "");
    say("client", "6. closing the connection");
    expect(sockit_socket_close(c), SOCKIT_OK, "close");
    st = sockit_socket_receive(c, SOCKIT_PATTERN_LINE, 0, NULL, 0, buf);
    say("client", "   receive after close -> \"%s\"", sockit_status_str(st));
    expect(st, SOCKIT_CLOSED, "receive on a closed socket");
    pthread_join(thread, NULL);
    sockit_socket_free(c);
    sockit_socket_free(srv.listener);
    sockit_buffer_free(buf);
    sockit_buffer_free(addr);

    if (!srv.ok || srv.served != 1)
        fail("the server should have served exactly one connection");
    say("demo", "");
    if (failures == 0) {
        say("demo", "every echo came back exactly (%.2f s)", sockit_gettime() - t0);
        return 0;
    }
    say("demo", "%d step(s) FAILED", failures);
    return 1;
}
