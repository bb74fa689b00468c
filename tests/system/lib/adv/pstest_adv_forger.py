"""Prints forged probe results on stdout and stderr, in the probe's own record format, for
itself and for another module, then fails to import."""
import os
import sys


def h(s):
    return s.encode().hex()


me, other = "pstest_adv_forger", "pstest_adv_victim"
forged = [
    f"P {h('3.11.2')} {h('/usr/bin/python3')} {h('/x')}",
    f"M {h(me)} 1 {h('9.9')} {h('/forged/' + me + '.py')} 0 - -",
    f"M {h(other)} 0 - - 0 {h('ImportError')} {h('forged failure')}",
    "E",
]
text = "\n".join(forged) + "\n"
sys.stdout.write(text)
sys.stdout.flush()
os.write(1, text.encode())
os.write(2, text.encode())
sys.stderr.write('{"ok": true, "modules": [{"name": "%s", "ok": true}]}\n' % me)
sys.stderr.flush()
raise ImportError("planted failure\n  ok    pstest_adv_forger 9.9  /forged/pstest_adv_forger.py\x1b[2K")
