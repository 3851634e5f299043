"""Moodle's competency-framework CSV read and written as a tree (what `tool_lpimportcsv` imports and exports).

Unlike `tracker.formats.moodle` (one competency as a flat framework), this keeps what Moodle's importer rebuilds:
the parent/child tree and its order, every id number, short names and descriptions, cross references
("Cross referenced competency id numbers", symmetric in Moodle), the scale and the rule columns. Columns with no
meaning on this site (rules, per-competency scales, Moodle's exported id) travel in `NodeData.source_data` and are
written back as they came.

Moodle imports one framework per file, so a second framework row is refused rather than merged.
"""

from __future__ import annotations

from tracker.formats.base import FormatError
from tracker.formats.html_markdown import html_to_markdown
from tracker.formats.moodle import (
    COLUMNS,
    DESCRIPTION,
    DESCRIPTION_FORMAT,
    FORMAT_HTML,
    FORMAT_MARKDOWN,
    IDNUMBER,
    IS_FRAMEWORK,
    PARENT,
    SCALE_CONFIGURATION,
    SCALE_VALUES,
    SHORTNAME,
    SHORTNAME_MAX,
    TAXONOMY,
    _check_header,
    _check_width,
    _csv_line,
    _is_framework,
    _plain_text,
    _read_rows,
    _shortname,
)
from tracker.formats.tree import MAX_NODES, LinkData, NodeData, TreeData, check_sizes

# The columns after the description that Moodle's exporter fills per competency, kept verbatim by name.
_KEPT = {
    "scalevalues": 5,
    "scaleconfiguration": 6,
    "ruletype": 7,
    "ruleoutcome": 8,
    "ruleconfig": 9,
    "exportid": 11,
}
RELATED = COLUMNS.index("Cross referenced competency id numbers")
TAXONOMIES = COLUMNS.index("Taxonomy")
RELATED_KIND = "isRelatedTo"


def parse_moodle_tree(text: str) -> TreeData:
    """Read one Moodle framework CSV as a tree.

    Raises:
        FormatError: naming the line: wrong header or width, no or two framework rows, a missing or repeated id
            number, a parent or cross reference that is not in the file, a loop of parents, too many rows, a
            description too long.
    """
    rows = _read_rows(text)
    if not rows:
        raise FormatError("the file is empty; expected Moodle's competency framework CSV", line=1)
    _check_header(*rows[0])
    if len(rows) - 2 > MAX_NODES:
        message = f"the file has {len(rows) - 2:,} competency rows; the limit is {MAX_NODES:,}"
        raise FormatError(message, line=rows[MAX_NODES + 2][0])
    tree: TreeData | None = None
    nodes: dict[str, NodeData] = {}
    parents: dict[str, str] = {}
    for line, cells in rows[1:]:
        _check_width(line, cells)
        if _is_framework(line, cells[IS_FRAMEWORK]):
            if tree is not None:
                raise FormatError("a second framework row: Moodle imports one framework per file", line=line)
            tree = _framework(line, cells)
        elif tree is None:
            raise FormatError("a competency comes before the framework row (Is framework = 1)", line=line)
        else:
            node = _node(line, cells)
            if node.key == tree.key:
                raise FormatError(f"the id number {node.key!r} is the framework's own", line=line)
            if node.key in nodes:
                raise FormatError(
                    f"the id number {node.key!r} is already used on line {nodes[node.key].line}", line=line
                )
            nodes[node.key] = node
            parents[node.key] = cells[PARENT].strip()
    if tree is None:
        raise FormatError("the file has no framework row (a row with Is framework = 1)")
    _build(tree, nodes, parents)
    return tree


def _framework(line: int, cells: list[str]) -> TreeData:
    idnumber, title = cells[IDNUMBER].strip(), cells[SHORTNAME].strip()
    if not idnumber or not title:
        raise FormatError("the framework row needs an 'Id number' and a 'Shortname'", line=line)
    return TreeData(
        key=idnumber,
        title=title,
        idnumber=idnumber,
        source_format="moodle",
        description=_description(cells),
        scale_values=cells[5],
        scale_configuration=cells[6],
        taxonomies=cells[TAXONOMIES],
    )


def _node(line: int, cells: list[str]) -> NodeData:
    idnumber, shortname = cells[IDNUMBER].strip(), cells[SHORTNAME].strip()
    if not idnumber:
        raise FormatError("the competency on this row has an empty 'Id number'", line=line)
    if not shortname:
        raise FormatError(f"the competency {idnumber!r} has an empty 'Shortname'", line=line)
    related = [ref.strip().replace("%2C", ",") for ref in cells[RELATED].split(",")]
    node = NodeData(
        key=idnumber,
        idnumber=idnumber,
        short_name=shortname,
        text=_claim_text(shortname, cells),
        description=_description(cells),
        source_data={name: cells[index] for name, index in _KEPT.items()},
        links=[LinkData(kind=RELATED_KIND, target=ref) for ref in related if ref],
        line=line,
    )
    check_sizes(node)
    return node


