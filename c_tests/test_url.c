/* URLs through the C API: parse with getters, setters and build, RFC 3986 5.4 resolution,
 * escape/unescape/protect_segment, malformed input. */
#include "check.h"
#include <stdint.h>

static sockit_buffer *V;

static void expect_part(sockit_url *u, sockit_url_part part, const char *want) {
    bool present = !want;
    CHECK_OK(sockit_url_get(u, part, V, &present));
    if (want) {
        CHECK(present);
        CHECK(strcmp(sockit_buffer_cstr(V), want) == 0);
    } else {
        CHECK(!present && sockit_buffer_len(V) == 0);
    }
}

static void test_parse(void) {
    sockit_url *u = NULL;
    CHECK_OK(sockit_url_parse("http://us:er:pw@[::1]:8080/a/b;p=1?q=2#frag", &u));
    expect_part(u, SOCKIT_URL_SCHEME, "http");
    expect_part(u, SOCKIT_URL_AUTHORITY, "us:er:pw@[::1]:8080");
    expect_part(u, SOCKIT_URL_USERINFO, "us:er:pw");
    expect_part(u, SOCKIT_URL_USER, "us:er");
    expect_part(u, SOCKIT_URL_PASSWORD, "pw");
    expect_part(u, SOCKIT_URL_HOST, "::1");
    expect_part(u, SOCKIT_URL_PORT, "8080");
    expect_part(u, SOCKIT_URL_PATH, "/a/b");
    expect_part(u, SOCKIT_URL_PARAMS, "p=1");
    expect_part(u, SOCKIT_URL_QUERY, "q=2");
    expect_part(u, SOCKIT_URL_FRAGMENT, "frag");
    CHECK_OK(sockit_url_build(u, V));
    CHECK(strcmp(sockit_buffer_cstr(V), "http://us:er:pw@[::1]:8080/a/b;p=1?q=2#frag") == 0);

    /* setters: host/port/user win over authority; NULL removes */
    CHECK_OK(sockit_url_set(u, SOCKIT_URL_HOST, "example.org"));
    CHECK_OK(sockit_url_set(u, SOCKIT_URL_PORT, NULL));
    CHECK_OK(sockit_url_set(u, SOCKIT_URL_USER, "anon"));
    CHECK_OK(sockit_url_set(u, SOCKIT_URL_PASSWORD, NULL));
    CHECK_OK(sockit_url_set(u, SOCKIT_URL_FRAGMENT, NULL));
    CHECK_OK(sockit_url_set(u, SOCKIT_URL_QUERY, ""));
    CHECK_OK(sockit_url_build(u, V));
    CHECK(strcmp(sockit_buffer_cstr(V), "http://anon@example.org/a/b;p=1?") == 0);
    CHECK_STATUS(sockit_url_set(u, SOCKIT_URL_PORT, "80a"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_url_set(u, SOCKIT_URL_PORT, "65536"), SOCKIT_INVALID);
    CHECK_OK(sockit_url_set(u, SOCKIT_URL_PORT, "65535"));
    CHECK_STATUS(sockit_url_set(u, 11, "x"), SOCKIT_INVALID);
    CHECK_STATUS(sockit_url_set(u, -1, "x"), SOCKIT_INVALID);
    bool present;
    CHECK_STATUS(sockit_url_get(u, 99, V, &present), SOCKIT_INVALID);
    CHECK_STATUS(sockit_url_get(u, SOCKIT_URL_HOST, V, NULL), SOCKIT_INVALID);
    sockit_url_free(u);
    CHECK_STATUS(sockit_url_get(u, SOCKIT_URL_HOST, V, &present), SOCKIT_INVALID);

    /* an empty URL built up from scratch */
    CHECK_OK(sockit_url_new(&u));
    CHECK_OK(sockit_url_build(u, V));
    CHECK(strcmp(sockit_buffer_cstr(V), "") == 0);
    CHECK_OK(sockit_url_set(u, SOCKIT_URL_SCHEME, "ftp"));
    CHECK_OK(sockit_url_set(u, SOCKIT_URL_HOST, "fe80::1"));
    CHECK_OK(sockit_url_set(u, SOCKIT_URL_PATH, "/pub"));
    CHECK_OK(sockit_url_build(u, V));
    CHECK(strcmp(sockit_buffer_cstr(V), "ftp://[fe80::1]/pub") == 0);
    sockit_url_free(u);
}

static void test_malformed(void) {
    const char *bad[] = {"", "http://h:80x/", "http://h:99999/", "http://[::1/", "http://::1/",
                         "http://a\r\nb/", "http://[not-ip]/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sockit_url *u = (sockit_url *)1;
        CHECK_STATUS(sockit_url_parse(bad[i], &u), SOCKIT_INVALID);
        CHECK(u == NULL);
    }
    sockit_url *u;
    CHECK_STATUS(sockit_url_parse(NULL, &u), SOCKIT_INVALID);
    CHECK_STATUS(sockit_url_parse("\xff\xfe", &u), SOCKIT_INVALID);
    CHECK_STATUS(sockit_url_parse("http://x/", NULL), SOCKIT_INVALID);
}

static void test_absolute(void) {
    const char *base = "http://a/b/c/d;p?q";
    const char *cases[][2] = {
        {"g:h", "g:h"}, {"g", "http://a/b/c/g"}, {"./g", "http://a/b/c/g"},
        {"g/", "http://a/b/c/g/"}, {"/g", "http://a/g"}, {"//g", "http://g"},
        {"?y", "http://a/b/c/d;p?y"}, {"g?y", "http://a/b/c/g?y"}, {"#s", "http://a/b/c/d;p?q#s"},
        {"g#s", "http://a/b/c/g#s"}, {"g?y#s", "http://a/b/c/g?y#s"}, {";x", "http://a/b/c/;x"},
        {"g;x", "http://a/b/c/g;x"}, {"g;x?y#s", "http://a/b/c/g;x?y#s"},
        {"", "http://a/b/c/d;p?q"}, {".", "http://a/b/c/"}, {"./", "http://a/b/c/"},
        {"..", "http://a/b/"}, {"../", "http://a/b/"}, {"../g", "http://a/b/g"},
        {"../..", "http://a/"}, {"../../", "http://a/"}, {"../../g", "http://a/g"},
        {"../../../g", "http://a/g"}, {"../../../../g", "http://a/g"}, {"/./g", "http://a/g"},
        {"/../g", "http://a/g"}, {"g.", "http://a/b/c/g."}, {".g", "http://a/b/c/.g"},
        {"g..", "http://a/b/c/g.."}, {"..g", "http://a/b/c/..g"}, {"./../g", "http://a/b/g"},
        {"./g/.", "http://a/b/c/g/"}, {"g/./h", "http://a/b/c/g/h"}, {"g/../h", "http://a/b/c/h"},
        {"g;x=1/./y", "http://a/b/c/g;x=1/y"}, {"g;x=1/../y", "http://a/b/c/y"},
        {"g?y/./x", "http://a/b/c/g?y/./x"}, {"g?y/../x", "http://a/b/c/g?y/../x"},
        {"g#s/./x", "http://a/b/c/g#s/./x"}, {"g#s/../x", "http://a/b/c/g#s/../x"},
        {"http:g", "http:g"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_OK(sockit_url_absolute(base, cases[i][0], V));
        if (strcmp(sockit_buffer_cstr(V), cases[i][1]) != 0)
            fprintf(stderr, "  %s -> %s, wanted %s\n", cases[i][0], sockit_buffer_cstr(V), cases[i][1]);
        CHECK(strcmp(sockit_buffer_cstr(V), cases[i][1]) == 0);
    }
    CHECK_STATUS(sockit_url_absolute(base, "http://h:x/", V), SOCKIT_INVALID);
    CHECK_STATUS(sockit_url_absolute(NULL, "g", V), SOCKIT_INVALID);
}

static void test_escape(void) {
    CHECK_OK(sockit_url_escape((const uint8_t *)"a b/c_d\xff\0z", 10, V));
    CHECK(strcmp(sockit_buffer_cstr(V), "a%20b%2fc_d%ff%00z") == 0);
    CHECK_OK(sockit_url_unescape((const uint8_t *)"a%20b%2Fc%zz%00", 15, V));
    CHECK_BUF(V, "a b/c%zz\0", 9);
    CHECK_OK(sockit_url_protect_segment((const uint8_t *)"a/b?c;d:e@f", 11, V));
    CHECK(strcmp(sockit_buffer_cstr(V), "a%2Fb%3Fc%3Bd:e@f") == 0);
    CHECK_STATUS(sockit_url_escape(NULL, 2, V), SOCKIT_INVALID);
    CHECK_STATUS(sockit_url_unescape((const uint8_t *)"x", 1, NULL), SOCKIT_INVALID);
}

/* LuaSocket 3's reading: sockit_url_split never refuses but the empty URL, and hands out
 * ranges of the input (so any bytes work, NUL included). */
static void expect_span(const char *url, size_t len, const size_t *starts, const size_t *lens,
                        const bool *present, sockit_url_part part, const char *want) {
    if (!want) {
        CHECK(!present[part] && starts[part] == 0 && lens[part] == 0);
        return;
    }
    CHECK(present[part] && lens[part] == strlen(want) && starts[part] + lens[part] <= len &&
          memcmp(url + starts[part], want, lens[part]) == 0);
}

static void test_split(void) {
    size_t starts[SOCKIT_URL_PARTS], lens[SOCKIT_URL_PARTS];
    bool present[SOCKIT_URL_PARTS];
    const char *u = "ftp://u$e%r:p?a#s;s@host:abc/x;t=i";
    size_t n = strlen(u);
    CHECK_OK(sockit_url_split((const uint8_t *)u, n, starts, lens, present));
    expect_span(u, n, starts, lens, present, SOCKIT_URL_SCHEME, "ftp");
    expect_span(u, n, starts, lens, present, SOCKIT_URL_USERINFO, "u$e%r:p?a#s;s");
    expect_span(u, n, starts, lens, present, SOCKIT_URL_USER, "u$e%r");
    expect_span(u, n, starts, lens, present, SOCKIT_URL_PASSWORD, "p?a#s;s");
    expect_span(u, n, starts, lens, present, SOCKIT_URL_HOST, "host");
    expect_span(u, n, starts, lens, present, SOCKIT_URL_PORT, "abc");
    expect_span(u, n, starts, lens, present, SOCKIT_URL_PATH, "/x");
    expect_span(u, n, starts, lens, present, SOCKIT_URL_PARAMS, "t=i");
    expect_span(u, n, starts, lens, present, SOCKIT_URL_QUERY, NULL);
    expect_span(u, n, starts, lens, present, SOCKIT_URL_FRAGMENT, NULL);
    /* a NUL inside the path, the authority up to the first slash */
    const char bin[] = "//h?q#f/a\0b";
    CHECK_OK(sockit_url_split((const uint8_t *)bin, sizeof bin - 1, starts, lens, present));
    expect_span(bin, sizeof bin - 1, starts, lens, present, SOCKIT_URL_HOST, "h?q#f");
    CHECK(present[SOCKIT_URL_PATH] && lens[SOCKIT_URL_PATH] == 4 &&
          memcmp(bin + starts[SOCKIT_URL_PATH], "/a\0b", 4) == 0);
    /* the empty URL, NULL arrays */
    CHECK_STATUS(sockit_url_split((const uint8_t *)"", 0, starts, lens, present), SOCKIT_INVALID);
    CHECK(!present[SOCKIT_URL_SCHEME] && !present[SOCKIT_URL_PATH]);
    CHECK(strstr(sockit_last_error(), "invalid url") != NULL);
    CHECK_STATUS(sockit_url_split(NULL, 3, starts, lens, present), SOCKIT_INVALID);
    CHECK_STATUS(sockit_url_split((const uint8_t *)"a", 1, NULL, lens, present), SOCKIT_INVALID);
    CHECK_STATUS(sockit_url_split((const uint8_t *)"a", 1, starts, lens, NULL), SOCKIT_INVALID);
}

static void test_absolute_luasocket(void) {
    const char *base = "http://a/b/c/d;p?q";
    const char *cases[][2] = {
        {"g?y/./x", "http://a/b/c/g?y/x"}, {"g#s/./x", "http://a/b/c/g#s/x"},
        {";x", "http://a/b/c/d;x"}, {"", "http://a/b/c/d;p?q"}, {"?y", "http://a/b/c/d;p?y"},
        {"../../../g", "http://a/g"}, {"g:h", "g:h"}, {"//g/./x", "http://g/x"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_OK(sockit_url_absolute_luasocket((const uint8_t *)base, strlen(base),
                                               (const uint8_t *)cases[i][0], strlen(cases[i][0]), V));
        CHECK_WHY(strcmp(sockit_buffer_cstr(V), cases[i][1]) == 0, cases[i][0]);
    }
    /* a base without a slash, an empty base (dots removed from the reference) */
    CHECK_OK(sockit_url_absolute_luasocket((const uint8_t *)"x", 1, (const uint8_t *)"y", 1, V));
    CHECK(strcmp(sockit_buffer_cstr(V), "/y") == 0);
    CHECK_OK(sockit_url_absolute_luasocket(NULL, 0, (const uint8_t *)"a/../b", 6, V));
    CHECK(strcmp(sockit_buffer_cstr(V), "b") == 0);
    /* the RFC 3986 resolver answers differently for the same reference */
    CHECK_OK(sockit_url_absolute(base, "g?y/./x", V));
    CHECK(strcmp(sockit_buffer_cstr(V), "http://a/b/c/g?y/./x") == 0);
    CHECK_STATUS(sockit_url_absolute_luasocket(NULL, 1, (const uint8_t *)"y", 1, V), SOCKIT_INVALID);
    CHECK_STATUS(sockit_url_absolute_luasocket((const uint8_t *)"x", 1, (const uint8_t *)"y", 1, NULL),
                 SOCKIT_INVALID);
}

int main(void) {
    V = sockit_buffer_new();
    test_parse();
    test_malformed();
    test_split();
    test_absolute_luasocket();
    test_absolute();
    test_escape();
    sockit_buffer_free(V);
    return check_done();
}
