"""Integration tests of the functions capability on a real broker."""
