/*
 * http_upload.c: sockit's HTTP client in C against the demo's Moonbridge application
 * (`make demo`): PUT a file with a progress display (the body comes from a callback
 * source that reads the file and draws the bar), GET it back (into a callback sink that
 * draws the bar and compares every byte with the original), and say whether it matched.
 *
 *   http_upload URL FILE      e.g. http_upload http://127.0.0.1:8080/files/a.bin a.bin
 *
 * Exits 0 only when the upload was stored and the download equals the file.
 */
#include "sockit.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    FILE *f;       /* the original file */
    long size;     /* its size */
    long done;     /* bytes moved so far */
    const char *what;
    int shown;     /* the percentage drawn last */
    int mismatch;  /* download: a byte differed, or too many bytes came */
} transfer;

static void bar(transfer *t)
{
    int width = 40, filled = t->size ? (int)((double)t->done / t->size * width) : width;
    int pct = t->size ? (int)(100.0 * t->done / t->size) : 100;
    char line[64];
    if (pct == t->shown)
        return;
    t->shown = pct;
    memset(line, '#', (size_t)filled);
    memset(line + filled, '.', (size_t)(width - filled));
    line[width] = '\0';
    fprintf(stderr, "\r  %-8s [%s] %3d%%  %.1f / %.1f MiB", t->what, line, pct,
            t->done / 1048576.0, t->size / 1048576.0);
    if (t->done >= t->size)
        fputc('\n', stderr);
}

/* Source: the next 64 KiB of the file. */
static int read_file(void *ud, sockit_buffer *chunk, bool *end)
{
    transfer *t = (transfer *)ud;
    uint8_t block[65536];
    size_t n = fread(block, 1, sizeof block, t->f);
    if (n == 0) {
        *end = true;
        return SOCKIT_OK;
    }
    sockit_buffer_append(chunk, block, n);
    t->done += (long)n;
    bar(t);
    return SOCKIT_OK;
}

/* Sink: compares what arrives with the file (chunk NULL: the end, or a failure). */
static int compare(void *ud, const uint8_t *chunk, size_t len, const char *error)
{
    transfer *t = (transfer *)ud;
    uint8_t block[65536];
    if (chunk == NULL) {
        if (error)
            t->mismatch = 1;
        return SOCKIT_OK;
    }
    while (len > 0) {
        size_t k = len < sizeof block ? len : sizeof block;
        if (fread(block, 1, k, t->f) != k || memcmp(block, chunk, k) != 0)
            t->mismatch = 1;
        chunk += k;
        len -= k;
        t->done += (long)k;
    }
    if (t->done > t->size)
        t->mismatch = 1;
    bar(t);
    return SOCKIT_OK;
}

static int fail(const char *what, sockit_status st)
{
    fprintf(stderr, "\n  %s: %s (%s)\n", what, sockit_status_str(st), sockit_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    sockit_http *client = NULL;
    sockit_http_request *req = NULL;
    sockit_http_response *resp = NULL;
    sockit_source *src = NULL;
    sockit_sink *sink = NULL;
    sockit_buffer *body = sockit_buffer_new();
    transfer t = {0};
    int code = 0, rc = 1;
    sockit_status st;

    if (argc != 3) {
        fprintf(stderr, "usage: %s URL FILE\n", argv[0]);
        return 2;
    }
    t.f = fopen(argv[2], "rb");
    if (!t.f) {
        perror(argv[2]);
        return 2;
    }
    fseek(t.f, 0, SEEK_END);
    t.size = ftell(t.f);
    rewind(t.f);

    if ((st = sockit_http_new(&client)) || (st = sockit_http_response_new(&resp)))
        return fail("client", st);

    /* PUT with a Content-Length, the body pulled from the callback source. */
    t.what = "upload";
    t.shown = -1;
    if ((st = sockit_http_request_new("PUT", argv[1], &req)) ||
        (st = sockit_source_callback(read_file, &t, NULL, &src)) ||
        (st = sockit_http_request_set_body_source(req, src, t.size)))
        return fail("upload request", st);
    st = sockit_http_perform(client, req, NULL, resp);
    if (st != SOCKIT_OK)
        return fail("upload", st);
    code = sockit_http_response_code(resp);
    sockit_http_response_body(resp, body);
    printf("  server: %d %s", code, sockit_buffer_cstr(body));
    fflush(stdout);
    sockit_http_request_free(req);
    req = NULL;

    /* GET it back through the comparing sink. */
    rewind(t.f);
    t.done = 0;
    t.what = "download";
    t.shown = -1;
    if ((st = sockit_http_request_new("GET", argv[1], &req)) ||
        (st = sockit_sink_callback(compare, &t, NULL, &sink)))
        return fail("download request", st);
    st = sockit_http_perform(client, req, sink, resp);
    if (st != SOCKIT_OK)
        return fail("download", st);
    code = sockit_http_response_code(resp);
    if (code == 200 && t.done == t.size && !t.mismatch) {
        printf("  C client: the %ld bytes came back unchanged\n", t.size);
        rc = 0;
    } else {
        printf("  C client: MISMATCH (status %d, %ld of %ld bytes%s)\n", code, t.done, t.size,
               t.mismatch ? ", bytes differ" : "");
    }
    sockit_sink_free(sink);
    sockit_http_request_free(req);
    sockit_http_response_free(resp);
    sockit_http_free(client);
    sockit_buffer_free(body);
    fclose(t.f);
    return rc;
}
