/* The prefork server through the C API: argument checks, listeners (TCP with port 0, a
 * local socket replacing a stale one, intervals), the timeout calls, and a running
 * server in a child process: connections served by workers, a handler returning 0
 * recycles its worker, a failing and a crashing handler are replaced, intervals fire,
 * finish runs, SIGTERM stops everything with no worker left (checked by pid). */
#define _GNU_SOURCE
#include "check.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[256];

static void in_dir(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "%s/%s", dir, name);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- argument checks */

static int noop_connect(void *ud, sockit_socket *s, const char *interval) {
    (void)ud;
    (void)s;
    (void)interval;
    return 1;
}

static int freed_count = 0;
static void count_free(void *ud) {
    (void)ud;
    freed_count++;
}

static void test_arguments(void) {
    sockit_server *srv = NULL;
    sockit_server_pool *pool = NULL;
    size_t n = 99;
    int port = -1;

    CHECK_STATUS(sockit_server_new(NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_server_run(NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_server_pool_new(NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_server_pool_set(NULL, "pre_fork", 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_server_add_pool(NULL, NULL), SOCKIT_INVALID);
    sockit_server_free(NULL);
    sockit_server_pool_free(NULL);

    CHECK_OK(sockit_server_new(&srv));
    CHECK_OK(sockit_server_pool_count(srv, &n));
    CHECK(n == 0);
    /* No pool: run refuses at once. */
    CHECK_STATUS(sockit_server_run(srv), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "listen") != NULL);
    CHECK_OK(sockit_server_log(srv, SOCKIT_LOG_DEBUG, "not shown at the default level"));
    CHECK_STATUS(sockit_server_log(srv, SOCKIT_LOG_ERROR, NULL), SOCKIT_INVALID);

    CHECK_OK(sockit_server_pool_new(&pool));
    CHECK_STATUS(sockit_server_pool_set(pool, "pre_forks", 1), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "pre_forks") != NULL);
    CHECK_STATUS(sockit_server_pool_set(pool, "min_fork", -1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_server_pool_set(pool, "max_fork", 2.5), SOCKIT_INVALID);
    CHECK_STATUS(sockit_server_pool_set(pool, "fork_delay", -0.5), SOCKIT_INVALID);
    CHECK_STATUS(sockit_server_pool_set(pool, NULL, 1), SOCKIT_INVALID);
    CHECK_OK(sockit_server_pool_set(pool, "idle_time", 0));
    CHECK_OK(sockit_server_pool_set(pool, "memory_limit", 0));
    CHECK_STATUS(sockit_server_pool_listen_interval(pool, "t", 0, false), SOCKIT_INVALID);
    CHECK_STATUS(sockit_server_pool_listen_interval(pool, NULL, 1, false), SOCKIT_INVALID);
    CHECK_STATUS(sockit_server_pool_listen_tcp(pool, "127.0.0.1", 70000, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_server_pool_listen_tcp(pool, NULL, 0, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_server_pool_listen_local(pool, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_server_pool_set_handlers(pool, NULL, NULL, NULL, NULL, count_free),
                 SOCKIT_INVALID);
    CHECK(freed_count == 1); /* userdata released at once when the call fails */

    /* A port in use. */
    CHECK_OK(sockit_server_pool_listen_tcp(pool, "127.0.0.1", 0, &port));
    CHECK(port > 0);
    CHECK_STATUS(sockit_server_pool_listen_tcp(pool, "127.0.0.1", port, NULL), SOCKIT_ADDRINUSE);
    CHECK(strstr(sockit_last_error(), "127.0.0.1") != NULL);

    /* A plain file is not replaced by a local listener. */
    char path[512];
    in_dir(path, sizeof path, "plain");
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("keep", f);
        fclose(f);
    }
    CHECK_STATUS(sockit_server_pool_listen_local(pool, path), SOCKIT_ADDRINUSE);
    struct stat st;
    CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 4);

    /* No handlers: the pool is refused, and consumed all the same. */
    CHECK_STATUS(sockit_server_add_pool(srv, pool), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "connect handler") != NULL);
    CHECK_STATUS(sockit_server_pool_set(pool, "pre_fork", 1), SOCKIT_INVALID);

    /* Contradicting parameters are refused when the pool is added. */
    CHECK_OK(sockit_server_pool_new(&pool));
    CHECK_OK(sockit_server_pool_listen_interval(pool, "tick", 1, false));
    CHECK_OK(sockit_server_pool_set(pool, "min_fork", 5));
    CHECK_OK(sockit_server_pool_set(pool, "max_fork", 3));
    CHECK_OK(sockit_server_pool_set_handlers(pool, NULL, noop_connect, NULL, NULL, count_free));
    CHECK_STATUS(sockit_server_add_pool(srv, pool), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "min_fork") != NULL);
    CHECK(freed_count == 2);

    /* A pool with no listener. */
    CHECK_OK(sockit_server_pool_new(&pool));
    CHECK_OK(sockit_server_pool_set_handlers(pool, NULL, noop_connect, NULL, NULL, NULL));
    CHECK_STATUS(sockit_server_add_pool(srv, pool), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "listener") != NULL);

    /* A good pool is added; its userdata is released with the server. */
    CHECK_OK(sockit_server_pool_new(&pool));
    CHECK_OK(sockit_server_pool_listen_interval(pool, "tick", 1, true));
    CHECK_OK(sockit_server_pool_set_handlers(pool, NULL, noop_connect, NULL, NULL, count_free));
    CHECK_OK(sockit_server_add_pool(srv, pool));
    CHECK_OK(sockit_server_pool_count(srv, &n));
    CHECK(n == 1);
    sockit_server_free(srv);
    CHECK(freed_count == 3);
    CHECK_STATUS(sockit_server_pool_count(srv, &n), SOCKIT_INVALID);
}

static int in_timeout(void *ud) {
    double *left = (double *)ud;
    sockit_server_timeout_left(left);
    return 42;
}

static void test_timeout_calls(void) {
    double prev = -1, left = -1;
    int r = 0;
    CHECK_OK(sockit_server_timeout_left(&left));
    CHECK(left == 0);
    CHECK_OK(sockit_server_timeout(500, &prev));
    CHECK(prev == 0);
    CHECK_OK(sockit_server_timeout_left(&left));
    CHECK(left > 499 && left <= 500);
    /* A shorter sub-timer while the function runs, then the outer timer again. */
    CHECK_OK(sockit_server_timeout_call(100, in_timeout, &left, &r));
    CHECK(r == 42 && left > 99 && left <= 100);
    CHECK_OK(sockit_server_timeout_left(&left));
    CHECK(left > 498 && left <= 500);
    /* A longer one leaves the outer timer in charge. */
    CHECK_OK(sockit_server_timeout_call(1000, in_timeout, &left, NULL));
    CHECK(left > 498 && left <= 500);
    CHECK_OK(sockit_server_timeout(0, &prev));
    CHECK(prev > 498);
    CHECK_OK(sockit_server_timeout_left(&left));
    CHECK(left == 0);
    CHECK_STATUS(sockit_server_timeout(-1, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_server_timeout_call(1, NULL, NULL, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_server_timeout_left(NULL), SOCKIT_INVALID);
    bool stopping = true;
    CHECK_OK(sockit_server_stopping(&stopping));
    CHECK(!stopping);
}

/* ---------------------------------------------------------------- a running server */

/* Files the workers write to (each line is appended whole with O_APPEND). */
static char events_path[512], log_path[512], local_path[512];

static void append_line(const char *path, const char *line) {
    FILE *f = fopen(path, "a");
    if (f) {
        fprintf(f, "%s\n", line);
        fclose(f);
    }
}

static int app_prepare(void *ud) {
    (void)ud;
    char line[64];
    snprintf(line, sizeof line, "prepare %d", (int)getpid());
    append_line(events_path, line);
    return 0;
}

static int app_finish(void *ud) {
    (void)ud;
    char line[64];
    snprintf(line, sizeof line, "finish %d", (int)getpid());
    append_line(events_path, line);
    return 0;
}

/* Reads a line; answers "<pid> <line>". "quit" ends the worker, "fail" makes the
 * handler fail, "crash" kills the worker. */
static int app_connect(void *ud, sockit_socket *s, const char *interval) {
    (void)ud;
    if (interval) {
        char line[64];
        snprintf(line, sizeof line, "interval %s %d", interval, (int)getpid());
        append_line(events_path, line);
        return 1;
    }
    sockit_buffer *b = sockit_buffer_new();
    sockit_status st = sockit_socket_receive(s, SOCKIT_PATTERN_LINE, 0, NULL, 0, b);
    int ret = 1;
    if (st == SOCKIT_OK) {
        char reply[128];
        snprintf(reply, sizeof reply, "%d %s\n", (int)getpid(), sockit_buffer_cstr(b));
        sockit_socket_write(s, (const uint8_t *)reply, strlen(reply));
        if (strcmp(sockit_buffer_cstr(b), "quit") == 0)
            ret = 0;
        else if (strcmp(sockit_buffer_cstr(b), "fail") == 0) {
            sockit_socket_flush(s);
            sockit_callback_error("the handler was told to fail");
            ret = -1;
        } else if (strcmp(sockit_buffer_cstr(b), "crash") == 0) {
            sockit_socket_flush(s);
            sockit_buffer_free(b);
            abort();
        }
    }
    sockit_buffer_free(b);
    return ret;
}

static void log_to_file(void *ud, int level, const char *msg) {
    (void)ud;
    char line[1024];
    snprintf(line, sizeof line, "%d %s", level, msg);
    append_line(log_path, line);
}

/* The master, in a child process. Writes the TCP port to fd `report`. */
static void run_master(int report) {
    sockit_server *srv = NULL;
    sockit_server_pool *pool = NULL;
    int port = 0;
    if (sockit_server_new(&srv) || sockit_server_set_log(srv, log_to_file, NULL, NULL,
                                                         SOCKIT_LOG_DEBUG) ||
        sockit_server_pool_new(&pool) ||
        sockit_server_pool_listen_tcp(pool, "127.0.0.1", 0, &port) ||
        sockit_server_pool_listen_local(pool, local_path) ||
        sockit_server_pool_listen_interval(pool, "tick", 0.2, false) ||
        sockit_server_pool_set(pool, "min_fork", 2) || sockit_server_pool_set(pool, "max_fork", 4) ||
        sockit_server_pool_set(pool, "fork_delay", 0.01) ||
        sockit_server_pool_set(pool, "fork_error_delay", 0.05) ||
        sockit_server_pool_set_handlers(pool, app_prepare, app_connect, app_finish, NULL, NULL) ||
        sockit_server_add_pool(srv, pool)) {
        fprintf(stderr, "master setup: %s\n", sockit_last_error());
        _exit(3);
    }
    if (write(report, &port, sizeof port) != sizeof port)
        _exit(3);
    close(report);
    sockit_status st = sockit_server_run(srv);
    sockit_server_free(srv);
    exit(st == SOCKIT_OK ? 0 : 4);
}

/* Sends a line over a new connection, returns the answering worker's pid (0 on error). */
static int ask(sockit_socket *s, const char *line, char *answer, size_t n) {
    sockit_buffer *b = sockit_buffer_new();
    int pid = 0;
    char msg[64];
    snprintf(msg, sizeof msg, "%s\n", line);
    sockit_socket_settimeout(s, 30, "b");
    if (sockit_socket_send(s, (const uint8_t *)msg, strlen(msg), NULL) == SOCKIT_OK &&
        sockit_socket_receive(s, SOCKIT_PATTERN_LINE, 0, NULL, 0, b) == SOCKIT_OK) {
        pid = atoi(sockit_buffer_cstr(b));
        if (answer)
            snprintf(answer, n, "%s", sockit_buffer_cstr(b));
    }
    sockit_buffer_free(b);
    return pid;
}

static int ask_tcp(int port, const char *line) {
    sockit_socket *s = NULL;
    int pid = 0;
    if (sockit_tcp_connect("127.0.0.1", port, NULL, 0, SOCKIT_FAMILY_INET, 30, &s) == SOCKIT_OK)
        pid = ask(s, line, NULL, 0);
    sockit_socket_free(s);
    return pid;
}

static int count_lines(const char *path, const char *prefix) {
    FILE *f = fopen(path, "r");
    char line[1024];
    int n = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, prefix, strlen(prefix)) == 0)
            n++;
    fclose(f);
    return n;
}

static int file_has(const char *path, const char *text) {
    FILE *f = fopen(path, "r");
    char line[1024];
    int found = 0;
    if (!f)
        return 0;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, text) != NULL;
    fclose(f);
    return found;
}

