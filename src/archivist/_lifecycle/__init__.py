"""A repository's lifecycle: aliases, retention, adoption, garbage collection, the cache, trust."""
