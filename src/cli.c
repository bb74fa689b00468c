/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli.h"
#include "log.h"
#include "probe.h"
#include "util.h"
#include "verbs.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <sysexits.h>

static const char usage_text[] =
        "Usage: pyshare [GLOBAL] COMMAND ...\n"
        "Make a shared Python environment importable by a service, keep it so, and prove it.\n"
        "\n"
        "Commands:\n"
        "  setup APP [--python=PATH] [--group=GROUP] [--service=UNIT] [--user=USER]\n"
        "            [--module=NAME]... [--prefix=DIR] [--restart] [--no-probe]\n"
        "            [--cgi|--no-cgi] [--watch|--no-watch] [--from=FILE]\n"
        "                        create the venv PREFIX/APP, set owners, modes and ACLs,\n"
        "                        wire it into the service, reload systemd, probe\n"
        "  probe APP [MODULE...] [--interpreter] [--timeout=SEC]\n"
        "                        import modules as the service user, in its environment\n"
        "  repair APP            re-apply group, modes and ACLs (after pip installs)\n"
        "  remove APP [--purge] [--restart]\n"
        "                        unwire the app; --purge also deletes its venv, --restart\n"
        "                        restarts the service when its environment changed\n"
        "  pip APP ARGS...       run the venv's pip as pyshare's own user (never root), then repair\n"
        "  list                  list the apps that are set up\n"
        "  status [APP]          settings and health of one or every app\n"
        "\n"
        "Global options:\n"
        "      --root=DIR        operate on the image or tree below DIR\n"
        "      --dry-run         print the plan, change nothing\n"
        "      --json            print one JSON object on stdout\n"
        "      --lock-timeout=SEC\n"
        "                        wait at most SEC seconds for another pyshare (default 300)\n"
        "  -q, --quiet           print only warnings and errors\n"
        "  -v, --verbose         print more\n"
        "  -h, --help            print this help\n"
        "      --version         print the version\n"
        "\n"
        "Setup options: --cgi/--no-cgi and --watch/--no-watch turn the Cgi= and Watch= settings\n"
        "on or off; --from=FILE reads the package's settings from FILE instead of\n"
        "/usr/lib/pyshare/APP.conf.\n"
        "Defaults: --python=/usr/bin/python3 --group=deploy --prefix=/opt/pyshare\n"
        "--service=apache2.service, or httpd.service on a system that has httpd and no apache2;\n"
        "--user=the User that service runs as (www-data on Debian, apache on RHEL-family).\n"
        "Exit status: 0 ok, 1 a problem was found, 2 usage, 65 invalid setting, 69 no such\n"
        "user/group/service/Python, 73 cannot create or write, 77 needs root.\n"
        "See pyshare(8).\n";

enum {
        OPT_ROOT = 0x100,
        OPT_DRY_RUN,
        OPT_JSON,
        OPT_VERSION,
        OPT_LOCK_TIMEOUT,
        OPT_PYTHON, /* from here on: options of one command */
        OPT_GROUP,
        OPT_SERVICE,
        OPT_USER,
        OPT_MODULE,
        OPT_PREFIX,
        OPT_RESTART,
        OPT_NO_PROBE,
        OPT_CGI,
        OPT_NO_CGI,
        OPT_WATCH,
        OPT_NO_WATCH,
        OPT_FROM,
        OPT_INTERPRETER,
        OPT_TIMEOUT,
        OPT_PURGE,
};

static const struct option options[] = {
        {"root", required_argument, NULL, OPT_ROOT},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"json", no_argument, NULL, OPT_JSON},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {"python", required_argument, NULL, OPT_PYTHON},
        {"group", required_argument, NULL, OPT_GROUP},
        {"service", required_argument, NULL, OPT_SERVICE},
        {"user", required_argument, NULL, OPT_USER},
        {"module", required_argument, NULL, OPT_MODULE},
        {"prefix", required_argument, NULL, OPT_PREFIX},
        {"restart", no_argument, NULL, OPT_RESTART},
        {"no-probe", no_argument, NULL, OPT_NO_PROBE},
        {"cgi", no_argument, NULL, OPT_CGI},
        {"no-cgi", no_argument, NULL, OPT_NO_CGI},
        {"watch", no_argument, NULL, OPT_WATCH},
        {"no-watch", no_argument, NULL, OPT_NO_WATCH},
        {"from", required_argument, NULL, OPT_FROM},
        {"interpreter", no_argument, NULL, OPT_INTERPRETER},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"purge", no_argument, NULL, OPT_PURGE},
        {"lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT},
        {0},
};

