/* LTN12 / MIME benchmark through the C API.
 *
 *   bench_ltn12 b64 FILE [CHUNK]     FILE -> base64 encode -> base64 decode -> null sink
 *   bench_ltn12 qp FILE [CHUNK]      FILE -> quoted-printable encode (text) -> null sink
 *   bench_ltn12 b64file OUT [CHUNK]  stdin (a pipe or socket) -> base64 encode -> file OUT
 *
 * CHUNK is the pump's chunk size (default 2048, LuaSocket's BLOCKSIZE). Prints one line:
 * "mode=... in_bytes=N out_bytes=N seconds=S mib_per_s=R maxrss_kib=K". Exits non-zero
 * when a call fails or, for b64, when the decoded size differs from the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include "sockit.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, sockit_status st) {
    fprintf(stderr, "bench_ltn12: %s: %s (%s)\n", what, sockit_status_str(st), sockit_last_error());
    exit(1);
}

#define TRY(what, expr)                      \
    do {                                     \
        sockit_status st_ = (expr);          \
        if (st_ != SOCKIT_OK) die(what, st_); \
    } while (0)

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_ltn12 b64|qp FILE [CHUNK] | b64file OUT [CHUNK]\n");
        return 2;
    }
    const char *mode = argv[1], *path = argv[2];
    size_t chunk = argc > 3 ? (size_t)strtoull(argv[3], NULL, 10) : 2048;
    sockit_source *src = NULL, *chained = NULL;
    sockit_sink *snk = NULL;
    sockit_filter *f = NULL;
    uint64_t in_bytes = 0;

    if (strcmp(mode, "b64file") == 0) {
        /* The filter sits in front of the sink here, so that the pump counts input bytes. */
        sockit_sink *file = NULL;
        TRY("source_fd", sockit_source_fd(0, false, &chained));
        TRY("base64_encode", sockit_filter_base64_encode(&f));
        TRY("sink_file", sockit_sink_file(path, false, &file));
        TRY("sink_chain", sockit_sink_chain(f, file, &snk));
    } else {
        struct stat sb;
        if (stat(path, &sb) != 0) {
            perror(path);
            return 1;
        }
        in_bytes = (uint64_t)sb.st_size;
        TRY("source_file", sockit_source_file(path, &src));
        if (strcmp(mode, "b64") == 0) {
            sockit_filter *fs[2];
            TRY("base64_encode", sockit_filter_base64_encode(&fs[0]));
            TRY("base64_decode", sockit_filter_base64_decode(&fs[1]));
            TRY("filter_chain", sockit_filter_chain(fs, 2, &f));
        } else if (strcmp(mode, "qp") == 0) {
            TRY("qp_encode", sockit_filter_qp_encode(false, &f));
        } else {
            fprintf(stderr, "bench_ltn12: unknown mode %s\n", mode);
            return 2;
        }
        TRY("sink_null", sockit_sink_null(&snk));
        TRY("source_chain", sockit_source_chain(src, f, &chained));
    }

    double t0 = now();
    uint64_t out_bytes = 0;
    TRY("pump_all", sockit_pump_all(chained, snk, chunk, &out_bytes));
    double secs = now() - t0;
    sockit_source_free(chained);
    sockit_sink_free(snk);

    if (strcmp(mode, "b64") == 0 && out_bytes != in_bytes) {
        fprintf(stderr, "bench_ltn12: decoded %llu bytes, expected %llu\n",
                (unsigned long long)out_bytes, (unsigned long long)in_bytes);
        return 1;
    }
    if (strcmp(mode, "b64file") == 0) {
        struct stat sb;
        in_bytes = out_bytes; /* the pump counted the input */
        out_bytes = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
        if (out_bytes != (in_bytes + 2) / 3 * 4) {
            fprintf(stderr, "bench_ltn12: wrote %llu bytes for %llu\n",
                    (unsigned long long)out_bytes, (unsigned long long)in_bytes);
            return 1;
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("mode=%s in_bytes=%llu out_bytes=%llu seconds=%.3f mib_per_s=%.1f maxrss_kib=%ld\n", mode,
           (unsigned long long)in_bytes, (unsigned long long)out_bytes, secs,
           (double)in_bytes / (1 << 20) / secs, ru.ru_maxrss);
    return 0;
}
