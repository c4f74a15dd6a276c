"""The REST layer of recsys: thin views and their input/output serializers under /api/v1/.

May import everything below it (serving, build, engines, artefacts, algorithms) and is the only
part of recsys that may import ``experiments`` (A/B assignment and exposure logging)."""
