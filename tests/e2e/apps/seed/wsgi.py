import numpy
from flask import Flask

application = Flask(__name__)


@application.route("/")
def hello():
    return f"Hello, NumPy version is {numpy.__version__}"
