"""What the plant file says about failure modes: which fault codes are wear-driven.

A type's ``faults:`` entries carry ``kind: wear | random`` (default ``random``; see
docs/simulator.md). The detector's ``mode`` for a machine is the wear fault code of its
type when there is exactly one, else ``wear`` (it cannot tell which component); the live
score classes an alarm as ``wear`` or ``random`` by its code and the machine's type.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.plant import Plant

WEAR = "wear"
RANDOM = "random"
SOURCES = (WEAR, RANDOM)


def fault_kind(fault: object) -> str:
    """``wear`` or ``random`` for one fault entry of a type."""
    return WEAR if getattr(fault, "kind", RANDOM) == WEAR else RANDOM


@dataclass(frozen=True)
class PlantModes:
    machines: tuple[str, ...]  # plant order
    modes: tuple[str, ...]  # the mode a prediction names, per machine
    _kinds: dict[tuple[str, str], str]  # (machine, fault code) -> wear | random

    @classmethod
    def of(cls, plant: Plant) -> PlantModes:
        machines, modes, kinds = [], [], {}
        for m in plant.machines:
            faults = plant.types[m.type].faults
            wear = [f.code for f in faults if fault_kind(f) == WEAR]
            machines.append(m.id)
            modes.append(wear[0] if len(wear) == 1 else WEAR)
            for f in faults:
                kinds[(m.id, f.code)] = fault_kind(f)
        return cls(tuple(machines), tuple(modes), kinds)

    def source(self, machine: str, code: str) -> str:
        """``wear`` or ``random`` for an alarm of ``machine`` with ``code`` (a code the
        plant file does not list for that machine counts as random)."""
        return self._kinds.get((machine, code), RANDOM)
