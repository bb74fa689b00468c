"""Its import writes a gigabyte to stdout, then fails."""
import os

chunk = b"x" * (1 << 20)
for _ in range(1024):
    view = memoryview(chunk)
    while view:
        view = view[os.write(1, view):]
raise ImportError("flooded stdout with 1 GiB")
