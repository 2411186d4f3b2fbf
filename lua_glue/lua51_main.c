/*
 * lua51_main.c: sockit-lua51, a standalone Lua 5.1 interpreter whose state has the
 * standard libraries and lua_socketlibopen (LuaSocket 1.3b's global API) loaded before
 * anything runs.
 *
 * Usage (the same as Lua 5.1's `lua`):
 *   sockit-lua51 [options] [script [args]]
 *     -e stat   execute string stat
 *     -l name   require library name
 *     -i        enter interactive mode after running script
 *     -v        show version information
 *     --        stop handling options
 *     -         execute stdin and stop handling options
 * LUA_INIT ("@file" or a chunk) runs before the options, as in `lua`. The script gets its
 * arguments as ... and in the global table `arg` (arg[0] is the script name, negative
 * indices hold the interpreter and its options). Exits with 1 when anything fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include "socketlib.h"

static const char *progname = "sockit-lua51";

static void print_usage(void)
{
    fprintf(stderr,
            "usage: %s [options] [script [args]].\n"
            "Available options are:\n"
            "  -e stat  execute string 'stat'\n"
            "  -l name  require library 'name'\n"
            "  -i       enter interactive mode after executing 'script'\n"
            "  -v       show version information\n"
            "  --       stop handling options\n"
            "  -        execute stdin and stop handling options\n",
            progname);
}

static void report_message(const char *msg)
{
    fprintf(stderr, "%s: %s\n", progname, msg);
    fflush(stderr);
}

/* Prints the error on top of the stack (if status says there is one) and pops it. */
static int report(lua_State *L, int status)
{
    if (status && !lua_isnil(L, -1)) {
        const char *msg = lua_tostring(L, -1);
        report_message(msg ? msg : "(error object is not a string)");
        lua_pop(L, 1);
    }
    return status;
}

/* Message handler: adds a traceback to string errors. */
static int traceback(lua_State *L)
{
    if (!lua_isstring(L, 1))
        return 1;
    lua_getfield(L, LUA_GLOBALSINDEX, "debug");
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return 1;
    }
    lua_getfield(L, -1, "traceback");
    if (!lua_isfunction(L, -1)) {
        lua_pop(L, 2);
        return 1;
    }
    lua_pushvalue(L, 1);
    lua_pushinteger(L, 2);
    lua_call(L, 2, 1);
    return 1;
}

/* Calls the function below its narg arguments with a traceback handler. */
static int docall(lua_State *L, int narg, int nres)
{
    int status;
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, traceback);
    lua_insert(L, base);
    status = lua_pcall(L, narg, nres, base);
    lua_remove(L, base);
    if (status != 0)
        lua_gc(L, LUA_GCCOLLECT, 0);
    return status;
}

static int dochunk(lua_State *L, int status)
{
    if (status == 0)
        status = docall(L, 0, 0);
    return report(L, status);
}

static int dofile(lua_State *L, const char *name)
{
    return dochunk(L, luaL_loadfile(L, name));
}

