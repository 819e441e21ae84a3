"""Registries: the one way each pluggable kind is built, keyed by its config name.

Adding a method (a metric, a generation backend, an aligner, a filter, a
preference loss, ...) is one new module whose class or factory registers
itself under the name used in config::

    from algharb.metrics.registry import METRICS

    @METRICS.register("my_metric")
    class MyMetric: ...

and one import line in the kind's package ``__init__`` so the module is loaded.
An unknown name fails with a message listing the registered ones.
"""

from __future__ import annotations

from typing import Any, Callable, Generic, Iterator, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Name → class or factory for one pluggable kind."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: register ``entry`` under ``name`` (twice is an error)."""

        def add(entry: T) -> T:
            if name in self._entries and self._entries[name] is not entry:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = entry
            return entry

        return add

    def unregister(self, name: str) -> None:
        """Remove ``name`` (a test's or plugin's temporary entry)."""
        del self._entries[name]

    def get(self, name: str, where: str | None = None) -> T:
        """The entry registered as ``name``; an unknown name names the config key and the choices."""
        if name not in self._entries:
            at = f"{where}: " if where else ""
            raise ValueError(f"{at}unknown {self.kind} {name!r}; registered: {', '.join(self.names()) or 'none'}")
        return self._entries[name]

    def build(self, name: str, *args: Any, where: str | None = None, **kwargs: Any) -> Any:
        """Call the entry registered as ``name`` with the given arguments."""
        return self.get(name, where)(*args, **kwargs)

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
