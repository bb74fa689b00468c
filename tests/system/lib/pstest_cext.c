/* A C extension for the tests: built with gcc against python3-dev, installed from a wheel. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *add(PyObject *self, PyObject *args)
{
        long a, b;
        if (!PyArg_ParseTuple(args, "ll", &a, &b))
                return NULL;
        return PyLong_FromLong(a + b);
}

static PyMethodDef methods[] = {{"add", add, METH_VARARGS, "a + b"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "pstest_cext", NULL, -1, methods};

PyMODINIT_FUNC PyInit_pstest_cext(void)
{
        PyObject *m = PyModule_Create(&mod);
        if (m && PyModule_AddStringConstant(m, "__version__", "2.0") < 0) {
                Py_DECREF(m);
                return NULL;
        }
        return m;
}
