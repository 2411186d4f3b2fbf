/* C tests for sockit_dns_* and sockit_hostinfo: localhost, literals and names that must
 * fail (.invalid) only; no outside network. */
#include "check.h"

#define NOT_FOUND(s) \
    ((s) == SOCKIT_HOST_NOT_FOUND || (s) == SOCKIT_DNS_AGAIN || (s) == SOCKIT_DNS_FAIL)

static int has_address(const sockit_hostinfo *h, const char *addr, sockit_family want) {
    for (size_t i = 0; i < sockit_hostinfo_address_count(h); i++) {
        sockit_family f = SOCKIT_FAMILY_UNIX;
        const char *a = sockit_hostinfo_address(h, i, &f);
        if (a && strcmp(a, addr) == 0 && f == want) return 1;
    }
    return 0;
}

static void toip(void) {
    sockit_buffer *ip = sockit_buffer_new();
    sockit_hostinfo *h = NULL;

    CHECK_OK(sockit_dns_toip("localhost", ip, &h));
    CHECK(strcmp(sockit_buffer_cstr(ip), "127.0.0.1") == 0 ||
          strcmp(sockit_buffer_cstr(ip), "::1") == 0);
    CHECK(h != NULL);
    CHECK(sockit_hostinfo_name(h) != NULL && sockit_hostinfo_name(h)[0] != '\0');
    CHECK(sockit_hostinfo_address_count(h) >= 1);
    CHECK(has_address(h, sockit_buffer_cstr(ip), strchr(sockit_buffer_cstr(ip), ':')
                                                     ? SOCKIT_FAMILY_INET6
                                                     : SOCKIT_FAMILY_INET));
    /* Every alias index below the count is a string; past it is NULL. */
    size_t n = sockit_hostinfo_alias_count(h);
    for (size_t i = 0; i < n; i++) CHECK(sockit_hostinfo_alias(h, i) != NULL);
    CHECK(sockit_hostinfo_alias(h, n) == NULL);
    CHECK(strstr(sockit_last_error(), "out of range") != NULL);
    CHECK(sockit_hostinfo_address(h, 1000, NULL) == NULL);
    CHECK(sockit_hostinfo_address(h, 0, NULL) != NULL); /* family may be NULL */
    sockit_hostinfo_free(h);

    /* Literals come back as themselves; info may be NULL. */
    CHECK_OK(sockit_dns_toip("127.0.0.1", ip, NULL));
    CHECK(strcmp(sockit_buffer_cstr(ip), "127.0.0.1") == 0);
    CHECK_OK(sockit_dns_toip("::1", ip, &h));
    CHECK(strcmp(sockit_buffer_cstr(ip), "::1") == 0);
    CHECK(has_address(h, "::1", SOCKIT_FAMILY_INET6));
    sockit_hostinfo_free(h);

    /* Failures name the host and leave *info NULL. */
    h = (sockit_hostinfo *)1;
    sockit_status s = sockit_dns_toip("no-such-host.invalid", ip, &h);
    CHECK(NOT_FOUND(s));
    CHECK(h == NULL);
    CHECK(strncmp(sockit_last_error(), "no-such-host.invalid: ", 22) == 0);
    CHECK_STATUS(sockit_dns_toip("", ip, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_dns_toip(NULL, ip, NULL), SOCKIT_INVALID);
    CHECK(strcmp(sockit_last_error(), "name is NULL") == 0);
    h = (sockit_hostinfo *)1;
    CHECK_STATUS(sockit_dns_toip("localhost", NULL, &h), SOCKIT_INVALID);
    CHECK(h == NULL);
    sockit_buffer_free(ip);
}

static void tohostname(void) {
    sockit_buffer *name = sockit_buffer_new();
    sockit_hostinfo *h = NULL;
    CHECK_OK(sockit_dns_tohostname("127.0.0.1", name, &h));
    CHECK(sockit_buffer_len(name) > 0);
    CHECK(strcmp(sockit_hostinfo_name(h), sockit_buffer_cstr(name)) == 0);
    CHECK(has_address(h, "127.0.0.1", SOCKIT_FAMILY_INET));
    sockit_hostinfo_free(h);
    CHECK_OK(sockit_dns_tohostname("localhost", name, NULL));
    CHECK(sockit_buffer_len(name) > 0);

    sockit_status s = sockit_dns_tohostname("no-such-host.invalid", name, &h);
    CHECK(NOT_FOUND(s));
    CHECK(h == NULL);
    CHECK(strncmp(sockit_last_error(), "no-such-host.invalid: ", 22) == 0);
    CHECK_STATUS(sockit_dns_tohostname(NULL, name, NULL), SOCKIT_INVALID);
    CHECK_STATUS(sockit_dns_tohostname("127.0.0.1", NULL, NULL), SOCKIT_INVALID);
    sockit_buffer_free(name);
}

static void gethostname_(void) {
    sockit_buffer *name = sockit_buffer_new();
    CHECK_OK(sockit_dns_gethostname(name));
    CHECK(sockit_buffer_len(name) > 0);
    CHECK(strlen(sockit_buffer_cstr(name)) == sockit_buffer_len(name));
    CHECK_STATUS(sockit_dns_gethostname(NULL), SOCKIT_INVALID);
    sockit_buffer_free(name);
    /* A freed buffer is refused, not written. */
    CHECK_STATUS(sockit_dns_gethostname(name), SOCKIT_INVALID);
}

static void getaddrinfo_(void) {
    sockit_hostinfo *h = NULL;
    CHECK_OK(sockit_dns_getaddrinfo("127.0.0.1", &h));
    CHECK(sockit_hostinfo_address_count(h) == 1);
    CHECK(has_address(h, "127.0.0.1", SOCKIT_FAMILY_INET));
    CHECK(sockit_hostinfo_alias_count(h) == 0);
    sockit_hostinfo_free(h);
    CHECK_OK(sockit_dns_getaddrinfo("::1", &h));
    CHECK(has_address(h, "::1", SOCKIT_FAMILY_INET6));
    sockit_hostinfo_free(h);
    CHECK_OK(sockit_dns_getaddrinfo("localhost", &h));
    CHECK(sockit_hostinfo_address_count(h) >= 1);
    CHECK(has_address(h, "127.0.0.1", SOCKIT_FAMILY_INET) ||
          has_address(h, "::1", SOCKIT_FAMILY_INET6));
    CHECK(sockit_hostinfo_name(h)[0] != '\0');
    sockit_hostinfo_free(h);

    h = (sockit_hostinfo *)1;
    sockit_status s = sockit_dns_getaddrinfo("no-such-host.invalid", &h);
    CHECK(NOT_FOUND(s));
    CHECK(h == NULL);
    CHECK(strncmp(sockit_last_error(), "no-such-host.invalid: ", 22) == 0);
    CHECK_STATUS(sockit_dns_getaddrinfo(NULL, &h), SOCKIT_INVALID);
    CHECK_STATUS(sockit_dns_getaddrinfo("localhost", NULL), SOCKIT_INVALID);
}

static void getnameinfo_(void) {
    sockit_hostinfo *h = NULL;
    sockit_buffer *serv = sockit_buffer_new();
    CHECK_OK(sockit_dns_getnameinfo("127.0.0.1", "80", &h, serv));
    CHECK(sockit_hostinfo_alias_count(h) == 1);
    CHECK(sockit_hostinfo_alias(h, 0)[0] != '\0');
    CHECK(strcmp(sockit_hostinfo_name(h), sockit_hostinfo_alias(h, 0)) == 0);
    CHECK(has_address(h, "127.0.0.1", SOCKIT_FAMILY_INET));
    CHECK(strcmp(sockit_buffer_cstr(serv), "http") == 0 ||
          strcmp(sockit_buffer_cstr(serv), "80") == 0);
    sockit_hostinfo_free(h);

    CHECK_OK(sockit_dns_getnameinfo("127.0.0.1", "54321", NULL, serv));
    CHECK(strcmp(sockit_buffer_cstr(serv), "54321") == 0);
    CHECK_OK(sockit_dns_getnameinfo("localhost", NULL, &h, serv));
    CHECK(sockit_hostinfo_alias_count(h) >= 1);
    CHECK(sockit_buffer_len(serv) == 0);
    sockit_hostinfo_free(h);
    CHECK_OK(sockit_dns_getnameinfo(NULL, "80", &h, NULL));
    CHECK(sockit_hostinfo_alias_count(h) == 0);
    CHECK(sockit_hostinfo_name(h)[0] == '\0');
    sockit_hostinfo_free(h);

    h = (sockit_hostinfo *)1;
    CHECK_STATUS(sockit_dns_getnameinfo(NULL, NULL, &h, serv), SOCKIT_INVALID);
    CHECK(h == NULL);
    sockit_status s = sockit_dns_getnameinfo("no-such-host.invalid", "80", &h, serv);
    CHECK(NOT_FOUND(s));
    CHECK(strncmp(sockit_last_error(), "no-such-host.invalid: ", 22) == 0);
    CHECK_STATUS(sockit_dns_getnameinfo("127.0.0.1", "no-such-service", &h, serv),
                 SOCKIT_SERVICE);
    CHECK(strncmp(sockit_last_error(), "no-such-service: ", 17) == 0);
    sockit_buffer_free(serv);
}

static void freed_and_null_handles(void) {
    sockit_hostinfo *h = NULL;
    CHECK(sockit_hostinfo_name(NULL) == NULL);
    CHECK(sockit_hostinfo_alias_count(NULL) == 0);
    CHECK(sockit_hostinfo_alias(NULL, 0) == NULL);
    CHECK(sockit_hostinfo_address_count(NULL) == 0);
    CHECK(sockit_hostinfo_address(NULL, 0, NULL) == NULL);
    sockit_hostinfo_free(NULL);
    CHECK_OK(sockit_dns_getaddrinfo("127.0.0.1", &h));
    sockit_hostinfo_free(h);
    CHECK(sockit_hostinfo_name(h) == NULL);
    CHECK(strcmp(sockit_last_error(), "hostinfo handle has been freed") == 0);
    CHECK(sockit_hostinfo_alias_count(h) == 0);
    CHECK(sockit_hostinfo_alias(h, 0) == NULL);
    CHECK(sockit_hostinfo_address_count(h) == 0);
    sockit_family f = SOCKIT_FAMILY_UNIX;
    CHECK(sockit_hostinfo_address(h, 0, &f) == NULL);
    CHECK(f == SOCKIT_FAMILY_UNIX);
    sockit_hostinfo_free(h); /* twice: harmless */
}

int main(void) {
    toip();
    tohostname();
    gethostname_();
    getaddrinfo_();
    getnameinfo_();
    freed_and_null_handles();
    return check_done();
}
