#!/usr/bin/python3
"""Each module's DOCUMENTATION options against its ARGUMENT_SPEC: the same names, and for each
the same type, elements, choices, default and required. Prints one line per difference."""
import importlib.util
import sys

import yaml


def load(path):
    spec = importlib.util.spec_from_file_location("m", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(paths):
    bad = 0
    for path in paths:
        mod = load(path)
        doc = yaml.safe_load(mod.DOCUMENTATION)["options"] or {}
        spec = mod.ARGUMENT_SPEC
        yaml.safe_load(mod.EXAMPLES)
        yaml.safe_load(mod.RETURN)
        for name in sorted(set(doc) ^ set(spec)):
            print("%s: option %s is %s" % (path, name, "documented only" if name in doc else "undocumented"))
            bad += 1
        for name in sorted(set(doc) & set(spec)):
            d, s = doc[name], spec[name]
            for key, dflt in (("type", "str"), ("elements", None), ("choices", None), ("default", None),
                              ("required", False)):
                if d.get(key, dflt) != s.get(key, dflt):
                    print("%s: option %s: %s is %r in the documentation, %r in the argument spec" %
                          (path, name, key, d.get(key, dflt), s.get(key, dflt)))
                    bad += 1
            if not d.get("description"):
                print("%s: option %s has no description" % (path, name))
                bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
