/*
 * bench_stream.c: stream throughput over loopback TCP, sockit's C API against plain C.
 *
 *   bench_stream bulk [MiB]     (default 1024 MiB = 1 GiB)
 *       sockit: a child process sends with sockit_socket_send (64 KiB per call); the
 *       parent receives with sockit_socket_receive(SOCKIT_PATTERN_COUNT, 65536).
 *       plain:  the same with write(2) / read(2) of 64 KiB on blocking sockets.
 *   bench_stream lines [count]  (default 10,000,000 lines of 80 bytes, LF included)
 *       The same plain C sender (a child writing 65,520-byte blocks of 819 lines) feeds
 *       both receivers. sockit: sockit_socket_receive(SOCKIT_PATTERN_LINE) per line.
 *       plain:  read(2) of 64 KiB into a buffer, memchr for each LF, a line left over at
 *       the end of a read is moved to the front before the next read.
 *
 * Each round runs both sides, alternating which goes first; the clock runs from the moment
 * the receiver has accepted the connection and sends the sender its "go" byte until the
 * last byte is in. Every line's length is checked. Rounds: $BENCH_ROUNDS (default 5).
 * Prints "RESULT <key> <value>" lines with the best and the median of the rounds.
 * For profiling, BENCH_ONLY=sockit (or plain) runs just that side and prints no RESULT.
 */
#include "common.h"
#include "sockit.h"

#define CHUNK 65536
#define LINE_LEN 80 /* with the LF */
#define BLOCK_LINES 819 /* 819 * 80 = 65,520 bytes per write */

static void sockit_die(sockit_status st, const char *what)
{
    die("%s: %s (%s)", what, sockit_status_str(st), sockit_last_error());
}

/* ----- the senders (child processes) ------------------------------------------------- */

static void send_bulk_sockit(uint16_t port, uint64_t total)
{
    sockit_socket *c = NULL;
    sockit_buffer *go = sockit_buffer_new();
    uint8_t *chunk = calloc(1, CHUNK);
    sockit_status st = sockit_tcp_connect("127.0.0.1", port, NULL, 0, SOCKIT_FAMILY_INET, 10.0, &c);
    if (st != SOCKIT_OK)
        sockit_die(st, "sender connect");
    if ((st = sockit_socket_receive(c, SOCKIT_PATTERN_COUNT, 1, NULL, 0, go)) != SOCKIT_OK)
        sockit_die(st, "sender go");
    for (uint64_t sent = 0; sent < total;) {
        size_t n = total - sent < CHUNK ? (size_t)(total - sent) : CHUNK, k = 0;
        if ((st = sockit_socket_send(c, chunk, n, &k)) != SOCKIT_OK)
            sockit_die(st, "sender send");
        sent += k;
    }
    sockit_socket_close(c);
    sockit_socket_free(c);
    sockit_buffer_free(go);
    free(chunk);
}

static void send_bulk_plain(uint16_t port, uint64_t total)
{
    char *chunk = calloc(1, CHUNK);
    int fd = plain_connect(port);
    if (read_byte(fd) < 0)
        die("sender: no go byte");
    for (uint64_t sent = 0; sent < total;) {
        size_t n = total - sent < CHUNK ? (size_t)(total - sent) : CHUNK;
        if (write_all(fd, chunk, n) < 0)
            die("sender write: %s", strerror(errno));
        sent += n;
    }
    close(fd);
    free(chunk);
}

/* The line sender, the same for both receivers. */
static void send_lines(uint16_t port, uint64_t lines)
{
    static char block[BLOCK_LINES * LINE_LEN];
    int fd = plain_connect(port);
    for (int i = 0; i < BLOCK_LINES; i++) {
        char *l = block + (size_t)i * LINE_LEN;
        memset(l, 'a' + i % 26, LINE_LEN - 1);
        memcpy(l, "line ", 5);
        l[LINE_LEN - 1] = '\n';
    }
    if (read_byte(fd) < 0)
        die("sender: no go byte");
    for (uint64_t sent = 0; sent < lines;) {
        uint64_t n = lines - sent < BLOCK_LINES ? lines - sent : BLOCK_LINES;
        if (write_all(fd, block, (size_t)n * LINE_LEN) < 0)
            die("sender write: %s", strerror(errno));
        sent += n;
    }
    close(fd);
}

