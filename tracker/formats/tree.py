"""Frameworks as trees: the plain data a tree format (Moodle CSV, CASE) reads into and writes from.

A parser gives a `TreeData` whose nodes have no role yet; `assign_roles` decides which nodes are grouping, which
competencies (what learners earn) and which claims (what a learner proves). Neither touches the database.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from tracker.formats.base import FormatError

GROUP, COMPETENCY, CLAIM = "group", "competency", "claim"
ROLES = (GROUP, COMPETENCY, CLAIM)
# Past these a file is refused: a framework is read whole, twice (preview and import), in one request.
MAX_NODES = 5_000
MAX_DESCRIPTION_CHARS = 20_000
MAX_SHORT_NAME_CHARS = 1_000
MAX_IDNUMBER_CHARS = 100


@dataclass
class LinkData:
    """A link from a node: to another node of the file (`target`, its key) or outside it (`uri`)."""

    kind: str
    target: str = ""
    uri: str = ""
    title: str = ""
    identifier: str = ""  # CASE: the association's own identifier
    target_identifier: str = ""  # CASE: the identifier of a destination outside the package


@dataclass
class NodeData:
    """One node as the file gives it.

    Attributes:
        key: what identifies it across versions of the file: the Moodle id number or the CASE identifier.
        short_name: Moodle's shortname; CASE's abbreviatedStatement, or the fullStatement when there is none.
        text: the claim text this node gets if it is a claim (short name, unless the source cut it).
        description: Markdown.
        line: where it is in the file, for error messages.
    """

    key: str
    short_name: str
    text: str = ""
    description: str = ""
    idnumber: str = ""
    case_identifier: str = ""
    human_coding_scheme: str = ""
    source_data: dict[str, object] = field(default_factory=dict)
    links: list[LinkData] = field(default_factory=list)
    children: list[NodeData] = field(default_factory=list)
    line: int | None = None
    role: str = ""


@dataclass
class TreeData:
    """A framework and its top-level nodes. `key` identifies the framework itself (id number or CFDocument)."""

    key: str
    title: str
    source_format: str
    description: str = ""
    idnumber: str = ""
    source_identifier: str = ""
    source_uri: str = ""
    source_version: str = ""
    scale_values: str = ""
    scale_configuration: str = ""
    taxonomies: str = ""
    nodes: list[NodeData] = field(default_factory=list)
    # The role of the framework row itself: "competency" when claims hang off it directly.
    role: str = GROUP

    def walk(self) -> Iterator[tuple[NodeData, NodeData | None, int]]:
        """Every node in file order, depth first, with its parent (None at the top) and its level (1 = top)."""
        stack: list[tuple[NodeData, NodeData | None, int]] = [(node, None, 1) for node in reversed(self.nodes)]
        while stack:
            node, parent, level = stack.pop()
            yield node, parent, level
            stack.extend((child, node, level + 1) for child in reversed(node.children))

    def depth(self) -> int:
        return max((level for _, _, level in self.walk()), default=0)


def default_role(node: NodeData) -> str:
    """Leaves are claims, the parents of leaves competencies, everything above them grouping."""
    if not node.children:
        return CLAIM
    return COMPETENCY if any(not child.children for child in node.children) else GROUP


def assign_roles(tree: TreeData, levels: Mapping[int, str] | None = None) -> None:
    """Give every node (and the framework row, level 0) a role: the admin's choice for its level, else the default.

    Raises:
        FormatError: the roles do not make a framework: a claim with nodes under it, or a claim with no
            competency above it.
    """
    levels = levels or {}
    top_default = COMPETENCY if any(not node.children for node in tree.nodes) else GROUP
    tree.role = levels.get(0, top_default)
    if tree.role == CLAIM:
        raise FormatError("the framework itself cannot be a claim; choose grouping or competency for level 0")
    competency_above: dict[int, bool] = {}
    for node, parent, level in tree.walk():
        node.role = levels.get(level, default_role(node))
        above = competency_above[id(parent)] if parent else tree.role == COMPETENCY
        if node.role == CLAIM and node.children:
            raise FormatError(
                f"{_name(node)} would be a claim, but claims cannot contain other nodes "
                f"(it has {len(node.children)}); choose a role for level {level + 1} too, or another for level {level}",
                line=node.line,
            )
        if node.role == CLAIM and not above:
            raise FormatError(
                f"{_name(node)} would be a claim with no competency above it; choose 'competency' for a level above "
                f"level {level}",
                line=node.line,
            )
        competency_above[id(node)] = above or node.role == COMPETENCY


def parse_levels(values: Mapping[str, str]) -> dict[int, str]:
    """Read a role per level ({"2": "competency"}) from a form or the command line; blank means the default."""
    levels = {}
    for level, role in values.items():
        if not role:
            continue
        if role not in ROLES or not str(level).isdigit():
            raise FormatError(f"level {level!r}: the role must be one of {', '.join(ROLES)}, not {role!r}")
        levels[int(level)] = role
    return levels


def check_sizes(node: NodeData) -> None:
    """Refuse what no field holds, naming the node's line (a 5 MB description is a mistake, not a framework)."""
    if len(node.description) > MAX_DESCRIPTION_CHARS:
        raise FormatError(
            f"the description of {_name(node)} has {len(node.description):,} characters; "
            f"the limit is {MAX_DESCRIPTION_CHARS:,}",
            line=node.line,
        )
    if len(node.idnumber) > MAX_IDNUMBER_CHARS:
        raise FormatError(
            f"the id number {node.idnumber[:40]!r}… has {len(node.idnumber)} characters; Moodle's limit is "
            f"{MAX_IDNUMBER_CHARS}",
            line=node.line,
        )
    if len(node.short_name) > MAX_SHORT_NAME_CHARS:
        raise FormatError(
            f"the short name of {_name(node)} has {len(node.short_name):,} characters; "
            f"the limit is {MAX_SHORT_NAME_CHARS:,}",
            line=node.line,
        )


def _name(node: NodeData) -> str:
    return repr(node.key) if len(node.key) < 60 else repr(node.short_name[:60])
