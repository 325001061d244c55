"""File formats: manifests, release lists, kept digests, and the rules stored names obey."""
