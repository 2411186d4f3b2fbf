/*
 * moonbridge_main.c: sockit-moonbridge, the Moonbridge Network Server on sockit.
 *
 *   sockit-moonbridge [options] [--] app.lua [arguments for app.lua]
 *     -b, --background        detach from the terminal (after app.lua has set up its
 *                             listeners, so that errors still reach the caller)
 *     -p, --pidfile FILE      write the master's pid to FILE, locked while it runs
 *     -l, --logfile FILE      log to FILE (appended) instead of standard error
 *     -f, --logfacility NAME  log to syslog: DAEMON, USER or 0..7 for LOCAL0..LOCAL7
 *     -i, --logident NAME     log to syslog under NAME (default sockit-moonbridge)
 *     -s, --stats             log every fork, dispatch and worker end (with peak RSS)
 *     -d, --debug             the same as --stats
 *     -h, --help              print this help
 *
 * app.lua runs in a Lua 5.1 state with the standard libraries, where require
 * "moonbridge_io" and require "moonbridge_http" work (sockit's modules next to this
 * program, or in ../lib/sockit/lua51 when installed), with the globals listen{...} and
 * timeout(...), and with its arguments as `...` and in `arg`. Without --background and
 * without a log file, the log goes to standard error; with --background and no log file,
 * to syslog.
 *
 * Exit status: 0 after the server stopped (SIGTERM: gracefully, SIGINT/SIGHUP: at once);
 * 1 for a command line error; 2 when the pid file is locked by a running server; 3 when
 * app.lua fails, calls no listen{...}, or a listener cannot be bound (the message says
 * which); 4 when the server fails while running.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

#include "mbserver51.h"
#include "sockit.h"

#define EXIT_CMDLINE 1
#define EXIT_RUNNING 2
#define EXIT_STARTUP 3
#define EXIT_RUNTIME 4

static const char *progname = "sockit-moonbridge";
static int log_fd = 2;       /* standard error or the log file */
static int use_syslog = 0;   /* log through syslog instead */
static int pid_fd = -1;      /* the locked pid file */
static const char *pid_path = NULL;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [options] [--] app.lua [arguments for app.lua]\n"
            "  -b, --background        detach from the terminal once the listeners are up\n"
            "  -p, --pidfile FILE      write the master's pid to FILE (locked while it runs)\n"
            "  -l, --logfile FILE      log to FILE (appended) instead of standard error\n"
            "  -f, --logfacility NAME  log to syslog: DAEMON, USER, or 0..7 for LOCAL0..7\n"
            "  -i, --logident NAME     log to syslog under NAME\n"
            "  -s, --stats             also log forks, dispatches and worker ends\n"
            "  -d, --debug             the same as --stats\n"
            "  -h, --help              this help\n",
            progname);
}

/* ---------------------------------------------------------------- the log */

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* One line per call, written with one write(2) so that lines from the master and its
 * workers do not mix (the file is opened with O_APPEND). */
static void log_line(void *ud, int level, const char *msg)
{
    char stamp[64], line[4200];
    struct tm tm;
    time_t now = time(NULL);
    int n;
    (void)ud;
    if (use_syslog) {
        syslog(level, "%s", msg);
        return;
    }
    if (localtime_r(&now, &tm) == NULL || strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
        stamp[0] = '\0';
    n = snprintf(line, sizeof line, "%s: %s\n", stamp, msg);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line) {
        n = (int)sizeof line - 1;
        line[n - 1] = '\n';
    }
    write_all(log_fd, line, (size_t)n);
}

static void say(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(int level, const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_line(NULL, level, msg);
}

/* ---------------------------------------------------------------- the pid file */

static int open_pidfile(const char *path)
{
    char buf[32];
    ssize_t n;
    pid_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (pid_fd < 0) {
        fprintf(stderr, "%s: cannot open pid file %s: %s\n", progname, path, strerror(errno));
        return EXIT_STARTUP;
    }
    if (flock(pid_fd, LOCK_EX | LOCK_NB) != 0) {
        n = pread(pid_fd, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        fprintf(stderr, "%s: pid file %s is locked by a running server (pid %s)\n", progname,
                path, buf[0] ? buf : "unknown");
        return EXIT_RUNNING;
    }
    pid_path = path;
    return 0;
}

static void write_pidfile(void)
{
    char buf[32];
    int n;
    if (pid_fd < 0)
        return;
    n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
    if (ftruncate(pid_fd, 0) != 0 || pwrite(pid_fd, buf, (size_t)n, 0) != n)
        say(LOG_ERR, "cannot write the pid file %s: %s", pid_path, strerror(errno));
}

/* In each worker: the pid file and its lock belong to the master. */
static void worker_init(void)
{
    if (pid_fd >= 0) {
        close(pid_fd);
        pid_fd = -1;
    }
}

/* ---------------------------------------------------------------- Lua setup */

/* Puts this program's module directories before the default search paths. */
static void set_paths(lua_State *L)
{
    char exe[4096], *slash;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (slash == NULL)
        return;
    *slash = '\0';
    lua_getglobal(L, "package");
    lua_pushfstring(L, "%s/?.lua;%s/../lib/sockit/lua51/?.lua;", exe, exe);
    lua_getfield(L, -2, "path");
    lua_concat(L, 2);
    lua_setfield(L, -2, "path");
    lua_pushfstring(L, "%s/?.so;%s/../lib/sockit/lua51/?.so;", exe, exe);
    lua_getfield(L, -2, "cpath");
    lua_concat(L, 2);
    lua_setfield(L, -2, "cpath");
    lua_pop(L, 1);
}

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    lua_getfield(L, LUA_GLOBALSINDEX, "debug");
    if (msg && lua_istable(L, -1)) {
        lua_getfield(L, -1, "traceback");
        if (lua_isfunction(L, -1)) {
            lua_pushvalue(L, 1);
            lua_pushinteger(L, 2);
            lua_call(L, 2, 1);
            return 1;
        }
    }
    lua_settop(L, 1);
    return 1;
}

/* Runs the script with its arguments; 0 on success, else the message is logged. */
static int run_script(lua_State *L, const char *script, int argc, char **argv, int first)
{
    int i, status;
    lua_createtable(L, argc - first, 1);
    lua_pushstring(L, script);
    lua_rawseti(L, -2, 0);
    for (i = first; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - first + 1);
    }
    lua_setglobal(L, "arg");
    lua_pushcfunction(L, traceback);
    if (luaL_loadfile(L, script) != 0) {
        say(LOG_ERR, "cannot load %s: %s", script, lua_tostring(L, -1));
        return -1;
    }
    for (i = first; i < argc; i++)
        lua_pushstring(L, argv[i]);
    status = lua_pcall(L, argc - first, 0, 1);
    if (status != 0) {
        const char *msg = lua_tostring(L, -1);
        say(LOG_ERR, "error while running %s: %s", script, msg ? msg : "(not a string)");
        return -1;
    }
    lua_settop(L, 0);
    return 0;
}

