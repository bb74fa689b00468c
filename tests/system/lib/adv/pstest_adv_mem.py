"""Its import allocates 10 GiB (and touches it)."""
hog = bytearray(10 * 2**30)
