"""Moodle competency-framework CSV: writing, reading Moodle's own files, and errors (no database needed)."""

from __future__ import annotations

import csv
import io

import pytest

from tracker.formats.base import DEFAULT_EVIDENCE_KINDS, ClaimData, FormatError, FrameworkData, ResourceData
from tracker.formats.moodle import SHORTNAME_MAX, parse_moodle_csv, write_moodle_csv

HEADER = (
    '"Parent id number","Id number",Shortname,Description,"Description format","Scale values",'
    '"Scale configuration","Rule type (optional)","Rule outcome (optional)","Rule config (optional)",'
    '"Cross referenced competency id numbers","Exported id (optional)","Is framework",Taxonomy'
)

from tests.tracker.keras_data import CLAIMS, RESOURCES  # noqa: E402

DESCRIPTION = (
    "Keras is an open-source neural-network library written in Python.\n\n"
    'Read more:\n- Wikipedia: https://en.wikipedia.org/wiki/Keras\n- "What is Keras", a C:\\path, 100% useful'
)


def keras() -> FrameworkData:
    """The seed's Keras competency, with keys on every claim (what our exports always have)."""
    return FrameworkData(
        title="Keras",
        category="ML Framework",
        description=DESCRIPTION,
        claims=[
            ClaimData(text=text, required=n % 2 == 1, key=f"keras-{n:02d}", uuid=f"uuid-{n}")
            for n, text in enumerate(CLAIMS, start=1)
        ],
        resources=[ResourceData(title=title, url=url) for title, url in RESOURCES],
        key="keras",
        uuid="uuid-keras",
        version=2,
    )


def pytorch() -> FrameworkData:
    return FrameworkData(
        title="PyTorch, the library",
        description="",
        claims=[ClaimData(text="You know tensors.", key="pt-1"), ClaimData(text='You "know" autograd.', key="pt-2")],
        key="pytorch",
    )


def _written(data: FrameworkData) -> tuple[object, ...]:
    """What the Moodle format carries: title, description, key and the claims' texts and keys."""
    return data.title, data.description, data.key, [(claim.text, claim.key) for claim in data.claims]


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_header_line_is_exactly_moodles() -> None:
    assert write_moodle_csv([keras()]).split("\n", 1)[0] == HEADER


def test_round_trip_keeps_titles_descriptions_claims_and_keys() -> None:
    frameworks = [keras(), pytorch()]
    parsed = parse_moodle_csv(write_moodle_csv(frameworks))
    assert [_written(data) for data in parsed] == [_written(data) for data in frameworks]


def test_round_trip_returns_defaults_for_what_moodle_cannot_hold() -> None:
    (parsed,) = parse_moodle_csv(write_moodle_csv([keras()]))
    assert parsed.resources == []
    assert (parsed.category, parsed.uuid, parsed.version) == ("", "", 1)
    assert {(claim.required, claim.evidence_kinds, claim.uuid) for claim in parsed.claims} == {
        (True, DEFAULT_EVIDENCE_KINDS, "")
    }


def test_framework_and_claim_rows_follow_moodles_conventions() -> None:
    rows = _rows(write_moodle_csv([keras()]))
    framework, first_claim, second_claim = rows[1], rows[2], rows[3]
    assert framework == [
        "",
        "keras",
        "Keras",
        DESCRIPTION,
        "4",
        "Not yet competent,Competent",
        '[{"scaleid":"2"},{"id":1,"scaledefault":1,"proficient":0},{"id":2,"scaledefault":0,"proficient":1}]',
        "",
        "",
        "",
        "",
        "",
        "1",
        "competency",
    ]
    # Top-level competencies have an empty parent id number, as in Moodle's own exports.
    assert second_claim[:5] == ["", "keras-02", CLAIMS[1], CLAIMS[1], "4"]
    assert second_claim[12] == "0"
    # The first claim is longer than Moodle's 100-character shortname.
    assert first_claim[2] == CLAIMS[0][:89] + "…"
    assert first_claim[3] == CLAIMS[0]
    assert len(rows) == 1 + 1 + len(CLAIMS)


def test_fields_are_quoted_like_php_fputcsv() -> None:
    line = write_moodle_csv([pytorch()]).split("\n")[2]
    assert line == ',pt-1,"You know tensors.","You know tensors.",4,,,,0,null,,,0,'
    assert write_moodle_csv([pytorch()]).split("\n")[3].startswith(',pt-2,"You ""know"" autograd.",')


