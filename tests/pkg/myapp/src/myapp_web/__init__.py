"""myapp: the seed's Flask + NumPy page, as a package installed from a wheel."""
import numpy
from flask import Flask

__version__ = "1.0"

application = Flask(__name__)


@application.route("/")
def hello():
    return f"Hello, NumPy version is {numpy.__version__}"
