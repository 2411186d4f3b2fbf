/* SMTP tests against aiosmtpd started by scripts/test-proto.sh (addresses in the
 * environment: SOCKIT_SMTP_PORT, SOCKIT_SMTP_SPOOL, ...). Also covers the generic
 * command/reply interface (sockit_tp) every line protocol uses. */
#include "check.h"
#include <dirent.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static const char *spool;

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


/* Reads a whole file into `b` (cleared first); 0 on success. */
static int slurp(const char *path, sockit_buffer *b) {
    FILE *f = fopen(path, "rb");
    sockit_buffer_clear(b);
    if (!f) return -1;
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) sockit_buffer_append(b, chunk, n);
    fclose(f);
    return 0;
}

static int contains(sockit_buffer *b, const char *s) {
    size_t n = strlen(s), len = sockit_buffer_len(b);
    const uint8_t *d = sockit_buffer_data(b);
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (memcmp(d + i, s, n) == 0) return 1;
    return 0;
}

/* Finds the stored message whose bytes contain `marker` (waiting up to 2 s): its bytes
 * into `eml`, its envelope (JSON) into `json`. */
static int stored(const char *marker, sockit_buffer *eml, sockit_buffer *json) {
    for (int tries = 0; tries < 100; tries++) {
        DIR *d = opendir(spool);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            size_t len = strlen(e->d_name);
            if (len < 5 || strcmp(e->d_name + len - 5, ".json") != 0) continue;
            char path[1024];
            snprintf(path, sizeof path, "%s/%.*s.eml", spool, (int)(len - 5), e->d_name);
            if (slurp(path, eml) == 0 && contains(eml, marker)) {
                snprintf(path, sizeof path, "%s/%s", spool, e->d_name);
                slurp(path, json);
                closedir(d);
                return 1;
            }
        }
        if (d) closedir(d);
        usleep(20000);
    }
    return 0;
}

static int file_count(void) {
    int n = 0;
    DIR *d = opendir(spool);
    struct dirent *e;
    while (d && (e = readdir(d))) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}

