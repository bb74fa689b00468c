/* SPDX-License-Identifier: GPL-2.0-or-later */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "pyembed.h"

const char *pyembed_version(void)
{
        static char v[16];
        snprintf(v, sizeof(v), "%d.%d", PY_MAJOR_VERSION, PY_MINOR_VERSION);
        return v;
}

int pyembed_run(const char *code, int argc, char *const *argv)
{
        PyConfig config;
        PyConfig_InitPythonConfig(&config);
        config.parse_argv = 0;
        config.install_signal_handlers = 0;
        /* The interpreter that libpython belongs to, so that prefix and sys.path come out as
         * they do for mod_wsgi in Apache (never relative to this binary's location). */
        PyStatus status = PyConfig_SetBytesString(&config, &config.program_name, PYSHARE_PYTHON_PROGRAM);
        if (!PyStatus_Exception(status))
                status = PyConfig_SetBytesArgv(&config, argc, argv);
        if (!PyStatus_Exception(status))
                status = Py_InitializeFromConfig(&config);
        PyConfig_Clear(&config);
        if (PyStatus_Exception(status)) {
                fprintf(stderr, "Python initialisation failed: %s\n", status.err_msg ? status.err_msg : "?");
                return 120;
        }
        int r = PyRun_SimpleString(code) == 0 ? 0 : 1;
        if (Py_FinalizeEx() < 0 && r == 0)
                r = 120;
        return r;
}
