/* SMTP tests against aiosmtpd started by scripts/test-proto.sh (addresses in the
 * environment: SOCKIT_SMTP_PORT, SOCKIT_SMTP_SPOOL, ...). Also covers the generic
 * command/reply interface (sockit_tp) every line protocol uses. */
#include "check.h"
#include <dirent.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static const char *spool;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}


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

/* A whole SMTP transaction by hand: the message goes out with sockit_tp_send (dot-stuffed
 * by the caller, in pieces cut at awkward places), and aiosmtpd stores it byte for byte;
 * then sockit_tp_settimeout against a server that has nothing to say. */
static void test_tp_send_and_timeouts(int port) {
    sockit_tp *tp = NULL;
    sockit_buffer *reply = sockit_buffer_new(), *eml = sockit_buffer_new(), *json = sockit_buffer_new();
    int code = 0;
    double t0, dt;
    /* as sent (dot-stuffed) and as the server must store it */
    const char *wire = "Subject: c-tp-send\r\nX-Raw: yes\r\n\r\nfirst line\r\n"
                       "..dot line\r\n..\r\n...\r\nbinary \x01\x7f\xfe end\r\nlast\r\n";
    const char *want = "Subject: c-tp-send\r\nX-Raw: yes\r\n\r\nfirst line\r\n"
                       ".dot line\r\n.\r\n..\r\nbinary \x01\x7f\xfe end\r\nlast\r\n";
    size_t n = strlen(wire), from = 0;

    CHECK_OK(sockit_tp_connect("127.0.0.1", port, 10.0, &tp));
    CHECK_OK(sockit_tp_check(tp, "220", &code, reply));
    CHECK_OK(sockit_tp_command(tp, "EHLO", "tp.test"));
    CHECK_OK(sockit_tp_check(tp, "250", &code, NULL));
    CHECK_OK(sockit_tp_command(tp, "MAIL", "FROM:<tp@example.org>"));
    CHECK_OK(sockit_tp_check(tp, "250", &code, NULL));
    CHECK_OK(sockit_tp_command(tp, "RCPT", "TO:<to@example.org>"));
    CHECK_OK(sockit_tp_check(tp, "250", &code, NULL));
    CHECK_OK(sockit_tp_command(tp, "DATA", NULL));
    CHECK_OK(sockit_tp_check(tp, "354", &code, NULL));
    /* one send per piece, cut before every LF (so between CR and LF) and every dot */
    for (size_t i = 1; i <= n; i++) {
        if (i == n || wire[i] == '\n' || wire[i] == '.') {
            CHECK_OK(sockit_tp_send(tp, (const uint8_t *)wire + from, i - from));
            from = i;
        }
    }
    CHECK_OK(sockit_tp_send(tp, (const uint8_t *)".", 1));
    CHECK_OK(sockit_tp_send(tp, (const uint8_t *)"\r\n", 2));
    CHECK_OK(sockit_tp_check(tp, "250", &code, reply));
    CHECK(code == 250);
    CHECK(stored("c-tp-send", eml, json));
    CHECK_BUF_STR(eml, want);
    CHECK(contains(json, "\"mail_from\": \"tp@example.org\""));
    CHECK(contains(json, "\"helo\": \"tp.test\""));

    /* raw bytes carry commands too: two pipelined in one send, two replies in order */
    CHECK_OK(sockit_tp_send(tp, (const uint8_t *)"RSET\r\nNOOP\r\n", 12));
    CHECK_OK(sockit_tp_check(tp, "250", &code, reply));
    CHECK_OK(sockit_tp_check(tp, "250", &code, reply));

    /* the server has nothing more to say: the block timeout ends the wait */
    CHECK_OK(sockit_tp_settimeout(tp, 0.3, -1));
    t0 = now();
    CHECK_STATUS(sockit_tp_check(tp, NULL, &code, reply), SOCKIT_TIMEOUT);
    dt = now() - t0;
    CHECK(dt >= 0.25 && dt < 3.0);
    /* and the dialogue is still in step */
    CHECK_OK(sockit_tp_command(tp, "NOOP", NULL));
    CHECK_OK(sockit_tp_check(tp, "250", &code, reply));
    /* a total timeout covers every wait from the call on: a reply within it is fine,
     * the next wait gets only what is left */
    CHECK_OK(sockit_tp_settimeout(tp, -1, 1.0));
    CHECK_OK(sockit_tp_command(tp, "NOOP", NULL));
    CHECK_OK(sockit_tp_check(tp, "250", &code, reply));
    sockit_sleep(0.6);
    t0 = now();
    CHECK_STATUS(sockit_tp_check(tp, NULL, &code, reply), SOCKIT_TIMEOUT);
    dt = now() - t0;
    CHECK(dt < 0.7);
    /* a new setting restarts the clock */
    CHECK_OK(sockit_tp_settimeout(tp, 10, -1));
    CHECK_OK(sockit_tp_command(tp, "QUIT", NULL));
    CHECK_OK(sockit_tp_check(tp, "221", &code, reply));
    sockit_tp_free(tp);
    sockit_buffer_free(reply);
    sockit_buffer_free(eml);
    sockit_buffer_free(json);
}

