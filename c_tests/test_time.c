/* C tests for sockit_gettime and sockit_sleep, including a signal during the sleep. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>
#include "check.h"

static volatile sig_atomic_t alarms = 0;
static void on_alarm(int sig) {
    (void)sig;
    alarms++;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void) {
    /* The epoch clock, agreeing with the C library's. */
    double before = now();
    double t = sockit_gettime();
    double after = now();
    CHECK(t > 1.5e9);
    /* Bracketed by the C library's clock (valgrind can make any one call slow). */
    CHECK(t >= before - 0.001 && t <= after + 0.001);
    /* Sub-millisecond resolution: two readings soon differ by less than 1 ms. */
    double a = sockit_gettime(), b = sockit_gettime();
    int spins = 0;
    while (b == a && spins++ < 1000000) b = sockit_gettime();
    CHECK(b > a && b - a < 0.001);

    /* Sleep bounds. */
    t = sockit_gettime();
    sockit_sleep(0.05);
    double el = sockit_gettime() - t;
    CHECK(el >= 0.05 && el < 0.5);

    /* Negative, zero and NaN return at once. */
    t = sockit_gettime();
    sockit_sleep(-1);
    sockit_sleep(0);
    sockit_sleep(NAN);
    sockit_sleep(-INFINITY);
    CHECK(sockit_gettime() - t < 0.5); /* no sleep; loose for valgrind on a busy machine */

    /* A signal (handler installed without SA_RESTART) does not cut the sleep short. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 50000}}; /* one alarm after 50 ms */
    setitimer(ITIMER_REAL, &it, NULL);
    t = sockit_gettime();
    sockit_sleep(0.2);
    el = sockit_gettime() - t;
    CHECK(alarms == 1);
    CHECK(el >= 0.2 && el < 1.0);
    return check_done();
}