def test_claims_without_keys_get_numbered_id_numbers() -> None:
    data = FrameworkData(title="Keras", key="keras", claims=[ClaimData(text="One"), ClaimData(text="Two", key="k2")])
    (parsed,) = parse_moodle_csv(write_moodle_csv([data]))
    assert [claim.key for claim in parsed.claims] == ["keras-01", "k2"]


def test_framework_without_key_gets_a_slug() -> None:
    (parsed,) = parse_moodle_csv(write_moodle_csv([FrameworkData(title="Señor Keras & Co.")]))
    assert parsed.key == "senor-keras-co"


def test_duplicate_id_numbers_are_refused_when_writing() -> None:
    data = FrameworkData(title="Keras", key="keras", claims=[ClaimData(text="a", key="keras-02"), ClaimData(text="b")])
    with pytest.raises(ValueError, match="keras-02"):
        write_moodle_csv([data])
    with pytest.raises(ValueError, match="pytorch"):
        write_moodle_csv([pytorch(), pytorch()])


def test_long_claims_get_a_word_boundary_shortname_and_keep_their_full_text() -> None:
    text = "You know how to " + " ".join(f"word{n}" for n in range(40)) + "."
    data = FrameworkData(title="Long", key="long", claims=[ClaimData(text=text, key="long-1")])
    output = write_moodle_csv([data])
    shortname = _rows(output)[2][2]
    assert len(shortname) <= SHORTNAME_MAX
    assert shortname.endswith("…")
    assert text.startswith(shortname.removesuffix("…") + " ")
    assert parse_moodle_csv(output)[0].claims[0].text == text


def test_a_single_overlong_word_is_cut_too() -> None:
    data = FrameworkData(title="Long", key="long", claims=[ClaimData(text="x" * 150, key="long-1")])
    shortname = _rows(write_moodle_csv([data]))[2][2]
    assert shortname == "x" * (SHORTNAME_MAX - 1) + "…"


MOODLE_FILE = (
    "\ufeff" + HEADER + "\r\n"
    ',OECD-CORE,OECD,"<p>The Core Competencies summarise the capabilities\r\nthat are important.</p>'
    '<p>&bull; Delivery <br>&bull; Interpersonal</p>",1,"Not yet competent,Competent",'
    '"[{""scaleid"":""2""},{""id"":2,""scaledefault"":1,""proficient"":1}]",,,,,,1,'
    '"competency,competency,competency"\r\n'
    ",competencies,Competencies,,1,,,,0,null,,7,,\r\n"
    'analytical-thinking,DR-AT1,"Distinguishes between critical and irrelevant pieces of information",'
    '"<p>Distinguishes between critical and irrelevant\r\npieces of information<br></p>",1,,,,0,null,level-1,26,,\r\n'
    'competencies,analytical-thinking,"Analytical Thinking","<p>Analytical Thinking is the ability to identify\r\n'
    'patterns.<br></p>",1,,,,0,null,,11,,\r\n'
    'competencies,teamwork,"Teamwork",,1,,,,0,null,,16,,\r\n'
    "\r\n"
    ',SECOND,Second,"Plain *markdown* text",4,"Not yet competent,Competent",,,,,,,1,competency\r\n'
    ',s-1,"First one",,0,,,,0,null,,,0,\r\n'
)


def test_parses_a_moodle_export_with_bom_crlf_nesting_and_html() -> None:
    oecd, second = parse_moodle_csv(MOODLE_FILE)
    assert (oecd.key, oecd.title) == ("OECD-CORE", "OECD")
    assert oecd.description.splitlines() == [
        "The Core Competencies summarise the capabilities that are important.",
        "• Delivery",
        "• Interpersonal",
    ]
    assert [(claim.key, claim.text) for claim in oecd.claims] == [
        ("competencies", "Competencies"),
        ("DR-AT1", "Distinguishes between critical and irrelevant pieces of information"),
        ("analytical-thinking", "Analytical Thinking is the ability to identify patterns."),
        ("teamwork", "Teamwork"),
    ]
    assert (second.key, second.description) == ("SECOND", "Plain *markdown* text")
    assert [(claim.key, claim.text) for claim in second.claims] == [("s-1", "First one")]
    assert oecd.resources == [] and second.resources == []


