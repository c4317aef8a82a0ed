"""The types of the curated catalog tables (``catalog_spec.CATALOG``, ``catalog_curated.EXTRA_CATALOG``):
one ``Spec`` per model and the ``m(...)`` shorthand the tables are written in (how to fill them in is
``catalog_spec``'s docstring)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LabApi:
    """A deployment on the lab's own API that the snapshot has no entry for (see the module docstring)."""

    upstream: str
    price_source: str


@dataclass(frozen=True)
class Spec:
    """One curated catalog model: who made it, its slug and name, and the snapshot keys serving it."""

    lab: str
    model: str
    name: str
    keys: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    lab_api: LabApi | None = None

    @property
    def id(self) -> str:
        return f"{self.lab}/{self.model}"


def m(
    lab: str, model: str, name: str, *keys: str, aliases: tuple[str, ...] = (), lab_api: LabApi | None = None
) -> Spec:
    return Spec(lab=lab, model=model, name=name, keys=keys, aliases=aliases, lab_api=lab_api)


__all__ = ["LabApi", "Spec", "m"]
