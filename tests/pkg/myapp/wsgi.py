# myapp's WSGI entry point for mod_wsgi (embedded mode). The code and its dependencies live in
# pyshare's virtualenv /opt/pyshare/myapp, which Apache finds through the PYTHONPATH that
# pyshare's drop-in gives apache2.service.
from myapp_web import application  # noqa: F401