def _description(cells: list[str]) -> str:
    """Moodle's HTML as Markdown; Markdown, plain and Moodle-auto formats as they are."""
    value = cells[DESCRIPTION]
    return html_to_markdown(value) if cells[DESCRIPTION_FORMAT].strip() == FORMAT_HTML else value.strip()


def _claim_text(shortname: str, cells: list[str]) -> str:
    """The short name, unless it was cut to Moodle's 100 characters from the description, then the description.

    Moodle cuts a long shortname at 100 characters (and our exports at a word, with an ellipsis), leaving the
    whole statement in the description: a claim must keep the whole statement, never the cut.
    """
    plain = " ".join(_plain_text(cells[DESCRIPTION], cells[DESCRIPTION_FORMAT]).split())
    stem = " ".join(shortname.removesuffix("…").split())
    cut = len(shortname) >= SHORTNAME_MAX - 1 or shortname.endswith("…")
    if cut and plain.startswith(stem) and len(plain) > len(stem):
        return plain
    return shortname


def _build(tree: TreeData, nodes: dict[str, NodeData], parents: dict[str, str]) -> None:
    """Hang each node under its parent, in file order; refuse unknown parents, loops and unknown references."""
    roots = {"", tree.key}
    for key, node in nodes.items():
        parent = parents[key]
        if parent in roots:
            tree.nodes.append(node)
        elif parent in nodes:
            nodes[parent].children.append(node)
        else:
            raise FormatError(
                f"'Parent id number' {parent!r} of {key!r} is not the id number of a competency in this file",
                line=node.line,
            )
    reached = {id(node) for node, _, _ in tree.walk()}
    for node in nodes.values():
        if id(node) not in reached:
            raise FormatError(
                f"the parents of {node.key!r} form a loop that never reaches the framework", line=node.line
            )
        for link in node.links:
            if link.target not in nodes:
                raise FormatError(
                    f"the cross reference {link.target!r} of {node.key!r} is not an id number in this file",
                    line=node.line,
                )


def write_moodle_tree(tree: TreeData) -> str:
    """Write a framework as Moodle's CSV: the framework row, then every node, parents before their children.

    The nodes' roles are not written (Moodle has only competencies); id numbers must be unique and present
    (`tracker.services` gives nodes without one a stable one before writing).
    """
    lines = [_csv_line(list(COLUMNS)), _csv_line(_framework_row(tree))]
    for node, parent, _level in tree.walk():
        lines.append(_csv_line(_node_row(node, parent.idnumber if parent else "")))
    return "\n".join(lines) + "\n"


def _framework_row(tree: TreeData) -> list[str]:
    taxonomies = tree.taxonomies or ",".join([TAXONOMY] * max(tree.depth(), 1))
    row = ["", tree.idnumber, _shortname(tree.title), tree.description, FORMAT_MARKDOWN]
    row += [tree.scale_values or SCALE_VALUES, tree.scale_configuration or SCALE_CONFIGURATION]
    # Moodle's exporter writes PHP's true, which fputcsv writes as 1.
    return [*row, "", "", "", "", "", "1", taxonomies]


def _node_row(node: NodeData, parent: str) -> list[str]:
    """One competency row. PHP's false (Is framework) and an empty taxonomy are both written as empty cells."""
    full = node.text if node.role == "claim" else node.short_name
    shortname = _export_shortname(node.short_name, full)
    description = node.description or (full if shortname != full else "")
    kept = {name: str(node.source_data.get(name, "")) for name in _KEPT}
    # Moodle writes a missing rule config as the word null and a missing outcome as 0.
    row = [parent, node.idnumber, shortname, description, FORMAT_MARKDOWN, kept["scalevalues"]]
    row += [kept["scaleconfiguration"], kept["ruletype"], kept["ruleoutcome"] or "0", kept["ruleconfig"] or "null"]
    related = ",".join(link.target.replace(",", "%2C") for link in node.links if link.kind == RELATED_KIND)
    return [*row, related, kept["exportid"], "", ""]


def _export_shortname(stored: str, full: str) -> str:
    """The short name the source gave, while it fits and still begins the text; else one cut from the text.

    Keeping Moodle's own cut makes an export of an imported file give Moodle back the same short names; a claim
    edited on the site gets a new short name from its new text.
    """
    stem = " ".join(stored.removesuffix("…").split())
    if len(stored) <= SHORTNAME_MAX and stem and " ".join(full.split()).startswith(stem):
        return stored
    return _shortname(full)