static int facility_of(const char *name)
{
    static const int local[] = {LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3,
                                LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7};
    if (strcmp(name, "DAEMON") == 0)
        return LOG_DAEMON;
    if (strcmp(name, "USER") == 0)
        return LOG_USER;
    if (name[0] >= '0' && name[0] <= '7' && name[1] == '\0')
        return local[name[0] - '0'];
    return -1;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"background", no_argument, NULL, 'b'},   {"debug", no_argument, NULL, 'd'},
        {"logfacility", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
        {"logident", required_argument, NULL, 'i'}, {"logfile", required_argument, NULL, 'l'},
        {"pidfile", required_argument, NULL, 'p'},  {"stats", no_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    int background = 0, stats = 0, facility = LOG_USER, opt, rc;
    const char *logfile = NULL, *ident = "sockit-moonbridge", *pidfile = NULL, *script;
    sockit_server *srv = NULL;
    lua_State *L;
    size_t pools = 0;
    sockit_status st;

    if (argc > 0 && argv[0] && argv[0][0]) {
        const char *s = strrchr(argv[0], '/');
        progname = s ? s + 1 : argv[0];
    }
    /* "+": options end at the script's name; its own arguments are left alone. */
    while ((opt = getopt_long(argc, argv, "+bdf:hi:l:p:s", longopts, NULL)) != -1) {
        switch (opt) {
        case 'b':
            background = 1;
            break;
        case 'd':
        case 's':
            stats = 1;
            break;
        case 'f':
            facility = facility_of(optarg);
            if (facility < 0) {
                fprintf(stderr, "%s: unknown log facility \"%s\" (DAEMON, USER, 0..7)\n",
                        progname, optarg);
                return EXIT_CMDLINE;
            }
            use_syslog = 1;
            break;
        case 'i':
            ident = optarg;
            use_syslog = 1;
            break;
        case 'l':
            logfile = optarg;
            break;
        case 'p':
            pidfile = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_CMDLINE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "%s: no application script given\n", progname);
        usage(stderr);
        return EXIT_CMDLINE;
    }
    script = argv[optind];

    if (pidfile && (rc = open_pidfile(pidfile)) != 0)
        return rc;
    if (logfile) {
        log_fd = open(logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (log_fd < 0) {
            fprintf(stderr, "%s: cannot open log file %s: %s\n", progname, logfile,
                    strerror(errno));
            return EXIT_STARTUP;
        }
    } else if (background) {
        use_syslog = 1;
    }
    if (use_syslog)
        openlog(ident, LOG_NDELAY | LOG_PID, facility);

    if (sockit_server_new(&srv) != SOCKIT_OK ||
        sockit_server_set_log(srv, log_line, NULL, NULL,
                              stats ? SOCKIT_LOG_DEBUG : SOCKIT_LOG_INFO) != SOCKIT_OK) {
        say(LOG_ERR, "cannot make the server: %s", sockit_last_error());
        return EXIT_STARTUP;
    }
    L = mbserver51_newstate();
    if (L == NULL) {
        say(LOG_ERR, "cannot make a Lua state: out of memory");
        return EXIT_STARTUP;
    }
    luaL_openlibs(L);
    set_paths(L);
    lua_pushliteral(L, "1.0.1 (sockit-moonbridge)");
    lua_setglobal(L, "_MOONBRIDGE_VERSION");
    if (mbserver51_open(L, srv, worker_init) != 0) {
        say(LOG_ERR, "cannot load moonbridge_io: %s", lua_tostring(L, -1));
        return EXIT_STARTUP;
    }
    say(LOG_INFO, "loading %s", script);
    if (run_script(L, script, argc, argv, optind + 1) != 0)
        return EXIT_STARTUP;
    sockit_server_pool_count(srv, &pools);
    if (pools == 0) {
        say(LOG_ERR, "%s called no listen{...}: there is nothing to serve", script);
        return EXIT_STARTUP;
    }
    lua_gc(L, LUA_GCCOLLECT, 0); /* collect before forking */

    if (background) {
        if (daemon(1, 0) != 0) {
            say(LOG_ERR, "cannot detach: %s", strerror(errno));
            return EXIT_STARTUP;
        }
    }
    write_pidfile();
    st = sockit_server_run(srv);
    rc = 0;
    if (st != SOCKIT_OK) {
        say(LOG_ERR, "server failed: %s", sockit_last_error());
        rc = EXIT_RUNTIME;
    }
    if (pid_path)
        unlink(pid_path);
    /* The master's state and server are released by the exit. */
    return rc;
}
