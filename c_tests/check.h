/* Minimal assertion helpers for sockit's C tests. Each test program includes this and
 * sockit.h only, calls CHECK/CHECK_OK/CHECK_STATUS, and ends with `return check_done();`,
 * which prints "N passed, M failed" and returns non-zero when anything failed. */
#ifndef SOCKIT_CHECK_H
#define SOCKIT_CHECK_H
#include <stdio.h>
#include <string.h>
#include "sockit.h"

static int check_passed = 0, check_failed = 0;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (cond) {                                                                 \
            check_passed++;                                                         \
        } else {                                                                    \
            check_failed++;                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                           \
    } while (0)

/* Checks that an expression returns the expected status; prints the last error if not. */
#define CHECK_STATUS(expr, want)                                                      \
    do {                                                                              \
        sockit_status check_s_ = (expr);                                              \
        if (check_s_ == (want)) {                                                     \
            check_passed++;                                                           \
        } else {                                                                      \
            check_failed++;                                                           \
            fprintf(stderr, "%s:%d: %s returned %s (%s), wanted %s\n", __FILE__,      \
                    __LINE__, #expr, sockit_status_str(check_s_), sockit_last_error(), \
                    sockit_status_str(want));                                         \
        }                                                                             \
    } while (0)

#define CHECK_OK(expr) CHECK_STATUS(expr, SOCKIT_OK)

/* A check whose failure prints what went wrong (the regression it guards against). */
#define CHECK_WHY(cond, what)                                                  \
    do {                                                                       \
        if (cond) {                                                            \
            check_passed++;                                                    \
        } else {                                                               \
            check_failed++;                                                    \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, what);           \
        }                                                                      \
    } while (0)

/* Compares a buffer's bytes with an expected byte string of known length. */
#define CHECK_BUF(buf, bytes, n)                                                  \
    CHECK(sockit_buffer_len(buf) == (size_t)(n) &&                                \
          ((n) == 0 || memcmp(sockit_buffer_data(buf), (bytes), (size_t)(n)) == 0))

#define CHECK_BUF_STR(buf, str) CHECK_BUF(buf, str, strlen(str))

static int check_done_(const char *file) {
    printf("%s: %d passed, %d failed\n", file, check_passed, check_failed);
    return check_failed ? 1 : 0;
}
/* Prints "<test file>: N passed, M failed" and returns the exit status. */
#define check_done() check_done_(__FILE__)
#endif