/* Runs fn(port, n) in a child process. */
static pid_t spawn(void (*fn)(uint16_t, uint64_t), uint16_t port, uint64_t n)
{
    pid_t pid;
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        alarm(300);
        fn(port, n);
        _exit(0);
    }
    return pid;
}

/* ----- the receivers --------------------------------------------------------------------- */

/* sockit listener + accepted client; the sender child is started in between. */
static sockit_socket *sockit_accept_from(void (*sender)(uint16_t, uint64_t), uint64_t n,
                                         pid_t *pid)
{
    sockit_socket *l = NULL, *c = NULL;
    uint16_t port = 0;
    sockit_status st = sockit_tcp_bind("127.0.0.1", 0, -1, &l);
    if (st != SOCKIT_OK)
        sockit_die(st, "bind");
    sockit_socket_getsockname(l, NULL, &port, NULL);
    *pid = spawn(sender, port, n);
    if ((st = sockit_socket_accept(l, &c)) != SOCKIT_OK)
        sockit_die(st, "accept");
    sockit_socket_free(l);
    return c;
}

static int plain_accept_from(void (*sender)(uint16_t, uint64_t), uint64_t n, pid_t *pid)
{
    uint16_t port = 0;
    int l = plain_listen(&port), c;
    *pid = spawn(sender, port, n);
    while ((c = accept(l, NULL, NULL)) < 0 && errno == EINTR)
        ;
    if (c < 0)
        die("accept: %s", strerror(errno));
    close(l);
    return c;
}

static double bulk_sockit(uint64_t total)
{
    pid_t pid;
    sockit_socket *c = sockit_accept_from(send_bulk_sockit, total, &pid);
    sockit_buffer *buf = sockit_buffer_new();
    uint64_t got = 0;
    sockit_status st;
    double t0 = now(), t;
    if ((st = sockit_socket_send(c, (const uint8_t *)"g", 1, NULL)) != SOCKIT_OK)
        sockit_die(st, "go");
    while (got < total) {
        size_t want = total - got < CHUNK ? (size_t)(total - got) : CHUNK;
        st = sockit_socket_receive(c, SOCKIT_PATTERN_COUNT, want, NULL, 0, buf);
        got += sockit_buffer_len(buf);
        if (st != SOCKIT_OK)
            sockit_die(st, "receive");
    }
    t = now() - t0;
    sockit_socket_free(c);
    sockit_buffer_free(buf);
    reap(pid, "sockit sender");
    return t;
}

