"""``CopiedFieldsSerializer``: a serializer whose fields cost a shallow copy per request.

DRF gives every serializer instance its own fields: ``Serializer.get_fields`` deep-copies the
declared ones, and ``Field.__deepcopy__`` builds each field again from its arguments (its
``__init__`` runs again, validators and error messages included). For the account-less
recommendation body (11 fields) that took about 180 us per request, more than validating the
body (bench/README.md, "What a recommendation request costs besides ranking").

A declared field is a prototype: nothing binds it, and validating with a bound copy changes
nothing on it. A shallow copy (``copy.copy``) shares the prototype's validators, error messages
and choices, which validation only reads, and ``bind`` gives it its own name, parent and
source; so it validates exactly as the rebuilt field would. A field with a ``child`` (``ListField``,
``DictField``) gets a copy of its child whose parent is the copy (the child was bound, name and
source, by its parent's ``__init__``), so that the child's ``root`` and ``context`` are this
serializer's. Nested serializers used as fields keep DRF's deep copy: their fields, once
read, are cached on them, and a shallow copy would share them with the prototype.

Nothing here may mutate a field's shared state (``validators``, ``error_messages``, ``choices``)
after construction; a serializer that changes its fields per instance uses
``serializers.Serializer``.
"""

from __future__ import annotations

import copy

from rest_framework import serializers


def field_copy(prototype: serializers.Field) -> serializers.Field:
    """A copy of ``prototype`` that can be bound to a serializer instance (see the module
    docstring): shallow, with its ``child`` (if any) copied and parented to the copy."""
    if isinstance(prototype, serializers.BaseSerializer):
        return copy.deepcopy(prototype)
    clone = copy.copy(prototype)
    child = getattr(prototype, "child", None)
    if isinstance(child, serializers.Field):
        clone.child = field_copy(child)
        clone.child.parent = clone  # already bound (name, source) when its parent was built
    return clone


class CopiedFieldsSerializer(serializers.Serializer):
    """A ``Serializer`` whose instances take shallow copies of the declared fields instead of
    rebuilding each one (see the module docstring)."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {name: field_copy(field) for name, field in self._declared_fields.items()}
