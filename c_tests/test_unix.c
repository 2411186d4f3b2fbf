/* Unix-domain stream sockets through the C API: Moonbridge's localconnect / locallisten
 * (with the stale-socket rule), LuaSocket's unix master, names, finish, bad paths.
 * Everything lives in a fresh temporary directory. */
#define _GNU_SOURCE
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static char dir[256];

static const char *in_dir(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "%s/%s", dir, name);
    return buf;
}

static int is_socket_file(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* Leaves a stale socket file at path (bound, then closed without unlinking). */
static void make_stale_socket(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    close(fd);
}

static void test_listen_connect_talk(void) {
    char path[512];
    in_dir(path, sizeof path, "srv");
    sockit_socket *l = NULL, *c = NULL, *a = NULL, *d = NULL, *e = NULL;
    sockit_buffer *b = sockit_buffer_new();
    sockit_family fam = SOCKIT_FAMILY_ANY;
    sockit_state state;
    uint16_t port = 99;
    sockit_read_end end;
    size_t n = 0;

    CHECK_OK(sockit_unix_listen(path, -1, &l));
    CHECK(is_socket_file(path));
    CHECK_OK(sockit_socket_state(l, &state));
    CHECK(state == SOCKIT_STATE_SERVER);
    CHECK_OK(sockit_socket_family(l, &fam));
    CHECK(fam == SOCKIT_FAMILY_UNIX);
    CHECK_OK(sockit_socket_getsockname(l, b, &port, &fam));
    CHECK(strcmp(sockit_buffer_cstr(b), path) == 0);
    CHECK(port == 0 && fam == SOCKIT_FAMILY_UNIX);

    CHECK_OK(sockit_unix_connect(path, &c));
    CHECK_OK(sockit_socket_accept(l, &a));
    CHECK_OK(sockit_socket_getpeername(c, b, NULL, &fam));
    CHECK(strcmp(sockit_buffer_cstr(b), path) == 0);
    CHECK_OK(sockit_socket_getsockname(c, b, NULL, NULL));
    CHECK_BUF_STR(b, ""); /* an unnamed client */
    CHECK_STATUS(sockit_socket_local_ip_raw(c, b, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_remote_ip_raw(a, b, NULL), SOCKIT_INVALID);

    /* LuaSocket patterns and Moonbridge reads over a Unix socket. */
    size_t sent = 0;
    CHECK_OK(sockit_socket_send(c, (const uint8_t *)"hello\nbin\0ary", 13, &sent));
    CHECK(sent == 13);
    CHECK_OK(sockit_socket_receive(a, SOCKIT_PATTERN_LINE, 0, NULL, 0, b));
    CHECK_BUF_STR(b, "hello");
    CHECK_OK(sockit_socket_read(a, 7, -1, b, &end));
    CHECK_BUF(b, "bin\0ary", 7);
    CHECK(end == SOCKIT_READ_MAXLEN);

    /* Moonbridge finish on a Unix socket: the peer reads EOF; our reads see EOF too. */
    CHECK_OK(sockit_socket_write(a, (const uint8_t *)"reply", 5));
    CHECK_OK(sockit_socket_finish(a));
    CHECK_OK(sockit_socket_settimeout(c, 5, "t"));
    CHECK_OK(sockit_socket_receive(c, SOCKIT_PATTERN_ALL, 0, NULL, 0, b));
    CHECK_BUF_STR(b, "reply");
    CHECK_OK(sockit_socket_drain(a, SIZE_MAX, -1, &n, &end));
    CHECK(end == SOCKIT_READ_EOF);

    /* connect_nb completes at once for Unix sockets. */
    CHECK_OK(sockit_unix_connect_nb(path, &d));
    CHECK_OK(sockit_socket_accept_nb(l, &e));
    CHECK_OK(sockit_socket_write_nb(d, (const uint8_t *)"nb", 2, &n));
    CHECK_OK(sockit_socket_flush(d));
    CHECK_OK(sockit_socket_receive(e, SOCKIT_PATTERN_COUNT, 2, NULL, 0, b));
    CHECK_BUF_STR(b, "nb");
    sockit_socket *none = NULL;
    CHECK_STATUS(sockit_socket_accept_nb(l, &none), SOCKIT_WOULDBLOCK);

    /* Closing the listener does not remove its file. */
    CHECK_OK(sockit_socket_close(l));
    CHECK_OK(sockit_socket_close(l));
    CHECK(is_socket_file(path));
    CHECK_STATUS(sockit_unix_connect(path, &none), SOCKIT_REFUSED);
    CHECK(none == NULL);
    sockit_socket_free(l);
    sockit_socket_free(c);
    sockit_socket_free(a);
    sockit_socket_free(d);
    sockit_socket_free(e);
    unlink(path);
    sockit_buffer_free(b);
}

static void test_stale_socket_rule(void) {
    char path[512], file[512], sub[512], link_path[512];
    sockit_socket *l = NULL, *c = NULL, *a = NULL;

    /* A stale socket file is replaced. */
    in_dir(path, sizeof path, "stale");
    make_stale_socket(path);
    CHECK(is_socket_file(path));
    CHECK_STATUS(sockit_unix_connect(path, &c), SOCKIT_REFUSED);
    CHECK_OK(sockit_unix_listen(path, 4, &l));
    CHECK_OK(sockit_unix_connect(path, &c));
    CHECK_OK(sockit_socket_accept(l, &a));
    sockit_socket_free(a);
    sockit_socket_free(c);
    /* Even one a live listener holds (Moonbridge removes any socket file). */
    sockit_socket *l2 = NULL;
    CHECK_OK(sockit_unix_listen(path, 4, &l2));
    sockit_socket_free(l2);
    sockit_socket_free(l);
    unlink(path);

    /* A regular file is never removed. */
    in_dir(file, sizeof file, "regular");
    FILE *f = fopen(file, "w");
    fputs("keep me", f);
    fclose(f);
    l = (sockit_socket *)&l;
    CHECK_STATUS(sockit_unix_listen(file, 4, &l), SOCKIT_ADDRINUSE);
    CHECK(l == NULL);
    CHECK(strstr(sockit_last_error(), "not a socket") != NULL);
    char got[16] = {0};
    f = fopen(file, "r");
    CHECK(f != NULL && fgets(got, sizeof got, f) != NULL);
    if (f) fclose(f);
    CHECK(strcmp(got, "keep me") == 0);

    /* Nor a directory, nor a symbolic link (even to a socket). */
    in_dir(sub, sizeof sub, "subdir");
    CHECK(mkdir(sub, 0700) == 0);
    CHECK_STATUS(sockit_unix_listen(sub, 4, &l), SOCKIT_ADDRINUSE);
    struct stat st;
    CHECK(stat(sub, &st) == 0 && S_ISDIR(st.st_mode));
    in_dir(path, sizeof path, "target");
    make_stale_socket(path);
    in_dir(link_path, sizeof link_path, "link");
    CHECK(symlink(path, link_path) == 0);
    CHECK_STATUS(sockit_unix_listen(link_path, 4, &l), SOCKIT_ADDRINUSE);
    CHECK(is_socket_file(path));
    unlink(link_path);
    unlink(path);
    rmdir(sub);
    unlink(file);
}

static void test_unix_master(void) {
    char path[512];
    in_dir(path, sizeof path, "master");
    sockit_socket *m = NULL, *c = NULL, *a = NULL, *x = NULL;
    sockit_state state;
    sockit_family fam;
    int fd = -1;

    CHECK_OK(sockit_unix_new(&m));
    CHECK_OK(sockit_socket_family(m, &fam));
    CHECK(fam == SOCKIT_FAMILY_UNIX);
    CHECK_OK(sockit_socket_getfd(m, &fd));
    CHECK(fd >= 0);
    CHECK_STATUS(sockit_socket_bind(m, "127.0.0.1", 0), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_connect(m, "127.0.0.1", 1), SOCKIT_INVALID);
    CHECK_OK(sockit_socket_bind_path(m, path));
    CHECK_OK(sockit_socket_listen(m, 8));
    CHECK_OK(sockit_socket_state(m, &state));
    CHECK(state == SOCKIT_STATE_SERVER);

    CHECK_OK(sockit_unix_new(&c));
    CHECK_OK(sockit_socket_settimeout(c, 2, NULL));
    CHECK_OK(sockit_socket_connect_path(c, path));
    CHECK_OK(sockit_socket_state(c, &state));
    CHECK(state == SOCKIT_STATE_CLIENT);
    CHECK_OK(sockit_socket_accept(m, &a));

    /* bind_path does not remove an existing file. */
    CHECK_OK(sockit_unix_new(&x));
    CHECK_STATUS(sockit_socket_bind_path(x, path), SOCKIT_ADDRINUSE);
    CHECK_STATUS(sockit_socket_bind_path(x, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_socket_connect_path(x, NULL), SOCKIT_INVALID);
    sockit_socket_free(x);
    sockit_socket_free(a);
    sockit_socket_free(c);
    sockit_socket_free(m);
    unlink(path);
}

static void test_bad_paths(void) {
    char path[512], longp[512];
    sockit_socket *s = (sockit_socket *)&s;
    in_dir(path, sizeof path, "missing");
    CHECK_STATUS(sockit_unix_connect(path, &s), SOCKIT_SYSTEM);
    CHECK(s == NULL);
    CHECK(strstr(sockit_last_error(), "missing") != NULL);
    CHECK(sockit_unix_connect_nb(path, &s) != SOCKIT_OK);
    CHECK_STATUS(sockit_unix_connect(NULL, &s), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unix_connect_nb(NULL, &s), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unix_listen(NULL, 1, &s), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unix_connect(path, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unix_listen(path, 1, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unix_connect("", &s), SOCKIT_INVALID);
    CHECK_STATUS(sockit_unix_listen("", 1, &s), SOCKIT_INVALID);
    memset(longp, 'x', 200);
    longp[200] = 0;
    CHECK_STATUS(sockit_unix_listen(longp, 1, &s), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "107") != NULL);
    CHECK_STATUS(sockit_unix_connect(longp, &s), SOCKIT_INVALID);
    CHECK(s == NULL);
}

int main(void) {
    snprintf(dir, sizeof dir, "%s/sockit-unix-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_listen_connect_talk();
    test_stale_socket_rule();
    test_unix_master();
    test_bad_paths();
    rmdir(dir);
    return check_done();
}
