/*
 * lua40_main.c: sockit-lua4, a standalone Lua 4.0 interpreter with the standard
 * libraries (base, io, string, math, debug) and lua_socketlibopen (LuaSocket 1.3b's
 * global API) opened before anything runs.
 *
 * Usage (the same as Lua 4.0's `lua`); arguments are handled in order:
 *   -         execute stdin as a file
 *   -c        close Lua when exiting
 *   -e stat   execute string stat
 *   -f name   execute file name with the remaining arguments in table arg
 *   -i        enter interactive mode with prompt
 *   -q        enter interactive mode without prompt
 *   -sNUM     set stack size to NUM (must be the first option)
 *   -v        print version information
 *   a=b       set global variable a to string b
 *   name      execute file name
 * With no arguments: interactive mode when stdin is a terminal, else stdin as a file.
 * Exits with 1 as soon as a chunk fails (the error is printed by _ERRORMESSAGE, as in
 * Lua 4.0).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lua.h"
#include "lualib.h"
#include "lauxlib.h"

#include "socketlib.h"

static const char *progname = "sockit-lua4";

static void print_usage(void)
{
    fprintf(stderr,
            "usage: %s [options].  Available options are:\n"
            "  -        execute stdin as a file\n"
            "  -c       close Lua when exiting\n"
            "  -e stat  execute string `stat'\n"
            "  -f name  execute file `name' with remaining arguments in table `arg'\n"
            "  -i       enter interactive mode with prompt\n"
            "  -q       enter interactive mode without prompt\n"
            "  -sNUM    set stack size to NUM (must be the first option)\n"
            "  -v       print version information\n"
            "  a=b      set global variable `a' to string `b'\n"
            "  name     execute file `name'\n",
            progname);
}

static void print_version(void)
{
    printf("%.80s  %.80s (sockit-lua4, LuaSocket 1.3b API)\n", LUA_VERSION, LUA_COPYRIGHT);
    fflush(stdout);
}

/* Runs a chunk; on a file that cannot be opened, says so (other errors were printed). */
static int check(int status, const char *what)
{
    if (status == LUA_ERRFILE)
        fprintf(stderr, "%s: cannot execute file `%s'\n", progname, what ? what : "stdin");
    return status;
}

static void interactive(lua_State *L, int prompt)
{
    char line[1024];
    char chunk[8192];
    size_t used = 0;
    for (;;) {
        size_t len;
        if (prompt) {
            const char *p;
            lua_getglobal(L, "_PROMPT");
            p = lua_isstring(L, -1) ? lua_tostring(L, -1) : "> ";
            fputs(used ? ">> " : p, stdout);
            lua_pop(L, 1);
            fflush(stdout);
        }
        if (fgets(line, sizeof line, stdin) == NULL)
            break;
        len = strlen(line);
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len > 0 && line[len - 1] == '\\') { /* continued on the next line */
            line[len - 1] = '\n';
            if (used + len < sizeof chunk) {
                memcpy(chunk + used, line, len);
                used += len;
            }
            continue;
        }
        if (used + len + 1 < sizeof chunk) {
            memcpy(chunk + used, line, len);
            used += len;
        }
        chunk[used] = '\0';
        lua_dostring(L, chunk);
        lua_settop(L, 0);
        used = 0;
    }
    if (prompt)
        fputs("\n", stdout);
}

/* arg = {n = count, [0] = argv[first], [1..] = the rest}. */
static void make_arg_table(lua_State *L, char **argv, int argc, int first)
{
    int i;
    lua_newtable(L);
    for (i = first; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - first);
    }
    lua_pushstring(L, "n");
    lua_pushnumber(L, argc - first - 1);
    lua_rawset(L, -3);
    lua_setglobal(L, "arg");
}

int main(int argc, char **argv)
{
    lua_State *L;
    int i = 1, stacksize = 0, close_at_exit = 0, status = 0;

    if (argc > 0 && argv[0] && argv[0][0])
        progname = argv[0];
    if (argc > 1 && strncmp(argv[1], "-s", 2) == 0) {
        stacksize = atoi(argv[1] + 2);
        if (stacksize <= 0) {
            fprintf(stderr, "%s: stack size should be a positive number\n", progname);
            return EXIT_FAILURE;
        }
        i = 2;
    }
    L = lua_open(stacksize);
    if (L == NULL) {
        fprintf(stderr, "%s: cannot create state\n", progname);
        return EXIT_FAILURE;
    }
    lua_baselibopen(L);
    lua_iolibopen(L);
    lua_strlibopen(L);
    lua_mathlibopen(L);
    lua_dblibopen(L);
    lua_socketlibopen(L);
    lua_settop(L, 0);

    if (argc <= i) {
        if (isatty(STDIN_FILENO)) {
            print_version();
            interactive(L, 1);
        } else {
            status = check(lua_dofile(L, NULL), NULL);
        }
    }
    for (; status == 0 && i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-') {
            switch (a[1]) {
            case '\0':
                status = check(lua_dofile(L, NULL), NULL);
                break;
            case 'c':
                close_at_exit = 1;
                break;
            case 'e':
                if (++i >= argc) {
                    print_usage();
                    return EXIT_FAILURE;
                }
                status = lua_dostring(L, argv[i]);
                break;
            case 'f':
                if (++i >= argc) {
                    print_usage();
                    return EXIT_FAILURE;
                }
                make_arg_table(L, argv, argc, i);
                status = check(lua_dofile(L, argv[i]), argv[i]);
                i = argc; /* the rest were arguments */
                break;
            case 'i':
                interactive(L, 1);
                break;
            case 'q':
                interactive(L, 0);
                break;
            case 'v':
                print_version();
                break;
            default:
                print_usage();
                return EXIT_FAILURE;
            }
        } else if (strchr(a, '=') != NULL) {
            const char *eq = strchr(a, '=');
            char name[256];
            size_t n = (size_t)(eq - a);
            if (n >= sizeof name)
                n = sizeof name - 1;
            memcpy(name, a, n);
            name[n] = '\0';
            lua_pushstring(L, eq + 1);
            lua_setglobal(L, name);
        } else {
            status = check(lua_dofile(L, a), a);
        }
        lua_settop(L, 0);
    }
    if (close_at_exit || status == 0)
        lua_close(L); /* runs the "gc" tag methods: sockets still open get closed */
    return status ? EXIT_FAILURE : EXIT_SUCCESS;
}
