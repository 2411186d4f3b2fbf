/* HTTP client benchmark driver for bench/http/run.sh.
 *
 *   bench_http download URL             body into a null sink
 *   bench_http download-file URL PATH   body into a file sink
 *   bench_http many URL N               N GETs of URL on one client (connection reuse)
 *
 * Prints one line: "bytes=<n> secs=<s> maxrss_kb=<k> reused=<r>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "sockit.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long maxrss_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int fail(const char *what, sockit_status s) {
    fprintf(stderr, "%s: %s (%s)\n", what, sockit_status_str(s), sockit_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_http download|download-file|many URL [PATH|N]\n");
        return 2;
    }
    const char *mode = argv[1], *url = argv[2];
    sockit_http *client = NULL;
    sockit_http_request *req = NULL;
    sockit_http_response *resp = NULL;
    sockit_sink *sink = NULL;
    sockit_status s;
    uint64_t bytes = 0, received = 0;
    long reused_total = 0;
    if ((s = sockit_http_new(&client)) || (s = sockit_http_request_new("GET", url, &req)) ||
        (s = sockit_http_response_new(&resp)))
        return fail("setup", s);
    double t0 = now();
    if (strcmp(mode, "download") == 0 || strcmp(mode, "download-file") == 0) {
        if (strcmp(mode, "download") == 0) s = sockit_sink_null(&sink);
        else if (argc > 3) s = sockit_sink_file(argv[3], false, &sink);
        else return 2;
        if (s) return fail("sink", s);
        if ((s = sockit_http_perform(client, req, sink, resp))) return fail("perform", s);
        sockit_http_response_info(resp, &bytes, NULL, NULL);
        sockit_sink_free(sink);
    } else if (strcmp(mode, "many") == 0 && argc > 3) {
        int n = atoi(argv[3]);
        if ((s = sockit_sink_null(&sink))) return fail("sink", s);
        for (int i = 0; i < n; i++) {
            int reused = 0;
            if ((s = sockit_http_perform(client, req, sink, resp))) return fail("perform", s);
            sockit_http_response_info(resp, &received, NULL, &reused);
            bytes += received;
            reused_total += reused;
        }
        sockit_sink_free(sink);
    } else {
        return 2;
    }
    double secs = now() - t0;
    printf("bytes=%llu secs=%.6f maxrss_kb=%ld reused=%ld\n", (unsigned long long)bytes, secs,
           maxrss_kb(), reused_total);
    sockit_http_response_free(resp);
    sockit_http_request_free(req);
    sockit_http_free(client);
    return 0;
}
