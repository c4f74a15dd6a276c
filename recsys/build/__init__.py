"""Build pipeline, runs, build services and the helpers around them (the build room of recsys)."""
