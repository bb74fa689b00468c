VALUE = "victim"
__version__ = "1.0"
