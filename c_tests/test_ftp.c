/* FTP tests. Without servers only the offline checks run; scripts/test-proto.sh starts
 * pyftpdlib (SOCKIT_FTP_PORT, SOCKIT_FTP_MASQ_PORT, SOCKIT_FTP_ROOT, SOCKIT_FTP_USER,
 * SOCKIT_FTP_PASS) and runs this again. Files are compared byte for byte with what the
 * server wrote to its directory. */
#include "check.h"
#include <stdint.h>
#include <stdlib.h>

static int port, masq;
static const char *root, *user, *pass;
static char url[1024];

/* Reads a file of the server's directory into `b` (cleared first); -1 when absent. */
static long read_file(const char *name, sockit_buffer *b) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, name);
    FILE *f = fopen(path, "rb");
    sockit_buffer_clear(b);
    if (!f) return -1;
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) sockit_buffer_append(b, chunk, n);
    fclose(f);
    return (long)sockit_buffer_len(b);
}

static void write_file(const char *name, const char *data) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(data, f);
        fclose(f);
    }
}

static int same(sockit_buffer *a, const uint8_t *b, size_t n) {
    return sockit_buffer_len(a) == n && memcmp(sockit_buffer_data(a), b, n) == 0;
}

static int contains(sockit_buffer *b, const char *s) {
    size_t n = strlen(s), len = sockit_buffer_len(b);
    const uint8_t *d = sockit_buffer_data(b);
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (memcmp(d + i, s, n) == 0) return 1;
    return 0;
}

