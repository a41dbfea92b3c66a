"""Build and maintenance scripts: the example models, the MiniLM conversion and its reference, Dockerfile reading."""
