/* MIME through the C API: the mime.core mirror calls (sockit_mime_*) with LuaSocket's
 * results, the MIME filters (RFC 4648 and RFC 2045 vectors), and a check that cycling the
 * low-level calls over chunks gives what the filters give. */
#include "check.h"
#include <stdint.h>
#include <stdlib.h>

#define S(lit) (const uint8_t *)(lit), (sizeof(lit) - 1)
#define EMPTY (const uint8_t *)"", 0
#define NIL NULL, 0

static sockit_buffer *A, *B;

/* Runs `in` through a fresh filter made by `make` in chunks of `step` bytes. */
static void filter_expect(sockit_status (*make)(sockit_filter **), const char *in, size_t in_len,
                          size_t step, const char *want, size_t want_len) {
    sockit_filter *f = NULL;
    CHECK_OK(make(&f));
    sockit_buffer *all = sockit_buffer_new();
    for (size_t i = 0; i < in_len || i == 0; i += step) {
        size_t n = in_len - i < step ? in_len - i : step;
        CHECK_OK(sockit_filter_put(f, (const uint8_t *)in + i, n, A));
        sockit_buffer_append(all, sockit_buffer_data(A), sockit_buffer_len(A));
        if (in_len == 0)
            break;
    }
    CHECK_OK(sockit_filter_end(f, A));
    sockit_buffer_append(all, sockit_buffer_data(A), sockit_buffer_len(A));
    CHECK_BUF(all, want, want_len);
    if (sockit_buffer_len(all) != want_len || memcmp(sockit_buffer_data(all), want, want_len))
        fprintf(stderr, "  got %.*s\n  want %.*s\n", (int)sockit_buffer_len(all),
                (const char *)sockit_buffer_data(all), (int)want_len, want);
    sockit_buffer_free(all);
    sockit_filter_free(f);
}
#define FILTER(make, in, step, want) filter_expect(make, in, sizeof(in) - 1, step, want, sizeof(want) - 1)

static sockit_status make_qp_text(sockit_filter **out) { return sockit_filter_qp_encode(false, out); }
static sockit_status make_qp_binary(sockit_filter **out) { return sockit_filter_qp_encode(true, out); }
static sockit_status make_wrap3(sockit_filter **out) { return sockit_filter_wrap(3, out); }
static sockit_status make_wrap76(sockit_filter **out) { return sockit_filter_wrap(76, out); }
static sockit_status make_qpwrap5(sockit_filter **out) { return sockit_filter_qp_wrap(5, out); }
static sockit_status make_normalize(sockit_filter **out) { return sockit_filter_normalize(NULL, 0, out); }
static sockit_status make_normalize_lf(sockit_filter **out) {
    return sockit_filter_normalize(S("\n"), out);
}
static sockit_status make_stuff(sockit_filter **out) { return sockit_filter_dot_stuff(false, out); }
static sockit_status make_stuff_end(sockit_filter **out) { return sockit_filter_dot_stuff(true, out); }

static void test_low_level_base64(void) {
    CHECK_OK(sockit_mime_b64(S("a"), NIL, A, B));
    CHECK_BUF_STR(A, "YQ==");
    CHECK(sockit_buffer_len(B) == 0);
    CHECK_OK(sockit_mime_b64(S("a"), EMPTY, A, B));
    CHECK_BUF_STR(A, "");
    CHECK_BUF_STR(B, "a");
    CHECK_OK(sockit_mime_b64(S("abcdefg"), S("h"), A, B));
    CHECK_BUF_STR(A, "YWJjZGVm");
    CHECK_BUF_STR(B, "gh");
    CHECK_OK(sockit_mime_b64(NIL, S("x"), A, B)); /* nil C: nil, nil */
    CHECK(sockit_buffer_len(A) == 0 && sockit_buffer_len(B) == 0);

    CHECK_OK(sockit_mime_unb64(S("Y!Q*=.="), NIL, A, B));
    CHECK_BUF_STR(A, "a");
    CHECK_OK(sockit_mime_unb64(S("YW="), EMPTY, A, B));
    CHECK_BUF_STR(A, "");
    CHECK_BUF_STR(B, "YW=");
    CHECK_OK(sockit_mime_unb64(S("Y=Jj"), NIL, A, B));
    CHECK_BUF(A, "\x60\x02\x63", 3);

    /* bad arguments */
    CHECK_STATUS(sockit_mime_b64(S("a"), NIL, A, A), SOCKIT_INVALID);
    CHECK_STATUS(sockit_mime_b64(NULL, 3, NIL, A, B), SOCKIT_INVALID);
    CHECK_STATUS(sockit_mime_b64(S("a"), NIL, NULL, B), SOCKIT_INVALID);
    /* an input may point into an output buffer */
    sockit_buffer_clear(A);
    sockit_buffer_append(A, (const uint8_t *)"foobar", 6);
    CHECK_OK(sockit_mime_b64(sockit_buffer_data(A), 6, NIL, A, B));
    CHECK_BUF_STR(A, "Zm9vYmFy");
}

