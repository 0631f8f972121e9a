"""A quicker ``__init__`` for the frozen dataclasses a verification makes by the dozen.

The ``__init__`` that ``dataclasses`` writes for a frozen class sets each field through
``object.__setattr__`` (a global look-up and a call per field); :func:`quick_init` replaces it
with one of the same signature (positional order, defaults, default factories, keyword-only
fields) that writes the instance dictionary directly and then calls ``__post_init__`` as the
generated one does. Equality, hashing, ``repr``, ``dataclasses.replace`` and the refusal to
assign a field are the dataclass's own, unchanged.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

_T = TypeVar("_T")
_MISSING_ARGUMENT: Any = getattr(dataclasses, "_HAS_DEFAULT_FACTORY", object())
"""The default of a field with a default factory (``dataclasses``' own, shown as ``<factory>``)."""


_OWN_NAMES = frozenset({"self", "fields", "_MISSING_ARGUMENT"})
"""Names the generated ``__init__`` uses itself; a field so named is refused."""


def quick_init(cls: type[_T]) -> type[_T]:
    """Replace the generated ``__init__`` of the frozen dataclass ``cls`` (see the module).

    Raises:
        TypeError: ``cls`` is not a frozen dataclass with an instance dictionary, has an
            ``InitVar`` (not supported), or a field named as one of the generated code's own
            names.
    """
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a frozen dataclass with an instance dictionary")
    if any(f._field_type is dataclasses._FIELD_INITVAR for f in cls.__dataclass_fields__.values()):  # type: ignore[attr-defined]
        raise TypeError(f"{cls.__name__} has an InitVar")
    names = {item.name for item in dataclasses.fields(cls)}  # type: ignore[arg-type]
    clash = {n for n in names if n in _OWN_NAMES or n.startswith(("_default_", "_factory_"))}
    if clash:
        raise TypeError(f"{cls.__name__} has a field named as quick_init's own: {sorted(clash)}")
    namespace: dict[str, Any] = {"_MISSING_ARGUMENT": _MISSING_ARGUMENT}
    positional: list[str] = []
    keyword: list[str] = []
    body: list[str] = ["    fields = self.__dict__"]
    for number, item in enumerate(dataclasses.fields(cls)):  # type: ignore[arg-type]
        name = item.name
        if not item.init:  # a plain default stays the class attribute, as dataclasses leaves it
            if item.default_factory is not dataclasses.MISSING:
                namespace[f"_factory_{number}"] = item.default_factory
                body.append(f"    fields[{name!r}] = _factory_{number}()")
            continue
        if item.default is not dataclasses.MISSING:
            namespace[f"_default_{number}"] = item.default
            parameter = f"{name}=_default_{number}"
            body.append(f"    fields[{name!r}] = {name}")
        elif item.default_factory is not dataclasses.MISSING:
            namespace[f"_factory_{number}"] = item.default_factory
            parameter = f"{name}=_MISSING_ARGUMENT"
            body.append(
                f"    fields[{name!r}] = _factory_{number}() "
                f"if {name} is _MISSING_ARGUMENT else {name}"
            )
        else:
            parameter = name
            body.append(f"    fields[{name!r}] = {name}")
        (keyword if item.kw_only else positional).append(parameter)
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    signature = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    source = f"def __init__({signature}):\n" + "\n".join(body) + "\n"
    exec(source, namespace)  # noqa: S102 (generated from the class's own field names, as dataclasses does)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    init.__annotations__ = {
        **{item.name: item.type for item in dataclasses.fields(cls) if item.init},  # type: ignore[arg-type]
        "return": None,
    }
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