static double bulk_plain(uint64_t total)
{
    pid_t pid;
    int c = plain_accept_from(send_bulk_plain, total, &pid);
    char *buf = malloc(CHUNK);
    uint64_t got = 0;
    double t0 = now(), t;
    if (write_all(c, "g", 1) < 0)
        die("go: %s", strerror(errno));
    while (got < total) {
        ssize_t n = read(c, buf, CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            die("read after %llu bytes: %s", (unsigned long long)got, n ? strerror(errno) : "eof");
        got += (uint64_t)n;
    }
    t = now() - t0;
    close(c);
    free(buf);
    reap(pid, "plain sender");
    return t;
}

static double lines_sockit(uint64_t lines)
{
    pid_t pid;
    sockit_socket *c = sockit_accept_from(send_lines, lines, &pid);
    sockit_buffer *line = sockit_buffer_new();
    uint64_t bad = 0;
    sockit_status st;
    double t0 = now(), t;
    if ((st = sockit_socket_send(c, (const uint8_t *)"g", 1, NULL)) != SOCKIT_OK)
        sockit_die(st, "go");
    for (uint64_t i = 0; i < lines; i++) {
        if ((st = sockit_socket_receive(c, SOCKIT_PATTERN_LINE, 0, NULL, 0, line)) != SOCKIT_OK)
            sockit_die(st, "receive line");
        bad += sockit_buffer_len(line) != LINE_LEN - 1;
    }
    t = now() - t0;
    if (bad)
        die("sockit: %llu lines of the wrong length", (unsigned long long)bad);
    sockit_socket_free(c);
    sockit_buffer_free(line);
    reap(pid, "line sender");
    return t;
}

static double lines_plain(uint64_t lines)
{
    pid_t pid;
    int c = plain_accept_from(send_lines, lines, &pid);
    /* 64 KiB reads land after a leftover partial line, which is shorter than 64 KiB. */
    char *buf = malloc(2 * CHUNK);
    size_t have = 0;
    uint64_t n = 0, bad = 0;
    double t0 = now(), t;
    if (write_all(c, "g", 1) < 0)
        die("go: %s", strerror(errno));
    while (n < lines) {
        ssize_t r = read(c, buf + have, CHUNK);
        char *p, *end, *lf;
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            die("read after %llu lines: %s", (unsigned long long)n, r ? strerror(errno) : "eof");
        p = buf;
        end = buf + have + (size_t)r;
        while ((lf = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            bad += (size_t)(lf - p) != LINE_LEN - 1;
            n++;
            p = lf + 1;
        }
        have = (size_t)(end - p);
        if (have >= CHUNK)
            die("a line longer than 64 KiB");
        memmove(buf, p, have);
    }
    t = now() - t0;
    if (bad)
        die("plain: %llu lines of the wrong length", (unsigned long long)bad);
    close(c);
    free(buf);
    reap(pid, "line sender");
    return t;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    int rounds = rounds_from_env(5);
    double ts[50], tp[50];
    int bulk = strcmp(mode, "bulk") == 0;
    uint64_t n;

    if (!bulk && strcmp(mode, "lines") != 0)
        die("usage: bench_stream bulk [MiB] | lines [count]");
    n = argc > 2 ? strtoull(argv[2], NULL, 10) : bulk ? 1024 : 10000000;
    if (bulk)
        n <<= 20;
    signal(SIGPIPE, SIG_IGN);
    alarm(900);

    if (getenv("BENCH_ONLY")) {
        int sk = strcmp(getenv("BENCH_ONLY"), "sockit") == 0;
        for (int r = 0; r < rounds; r++) {
            double t = sk ? (bulk ? bulk_sockit(n) : lines_sockit(n))
                          : (bulk ? bulk_plain(n) : lines_plain(n));
            printf("  %s %s round %d: %.3f s\n", mode, sk ? "sockit" : "plain", r + 1, t);
        }
        return 0;
    }

    for (int r = 0; r < rounds; r++) {
        /* Alternate which side runs first. */
        if (r % 2 == 0) {
            ts[r] = bulk ? bulk_sockit(n) : lines_sockit(n);
            tp[r] = bulk ? bulk_plain(n) : lines_plain(n);
        } else {
            tp[r] = bulk ? bulk_plain(n) : lines_plain(n);
            ts[r] = bulk ? bulk_sockit(n) : lines_sockit(n);
        }
        if (bulk)
            printf("  bulk round %d: sockit %.3f s (%.2f GB/s), plain %.3f s (%.2f GB/s)\n",
                   r + 1, ts[r], (double)n / ts[r] / 1e9, tp[r], (double)n / tp[r] / 1e9);
        else
            printf("  lines round %d: sockit %.3f s (%.2f M lines/s), plain %.3f s (%.2f M "
                   "lines/s)\n",
                   r + 1, ts[r], (double)n / ts[r] / 1e6, tp[r], (double)n / tp[r] / 1e6);
        fflush(stdout);
    }
    {
        double ms = median(ts, rounds), mp = median(tp, rounds);
        double bs = ts[0], bp = tp[0]; /* sorted by median() */
        double unit = bulk ? 1e9 : 1e6;
        const char *key = bulk ? "bulk" : "lines";
        printf("RESULT %s_rounds %d\n", key, rounds);
        printf("RESULT %s_sockit_best %.4f\n", key, (double)n / bs / unit);
        printf("RESULT %s_plain_best %.4f\n", key, (double)n / bp / unit);
        printf("RESULT %s_sockit_median %.4f\n", key, (double)n / ms / unit);
        printf("RESULT %s_plain_median %.4f\n", key, (double)n / mp / unit);
    }
    return 0;
}
