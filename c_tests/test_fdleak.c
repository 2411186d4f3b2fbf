/* Descriptor leaks: 10,000 connect / accept / close cycles (plus refused connects,
 * non-blocking connects, Unix sockets and failed calls) leave the number of entries in
 * /proc/self/fd unchanged. SOCKIT_FDLEAK_CYCLES overrides the count. */
#define _GNU_SOURCE
#include "check.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static int count_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') n++;
    }
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

int main(void) {
    int cycles = 10000;
    const char *env = getenv("SOCKIT_FDLEAK_CYCLES");
    if (env && atoi(env) > 0) cycles = atoi(env);

    char dir[256], path[512];
    snprintf(dir, sizeof dir, "%s/sockit-fdleak-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/l", dir);

    uint16_t port = 0, closed = 0;
    sockit_socket *srv = NULL, *usrv = NULL, *tmp = NULL;
    CHECK_OK(sockit_tcp_bind("127.0.0.1", 0, 64, &srv));
    CHECK_OK(sockit_socket_getsockname(srv, NULL, &port, NULL));
    CHECK_OK(sockit_tcp_bind("127.0.0.1", 0, 1, &tmp));
    CHECK_OK(sockit_socket_getsockname(tmp, NULL, &closed, NULL));
    sockit_socket_free(tmp);
    CHECK_OK(sockit_unix_listen(path, 64, &usrv));
    sockit_buffer *b = sockit_buffer_new();
    sockit_pollset *set = sockit_pollset_new();

    int before = count_fds();
    CHECK(before > 0);
    int failures = 0;
    double t0 = sockit_gettime();
    for (int i = 0; i < cycles; i++) {
        sockit_socket *c = NULL, *a = NULL;
        sockit_status st;
        switch (i % 5) {
        case 0: /* blocking connect, exchange, close both */
        case 1:
            st = sockit_tcp_connect("127.0.0.1", port, NULL, 0, SOCKIT_FAMILY_INET, 5.0, &c);
            if (st == SOCKIT_OK) st = sockit_socket_accept(srv, &a);
            if (st == SOCKIT_OK)
                st = sockit_socket_send(c, (const uint8_t *)"x", 1, NULL);
            if (st == SOCKIT_OK)
                st = sockit_socket_receive(a, SOCKIT_PATTERN_COUNT, 1, NULL, 0, b);
            if (st != SOCKIT_OK) failures++;
            if (i % 2) {
                sockit_socket_close(c); /* close, then free */
                sockit_socket_close(a);
            }
            break;
        case 2: /* refused, and a bad argument */
            if (sockit_tcp_connect("127.0.0.1", closed, NULL, 0, 0, 5.0, &c) != SOCKIT_REFUSED)
                failures++;
            if (sockit_tcp_connect("127.0.0.1", 70000, NULL, 0, 0, 5.0, &c) != SOCKIT_INVALID)
                failures++;
            break;
        case 3: /* non-blocking connect, accepted through a poll set, reset */
            st = sockit_tcp_connect_nb("127.0.0.1", port, &c);
            if (st == SOCKIT_OK) {
                sockit_pollset_clear(set);
                sockit_pollset_add_socket(set, srv, SOCKIT_POLL_IN, NULL);
                st = sockit_pollset_wait(set, 5, NULL);
            }
            if (st == SOCKIT_OK) st = sockit_socket_accept_nb(srv, &a);
            if (st != SOCKIT_OK) failures++;
            sockit_socket_reset(c);
            break;
        case 4: /* Unix connect / accept; a master that never gets used */
            st = sockit_unix_connect(path, &c);
            if (st == SOCKIT_OK) st = sockit_socket_accept(usrv, &a);
            if (st != SOCKIT_OK) failures++;
            sockit_socket *m = NULL;
            if (sockit_tcp_new(SOCKIT_FAMILY_INET, &m) != SOCKIT_OK) failures++;
            sockit_socket_free(m);
            break;
        }
        sockit_socket_free(c);
        sockit_socket_free(a);
        if (failures > 10) break;
    }
    double dt = sockit_gettime() - t0;
    int after = count_fds();
    printf("%d cycles in %.2f s: %d descriptors before, %d after\n", cycles, dt, before, after);
    CHECK(failures == 0);
    CHECK(after == before);

    sockit_pollset_free(set);
    sockit_buffer_free(b);
    sockit_socket_free(srv);
    sockit_socket_free(usrv);
    unlink(path);
    rmdir(dir);
    return check_done();
}