/* Which verb-specific options each verb takes. */
static bool option_allowed(const char *verb, int opt)
{
        if (opt < OPT_PYTHON)
                return true;
        if (strcmp(verb, "setup") == 0)
                return opt >= OPT_PYTHON && opt <= OPT_FROM;
        if (strcmp(verb, "probe") == 0)
                return opt == OPT_INTERPRETER || opt == OPT_TIMEOUT;
        if (strcmp(verb, "remove") == 0)
                return opt == OPT_PURGE || opt == OPT_RESTART;
        return false;
}

static const char *option_name(int opt)
{
        for (const struct option *o = options; o->name; o++)
                if (o->val == opt)
                        return o->name;
        return "?";
}

static int parse_seconds(const char *s, int max, int *ret)
{
        char *end;
        if (!s)
                return -EINVAL;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < 1 || v > max)
                return -EINVAL;
        *ret = (int)v;
        return 0;
}

static int __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "pyshare: ");
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, " (see pyshare --help)\n");
        va_end(ap);
        return 2;
}

int cli_main(int argc, char **argv)
{
        struct ctx x = {.rootfd = -1, .lock_timeout = 300};
        /* The process of a transient probe unit (see probe.c), not a command for people. */
        if (argc > 1 && strcmp(argv[1], "__probe-child") == 0)
                return probe_child_main(argc - 1, argv + 1);
        struct setup_opts so = {.cgi = -1, .watch = -1};
        struct probe_opts po = {.timeout_sec = 30};
        bool purge = false, help = false, version = false;
        int verbosity = 0;
        const char *verb = NULL;
        _cleanup_strv_ char **modules = NULL, **positional = NULL;

        /* pip's own options follow "pip APP": only what comes before is ours. */
        char **pip_args = NULL;
        const char *pip_app = NULL;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--") == 0)
                        break;
                if (argv[i][0] == '-') {
                        if ((strcmp(argv[i], "--root") == 0 || strcmp(argv[i], "--lock-timeout") == 0) && i + 1 < argc)
                                i++;
                        continue;
                }
                if (strcmp(argv[i], "pip") != 0)
                        break;
                if (i + 1 >= argc)
                        return usage_error("%s", "pip needs an app name and pip's arguments");
                pip_app = argv[i + 1];
                pip_args = argv + i + 2;
                argc = i + 1;
                break;
        }

        opterr = 0;
        optind = 1;
        int c;
        /* Global options may come before or after the verb; verb options only after it. */
        while ((c = getopt_long(argc, argv, "-:qvh", options, NULL)) != -1) {
                switch (c) {
                case 1:
                        if (!verb)
                                verb = optarg;
                        else
                                strv_push(&positional, optarg);
                        continue;
                case '?':
                        if (optopt)
                                return usage_error("unknown option -%c", optopt);
                        return usage_error("unknown option %s", argv[optind - 1]);
                case ':':
                        return usage_error("option %s needs a value", argv[optind - 1]);
                default:
                        break;
                }
                if (c >= OPT_PYTHON && (!verb || !option_allowed(verb, c))) {
                        char buf[64];
                        snprintf(buf, sizeof(buf), "--%s", option_name(c));
                        return usage_error("option %s %s", buf, verb ? "does not go with this command" : "goes after the command");
                }
                switch (c) {
                case OPT_ROOT:
                        x.root = optarg;
                        break;
                case OPT_DRY_RUN:
                        x.dry_run = true;
                        break;
                case OPT_JSON:
                        x.json = true;
                        break;
                case 'q':
                        verbosity = -1;
                        break;
                case 'v':
                        verbosity = 1;
                        break;
                case 'h':
                        help = true;
                        break;
                case OPT_VERSION:
                        version = true;
                        break;
                case OPT_PYTHON:
                        so.python = optarg;
                        break;
                case OPT_GROUP:
                        so.group = optarg;
                        break;
                case OPT_SERVICE:
                        so.service = optarg;
                        break;
                case OPT_USER:
                        so.user = optarg;
                        break;
                case OPT_MODULE:
                        strv_push(&modules, optarg);
                        break;
                case OPT_PREFIX:
                        so.prefix = optarg;
                        break;
                case OPT_RESTART:
                        so.restart = true;
                        break;
                case OPT_NO_PROBE:
                        so.no_probe = true;
                        break;
                case OPT_CGI:
                        so.cgi = 1;
                        break;
                case OPT_NO_CGI:
                        so.cgi = 0;
                        break;
                case OPT_WATCH:
                        so.watch = 1;
                        break;
                case OPT_NO_WATCH:
                        so.watch = 0;
                        break;
                case OPT_FROM:
                        if (optarg[0] != '/')
                                return usage_error("--from=%s: give an absolute path", optarg);
                        so.from = optarg;
                        break;
                case OPT_INTERPRETER:
                        po.interpreter = true;
                        break;
                case OPT_TIMEOUT:
                        if (parse_seconds(optarg, 3600, &po.timeout_sec) < 0)
                                return usage_error("--timeout=%s: give whole seconds from 1 to 3600", optarg);
                        break;
                case OPT_PURGE:
                        purge = true;
                        break;
                case OPT_LOCK_TIMEOUT:
                        if (parse_seconds(optarg, 86400, &x.lock_timeout) < 0)
                                return usage_error("--lock-timeout=%s: give whole seconds from 1 to 86400", optarg);
                        break;
                }
        }
        if (help) {
                fputs(usage_text, stdout);
                return 0;
        }
        if (version) {
                printf("pyshare %s\n", PYSHARE_VERSION);
                return 0;
        }
        if (!verb)
                return usage_error("%s", "no command given: setup, probe, repair, remove, pip, list or status");
        log_setup(verbosity, x.json);

        size_t npos = strv_length(positional);
        const char *app = positional ? positional[0] : NULL;
        bool takes_app = strcmp(verb, "setup") == 0 || strcmp(verb, "probe") == 0 || strcmp(verb, "repair") == 0 ||
                         strcmp(verb, "remove") == 0;
        if (strcmp(verb, "pip") == 0)
                app = pip_app;
        if (takes_app && !app)
                return usage_error("%s needs an app name", verb);
        size_t max_pos = takes_app || strcmp(verb, "status") == 0 ? 1 : 0;
        if (strcmp(verb, "probe") != 0 && positional && npos > max_pos)
                return usage_error("unexpected argument '%s'", positional[max_pos]);

        if (x.root) {
                x.rootfd = open(x.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (x.rootfd < 0) {
                        fprintf(stderr, "pyshare: error: --root=%s: %s\n", x.root, strerror(errno));
                        return errno == ENOENT ? EX_UNAVAILABLE : EX_CANTCREAT;
                }
        } else
                x.rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        int r;
        if (strcmp(verb, "pip") == 0) {
                if (!pip_args || !pip_args[0]) {
                        close(x.rootfd);
                        return usage_error("%s", "pip needs pip's arguments, such as install -r requirements.txt");
                }
                r = verb_pip(&x, pip_app, pip_args);
        } else if (strcmp(verb, "setup") == 0) {
                so.modules = modules;
                r = verb_setup(&x, app, &so);
        } else if (strcmp(verb, "probe") == 0) {
                po.modules = positional + 1;
                r = verb_probe(&x, app, &po);
        } else if (strcmp(verb, "repair") == 0)
                r = verb_repair(&x, app);
        else if (strcmp(verb, "remove") == 0)
                r = verb_remove(&x, app, purge, so.restart);
        else if (strcmp(verb, "list") == 0)
                r = verb_list(&x);
        else if (strcmp(verb, "status") == 0)
                r = verb_status(&x, app);
        else
                return usage_error("unknown command '%s': setup, probe, repair, remove, pip, list or status", verb);
        close(x.rootfd);

        switch (r) {
        case 0:
                return 0;
        case -PS_E_PROBLEM:
                return 1;
        case -PS_E_USAGE:
                return 2;
        case -PS_E_INVALID:
                return EX_DATAERR;
        case -PS_E_NOTFOUND:
                return EX_UNAVAILABLE;
        case -PS_E_NOTROOT:
                return EX_NOPERM;
        default:
                return EX_CANTCREAT;
        }
}
