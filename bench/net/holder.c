/*
 * holder.c: the far end of the select benchmark's sockets, in a process of its own so
 * the process under test holds nothing but the sockets it selects on.
 *
 *   holder            listens on 127.0.0.1 (port chosen by the system), prints
 *                     "PORT <n>" and then serves until SIGTERM (or 15 minutes pass)
 *
 * It accepts every connection and keeps it open; whatever a connection sends comes back
 * (so a client makes one of its sockets "active" by sending a byte on it and not reading
 * the echo). A connection the client closes is closed here too. poll(2), no size limit.
 */
#include "common.h"

#include <poll.h>

#define MAX_FDS 20000

int main(void)
{
    static struct pollfd fds[MAX_FDS];
    nfds_t n = 1;
    uint16_t port = 0;
    char buf[4096];

    raise_nofile(MAX_FDS + 16);
    signal(SIGPIPE, SIG_IGN);
    alarm(900);
    fds[0].fd = plain_listen(&port);
    fds[0].events = POLLIN;
    printf("PORT %u\n", port);
    fflush(stdout);

    for (;;) {
        int ready = poll(fds, n, -1);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            die("holder poll: %s", strerror(errno));
        }
        for (nfds_t i = n; i-- > 1;) {
            ssize_t r;
            if (!fds[i].revents)
                continue;
            r = read(fds[i].fd, buf, sizeof buf);
            if (r > 0) {
                if (write_all(fds[i].fd, buf, (size_t)r) == 0)
                    continue;
            } else if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
                continue;
            }
            close(fds[i].fd); /* end of stream or error: drop the connection */
            fds[i] = fds[--n];
        }
        if (fds[0].revents & POLLIN) {
            int c = accept(fds[0].fd, NULL, NULL);
            if (c >= 0 && n < MAX_FDS) {
                fds[n].fd = c;
                fds[n].events = POLLIN;
                fds[n].revents = 0;
                n++;
            } else if (c >= 0) {
                close(c);
            }
        }
    }
}
