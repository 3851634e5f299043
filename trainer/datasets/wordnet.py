"""Text classification on real English: WordNet noun definitions (glosses), labelled by lexicographer file.

Source: Debian's `wordnet-base` (/usr/share/wordnet/data.noun), Princeton's WordNet 3.0. Each synset's gloss
(its definition and usage examples) is labelled with the lexicographer file it belongs to: noun.animal,
noun.food, and so on. The synset's own words are not given, only its gloss. The sandbox cannot read the
WordNet files (they are hidden), so the labels cannot be looked up.

Text is given two ways: `text` (the gloss, as a string) and `x` (token ids from a vocabulary built on the
training split only: 0 padding, 1 unknown word, then words by frequency).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np

from trainer.datasets.base import (
    BuiltDataset,
    DatasetUnavailable,
    Seeds,
    built_dataset,
    per_class,
    split_stats,
    stratified_split,
    write_splits,
)

SOURCE = Path("/usr/share/wordnet/data.noun")
INSTALL_HINT = "The WordNet text task needs the Debian package wordnet-base (apt-get install wordnet-base)"
VERSION = "2"
SLUG = "wordnet-glosses"
TINY_SLUG = "wordnet-glosses-tiny"
# WordNet's fixed lexicographer file numbers (lexnames(5WN)) for the ten classes used.
LEXFILES = {
    "04": "act", "05": "animal", "06": "artifact", "08": "body", "10": "communication",
    "13": "food", "15": "location", "18": "person", "20": "plant", "27": "substance",
}  # fmt: skip
CLASS_NAMES = list(LEXFILES.values())
PER_CLASS = {False: 2000, True: 80}
SEQUENCE_LENGTH = 40
VOCABULARY = 12000
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def read_glosses() -> tuple[list[str], np.ndarray]:
    """Every gloss of the ten lexicographer files, with its class id, in file order."""
    if not SOURCE.is_file():
        raise DatasetUnavailable(f"{INSTALL_HINT}; missing: {SOURCE}.")
    codes = list(LEXFILES)
    texts, labels = [], []
    with SOURCE.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.startswith(" ") or " | " not in line:
                continue  # the licence header, or a line without a gloss
            fields, gloss = line.split(" | ", 1)
            lexfile = fields.split(" ", 2)[1]
            if lexfile in LEXFILES:
                texts.append(gloss.strip())
                labels.append(codes.index(lexfile))
    if len(texts) < 1000:
        raise ValueError(f"{SOURCE}: found only {len(texts)} glosses; the file looks damaged.")
    return texts, np.asarray(labels, dtype=np.uint8)


def tokenize(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def build_vocabulary(texts: list[str]) -> list[str]:
    """Words of the training texts by frequency (ties alphabetical), at most VOCABULARY - 2 of them."""
    counts = Counter(word for text in texts for word in tokenize(text))
    ranked = sorted((w for w, n in counts.items() if n >= 2), key=lambda w: (-counts[w], w))
    return ["<pad>", "<unk>", *ranked[: VOCABULARY - 2]]


def encode(texts: list[str], vocabulary: list[str]) -> np.ndarray:
    index = {word: i for i, word in enumerate(vocabulary)}
    ids = np.zeros((len(texts), SEQUENCE_LENGTH), dtype=np.int32)
    for row, text in enumerate(texts):
        tokens = [index.get(word, 1) for word in tokenize(text)][:SEQUENCE_LENGTH]
        ids[row, : len(tokens)] = tokens
    return ids


def build(out_dir: Path, *, seeds: Seeds, tiny: bool = False) -> BuiltDataset:
    texts, labels = read_glosses()
    rng = seeds.rng(SLUG)
    picked = per_class(labels, PER_CLASS[tiny], rng)
    train_rows, test_rows = stratified_split(labels[picked], 0.2, rng)
    train_idx, test_idx = picked[train_rows], picked[test_rows]
    train_text = [texts[i] for i in train_idx]
    test_text = [texts[i] for i in test_idx]
    vocabulary = build_vocabulary(train_text)
    train_y, test_y = labels[train_idx], labels[test_idx]
    write_splits(
        out_dir,
        train={
            "x": encode(train_text, vocabulary), "y": train_y, "text": np.asarray(train_text),
            "vocabulary": np.asarray(vocabulary),
        },
        test_inputs={"x": encode(test_text, vocabulary), "text": np.asarray(test_text)},
        truth={"y": test_y},
    )  # fmt: skip
    samples = [{"text": train_text[i], "label": CLASS_NAMES[int(train_y[i])]} for i in range(8)]
    lengths = [len(tokenize(t)) for t in train_text]
    return built_dataset(
        slug=SLUG,
        tiny_slug=TINY_SLUG,
        tiny=tiny,
        version=VERSION,
        title="WordNet noun glosses",
        source="Debian package wordnet-base (Princeton WordNet 3.0, data.noun)",
        licence="WordNet 3.0 licence (Princeton University; free to use, copy and distribute)",
        description=(
            f"{len(train_y):,} training and {len(test_y):,} test definitions of English nouns from WordNet, "
            f"{PER_CLASS[tiny]:,} per class drawn at random and split 80/20 within each class. The label is the "
            f"lexicographer file: {', '.join(CLASS_NAMES)}. `x` holds {SEQUENCE_LENGTH} token ids per text "
            f"(vocabulary of {len(vocabulary):,} words from the training split; 0 padding, 1 unknown); `text` "
            "holds the raw gloss."
        ),
        stats=split_stats(
            out_dir,
            train_y=train_y,
            test_y=test_y,
            class_names=CLASS_NAMES,
            samples=samples,
            vocabulary_size=len(vocabulary),
            sequence_length=SEQUENCE_LENGTH,
            median_words=int(np.median(lengths)),
            max_words=int(max(lengths)),
        ),
        test_labels_public=True,
    )
