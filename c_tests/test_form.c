/* The streaming form parsers: urlencoded (also query strings) and multipart/form-data
 * with several files, the same field name twice and an empty file, fed a byte at a time
 * and all at once; malformed bodies and bad arguments. */
#include "check.h"

#include <stdint.h>
#include <stdlib.h>

/* Collects "name=value;" for each field (file names and types as [file|type]) into out. */
static sockit_status run(sockit_form *f, const char *body, size_t piece, char *out, size_t n) {
    sockit_buffer *d = sockit_buffer_new(), *fn = sockit_buffer_new(), *ct = sockit_buffer_new();
    size_t len = strlen(body), pos = 0, used = 0;
    sockit_status st = SOCKIT_OK;
    int ended = 0;
    out[0] = '\0';
    while (st == SOCKIT_OK) {
        if (pos < len) {
            size_t k = len - pos < piece ? len - pos : piece;
            st = sockit_form_feed(f, (const uint8_t *)body + pos, k);
            pos += k;
        } else if (!ended) {
            st = sockit_form_end(f);
            ended = 1;
        } else {
            break;
        }
        for (;;) {
            sockit_form_event ev;
            bool done = false;
            if (st != SOCKIT_OK || sockit_form_next(f, &ev, d, &done) != SOCKIT_OK)
                break;
            if (ev == SOCKIT_FORM_NONE)
                break;
            if (ev == SOCKIT_FORM_FIELD) {
                bool hf = false, hc = false;
                sockit_form_field_info(f, fn, &hf, ct, &hc);
                used += snprintf(out + used, n - used, "%s", sockit_buffer_cstr(d));
                if (hf)
                    used += snprintf(out + used, n - used, "[%s|%s]", sockit_buffer_cstr(fn),
                                     hc ? sockit_buffer_cstr(ct) : "-");
                used += snprintf(out + used, n - used, "=");
            } else if (ev == SOCKIT_FORM_DATA) {
                used += snprintf(out + used, n - used, "%.*s", (int)sockit_buffer_len(d),
                                 (const char *)sockit_buffer_data(d));
            } else if (ev == SOCKIT_FORM_END) {
                used += snprintf(out + used, n - used, ";");
            }
        }
    }
    sockit_buffer_free(d);
    sockit_buffer_free(fn);
    sockit_buffer_free(ct);
    return st;
}

static const char *MULTI =
    "--XX\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n\r\n"
    "two files\r\n"
    "--XX\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
    "Content-Type: text/plain\r\n\r\n"
    "AAA\r\n"
    "--XX\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"b.bin\"\r\n\r\n"
    "B\r\nB\r\n"
    "--XX\r\n"
    "Content-Disposition: form-data; name=\"empty\"; filename=\"\"\r\n"
    "Content-Type: application/octet-stream\r\n\r\n"
    "\r\n"
    "--XX--\r\n";

int main(void) {
    sockit_form *f = NULL;
    char out[2048];
    bool multi = true;

    /* urlencoded: repeated names, +, escapes, a name without value */
    for (size_t piece = 1; piece <= 64; piece *= 4) {
        CHECK_OK(sockit_form_new("application/x-www-form-urlencoded; charset=utf-8", 2, &f));
        CHECK_OK(sockit_form_is_multipart(f, &multi));
        CHECK(!multi);
        CHECK_OK(run(f, "a=1&b=x+y&a=%41%42&flag", piece, out, sizeof out));
        CHECK(strcmp(out, "a=1;b=x y;a=AB;flag=;") == 0);
        sockit_form_free(f);
    }
    CHECK_OK(sockit_form_new_urlencoded(0, &f));
    CHECK_OK(run(f, "q=%E2%82%AC&&z=", 3, out, sizeof out));
    CHECK(strcmp(out, "q=\xE2\x82\xAC;z=;") == 0);
    sockit_form_free(f);

    /* multipart: several files, the same field twice, an empty file */
    for (size_t piece = 1; piece <= 256; piece *= 16) {
        CHECK_OK(sockit_form_new("multipart/form-data; boundary=XX", 0, &f));
        CHECK_OK(sockit_form_is_multipart(f, &multi));
        CHECK(multi);
        CHECK_OK(run(f, MULTI, piece, out, sizeof out));
        CHECK(strcmp(out, "title=two files;file[a.txt|text/plain]=AAA;file[b.bin|-]=B\r\nB;"
                          "empty[|application/octet-stream]=;") == 0);
        sockit_form_free(f);
    }

    /* malformed: cut short, no boundary, wrong type */
    CHECK_OK(sockit_form_new("multipart/form-data; boundary=XX", 0, &f));
    CHECK_STATUS(run(f, "--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nabc", 5, out,
                     sizeof out),
                 SOCKIT_PROTOCOL);
    CHECK(strstr(sockit_last_error(), "closing boundary") != NULL);
    CHECK_STATUS(sockit_form_feed(f, (const uint8_t *)"x", 1), SOCKIT_PROTOCOL);
    sockit_form_free(f);
    CHECK_OK(sockit_form_new("multipart/form-data; boundary=XX", 0, &f));
    CHECK_STATUS(run(f, "--XX\r\nX-No: name\r\n\r\nabc\r\n--XX--", 4, out, sizeof out),
                 SOCKIT_PROTOCOL);
    sockit_form_free(f);
    f = (sockit_form *)1;
    CHECK_STATUS(sockit_form_new("multipart/form-data", 0, &f), SOCKIT_PROTOCOL);
    CHECK(f == NULL);
    CHECK_STATUS(sockit_form_new("text/plain", 0, &f), SOCKIT_UNSUPPORTED);
    CHECK_STATUS(sockit_form_new(NULL, 0, &f), SOCKIT_INVALID);
    CHECK_STATUS(sockit_form_new_urlencoded(0, NULL), SOCKIT_INVALID);

    /* bad arguments */
    sockit_form_event ev;
    CHECK_STATUS(sockit_form_feed(NULL, (const uint8_t *)"a", 1), SOCKIT_INVALID);
    CHECK_STATUS(sockit_form_end(NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_form_next(NULL, &ev, NULL, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_form_field_info(NULL, NULL, NULL, NULL, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_form_is_multipart(NULL, &multi), SOCKIT_INVALID);
    CHECK_OK(sockit_form_new_urlencoded(0, &f));
    CHECK_STATUS(sockit_form_feed(f, NULL, 3), SOCKIT_INVALID);
    CHECK_STATUS(sockit_form_next(f, NULL, NULL, NULL), SOCKIT_INVALID);
    CHECK_OK(sockit_form_end(f));
    CHECK_STATUS(sockit_form_end(f), SOCKIT_INVALID);
    bool done = false;
    CHECK_OK(sockit_form_next(f, &ev, NULL, &done));
    CHECK(ev == SOCKIT_FORM_NONE && done);
    sockit_form_free(f);
    sockit_form_free(NULL);
    CHECK_STATUS(sockit_form_end(f), SOCKIT_INVALID); /* freed */
    return check_done();
}
