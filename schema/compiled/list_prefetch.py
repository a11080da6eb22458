"""Which prefetch (prefetch.py) a compiled list carries: the one of its items'
type when they select fields the prefetch reads, or of an object its items hold
in a plain attribute (an edge's `node`)."""

from __future__ import annotations

from schema.compiled.plan import Completion, Kind, Source
from schema.compiled.prefetch import Prefetch, photo_keys, user_keys
from schema.photo import Photo
from schema.user import User


def list_prefetch(item: Completion) -> Prefetch | None:
    """The prefetch of a list whose items are objects with prefetched fields, or
    whose items hold such an object in a plain attribute (an edge's `node`)."""
    item = _nullable(item)
    if item.kind is not Kind.OBJECT:
        return None
    found = _prefetch(item, None)
    for field in item.fields:
        if found is not None:
            break
        if field.source is Source.ATTRIBUTE and field.completion is not None:
            child = _nullable(field.completion)
            if child.kind is Kind.OBJECT:
                found = _prefetch(child, field.attribute)
    return found


def _prefetch(completion: Completion, attribute: str | None) -> Prefetch | None:
    assert completion.object_type is not None
    type_name = completion.object_type.name
    names = [field.name for field in completion.fields]
    if type_name == "Photo":
        owner = next((field for field in completion.fields if field.name == "owner"), None)
        owner_fields = None
        if owner is not None and owner.completion is not None:
            owner_fields = [field.name for field in _nullable(owner.completion).fields]
        keys_of = photo_keys(dict.fromkeys(names), owner_fields)
        cls: type = Photo
    elif type_name == "User":
        keys_of, cls = user_keys(dict.fromkeys(names)), User
    else:
        return None
    return Prefetch(attribute, cls, tuple(keys_of)) if keys_of else None


def _nullable(completion: Completion) -> Completion:
    if completion.kind is Kind.NON_NULL:
        assert completion.inner is not None
        return completion.inner
    return completion
