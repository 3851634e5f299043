"""Export a competency to each supported format, as (filename, content type, text)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from django.conf import settings

from tracker.formats.case import export_case
from tracker.formats.moodle import write_moodle_csv
from tracker.formats.seed_markdown import write_seed_markdown
from tracker.models import Competency
from tracker.services import competency_data

Export = tuple[str, str, str]


def export_markdown(competencies: Iterable[Competency]) -> Export:
    texts = [write_seed_markdown(competency_data(competency=c)) for c in competencies]
    return "competencies.md", "text/markdown; charset=utf-8", "\n".join(texts)


def export_case_json(competencies: Iterable[Competency]) -> Export:
    packages = [
        export_case(competency_data(competency=c), uri_base=settings.SITE_URL, last_change=c.updated_at)
        for c in competencies
    ]
    body = packages[0] if len(packages) == 1 else packages
    return "competencies.case.json", "application/json", json.dumps(body, indent=2, ensure_ascii=False)


def export_moodle(competencies: Iterable[Competency]) -> Export:
    data = [competency_data(competency=c) for c in competencies]
    return "competencies.moodle.csv", "text/csv; charset=utf-8", write_moodle_csv(data)


EXPORTERS: dict[str, Callable[[Iterable[Competency]], Export]] = {
    "markdown": export_markdown,
    "case": export_case_json,
    "moodle": export_moodle,
}