static void test_low_level_qp(void) {
    CHECK_OK(sockit_mime_qp(S("a b "), NIL, NULL, 0, A, B));
    CHECK_BUF_STR(A, "a b=20=\r\n");
    CHECK_OK(sockit_mime_qp(S("a b "), EMPTY, NULL, 0, A, B));
    CHECK_BUF_STR(A, "a b");
    CHECK_BUF_STR(B, " ");
    CHECK_OK(sockit_mime_qp(S("a\r\nb"), NIL, S("=0D=0A"), A, B));
    CHECK_BUF_STR(A, "a=0D=0Ab");
    CHECK_OK(sockit_mime_qp(S("a \r\nb"), NIL, S("XY"), A, B));
    CHECK_BUF_STR(A, "a=20XYb");
    CHECK_OK(sockit_mime_qp(S("\0\xff\x7f~ \t"), NIL, NULL, 0, A, B));
    CHECK_BUF_STR(A, "=00=FF=7F~=20=09=\r\n");

    CHECK_OK(sockit_mime_unqp(S("a=3Db=\r\nc=3d=4X=\nq"), NIL, A, B));
    CHECK_BUF_STR(A, "a=bc==4X=\nq");
    CHECK_OK(sockit_mime_unqp(S("a=3"), EMPTY, A, B));
    CHECK_BUF_STR(A, "a");
    CHECK_BUF_STR(B, "=3");
    CHECK_OK(sockit_mime_unqp(S("a\rb\nc"), NIL, A, B));
    CHECK_BUF_STR(A, "ac");
}

static void test_low_level_wrap_eol_dot(void) {
    int64_t n = 0;
    CHECK_OK(sockit_mime_wrp(2, S("abcde"), 3, A, &n));
    CHECK_BUF_STR(A, "ab\r\ncde");
    CHECK(n == 0);
    CHECK_OK(sockit_mime_wrp(2, NIL, 3, A, &n));
    CHECK_BUF_STR(A, "\r\n");
    CHECK(n == 3);
    CHECK_OK(sockit_mime_wrp(0, S("abc"), 0, A, &n));
    CHECK_BUF_STR(A, "\r\na\r\nb\r\nc");
    CHECK(n == -1);
    CHECK_OK(sockit_mime_qpwrp(5, S("ab=3Dcd=3Def"), 5, A, &n));
    CHECK_BUF_STR(A, "ab=\r\n=3Dc=\r\nd=3D=\r\nef");
    CHECK(n == 3);
    CHECK_OK(sockit_mime_qpwrp(5, NIL, 5, A, &n));
    CHECK(sockit_buffer_len(A) == 0 && n == 5);
    CHECK_STATUS(sockit_mime_wrp(2, S("x"), 3, A, NULL), SOCKIT_INVALID);

    CHECK_OK(sockit_mime_eol(0, S("a\rb\nc\r\nd\n\re\r\rf\n\ng"), S("X"), A, &n));
    CHECK_BUF_STR(A, "aXbXcXdXeXXfXXg");
    CHECK(n == 0);
    CHECK_OK(sockit_mime_eol(0, S("a\r"), NULL, 0, A, &n));
    CHECK_BUF_STR(A, "a\r\n");
    CHECK(n == 13);
    CHECK_OK(sockit_mime_eol(13, S("\nb"), NULL, 0, A, &n));
    CHECK_BUF_STR(A, "b");
    CHECK(n == 0);

    CHECK_OK(sockit_mime_dot(2, S(".a\r\n.b\r\n..c\n.d"), A, &n));
    CHECK_BUF_STR(A, "..a\r\n..b\r\n...c\n.d");
    CHECK(n == 0);
    CHECK_OK(sockit_mime_dot(1, NIL, A, &n));
    CHECK(sockit_buffer_len(A) == 0 && n == 2);
}

