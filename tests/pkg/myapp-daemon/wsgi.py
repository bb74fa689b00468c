# myapp-daemon's WSGI entry point, run by mod_wsgi in the daemon process pyshare-myapp-daemon
# (the conf that `pyshare setup` writes): python-home is the venv /opt/pyshare/myapp-daemon, so
# no PYTHONPATH is needed. /where says which process group answers and where NumPy came from.
import numpy
from flask import request
from myapp_web import application


@application.route("/where")
def where():
    group = request.environ.get("mod_wsgi.process_group") or "(embedded)"
    return f"process group {group}, numpy from {numpy.__file__}"