/* Source callback: hands out the NULL-terminated list of strings `ud` points to. */
static int pieces_cb(void *ud, sockit_buffer *chunk, bool *end) {
    const char ***next = ud;
    if (!**next) {
        *end = true;
        return SOCKIT_OK;
    }
    const char *p = *(*next)++;
    return sockit_buffer_append(chunk, (const uint8_t *)p, strlen(p));
}

/* Source callback: one chunk, then a failure. */
static int failing_cb(void *ud, sockit_buffer *chunk, bool *end) {
    int *calls = ud;
    (void)end;
    if ((*calls)++ == 0) {
        const char *first = "Subject: c-fail\r\n\r\npartial\r\n";
        return sockit_buffer_append(chunk, (const uint8_t *)first, strlen(first));
    }
    sockit_callback_error("the body source broke");
    return SOCKIT_ABORTED;
}

/* sockit_mail_part_set_body_source: the source's bytes are the body the server stores. */
static void test_body_source(int port) {
    sockit_smtp *m = NULL;
    sockit_mail_part *msgp = NULL, *child = NULL;
    sockit_source *src = NULL, *whole = NULL;
    sockit_buffer *eml = sockit_buffer_new(), *json = sockit_buffer_new(), *want = sockit_buffer_new();
    const char *rcpt[] = {"<to@example.org>"};
    uint64_t size = 0;

    CHECK_OK(sockit_smtp_new("127.0.0.1", port, &m));
    CHECK_OK(sockit_smtp_set_timeout(m, 10, -1));

    /* a top-level body from a callback source whose chunks cut lines (and a lone ".")
     * apart: the client dot-stuffs across chunks, the server undoes it */
    static const char *chunks[] = {"line one\r\n", ".leading dot\r", "\n.", "\r\n..two\r\n",
                                   "\r\n.", "\r", "\n", "last line\r\n", NULL};
    const char **next = chunks;
    CHECK_OK(sockit_mail_part_new(&msgp));
    CHECK_OK(sockit_mail_part_add_header(msgp, "subject", "c-body-source"));
    CHECK_OK(sockit_mail_part_add_header(msgp, "date", "Thu, 01 Jan 1970 00:00:00 +0000"));
    CHECK_OK(sockit_mail_part_add_header(msgp, "x-mailer", "c-test"));
    CHECK_OK(sockit_mail_part_set_body(msgp, (const uint8_t *)"replaced body\r\n", 15));
    CHECK_OK(sockit_source_callback(pieces_cb, &next, NULL, &src));
    CHECK_OK(sockit_mail_part_set_body_source(msgp, src));
    CHECK_OK(sockit_mail_message(msgp, &whole));
    CHECK_OK(sockit_smtp_send_source(m, "a@example.org", rcpt, 1, whole, &size));
    sockit_buffer_clear(want);
    const char *head = "Subject: c-body-source\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\n"
                       "X-Mailer: c-test\r\nMIME-Version: 1.0\r\n\r\n";
    sockit_buffer_append(want, (const uint8_t *)head, strlen(head));
    for (int i = 0; chunks[i]; i++) sockit_buffer_append(want, (const uint8_t *)chunks[i], strlen(chunks[i]));
    CHECK(size == sockit_buffer_len(want));
    CHECK(stored("Subject: c-body-source\r\n", eml, json));
    CHECK(sockit_buffer_len(eml) == sockit_buffer_len(want) &&
          memcmp(sockit_buffer_data(eml), sockit_buffer_data(want), sockit_buffer_len(want)) == 0);
    CHECK(!contains(eml, "replaced body"));

    /* a subpart's body from a large byte source, streamed as it is */
    size_t n = 200000;
    uint8_t *data = malloc(n);
    for (size_t i = 0; i < n; i++) {
        size_t k = i % 50;
        data[i] = k == 48 ? '\r' : k == 49 ? '\n' : k == 0 && i % 150 == 0 ? '.' : (uint8_t)('a' + i % 26);
    }
    CHECK_OK(sockit_mail_part_new(&msgp));
    CHECK_OK(sockit_mail_part_add_header(msgp, "subject", "c-body-source-part"));
    CHECK_OK(sockit_mail_part_new(&child));
    CHECK_OK(sockit_mail_part_add_header(child, "content-type", "text/plain"));
    CHECK_OK(sockit_source_bytes(data, n, &src));
    CHECK_OK(sockit_mail_part_set_body_source(child, src));
    CHECK_OK(sockit_mail_part_add_part(msgp, child));
    CHECK_OK(sockit_mail_message(msgp, &whole));
    CHECK_OK(sockit_smtp_send_source(m, "a@example.org", rcpt, 1, whole, NULL));
    CHECK(stored("c-body-source-part", eml, json));
    {
        const char *t = (const char *)sockit_buffer_data(eml);
        const char *start = strstr(t, "Content-Type: text/plain\r\n\r\n");
        CHECK(start != NULL);
        if (start) {
            start += strlen("Content-Type: text/plain\r\n\r\n");
            size_t left = sockit_buffer_len(eml) - (size_t)(start - t);
            CHECK(left > n && memcmp(start, data, n) == 0);
            CHECK(left > n + 13 && memcmp(start + n, "\r\n--=_sockit_", 13) == 0);
        }
    }
    free(data);

    /* a body given after the source replaces it (the source is released) */
    CHECK_OK(sockit_mail_part_new(&msgp));
    CHECK_OK(sockit_mail_part_add_header(msgp, "subject", "c-body-after-source"));
    CHECK_OK(sockit_source_string((const uint8_t *)"from the source\r\n", 17, &src));
    CHECK_OK(sockit_mail_part_set_body_source(msgp, src));
    CHECK_OK(sockit_mail_part_set_body(msgp, (const uint8_t *)"from the bytes\r\n", 16));
    CHECK_OK(sockit_mail_message(msgp, &whole));
    CHECK_OK(sockit_smtp_send_source(m, "a@example.org", rcpt, 1, whole, NULL));
    CHECK(stored("c-body-after-source", eml, json));
    CHECK(contains(eml, "\r\n\r\nfrom the bytes\r\n") && !contains(eml, "from the source"));

    /* a source that fails: its error comes back, promptly, and nothing is stored */
    int calls = 0, before = file_count();
    CHECK_OK(sockit_mail_part_new(&msgp));
    CHECK_OK(sockit_source_callback(failing_cb, &calls, NULL, &src));
    CHECK_OK(sockit_mail_part_set_body_source(msgp, src));
    CHECK_OK(sockit_mail_message(msgp, &whole));
    CHECK_OK(sockit_smtp_set_timeout(m, 3, -1));
    double t0 = now();
    CHECK_STATUS(sockit_smtp_send_source(m, "a@example.org", rcpt, 1, whole, NULL), SOCKIT_ABORTED);
    CHECK(strstr(sockit_last_error(), "the body source broke") != NULL);
    double dt = now() - t0;
    CHECK_WHY(dt < 2.0, "sockit_smtp_send_source: after a source fails inside DATA the client "
                        "would send QUIT as message text and wait the whole timeout for a reply");
    usleep(300000);
    CHECK(file_count() == before);
    CHECK(calls == 2);
    /* the client still sends afterwards */
    CHECK_OK(sockit_smtp_set_timeout(m, 10, -1));
    const char *msg = "Subject: c-after-fail\r\n\r\nok\r\n";
    CHECK_OK(sockit_smtp_send(m, "a@example.org", rcpt, 1, (const uint8_t *)msg, strlen(msg)));
    CHECK(stored("c-after-fail", eml, json));
    CHECK_BUF_STR(eml, msg);

    sockit_smtp_free(m);
    sockit_buffer_free(eml);
    sockit_buffer_free(json);
    sockit_buffer_free(want);
}

