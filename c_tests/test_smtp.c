/* SMTP tests against aiosmtpd started by scripts/test-proto.sh (addresses in the
 * environment: SOCKIT_SMTP_PORT, SOCKIT_SMTP_SPOOL, ...). Also covers the generic
 * command/reply interface (sockit_tp) every line protocol uses. */
#include "check.h"
#include <stdlib.h>

static int env_port(const char *name) {
    const char *v = getenv(name);
    return v ? atoi(v) : 0;
}

/* The generic command/reply connection, by hand, through a whole SMTP dialogue. */
static void test_tp(int port) {
    sockit_tp *tp = NULL;
    sockit_buffer *reply = sockit_buffer_new();
    int code = 0;

    CHECK_OK(sockit_tp_connect("127.0.0.1", port, 10.0, &tp));
    CHECK(tp != NULL);
    CHECK_OK(sockit_tp_check(tp, "2..", &code, reply));
    CHECK(code == 220);
    CHECK(strncmp(sockit_buffer_cstr(reply), "220 ", 4) == 0);

    CHECK_OK(sockit_tp_command(tp, "ehlo", "client.test"));
    CHECK_OK(sockit_tp_check(tp, "250", &code, reply));
    CHECK(code == 250);
    /* multi-line reply: every line is there, the last one "250 ..." */
    CHECK(strstr(sockit_buffer_cstr(reply), "250-sockit.test\n") == sockit_buffer_cstr(reply));
    CHECK(strstr(sockit_buffer_cstr(reply), "\n250-AUTH LOGIN PLAIN\n") != NULL ||
          strstr(sockit_buffer_cstr(reply), "\n250 AUTH LOGIN PLAIN") != NULL);

    /* injection refused before anything is sent: the next reply is still in sync */
    CHECK_STATUS(sockit_tp_command(tp, "MAIL", "FROM:<a@b>\r\nRSET"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_tp_command(tp, "MAIL FROM", NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_tp_command(tp, NULL, NULL), SOCKIT_INVALID);

    /* a reply that does not match: PROTOCOL, code and text still delivered */
    CHECK_OK(sockit_tp_command(tp, "RCPT", "TO:<x@y>"));
    CHECK_STATUS(sockit_tp_check(tp, "2..", &code, reply), SOCKIT_PROTOCOL);
    CHECK(code == 503);
    CHECK(strncmp(sockit_last_error(), "503 ", 4) == 0);
    CHECK(strcmp(sockit_last_error(), sockit_buffer_cstr(reply)) == 0);
    CHECK_STATUS(sockit_tp_check(tp, "2x.", &code, reply), SOCKIT_INVALID);

    CHECK_OK(sockit_tp_command(tp, "NOOP", NULL));
    CHECK_OK(sockit_tp_check(tp, NULL, &code, NULL));
    CHECK(code == 250);

    sockit_buffer *ip = sockit_buffer_new();
    int peer_port = 0;
    CHECK_OK(sockit_tp_peer(tp, ip, &peer_port));
    CHECK(strcmp(sockit_buffer_cstr(ip), "127.0.0.1") == 0);
    CHECK(peer_port == port);
    sockit_buffer_free(ip);

    CHECK_OK(sockit_tp_command(tp, "QUIT", NULL));
    CHECK_OK(sockit_tp_check(tp, "221", &code, reply));
    /* the server closed: the next read reports it */
    CHECK_STATUS(sockit_tp_check(tp, NULL, &code, reply), SOCKIT_CLOSED);
    CHECK_OK(sockit_tp_close(tp));
    CHECK_OK(sockit_tp_close(tp));
    CHECK_STATUS(sockit_tp_command(tp, "NOOP", NULL), SOCKIT_CLOSED);
    sockit_tp_free(tp);
    sockit_tp_free(NULL);
    CHECK_STATUS(sockit_tp_command(tp, "NOOP", NULL), SOCKIT_INVALID); /* freed */
    sockit_buffer_free(reply);
}

static void test_tp_errors(void) {
    sockit_tp *tp = NULL;
    CHECK_STATUS(sockit_tp_connect(NULL, 25, 1.0, &tp), SOCKIT_INVALID);
    CHECK_STATUS(sockit_tp_connect("127.0.0.1", 70000, 1.0, &tp), SOCKIT_INVALID);
    CHECK_STATUS(sockit_tp_connect("127.0.0.1", 25, 1.0, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_tp_check(NULL, NULL, NULL, NULL), SOCKIT_INVALID);
    CHECK(tp == NULL);
}

int main(void) {
    int port = env_port("SOCKIT_SMTP_PORT");
    test_tp_errors();
    if (!port) {
        /* c_tests/run.sh runs every C test without servers; scripts/test-proto.sh runs
         * this one again with them. */
        printf("SOCKIT_SMTP_PORT is not set: server tests skipped (scripts/test-proto.sh runs them)\n");
        return check_done();
    }
    test_tp(port);
    return check_done();
}
