/* The basics of the C API: version, statuses and their strings, the last error, and
 * every sockit_buffer function, including NULL arguments and freed buffers. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"

static void test_version(void) {
    const char *v = sockit_version();
    char want[64];
    CHECK(v != NULL);
    snprintf(want, sizeof want, "%d.%d.%d", SOCKIT_VERSION_MAJOR, SOCKIT_VERSION_MINOR,
             SOCKIT_VERSION_PATCH);
    CHECK(v != NULL && strcmp(v, want) == 0);
    CHECK(sockit_version() == v); /* static: the same pointer every time */
}

static void test_status_strings(void) {
    static const struct {
        sockit_status status;
        const char *text;
    } table[] = {
        {SOCKIT_OK, "ok"},
        {SOCKIT_TIMEOUT, "timeout"},
        {SOCKIT_CLOSED, "closed"},
        {SOCKIT_WOULDBLOCK, "block"},
        {SOCKIT_REFUSED, "connection refused"},
        {SOCKIT_ADDRINUSE, "address already in use"},
        {SOCKIT_ISCONN, "already connected"},
        {SOCKIT_ACCESS, "permission denied"},
        {SOCKIT_HOST_NOT_FOUND, "host not found"},
        {SOCKIT_DNS_AGAIN, "temporary failure in name resolution"},
        {SOCKIT_DNS_FAIL, "non-recoverable failure in name resolution"},
        {SOCKIT_FAMILY, "ai_family not supported"},
        {SOCKIT_SERVICE, "service not supported for socket type"},
        {SOCKIT_INVALID, "invalid argument"},
        {SOCKIT_NOMEM, "memory allocation failure"},
        {SOCKIT_PROTOCOL, "protocol error"},
        {SOCKIT_UNSUPPORTED, "unsupported"},
        {SOCKIT_ABORTED, "aborted"},
        {SOCKIT_SYSTEM, "system error"},
        {SOCKIT_INTERNAL, "internal error"},
    };
    size_t n = sizeof table / sizeof table[0];
    CHECK(n == 20);
    CHECK(SOCKIT_OK == 0);
    for (size_t i = 0; i < n; i++) {
        const char *s = sockit_status_str(table[i].status);
        CHECK((int)table[i].status == (int)i); /* contiguous values 0..19 */
        CHECK(s != NULL && strcmp(s, table[i].text) == 0);
        if (s == NULL || strcmp(s, table[i].text) != 0)
            fprintf(stderr, "  status %d: got \"%s\", want \"%s\"\n", (int)table[i].status,
                    s ? s : "(null)", table[i].text);
        CHECK(sockit_status_str(table[i].status) == s); /* static strings */
    }
    const int32_t bad[] = {-1, 20, 21, 1000, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *s = sockit_status_str(bad[i]);
        CHECK(s != NULL && strcmp(s, "unknown status") == 0);
    }
}

static void test_last_error(void) {
    /* A failing call leaves a message naming what went wrong. */
    CHECK_STATUS(sockit_buffer_clear(NULL), SOCKIT_INVALID);
    const char *e = sockit_last_error();
    CHECK(e != NULL && strlen(e) > 0);
    CHECK(e != NULL && strstr(e, "NULL") != NULL);
    /* A successful call does not reset it, and the pointer is never NULL. */
    sockit_buffer *b = sockit_buffer_new();
    CHECK_OK(sockit_buffer_clear(b));
    CHECK(sockit_last_error() != NULL);
    CHECK(strlen(sockit_last_error()) > 0);
    sockit_buffer_free(b);
}

static void test_buffer_basics(void) {
    sockit_buffer *b = sockit_buffer_new();
    CHECK(b != NULL);
    CHECK(sockit_buffer_len(b) == 0);
    CHECK(sockit_buffer_data(b) != NULL);

    /* Empty buffer as a C string. */
    const char *s = sockit_buffer_cstr(b);
    CHECK(s != NULL && s[0] == '\0');

    /* Binary-safe appends, NUL included. */
    const uint8_t bin[] = {'a', 0, 'b', 0xff, '\n'};
    CHECK_OK(sockit_buffer_append(b, bin, sizeof bin));
    CHECK_BUF(b, bin, sizeof bin);
    CHECK_OK(sockit_buffer_append(b, (const uint8_t *)"xyz", 3));
    CHECK(sockit_buffer_len(b) == sizeof bin + 3);
    CHECK(memcmp(sockit_buffer_data(b) + sizeof bin, "xyz", 3) == 0);

    /* Zero-length appends, with and without a pointer. */
    CHECK_OK(sockit_buffer_append(b, NULL, 0));
    CHECK_OK(sockit_buffer_append(b, bin, 0));
    CHECK(sockit_buffer_len(b) == sizeof bin + 3);

    /* cstr: NUL just past the end, length unchanged. */
    s = sockit_buffer_cstr(b);
    CHECK(s != NULL && s[sizeof bin + 3] == '\0');
    CHECK(sockit_buffer_len(b) == sizeof bin + 3);
    CHECK(s != NULL && s == (const char *)sockit_buffer_data(b));

    /* Clear keeps the buffer usable. */
    CHECK_OK(sockit_buffer_clear(b));
    CHECK(sockit_buffer_len(b) == 0);
    CHECK_OK(sockit_buffer_append(b, (const uint8_t *)"hello", 5));
    CHECK_BUF_STR(b, "hello");
    s = sockit_buffer_cstr(b);
    CHECK(s != NULL && strcmp(s, "hello") == 0);

    /* Reserve: data stays put after reserving, and appends within it keep the pointer. */
    CHECK_OK(sockit_buffer_reserve(b, 4096));
    const uint8_t *before = sockit_buffer_data(b);
    char chunk[1024];
    memset(chunk, 'z', sizeof chunk);
    CHECK_OK(sockit_buffer_append(b, (const uint8_t *)chunk, sizeof chunk));
    CHECK(sockit_buffer_data(b) == before);
    CHECK(sockit_buffer_len(b) == 5 + sizeof chunk);
    CHECK(memcmp(sockit_buffer_data(b), "hello", 5) == 0);
    CHECK_OK(sockit_buffer_reserve(b, 0));

    /* Clear keeps the capacity: refilling to the same size does not move the bytes. */
    CHECK_OK(sockit_buffer_clear(b));
    CHECK_OK(sockit_buffer_append(b, (const uint8_t *)chunk, sizeof chunk));
    CHECK(sockit_buffer_data(b) == before);

    /* A reservation that cannot be had is SOCKIT_NOMEM, and the buffer is intact. */
    CHECK_STATUS(sockit_buffer_reserve(b, SIZE_MAX), SOCKIT_NOMEM);
    CHECK(strlen(sockit_last_error()) > 0);
    CHECK_STATUS(sockit_buffer_reserve(b, SIZE_MAX / 2), SOCKIT_NOMEM);
    CHECK(sockit_buffer_len(b) == sizeof chunk);
    CHECK(sockit_buffer_data(b) == before);

    sockit_buffer_free(b);
}