/* sockit_mail_part_set_body_source with bad arguments: the source is taken even then. */
static void test_body_source_errors(void) {
    sockit_mail_part *p = NULL;
    sockit_source *src = NULL;
    sockit_buffer *b = sockit_buffer_new();
    bool end = false;

    CHECK_STATUS(sockit_mail_part_set_body_source(NULL, NULL), SOCKIT_INVALID);
    CHECK_OK(sockit_source_string((const uint8_t *)"x", 1, &src));
    CHECK_STATUS(sockit_mail_part_set_body_source(NULL, src), SOCKIT_INVALID);
    CHECK_STATUS(sockit_source_pull(src, 1, b, &end), SOCKIT_INVALID); /* taken: freed */
    CHECK(strstr(sockit_last_error(), "freed") != NULL);
    CHECK_OK(sockit_mail_part_new(&p));
    CHECK_STATUS(sockit_mail_part_set_body_source(p, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_mail_part_set_body_source(p, src), SOCKIT_INVALID); /* freed source */
    /* the part is unchanged by the failures: its body is still the one set before */
    CHECK_OK(sockit_mail_part_set_body(p, (const uint8_t *)"kept\r\n", 6));
    CHECK_STATUS(sockit_mail_part_set_body_source(p, NULL), SOCKIT_INVALID);
    CHECK_OK(sockit_mail_part_add_header(p, "subject", "s"));
    sockit_source *msg = NULL;
    CHECK_OK(sockit_mail_message(p, &msg)); /* takes p */
    sockit_buffer *all = sockit_buffer_new();
    for (int i = 0; i < 100 && !end; i++) {
        CHECK_OK(sockit_source_pull(msg, 4096, b, &end));
        sockit_buffer_append(all, sockit_buffer_data(b), sockit_buffer_len(b));
    }
    CHECK(end && contains(all, "\r\n\r\nkept\r\n"));
    sockit_source_free(msg);
    sockit_buffer_free(all);
    /* a freed part: the source is taken anyway */
    CHECK_STATUS(sockit_mail_part_set_body_source(p, NULL), SOCKIT_INVALID);
    CHECK_OK(sockit_source_string((const uint8_t *)"y", 1, &src));
    CHECK_STATUS(sockit_mail_part_set_body_source(p, src), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "freed") != NULL);
    end = false;
    CHECK_STATUS(sockit_source_pull(src, 1, b, &end), SOCKIT_INVALID);
    /* replacing a source with another releases the first (valgrind sees a leak otherwise) */
    CHECK_OK(sockit_mail_part_new(&p));
    CHECK_OK(sockit_source_string((const uint8_t *)"1", 1, &src));
    CHECK_OK(sockit_mail_part_set_body_source(p, src));
    CHECK_OK(sockit_source_string((const uint8_t *)"2", 1, &src));
    CHECK_OK(sockit_mail_part_set_body_source(p, src));
    sockit_mail_part_free(p);
    sockit_buffer_free(b);
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

/* Sends a C string from the server side of a test connection. */
static void say(sockit_socket *peer, const char *text) {
    CHECK_OK(sockit_socket_send(peer, (const uint8_t *)text, strlen(text), NULL));
}

/* sockit_tp_settimeout and sockit_tp_send without servers: a listening socket made with
 * sockit_tcp_bind plays a server that never answers (the kernel completes the connect),
 * then, once accepted, one that answers in pieces and reads what the client sends. */
static void test_tp_timeouts_offline(void) {
    sockit_socket *l = NULL, *peer = NULL;
    sockit_tp *tp = NULL;
    sockit_buffer *reply = sockit_buffer_new(), *got = sockit_buffer_new();
    uint16_t port = 0;
    int code = -1;
    double t0, dt;

    CHECK_STATUS(sockit_tp_settimeout(NULL, 1, -1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_tp_send(NULL, (const uint8_t *)"x", 1), SOCKIT_INVALID);

    CHECK_OK(sockit_tcp_bind("127.0.0.1", 0, -1, &l));
    CHECK_OK(sockit_socket_getsockname(l, NULL, &port, NULL));
    CHECK_OK(sockit_tp_connect("127.0.0.1", port, 10.0, &tp));

    /* block timeout: a server that says nothing */
    CHECK_OK(sockit_tp_settimeout(tp, 0.2, -1));
    t0 = now();
    CHECK_STATUS(sockit_tp_check(tp, NULL, &code, reply), SOCKIT_TIMEOUT);
    dt = now() - t0;
    CHECK(dt >= 0.15 && dt < 2.0);
    /* block 0: never waits */
    CHECK_OK(sockit_tp_settimeout(tp, 0, -1));
    t0 = now();
    CHECK_STATUS(sockit_tp_check(tp, "2..", &code, reply), SOCKIT_TIMEOUT);
    CHECK(now() - t0 < 0.5);
    /* total timeout */
    CHECK_OK(sockit_tp_settimeout(tp, -1, 0.3));
    t0 = now();
    CHECK_STATUS(sockit_tp_check(tp, NULL, &code, reply), SOCKIT_TIMEOUT);
    dt = now() - t0;
    CHECK(dt >= 0.25 && dt < 2.0);
    /* the total counts from the settimeout call on, across calls: 0.6 s of the 1 s are
     * gone before the read starts */
    CHECK_OK(sockit_tp_settimeout(tp, -1, 1.0));
    sockit_sleep(0.6);
    t0 = now();
    CHECK_STATUS(sockit_tp_check(tp, NULL, &code, reply), SOCKIT_TIMEOUT);
    dt = now() - t0;
    CHECK(dt >= 0.2 && dt < 0.7);
    /* the block timeout bounds each wait even when the total is longer */
    CHECK_OK(sockit_tp_settimeout(tp, 0.2, 30));
    t0 = now();
    CHECK_STATUS(sockit_tp_check(tp, NULL, &code, reply), SOCKIT_TIMEOUT);
    CHECK(now() - t0 < 2.0);
    CHECK_STATUS(sockit_tp_settimeout(tp, 1e300, -1), SOCKIT_OK); /* capped, not refused */

    /* the server accepts: a reply in pieces; a timeout loses nothing of it */
    CHECK_OK(sockit_socket_accept(l, &peer));
    CHECK_OK(sockit_socket_settimeout(peer, 5, NULL));
    CHECK_OK(sockit_tp_settimeout(tp, 0.2, -1));
    say(peer, "220 hel");
    CHECK_STATUS(sockit_tp_check(tp, NULL, &code, reply), SOCKIT_TIMEOUT);
    say(peer, "lo\r\n");
    CHECK_OK(sockit_tp_check(tp, "220", &code, reply));
    CHECK(code == 220 && strcmp(sockit_buffer_cstr(reply), "220 hello") == 0);
    /* ... nor of a multi-line reply cut after its first line */
    say(peer, "250-first\r\n250 la");
    CHECK_STATUS(sockit_tp_check(tp, NULL, &code, reply), SOCKIT_TIMEOUT);
    say(peer, "st\r\n");
    code = -1;
    CHECK_OK(sockit_tp_check(tp, "250", &code, reply));
    CHECK_WHY(code == 250 && strcmp(sockit_buffer_cstr(reply), "250-first\n250 last") == 0,
              "sockit_tp_check: a timeout inside a multi-line reply loses the lines read so "
              "far (the retry returns only \"250 last\")");

    /* tp_send: the bytes as given (no case change, no CRLF added, NUL kept), in order
     * with commands */
    static const uint8_t raw[] = {'d', 'a', 't', 'a', 0, '\r', '\n', '.', '.', 'x', '\n', 0xff};
    CHECK_OK(sockit_tp_settimeout(tp, 5, -1));
    CHECK_OK(sockit_tp_send(tp, raw, sizeof raw));
    CHECK_OK(sockit_tp_send(tp, NULL, 0)); /* nothing */
    CHECK_OK(sockit_tp_send(tp, raw, 0));  /* nothing */
    CHECK_OK(sockit_tp_command(tp, "noop", NULL));
    CHECK_OK(sockit_tp_send(tp, (const uint8_t *)"tail", 4));
    CHECK_STATUS(sockit_tp_send(tp, NULL, 3), SOCKIT_INVALID); /* nothing sent */
    CHECK_OK(sockit_socket_receive(peer, SOCKIT_PATTERN_COUNT, sizeof raw + 6 + 4, NULL, 0, got));
    CHECK(sockit_buffer_len(got) == sizeof raw + 10);
    CHECK(memcmp(sockit_buffer_data(got), raw, sizeof raw) == 0);
    CHECK(memcmp(sockit_buffer_data(got) + sizeof raw, "NOOP\r\ntail", 10) == 0);
    CHECK_OK(sockit_socket_settimeout(peer, 0.2, NULL));
    CHECK_STATUS(sockit_socket_receive(peer, SOCKIT_PATTERN_COUNT, 1, NULL, 0, got), SOCKIT_TIMEOUT);

    /* the timeout bounds sends too: a server that stops reading */
    {
        size_t big = 32u << 20;
        uint8_t *junk = calloc(1, big);
        CHECK_OK(sockit_tp_settimeout(tp, 0.3, -1));
        t0 = now();
        CHECK_STATUS(sockit_tp_send(tp, junk, big), SOCKIT_TIMEOUT);
        CHECK(now() - t0 < 5.0);
        free(junk);
    }

    /* the server goes away: the read says so; closed and freed handles */
    sockit_socket_free(peer);
    CHECK_OK(sockit_tp_settimeout(tp, 5, -1));
    CHECK_STATUS(sockit_tp_check(tp, NULL, &code, reply), SOCKIT_CLOSED);
    CHECK_OK(sockit_tp_close(tp));
    CHECK_STATUS(sockit_tp_send(tp, (const uint8_t *)"x", 1), SOCKIT_CLOSED);
    CHECK_STATUS(sockit_tp_check(tp, NULL, &code, reply), SOCKIT_CLOSED);
    sockit_tp_free(tp);
    CHECK_STATUS(sockit_tp_settimeout(tp, 1, -1), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "freed") != NULL);
    CHECK_STATUS(sockit_tp_send(tp, (const uint8_t *)"x", 1), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "freed") != NULL);

    sockit_socket_free(l);
    sockit_buffer_free(reply);
    sockit_buffer_free(got);
}

int main(void) {
    int port = env_port("SOCKIT_SMTP_PORT");
    test_tp_errors();
    test_tp_timeouts_offline();
    test_body_source_errors();
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
        test_tp_send_and_timeouts(port);
        test_body_source(port);
    } else {
        fprintf(stderr, "SOCKIT_SMTP_* incomplete\n");
        check_failed++;
    }
    return check_done();
}
