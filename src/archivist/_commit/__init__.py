"""The commit protocol: a session (what a Repository read and will write) and its commit."""