static void test_buffer_large(void) {
    /* Many appends grow the buffer; the contents stay exact. */
    sockit_buffer *b = sockit_buffer_new();
    uint8_t block[257];
    for (size_t i = 0; i < sizeof block; i++) block[i] = (uint8_t)i;
    int ok = 1;
    for (int i = 0; i < 1000; i++) {
        if (sockit_buffer_append(b, block, sizeof block) != SOCKIT_OK) ok = 0;
    }
    CHECK(ok);
    CHECK(sockit_buffer_len(b) == 1000 * sizeof block);
    const uint8_t *d = sockit_buffer_data(b);
    int same = 1;
    for (int i = 0; i < 1000 && d != NULL; i++) {
        if (memcmp(d + (size_t)i * sizeof block, block, sizeof block) != 0) same = 0;
    }
    CHECK(d != NULL && same);
    sockit_buffer_free(b);
}

static void test_buffer_null_args(void) {
    CHECK_STATUS(sockit_buffer_clear(NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_buffer_append(NULL, (const uint8_t *)"x", 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_buffer_append(NULL, NULL, 0), SOCKIT_INVALID);
    CHECK_STATUS(sockit_buffer_reserve(NULL, 1), SOCKIT_INVALID);
    CHECK(sockit_buffer_data(NULL) == NULL);
    CHECK(sockit_buffer_len(NULL) == 0);
    CHECK(sockit_buffer_cstr(NULL) == NULL);
    sockit_buffer_free(NULL); /* does nothing */

    /* NULL data with a length is refused and the message names the argument. */
    sockit_buffer *b = sockit_buffer_new();
    CHECK_OK(sockit_buffer_append(b, (const uint8_t *)"ab", 2));
    CHECK_STATUS(sockit_buffer_append(b, NULL, 5), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "data") != NULL);
    CHECK_BUF_STR(b, "ab"); /* unchanged */
    sockit_buffer_free(b);
}

static void test_buffer_freed(void) {
    sockit_buffer *b = sockit_buffer_new();
    CHECK_OK(sockit_buffer_append(b, (const uint8_t *)"gone", 4));
    sockit_buffer_free(b);

    /* Calls on a freed buffer fail cleanly (handles are type-stable). */
    CHECK_STATUS(sockit_buffer_clear(b), SOCKIT_INVALID);
    CHECK(strstr(sockit_last_error(), "freed") != NULL);
    CHECK_STATUS(sockit_buffer_append(b, (const uint8_t *)"x", 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_buffer_reserve(b, 8), SOCKIT_INVALID);
    CHECK(sockit_buffer_len(b) == 0);
    CHECK(sockit_buffer_data(b) == NULL);
    CHECK(sockit_buffer_cstr(b) == NULL);
    sockit_buffer_free(b); /* twice: harmless */
    sockit_buffer_free(b);

    /* A new buffer works normally afterwards (it may reuse the freed shell). */
    sockit_buffer *c = sockit_buffer_new();
    CHECK(c != NULL);
    CHECK(sockit_buffer_len(c) == 0);
    CHECK_OK(sockit_buffer_append(c, (const uint8_t *)"new", 3));
    CHECK_BUF_STR(c, "new");
    sockit_buffer_free(c);
}

static void test_many_buffers(void) {
    /* Creating and freeing many buffers neither fails nor leaks (valgrind checks). */
    enum { N = 64 };
    sockit_buffer *bufs[N];
    int ok = 1;
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < N; i++) {
            bufs[i] = sockit_buffer_new();
            if (bufs[i] == NULL || sockit_buffer_append(bufs[i], (const uint8_t *)&i, sizeof i) != SOCKIT_OK)
                ok = 0;
        }
        for (int i = 0; i < N; i++) {
            if (sockit_buffer_len(bufs[i]) != sizeof i ||
                memcmp(sockit_buffer_data(bufs[i]), &i, sizeof i) != 0)
                ok = 0;
            sockit_buffer_free(bufs[i]);
        }
    }
    CHECK(ok);
}

int main(void) {
    test_version();
    test_status_strings();
    test_last_error();
    test_buffer_basics();
    test_buffer_large();
    test_buffer_null_args();
    test_buffer_freed();
    test_many_buffers();
    return check_done();
}