static void test_filters(void) {
    /* RFC 4648 section 10 */
    FILTER(sockit_filter_base64_encode, "", 1, "");
    FILTER(sockit_filter_base64_encode, "f", 1, "Zg==");
    FILTER(sockit_filter_base64_encode, "fo", 1, "Zm8=");
    FILTER(sockit_filter_base64_encode, "foo", 2, "Zm9v");
    FILTER(sockit_filter_base64_encode, "foob", 3, "Zm9vYg==");
    FILTER(sockit_filter_base64_encode, "fooba", 2, "Zm9vYmE=");
    FILTER(sockit_filter_base64_encode, "foobar", 4, "Zm9vYmFy");
    FILTER(sockit_filter_base64_decode, "Zm9v\r\nYmFy", 3, "foobar");
    FILTER(sockit_filter_base64_decode, "Zm9vYg==", 1, "foob");
    /* RFC 2045 6.7 rules */
    FILTER(make_qp_text, "caf\xe9 = ok \r\nnext\t\r\nend", 3, "caf=E9 =3D ok=20\r\nnext=09\r\nend");
    FILTER(make_qp_binary, "a\r\nb", 1, "a=0D=0Ab");
    FILTER(sockit_filter_qp_decode, "Now's the time =\r\nfor all folk to come=\r\n", 4,
           "Now's the time for all folk to come");
    FILTER(make_wrap3, "abcdefg", 2, "abc\r\ndef\r\ng\r\n");
    FILTER(make_qpwrap5, "abcdefghijk", 3, "abcd=\r\nefgh=\r\nijk=\r\n");
    FILTER(make_normalize, "a\rb\nc\r\nd\n\re", 1, "a\r\nb\r\nc\r\nd\r\ne");
    FILTER(make_normalize_lf, "a\r\nb", 1, "a\nb");
    FILTER(make_stuff, ".a\r\n.b", 1, "..a\r\n..b");
    FILTER(make_stuff_end, ".a\r\n.b", 1, "..a\r\n..b\r\n.\r\n");
    FILTER(make_stuff_end, "x\r\n", 2, "x\r\n.\r\n");

    /* base64 lines of 76 columns */
    char in[57 * 2 + 1];
    memset(in, 'x', sizeof in - 1);
    in[sizeof in - 1] = 0;
    sockit_filter *fs[2];
    CHECK_OK(sockit_filter_base64_encode(&fs[0]));
    CHECK_OK(make_wrap76(&fs[1]));
    sockit_filter *chain = NULL;
    CHECK_OK(sockit_filter_chain(fs, 2, &chain));
    CHECK_OK(sockit_filter_put(chain, (const uint8_t *)in, strlen(in), A));
    CHECK_OK(sockit_filter_end(chain, B));
    sockit_buffer_append(A, sockit_buffer_data(B), sockit_buffer_len(B));
    CHECK(sockit_buffer_len(A) == 2 * 78);
    const char *line = (const char *)sockit_buffer_data(A);
    CHECK(line[76] == '\r' && line[77] == '\n' && line[154] == '\r');
    sockit_filter_free(chain);

    CHECK_STATUS(sockit_filter_base64_encode(NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_filter_normalize(NULL, 3, &chain), SOCKIT_INVALID);
}

/* Cycling mime.b64 over chunks (LTN12's filter.cycle) gives what the filter gives. */
static void test_cycle_equals_filter(void) {
    uint8_t data[1000];
    uint32_t x = 7;
    for (size_t i = 0; i < sizeof data; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (uint8_t)(x >> 16);
    }
    sockit_buffer *ctx = sockit_buffer_new(), *all = sockit_buffer_new();
    sockit_buffer *tmp = sockit_buffer_new();
    for (size_t i = 0; i < sizeof data; i += 37) {
        size_t n = sizeof data - i < 37 ? sizeof data - i : 37;
        /* ctx is C (the remainder), the chunk is D */
        sockit_buffer_clear(tmp);
        sockit_buffer_append(tmp, sockit_buffer_data(ctx), sockit_buffer_len(ctx));
        CHECK_OK(sockit_mime_b64(sockit_buffer_data(tmp), sockit_buffer_len(tmp), data + i, n, A, ctx));
        sockit_buffer_append(all, sockit_buffer_data(A), sockit_buffer_len(A));
    }
    sockit_buffer_clear(tmp);
    sockit_buffer_append(tmp, sockit_buffer_data(ctx), sockit_buffer_len(ctx));
    CHECK_OK(sockit_mime_b64(sockit_buffer_data(tmp), sockit_buffer_len(tmp), NIL, A, ctx));
    sockit_buffer_append(all, sockit_buffer_data(A), sockit_buffer_len(A));

    sockit_filter *f = NULL;
    CHECK_OK(sockit_filter_base64_encode(&f));
    CHECK_OK(sockit_filter_put(f, data, sizeof data, A));
    CHECK_OK(sockit_filter_end(f, B));
    sockit_buffer_append(A, sockit_buffer_data(B), sockit_buffer_len(B));
    CHECK(sockit_buffer_len(A) == sockit_buffer_len(all) &&
          memcmp(sockit_buffer_data(A), sockit_buffer_data(all), sockit_buffer_len(A)) == 0);
    sockit_filter_free(f);
    sockit_buffer_free(ctx);
    sockit_buffer_free(all);
    sockit_buffer_free(tmp);
}

int main(void) {
    A = sockit_buffer_new();
    B = sockit_buffer_new();
    test_low_level_base64();
    test_low_level_qp();
    test_low_level_wrap_eol_dot();
    test_filters();
    test_cycle_equals_filter();
    sockit_buffer_free(A);
    sockit_buffer_free(B);
    return check_done();
}