static void test_send(int port, int auth_port, int helo_port, const char *user, const char *pass) {
    sockit_smtp *m = NULL;
    sockit_buffer *eml = sockit_buffer_new(), *json = sockit_buffer_new();
    const char *rcpt[] = {"<to@example.org>", "cc@example.org", "Hidden <bcc@example.org>"};
    const char *msg = "From: <from@example.org>\r\nTo: <to@example.org>\r\nSubject: c-send-1\r\n"
                      "\r\n.starts with a dot\r\n..two\r\n.\r\nlast line\r\n";

    CHECK_OK(sockit_smtp_new("127.0.0.1", port, &m));
    CHECK_OK(sockit_smtp_set_domain(m, "client.test"));
    CHECK_OK(sockit_smtp_set_timeout(m, 10, -1));
    CHECK_OK(sockit_smtp_send(m, "from@example.org", rcpt, 3, (const uint8_t *)msg, strlen(msg)));
    CHECK(stored("c-send-1", eml, json));
    CHECK_BUF_STR(eml, msg); /* byte for byte, the dot-stuffing undone by the server */
    CHECK(contains(json, "\"mail_from\": \"from@example.org\""));
    CHECK(contains(json, "\"rcpt_tos\": [\"to@example.org\", \"cc@example.org\", \"bcc@example.org\"]"));
    CHECK(contains(json, "\"helo\": \"client.test\""));
    CHECK(contains(json, "\"auth_user\": null"));

    /* refused before anything is sent */
    int before = file_count();
    const char *evil[] = {"to@example.org\r\nRCPT TO:<x@y>"};
    CHECK_STATUS(sockit_smtp_send(m, "a@b", evil, 1, (const uint8_t *)"x", 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_smtp_send(m, "a@b\nDATA", rcpt, 1, (const uint8_t *)"x", 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_smtp_send(m, "a@b", rcpt, 0, (const uint8_t *)"x", 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_smtp_send(m, "a@b", NULL, 2, (const uint8_t *)"x", 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_smtp_set_domain(m, "x\r\nMAIL"), SOCKIT_INVALID);
    CHECK(file_count() == before);

    /* 1.3b smtp_mail: headers + body, BCC to the one not in the headers */
    const char *names[] = {"to", "subject", "x-custom"};
    const char *values[] = {"fulano@example.org", "c-13b", "v"};
    const char *rc13[] = {"fulano@example.org", "sicrano@example.org"};
    CHECK_OK(sockit_smtp_mail(m, "luasocket@example.org", rc13, 2, names, values, 3,
                              (const uint8_t *)"line one\nline two\n", 18));
    CHECK(stored("c-13b", eml, json));
    CHECK_BUF_STR(eml, "To: fulano@example.org\r\nSubject: c-13b\r\nx-custom: v\r\n\r\nline one\r\nline two\r\n");
    CHECK(contains(json, "sicrano@example.org"));
    const char *bad_values[] = {"fulano@example.org", "c-13b\r\nBcc: evil@x", "v"};
    CHECK_STATUS(sockit_smtp_mail(m, "a@b", rc13, 2, names, bad_values, 3, NULL, 0), SOCKIT_INVALID);

    /* CGILua mail{} */
    CHECK_OK(sockit_smtp_mail_cgilua(m, "a@example.org, B <b@example.org>", "me@example.org",
                                     "c-cgilua", "the message", "c@example.org", "hidden@example.org"));
    CHECK(stored("c-cgilua", eml, json));
    CHECK(contains(eml, "Cc: c@example.org\r\n") && !contains(eml, "hidden"));
    CHECK(contains(json, "\"hidden@example.org\"]"));

    /* a multipart message with an attachment, composed and streamed as a source */
    size_t n = 300000;
    uint8_t *data = malloc(n);
    for (size_t i = 0; i < n; i++) data[i] = (uint8_t)(i * 13 + 7);
    sockit_mail_part *msgp = NULL, *text = NULL, *att = NULL;
    sockit_source *s1 = NULL, *s2 = NULL, *whole = NULL;
    CHECK_OK(sockit_mail_part_new(&msgp));
    CHECK_OK(sockit_mail_part_add_header(msgp, "subject", "c-mime"));
    CHECK_OK(sockit_mail_part_add_header(msgp, "to", "<to@example.org>"));
    CHECK_STATUS(sockit_mail_part_add_header(msgp, "to", "x\r\nBcc: y"), SOCKIT_INVALID);
    CHECK_OK(sockit_source_string((const uint8_t *)"caf\xc3\xa9\n", 6, &s1));
    CHECK_OK(sockit_mail_part_text(s1, NULL, &text));
    CHECK_OK(sockit_source_bytes(data, n, &s2));
    CHECK_OK(sockit_mail_part_attachment(s2, "application/octet-stream", "data.bin", &att));
    CHECK_OK(sockit_mail_part_set_text(msgp, 0, "This is a MIME message."));
    CHECK_OK(sockit_mail_part_add_part(msgp, text));
    CHECK_OK(sockit_mail_part_add_part(msgp, att));
    CHECK_OK(sockit_mail_message(msgp, &whole));
    uint64_t size = 0;
    CHECK_OK(sockit_smtp_send_source(m, "a@example.org", rcpt, 1, whole, &size));
    CHECK(size > n * 4 / 3);
    CHECK(stored("c-mime", eml, json));
    CHECK(contains(eml, "MIME-Version: 1.0\r\n"));
    CHECK(contains(eml, "Content-Type: multipart/mixed; boundary=\"=_sockit_"));
    CHECK(contains(eml, "\r\n\r\nThis is a MIME message.\r\n"));
    CHECK(contains(eml, "caf=C3=A9\r\n"));
    CHECK(contains(eml, "Content-Disposition: attachment; filename=\"data.bin\"\r\n"));
    /* decode the attachment back with the MIME filter and compare */
    {
        const char *start = strstr((const char *)sockit_buffer_cstr(eml), "filename=\"data.bin\"\r\n");
        CHECK(start != NULL);
        if (start) {
            start = strstr(start, "\r\n\r\n") + 4;
            const char *end = strstr(start, "\r\n--=_sockit_");
            sockit_filter *dec = NULL;
            sockit_buffer *back = sockit_buffer_new();
            CHECK_OK(sockit_filter_base64_decode(&dec));
            CHECK_OK(sockit_filter_put(dec, (const uint8_t *)start, (size_t)(end - start), back));
            CHECK(sockit_buffer_len(back) == n && memcmp(sockit_buffer_data(back), data, n) == 0);
            sockit_filter_free(dec);
            sockit_buffer_free(back);
        }
    }
    free(data);
    /* handles given away are gone */
    CHECK_STATUS(sockit_mail_part_add_header(text, "x", "y"), SOCKIT_INVALID);
    sockit_smtp_free(m);

    /* AUTH: required by this server; PLAIN with the right and wrong password */
    CHECK_OK(sockit_smtp_new("127.0.0.1", auth_port, &m));
    const char *msg2 = "Subject: c-auth\r\n\r\nhi\r\n";
    CHECK_STATUS(sockit_smtp_send(m, "a@x", rcpt, 1, (const uint8_t *)msg2, strlen(msg2)), SOCKIT_PROTOCOL);
    CHECK(strncmp(sockit_last_error(), "530", 3) == 0);
    CHECK_OK(sockit_smtp_set_auth(m, user, "wrong"));
    CHECK_STATUS(sockit_smtp_send(m, "a@x", rcpt, 1, (const uint8_t *)msg2, strlen(msg2)), SOCKIT_PROTOCOL);
    CHECK(strncmp(sockit_last_error(), "535", 3) == 0);
    CHECK_OK(sockit_smtp_set_auth(m, user, pass));
    CHECK_OK(sockit_smtp_send(m, "a@x", rcpt, 1, (const uint8_t *)msg2, strlen(msg2)));
    CHECK(stored("c-auth", eml, json));
    CHECK(contains(json, "\"auth_user\": \"sockit\""));
    sockit_smtp_free(m);

    /* EHLO refused: HELO */
    CHECK_OK(sockit_smtp_new("127.0.0.1", helo_port, &m));
    const char *msg3 = "Subject: c-helo\r\n\r\nhi\r\n";
    CHECK_OK(sockit_smtp_send(m, "a@x", rcpt, 1, (const uint8_t *)msg3, strlen(msg3)));
    CHECK(stored("c-helo", eml, json));
    CHECK(contains(json, "\"server\": \"helo\""));
    CHECK_OK(sockit_smtp_set_auth(m, "u", "p"));
    CHECK_STATUS(sockit_smtp_send(m, "a@x", rcpt, 1, (const uint8_t *)msg3, strlen(msg3)), SOCKIT_UNSUPPORTED);
    sockit_smtp_free(m);

    sockit_buffer_free(eml);
    sockit_buffer_free(json);
}

static void test_tp_errors(void) {
    sockit_tp *tp = NULL;
    sockit_smtp *m = NULL;
    sockit_mail_part *p = NULL;
    CHECK_STATUS(sockit_smtp_new(NULL, 25, &m), SOCKIT_INVALID);
    CHECK_STATUS(sockit_smtp_new("h", -1, &m), SOCKIT_INVALID);
    CHECK_OK(sockit_smtp_new("127.0.0.1", 1, &m));
    const char *r[] = {"a@b"};
    CHECK_STATUS(sockit_smtp_send(m, "a@b", r, 1, (const uint8_t *)"x", 1), SOCKIT_REFUSED);
    sockit_smtp_free(m);
    CHECK_OK(sockit_mail_part_new(&p));
    CHECK_OK(sockit_mail_part_set_body(p, (const uint8_t *)"x", 1));
    sockit_mail_part *child = NULL;
    CHECK_OK(sockit_mail_part_new(&child));
    CHECK_STATUS(sockit_mail_part_add_part(p, child), SOCKIT_INVALID); /* child taken anyway */
    CHECK_STATUS(sockit_mail_part_add_header(child, "a", "b"), SOCKIT_INVALID);
    sockit_mail_part_free(p);
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
    spool = getenv("SOCKIT_SMTP_SPOOL");
    const char *ap = getenv("SOCKIT_SMTP_AUTH_PORT"), *hp = getenv("SOCKIT_SMTP_HELO_PORT");
    const char *user = getenv("SOCKIT_SMTP_USER"), *pass = getenv("SOCKIT_SMTP_PASS");
    if (spool && ap && hp && user && pass) {
        test_send(port, atoi(ap), atoi(hp), user, pass);
    } else {
        fprintf(stderr, "SOCKIT_SMTP_* incomplete\n");
        check_failed++;
    }
    return check_done();
}