static int gone(int pid) {
    return kill(pid, 0) == -1 && errno == ESRCH;
}

static void test_running_server(void) {
    in_dir(events_path, sizeof events_path, "events");
    in_dir(log_path, sizeof log_path, "log");
    in_dir(local_path, sizeof local_path, "srv.sock");
    /* A stale socket file where the local listener goes: it is replaced. */
    {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un a;
        memset(&a, 0, sizeof a);
        a.sun_family = AF_UNIX;
        strncpy(a.sun_path, local_path, sizeof a.sun_path - 1);
        CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
        close(fd);
    }
    int pipefd[2];
    CHECK(pipe(pipefd) == 0);
    fflush(NULL);
    pid_t master = fork();
    if (master == 0) {
        close(pipefd[0]);
        run_master(pipefd[1]);
    }
    close(pipefd[1]);
    int port = 0;
    CHECK(read(pipefd[0], &port, sizeof port) == sizeof port);
    close(pipefd[0]);
    CHECK(port > 0);

    int pids[64], npids = 0;
    /* Connections over TCP and over the local socket are answered by workers. */
    int a = ask_tcp(port, "hello");
    CHECK(a > 0 && a != master);
    pids[npids++] = a;
    sockit_socket *u = NULL;
    char answer[128] = "";
    CHECK_OK(sockit_unix_connect(local_path, &u));
    int b = ask(u, "over unix", answer, sizeof answer);
    CHECK(b > 0 && strstr(answer, " over unix") != NULL);
    sockit_socket_free(u);
    pids[npids++] = b;

    /* Many connections in a row, all served. */
    int served = 0;
    for (int i = 0; i < 20; i++)
        served += ask_tcp(port, "again") > 0;
    CHECK(served == 20);

    /* "quit": the handler returns 0, the worker ends; later ones are other workers. */
    int q = ask_tcp(port, "quit");
    CHECK(q > 0);
    pids[npids++] = q;
    double t0 = now();
    while (!gone(q) && now() - t0 < 20)
        usleep(20000);
    CHECK_WHY(gone(q), "the worker whose handler returned 0 is still there");
    for (int i = 0; i < 5; i++) {
        int p = ask_tcp(port, "after quit");
        CHECK(p > 0 && p != q);
        if (p > 0 && npids < 60)
            pids[npids++] = p;
    }

    /* A failing handler and a crashing worker: the server goes on. */
    int fpid = ask_tcp(port, "fail");
    CHECK(fpid > 0);
    int cpid = ask_tcp(port, "crash");
    CHECK(cpid > 0);
    pids[npids++] = fpid;
    pids[npids++] = cpid;
    t0 = now();
    while ((!gone(fpid) || !gone(cpid)) && now() - t0 < 20)
        usleep(20000);
    CHECK(gone(fpid) && gone(cpid));
    served = 0;
    for (int i = 0; i < 5; i++) {
        int p = ask_tcp(port, "still there");
        served += p > 0 && p != fpid && p != cpid;
        if (p > 0 && npids < 60)
            pids[npids++] = p;
    }
    CHECK(served == 5);

    /* The interval fired, in workers. */
    t0 = now();
    while (count_lines(events_path, "interval tick ") < 3 && now() - t0 < 30)
        usleep(50000);
    CHECK(count_lines(events_path, "interval tick ") >= 3);
    CHECK(count_lines(events_path, "prepare ") >= 3);
    /* The worker that quit ran finish; the failed and crashed ones did not. */
    char fin[64];
    snprintf(fin, sizeof fin, "finish %d", q);
    CHECK(file_has(events_path, fin));
    snprintf(fin, sizeof fin, "finish %d", fpid);
    CHECK(!file_has(events_path, fin));
    CHECK(file_has(log_path, "the handler was told to fail"));
    CHECK(file_has(log_path, "died from signal 6"));
    CHECK(file_has(log_path, "listening on TCP 127.0.0.1 port"));

    /* SIGTERM: the master stops, every worker is gone, the local socket file too. */
    CHECK(kill(master, SIGTERM) == 0);
    int status = -1;
    t0 = now();
    pid_t w = 0;
    while ((w = waitpid(master, &status, WNOHANG)) == 0 && now() - t0 < 60)
        usleep(20000);
    CHECK(w == master);
    if (w != master) {
        kill(master, SIGKILL);
        waitpid(master, &status, 0);
    }
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    int alive = 0;
    for (int i = 0; i < npids; i++)
        alive += !gone(pids[i]);
    CHECK_WHY(alive == 0, "a worker outlived the master");
    struct stat st;
    CHECK(lstat(local_path, &st) != 0);
    CHECK(file_has(log_path, "all workers have ended"));
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/sockit-server-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_arguments();
    test_timeout_calls();
    test_running_server();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_done();
}
