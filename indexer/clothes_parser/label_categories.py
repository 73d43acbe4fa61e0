"""Which of a parser's labels are garments, which labels join into one, and their categories.

The parser's own ``id2label`` is read at load time; nothing here hard-codes label ids. A label is
a garment when (after ``merge``) ``[garments.categories]`` has an entry for it: background, skin,
hair, face, arms and legs have none and are never offered. Names are compared in one spelling
(``garment_label``: lower case, '-' between words), so 'Left-shoe', 'left_shoe' and 'LEFT SHOE'
are the same label.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from indexer.config import garment_label


@dataclass(frozen=True)
class LabelPlan:
    """garment name -> the parser's label ids it is made of, and the categories its crop is searched in."""

    garments: dict[str, tuple[int, ...]]
    categories: dict[str, tuple[str, ...]]

    @classmethod
    def build(
        cls,
        id2label: Mapping[int, str],
        categories: Mapping[str, Sequence[str]],
        merge: Mapping[str, Sequence[str]] | None = None,
    ) -> LabelPlan:
        table = {garment_label(name): tuple(codes) for name, codes in categories.items()}
        joined_into = {
            garment_label(part): garment_label(garment)
            for garment, parts in (merge or {}).items()
            for part in parts
        }
        garments: dict[str, tuple[int, ...]] = {}
        for label_id in sorted(id2label):
            name = garment_label(id2label[label_id])
            garment = joined_into.get(name, name)
            if garment in table:
                garments[garment] = (*garments.get(garment, ()), int(label_id))
        return cls(garments, {garment: table[garment] for garment in garments})

    def describe(self) -> str:
        """'upper-clothes=4 shoes=9+10 …' for logs."""
        return " ".join(f"{name}={'+'.join(map(str, ids))}" for name, ids in self.garments.items())