static int dostring(lua_State *L, const char *s, const char *name)
{
    return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

static int dolibrary(lua_State *L, const char *name)
{
    lua_getglobal(L, "require");
    lua_pushstring(L, name);
    return report(L, docall(L, 1, 1));
}

static void print_version(void)
{
    printf("%s  %s (sockit-lua51, LuaSocket 1.3b API)\n", LUA_RELEASE, LUA_COPYRIGHT);
    fflush(stdout);
}

/* ---------------------------------------------------------------- interactive mode */

static int incomplete(lua_State *L, int status)
{
    if (status == LUA_ERRSYNTAX) {
        size_t len;
        const char *msg = lua_tolstring(L, -1, &len);
        const char *tail = "'<eof>'";
        size_t tl = strlen(tail);
        if (len >= tl && strcmp(msg + len - tl, tail) == 0) {
            lua_pop(L, 1);
            return 1;
        }
    }
    return 0;
}

static const char *get_prompt(lua_State *L, int first)
{
    const char *p;
    lua_getfield(L, LUA_GLOBALSINDEX, first ? "_PROMPT" : "_PROMPT2");
    p = lua_tostring(L, -1);
    if (p == NULL)
        p = first ? "> " : ">> ";
    lua_pop(L, 1);
    return p;
}

static int read_line(lua_State *L, int first)
{
    char buf[512];
    size_t len;
    if (isatty(STDIN_FILENO)) {
        fputs(get_prompt(L, first), stdout);
        fflush(stdout);
    }
    if (fgets(buf, sizeof buf, stdin) == NULL)
        return 0;
    len = strlen(buf);
    if (len > 0 && buf[len - 1] == '\n')
        buf[--len] = '\0';
    if (first && buf[0] == '=')
        lua_pushfstring(L, "return %s", buf + 1);
    else
        lua_pushstring(L, buf);
    return 1;
}

static int load_line(lua_State *L)
{
    int status;
    lua_settop(L, 0);
    if (!read_line(L, 1))
        return -1;
    for (;;) {
        status = luaL_loadbuffer(L, lua_tostring(L, 1), lua_strlen(L, 1), "=stdin");
        if (!incomplete(L, status))
            break;
        if (!read_line(L, 0))
            return -1;
        lua_pushliteral(L, "\n");
        lua_insert(L, -2);
        lua_concat(L, 3);
    }
    lua_remove(L, 1);
    return status;
}

static void interactive(lua_State *L)
{
    int status;
    const char *saved = progname;
    progname = NULL;
    while ((status = load_line(L)) != -1) {
        if (status == 0)
            status = docall(L, 0, LUA_MULTRET);
        if (status != 0 && !lua_isnil(L, -1)) {
            const char *msg = lua_tostring(L, -1);
            fprintf(stderr, "%s\n", msg ? msg : "(error object is not a string)");
            lua_pop(L, 1);
        }
        if (status == 0 && lua_gettop(L) > 0) {
            lua_getglobal(L, "print");
            lua_insert(L, 1);
            if (lua_pcall(L, lua_gettop(L) - 1, 0, 0) != 0)
                fprintf(stderr, "error calling 'print' (%s)\n", lua_tostring(L, -1));
        }
    }
    lua_settop(L, 0);
    fputs("\n", stdout);
    fflush(stdout);
    progname = saved;
}

/* ---------------------------------------------------------------- arguments */

/* Builds the global `arg` table: arg[0] = argv[script], the rest around it. */
static void make_arg_table(lua_State *L, char **argv, int argc, int script)
{
    int i, narr = argc - script - 1;
    lua_createtable(L, narr > 0 ? narr : 0, script + 1);
    for (i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

static int handle_script(lua_State *L, char **argv, int argc, int n)
{
    int status, i, narg;
    const char *fname = argv[n];
    if (strcmp(fname, "-") == 0 && strcmp(argv[n - 1], "--") != 0)
        fname = NULL; /* stdin */
    status = luaL_loadfile(L, fname);
    if (status != 0)
        return report(L, status);
    narg = argc - n - 1;
    luaL_checkstack(L, narg, "too many arguments to script");
    for (i = n + 1; i < argc; i++)
        lua_pushstring(L, argv[i]);
    return report(L, docall(L, narg, 0));
}

static int handle_init(lua_State *L)
{
    const char *init = getenv("LUA_INIT");
    if (init == NULL)
        return 0;
    if (init[0] == '@')
        return dofile(L, init + 1);
    return dostring(L, init, "=LUA_INIT");
}

int main(int argc, char **argv)
{
    lua_State *L;
    int i, script = 0, want_i = 0, want_v = 0, status = 0, ran_e = 0;

    if (argc > 0 && argv[0] && argv[0][0])
        progname = argv[0];

    /* First pass: validate options and find the script. */
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') {
            script = i;
            break;
        }
        if (strcmp(a, "--") == 0) {
            if (i + 1 < argc)
                script = i + 1;
            break;
        }
        if (strcmp(a, "-") == 0) {
            script = i;
            break;
        }
        if (strcmp(a, "-i") == 0) {
            want_i = want_v = 1;
        } else if (strcmp(a, "-v") == 0) {
            want_v = 1;
        } else if (a[1] == 'e' || a[1] == 'l') {
            ran_e |= a[1] == 'e';
            if (a[2] == '\0') {
                if (++i >= argc) {
                    print_usage();
                    return EXIT_FAILURE;
                }
            }
        } else {
            print_usage();
            return EXIT_FAILURE;
        }
    }

    L = luaL_newstate();
    if (L == NULL) {
        report_message("cannot create state: not enough memory");
        return EXIT_FAILURE;
    }
    luaL_openlibs(L);
    lua_socketlibopen(L);

    if (want_v)
        print_version();
    status = handle_init(L);
    make_arg_table(L, argv, argc, script ? script : argc);

    /* Second pass: run -e and -l in order. */
    for (i = 1; status == 0 && i < argc && (script == 0 || i < script); i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            break;
        if (a[1] == 'e' || a[1] == 'l') {
            const char *v = a[2] ? a + 2 : argv[++i];
            status = a[1] == 'e' ? dostring(L, v, "=(command line)") : dolibrary(L, v);
        }
    }
    if (status == 0 && script)
        status = handle_script(L, argv, argc, script);
    if (status == 0) {
        if (want_i)
            interactive(L);
        else if (script == 0 && !ran_e && !want_v) {
            if (isatty(STDIN_FILENO)) {
                print_version();
                interactive(L);
            } else {
                status = dochunk(L, luaL_loadfile(L, NULL));
            }
        }
    }
    lua_close(L);
    return status ? EXIT_FAILURE : EXIT_SUCCESS;
}