static void test_offline(void) {
    sockit_buffer *b = sockit_buffer_new();
    sockit_ftp *f = NULL;
    CHECK_STATUS(sockit_ftp_get(NULL, NULL, 0, 1, NULL, b, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_ftp_get("ftp://h/x", "z", 0, 1, NULL, b, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_ftp_get("ftp://h/x", NULL, 64, 1, NULL, b, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_ftp_get("http://h/x", NULL, 0, 1, NULL, b, NULL), SOCKIT_UNSUPPORTED);
    CHECK_STATUS(sockit_ftp_get("ftp://h/x", NULL, 0, 1, NULL, NULL, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_ftp_get("ftp://127.0.0.1:1/x", NULL, 0, 1, NULL, b, NULL), SOCKIT_REFUSED);
    CHECK_STATUS(sockit_ftp_get("ftp://h/a%0d%0aDELE%20x", NULL, 0, 1, NULL, b, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_ftp_put("ftp://h/", NULL, 0, 1, (const uint8_t *)"x", 1), SOCKIT_INVALID);
    /* a source given to put_source is taken even when the call fails */
    sockit_source *src = NULL;
    CHECK_OK(sockit_source_string((const uint8_t *)"x", 1, &src));
    CHECK_STATUS(sockit_ftp_put_source(NULL, NULL, 0, 1, src, NULL), SOCKIT_INVALID);
    bool end = false;
    CHECK_STATUS(sockit_source_pull(src, 1, b, &end), SOCKIT_INVALID); /* freed */
    CHECK(strstr(sockit_last_error(), "freed") != NULL);
    CHECK_STATUS(sockit_ftp_open("127.0.0.1", 1, 1, NULL, &f), SOCKIT_REFUSED);
    CHECK(f == NULL);
    CHECK_STATUS(sockit_ftp_login(NULL, NULL, NULL), SOCKIT_INVALID);
    sockit_ftp_free(NULL);
    sockit_buffer_free(b);
}

static void test_round_trips(void) {
    sockit_buffer *b = sockit_buffer_new(), *disk = sockit_buffer_new();
    size_t n = 1 << 20;
    uint8_t *data = malloc(n);
    for (size_t i = 0; i < n; i++) data[i] = (uint8_t)(i * 31 + (i >> 8));
    uint64_t received = 0;

    /* binary, passive then active: what the server stored is what we sent, and back */
    const char *names[2] = {"c-pasv.bin", "c-actv.bin"};
    int flags[2] = {0, SOCKIT_FTP_ACTIVE};
    for (int k = 0; k < 2; k++) {
        snprintf(url, sizeof url, "ftp://127.0.0.1:%d/%s", port, names[k]);
        CHECK_OK(sockit_ftp_put(url, "i", flags[k], 10, data, n));
        CHECK(read_file(names[k], disk) == (long)n && same(disk, data, n));
        CHECK_OK(sockit_ftp_get(url, "b", flags[k], 10, NULL, b, &received));
        CHECK(received == n && same(b, data, n));
    }
    /* ;type=i in the URL */
    snprintf(url, sizeof url, "ftp://127.0.0.1:%d/%s;type=i", port, names[0]);
    CHECK_OK(sockit_ftp_get(url, NULL, 0, 10, NULL, b, NULL));
    CHECK(same(b, data, n));

    /* ASCII (the default): LF locally, LF on the server's Unix disk, CRLF on the wire */
    const char *text = "first line\nsecond line\r\n\nlast\n";
    const char *unix_text = "first line\nsecond line\n\nlast\n";
    snprintf(url, sizeof url, "ftp://127.0.0.1:%d/c-text.txt", port);
    CHECK_OK(sockit_ftp_put(url, NULL, 0, 10, (const uint8_t *)text, strlen(text)));
    CHECK(read_file("c-text.txt", disk) >= 0 && same(disk, (const uint8_t *)unix_text, strlen(unix_text)));
    CHECK_OK(sockit_ftp_get(url, NULL, 0, 10, NULL, b, NULL));
    CHECK(same(b, (const uint8_t *)unix_text, strlen(unix_text)));

    /* a 1.3b send callback style source, into a sink */
    sockit_source *src = NULL;
    sockit_sink *sink = NULL;
    CHECK_OK(sockit_source_string(data, 70000, &src));
    snprintf(url, sizeof url, "ftp://%s:%s@127.0.0.1:%d/c-src.bin", user, pass, port);
    uint64_t sent = 0;
    CHECK_OK(sockit_ftp_put_source(url, "i", 0, 10, src, &sent));
    CHECK(sent == 70000);
    CHECK(read_file("c-src.bin", disk) == 70000 && same(disk, data, 70000));
    sockit_buffer_clear(b);
    CHECK_OK(sockit_sink_buffer(b, &sink));
    CHECK_OK(sockit_ftp_get(url, "i", SOCKIT_FTP_ACTIVE, 10, sink, NULL, NULL));
    CHECK(same(b, data, 70000));
    sockit_sink_free(sink);

    free(data);
    sockit_buffer_free(b);
    sockit_buffer_free(disk);
}

static void test_dirs_errors_masquerade(void) {
    sockit_buffer *b = sockit_buffer_new();
    char path[1024];
    snprintf(path, sizeof path, "%s/c dir", root);
    {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s/inner'", path);
        CHECK(system(cmd) == 0);
    }
    write_file("c dir/inner/file.txt", "inside\n");
    snprintf(url, sizeof url, "ftp://127.0.0.1:%d/c%%20dir/inner/file.txt", port);
    CHECK_OK(sockit_ftp_get(url, NULL, 0, 10, NULL, b, NULL));
    CHECK(same(b, (const uint8_t *)"inside\n", 7));
    /* listing when the path ends in "/" */
    snprintf(url, sizeof url, "ftp://127.0.0.1:%d/c%%20dir/inner/", port);
    CHECK_OK(sockit_ftp_get(url, NULL, 0, 10, NULL, b, NULL));
    CHECK(contains(b, "file.txt"));

    /* errors carry the server's reply */
    snprintf(url, sizeof url, "ftp://127.0.0.1:%d/c%%20dir/missing.txt", port);
    CHECK_STATUS(sockit_ftp_get(url, NULL, 0, 10, NULL, b, NULL), SOCKIT_PROTOCOL);
    CHECK(strncmp(sockit_last_error(), "550 ", 4) == 0);
    snprintf(url, sizeof url, "ftp://%s:nope@127.0.0.1:%d/x", user, port);
    CHECK_STATUS(sockit_ftp_get(url, NULL, 0, 10, NULL, b, NULL), SOCKIT_PROTOCOL);
    CHECK(strncmp(sockit_last_error(), "530 ", 4) == 0);

    /* the server refuses EPSV and names 192.0.2.1 in PASV: we still reach it */
    write_file("c-masq.txt", "through the control peer\n");
    snprintf(url, sizeof url, "ftp://127.0.0.1:%d/c-masq.txt", masq);
    CHECK_OK(sockit_ftp_get(url, NULL, 0, 10, NULL, b, NULL));
    CHECK(contains(b, "through the control peer"));
    CHECK(sockit_ftp_get(url, NULL, SOCKIT_FTP_TRUST_PASV, 0.3, NULL, b, NULL) != SOCKIT_OK);
    sockit_buffer_free(b);
}

static void test_session(void) {
    sockit_ftp *f = NULL;
    sockit_buffer *b = sockit_buffer_new(), *reply = sockit_buffer_new();
    int code = 0;
    CHECK_OK(sockit_ftp_open("127.0.0.1", port, 10, reply, &f));
    CHECK(contains(reply, "220 sockit test FTP server ready."));
    CHECK_OK(sockit_ftp_login(f, user, pass));
    CHECK_OK(sockit_ftp_command(f, "syst", NULL, "2..", &code, reply));
    CHECK(code == 215);
    CHECK_OK(sockit_ftp_command(f, "FEAT", NULL, "211", &code, reply));
    CHECK(contains(reply, "\n") && contains(reply, "EPRT"));
    CHECK_STATUS(sockit_ftp_command(f, "CWD", "/nowhere", "2..", &code, reply), SOCKIT_PROTOCOL);
    CHECK(code == 550 && strncmp(sockit_buffer_cstr(reply), "550 ", 4) == 0);
    CHECK_STATUS(sockit_ftp_command(f, "CWD", "x\r\nDELE c-text.txt", NULL, &code, reply), SOCKIT_INVALID);
    CHECK_OK(sockit_ftp_cwd(f, "c dir"));
    CHECK_OK(sockit_ftp_type(f, "i"));
    CHECK_OK(sockit_ftp_store(f, "STOR", "stored.bin", 0, (const uint8_t *)"abc\r\n", 5, NULL, NULL));
    CHECK_OK(sockit_ftp_store(f, "APPE", "stored.bin", 0, (const uint8_t *)"def", 3, NULL, NULL));
    CHECK(read_file("c dir/stored.bin", b) == 8 && same(b, (const uint8_t *)"abc\r\ndef", 8));
    uint64_t got = 0;
    CHECK_OK(sockit_ftp_retrieve(f, "RETR", "stored.bin", 0, NULL, b, &got));
    CHECK(got == 8 && same(b, (const uint8_t *)"abc\r\ndef", 8));
    CHECK_OK(sockit_ftp_set_options(f, SOCKIT_FTP_ACTIVE, 10));
    CHECK_OK(sockit_ftp_retrieve(f, "NLST", NULL, 1, NULL, b, NULL));
    CHECK(contains(b, "stored.bin") && contains(b, "inner"));
    CHECK_STATUS(sockit_ftp_retrieve(f, "RETR", "absent", 0, NULL, b, NULL), SOCKIT_PROTOCOL);
    CHECK(strncmp(sockit_last_error(), "550 ", 4) == 0);
    /* the session still works after an error */
    CHECK_OK(sockit_ftp_command(f, "NOOP", NULL, "200", &code, NULL));
    CHECK_OK(sockit_ftp_command(f, "DELE", "stored.bin", "250", NULL, NULL));
    CHECK(read_file("c dir/stored.bin", b) == -1);
    CHECK_OK(sockit_ftp_quit(f));
    CHECK_OK(sockit_ftp_quit(f));
    CHECK_STATUS(sockit_ftp_command(f, "NOOP", NULL, NULL, NULL, NULL), SOCKIT_CLOSED);
    sockit_ftp_free(f);
    sockit_buffer_free(b);
    sockit_buffer_free(reply);
}

/* The generic command/reply connection against pyftpdlib: raw bytes sent with
 * sockit_tp_send (commands pipelined in one send), and sockit_tp_settimeout ending a wait
 * for a reply the server will not send. */
static void test_tp_raw(void) {
    sockit_tp *tp = NULL;
    sockit_buffer *reply = sockit_buffer_new();
    int code = 0;
    char line[256];

    CHECK_OK(sockit_tp_connect("127.0.0.1", port, 10, &tp));
    CHECK_OK(sockit_tp_check(tp, "220", &code, reply));
    CHECK(contains(reply, "220 sockit test FTP server ready."));
    /* login as raw lines, split in the middle of a command */
    snprintf(line, sizeof line, "USER %s\r\nPA", user);
    CHECK_OK(sockit_tp_send(tp, (const uint8_t *)line, strlen(line)));
    CHECK_OK(sockit_tp_check(tp, "331", &code, reply));
    snprintf(line, sizeof line, "SS %s\r\n", pass);
    CHECK_OK(sockit_tp_send(tp, (const uint8_t *)line, strlen(line)));
    CHECK_OK(sockit_tp_check(tp, "230", &code, reply));
    /* three commands in one send, three replies in order */
    const char *batch = "TYPE I\r\nSIZE c-pasv.bin\r\nPWD\r\n";
    CHECK_OK(sockit_tp_send(tp, (const uint8_t *)batch, strlen(batch)));
    CHECK_OK(sockit_tp_check(tp, "200", &code, reply));
    CHECK_OK(sockit_tp_check(tp, "213", &code, reply));
    CHECK(strcmp(sockit_buffer_cstr(reply), "213 1048576") == 0); /* written by test_round_trips */
    CHECK_OK(sockit_tp_check(tp, "257", &code, reply));
    CHECK(contains(reply, "\"/\""));

    /* nothing asked, nothing answered: the block timeout ends the wait, in time */
    CHECK_OK(sockit_tp_settimeout(tp, 0.3, -1));
    double t0 = sockit_gettime();
    CHECK_STATUS(sockit_tp_check(tp, NULL, &code, reply), SOCKIT_TIMEOUT);
    double dt = sockit_gettime() - t0;
    CHECK(dt >= 0.25 && dt < 3.0);
    /* the session is still in step; the total timeout works the same way */
    CHECK_OK(sockit_tp_command(tp, "NOOP", NULL));
    CHECK_OK(sockit_tp_check(tp, "200", &code, reply));
    CHECK_OK(sockit_tp_settimeout(tp, -1, 0.3));
    t0 = sockit_gettime();
    CHECK_STATUS(sockit_tp_check(tp, NULL, &code, reply), SOCKIT_TIMEOUT);
    dt = sockit_gettime() - t0;
    CHECK(dt >= 0.25 && dt < 3.0);
    CHECK_OK(sockit_tp_settimeout(tp, 10, -1));
    CHECK_OK(sockit_tp_send(tp, (const uint8_t *)"QUIT\r\n", 6));
    CHECK_OK(sockit_tp_check(tp, "221", &code, reply));
    CHECK_STATUS(sockit_tp_check(tp, NULL, &code, reply), SOCKIT_CLOSED);
    sockit_tp_free(tp);
    sockit_buffer_free(reply);
}

int main(void) {
    test_offline();
    const char *p = getenv("SOCKIT_FTP_PORT"), *m = getenv("SOCKIT_FTP_MASQ_PORT");
    root = getenv("SOCKIT_FTP_ROOT");
    user = getenv("SOCKIT_FTP_USER");
    pass = getenv("SOCKIT_FTP_PASS");
    if (!p || !m || !root || !user || !pass) {
        printf("SOCKIT_FTP_* not set: server tests skipped (scripts/test-proto.sh runs them)\n");
        return check_done();
    }
    port = atoi(p);
    masq = atoi(m);
    test_round_trips();
    test_dirs_errors_masquerade();
    test_session();
    test_tp_raw();
    return check_done();
}