def test_parses_lf_files_without_bom_and_lenient_header_quoting() -> None:
    header = ",".join(f'"{name}"' for name in next(csv.reader([HEADER])))
    text = header.upper() + "\n,fw,Framework,,4,,,,,,,,1,\n,c1,Claim,,4,,,,,,,,,\nfw,c2,Other,,4,,,,,,,,,\n"
    (framework,) = parse_moodle_csv(text)
    assert [claim.key for claim in framework.claims] == ["c1", "c2"]


FRAMEWORK_ROW = ",fw,Framework,,4,,,,,,,,1,"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "empty"),
        ("Parent,Id,Shortname\n" + FRAMEWORK_ROW + "\n", 1, "header has 3 columns"),
        (HEADER.replace("Shortname", "Short name") + "\n" + FRAMEWORK_ROW + "\n", 1, "column 3 should be 'Shortname'"),
        (HEADER + "\n" + FRAMEWORK_ROW + "\n,c1,Claim,,4\n", 3, "has 5 columns"),
        (HEADER + "\n,c1,Claim,,4,,,,,,,,,\n" + FRAMEWORK_ROW + "\n", 2, "before any framework"),
        (HEADER + "\n" + FRAMEWORK_ROW + "\n,c1,Claim,,4,,,,,,,,,\nnope,c2,Two,,4,,,,,,,,,\n", 4, "'nope'"),
        (HEADER + "\n" + FRAMEWORK_ROW + "\n,c1,,Text,4,,,,,,,,,\n", 3, "empty 'Shortname'"),
        (HEADER + "\n,fw,,,4,,,,,,,,1,\n", 2, "empty 'Shortname'"),
        (HEADER + "\n" + FRAMEWORK_ROW + "\n,,Claim,,4,,,,,,,,,\n", 3, "empty 'Id number'"),
        (HEADER + "\n" + FRAMEWORK_ROW + "\n,c1,One,,4,,,,,,,,,\n\n,c1,Two,,4,,,,,,,,,\n", 5, "already used on line 3"),
        (HEADER + "\n" + FRAMEWORK_ROW + "\n" + FRAMEWORK_ROW + "\n", 3, "appears earlier"),
        (HEADER + "\n" + FRAMEWORK_ROW + "\n,c1,Claim,,4,,,,,,,,yes,\n", 3, "'Is framework'"),
        (HEADER + "\n" + FRAMEWORK_ROW + '\n,c1,"Claim,,4,,,,,,,,,\n,c2,Two,,4,,,,,,,,,\n', 3, "not valid CSV"),
        (HEADER + '\n,fw,"Multi\nline",,4,,,,,,,,1,\n,c1,"x"y,,4,,,,,,,,,\n', 4, "not valid CSV"),
        (HEADER + "\n", None, "no framework row"),
        (HEADER + "\n" + FRAMEWORK_ROW + "\nc2,c1,One,,4,,,,,,,,,\nc1,c2,Two,,4,,,,,,,,,\n", 3, "loop"),
        (HEADER + "\n" + FRAMEWORK_ROW + "\nc1,c1,Self,,4,,,,,,,,,\n", 3, "loop"),
    ],
)
def test_malformed_files_raise_format_error_with_line(text: str, line: int | None, message: str) -> None:
    with pytest.raises(FormatError) as caught:
        parse_moodle_csv(text)
    assert caught.value.line == line
    assert message in caught.value.message


def test_parent_in_another_framework_is_unknown() -> None:
    text = HEADER + "\n" + FRAMEWORK_ROW + "\n,c1,One,,4,,,,,,,,,\n,fw2,Two,,4,,,,,,,,1,\nc1,c2,Two,,4,,,,,,,,,\n"
    with pytest.raises(FormatError) as caught:
        parse_moodle_csv(text)
    assert caught.value.line == 5
    assert "'c1'" in caught.value.message and "'fw2'" in caught.value.message


def test_child_listed_before_its_parent_is_accepted() -> None:
    text = HEADER + "\n" + FRAMEWORK_ROW + "\nc2,c1,Child,,4,,,,,,,,,\n,c2,Parent,,4,,,,,,,,,\n"
    (framework,) = parse_moodle_csv(text)
    assert [claim.key for claim in framework.claims] == ["c1", "c2"]


def test_framework_id_number_as_parent_means_top_level() -> None:
    (framework,) = parse_moodle_csv(HEADER + "\n" + FRAMEWORK_ROW + "\nfw,c1,Claim,,4,,,,,,,,,\n")
    assert [claim.text for claim in framework.claims] == ["Claim"]
