"""The seed's Keras claims and resources as plain tuples, for format tests that need no database."""

from tests.conftest import SEED_FILE
from tracker.formats.seed_markdown import parse_seed_markdown

_SEED = parse_seed_markdown(SEED_FILE.read_text())
CLAIMS = tuple(claim.text for claim in _SEED.claims)
RESOURCES = tuple((resource.title, resource.url) for resource in _SEED.resources)
