"""Plain data shared by every import/export format.

Parsers turn text into a `FrameworkData`; writers turn one back into text. Neither touches the
database: `tracker.services` maps these onto models inside one transaction, so a file that fails
to parse changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EVIDENCE_KINDS = ("written", "link", "file", "notebook", "training")
DEFAULT_EVIDENCE_KINDS = ("written", "link", "file", "notebook")


class FormatError(ValueError):
    """A file is not in the expected format.

    Args:
        message: what is wrong, in words a person understands.
        line: 1-based line number where the problem is, when known.
    """

    def __init__(self, message: str, line: int | None = None) -> None:
        self.message = message
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)


@dataclass
class ClaimData:
    text: str
    required: bool = True
    evidence_kinds: tuple[str, ...] = DEFAULT_EVIDENCE_KINDS
    # Criteria a mentor scores when reviewing evidence for this claim.
    rubric: tuple[str, ...] = ()
    # Stable identifier in exchange formats (Moodle "Id number", CASE identifier); optional.
    key: str = ""
    # Persistent UUID (version 4) of the claim, used as the CASE identifier; optional on import.
    uuid: str = ""
    # Whether the source states the evidence kinds / the rubric (a seed claim with its note) or only defaults
    # them (no note; Moodle has no column). On import, what is not stated keeps what an existing claim has, so
    # re-importing a plain file never quietly takes `training` away from the claims that tasks prove.
    kinds_stated: bool = True
    rubric_stated: bool = True


@dataclass
class ResourceData:
    title: str
    url: str
    uuid: str = ""


@dataclass
class FrameworkData:
    title: str
    category: str = ""
    description: str = ""
    claims: list[ClaimData] = field(default_factory=list)
    resources: list[ResourceData] = field(default_factory=list)
    # Stable identifier in exchange formats (Moodle "Id number"); the slug when exported.
    key: str = ""
    uuid: str = ""
    version: int = 1
