"""Verified I/O: the one local-file opener, the one verified reader, the one handler I/O path."""
