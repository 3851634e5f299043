"""bAbI-style question answering, generated: where is a person, or where is an object?

Two kinds of question, half each (after Weston et al., "Towards AI-complete question answering", 2015):
- one supporting fact: people move between rooms; "where is mary ?" is answered by her last move;
- two supporting facts: people also pick up and drop objects; "where is the milk ?" needs the last move
  of whoever holds it (or the room where it was dropped).
Stories are token ids: `story` (n, sentences, words) with the newest sentence last and empty sentences
first, and `question` (n, words). The answer is a room (class ids in ROOMS order).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trainer.datasets.base import (
    BuiltDataset,
    Seeds,
    built_dataset,
    split_stats,
    write_splits,
)

VERSION = "2"
SLUG = "babi-rooms"
TINY_SLUG = "babi-rooms-tiny"
PEOPLE = ["mary", "john", "sandra", "daniel"]
ROOMS = ["bathroom", "hallway", "garden", "office", "kitchen", "bedroom"]
OBJECTS = ["football", "apple", "milk"]
MOVES = ["moved", "went", "journeyed", "travelled"]
TAKES = ["picked up", "got", "grabbed"]
DROPS = ["dropped", "put down", "discarded"]
SENTENCES = 10
WORDS = 6
QUESTION_WORDS = 4
SIZES = {False: (10000, 2000), True: (600, 200)}


def vocabulary() -> list[str]:
    words = {"<pad>", "to", "the", "where", "is", "?", "."}
    for phrase in [*PEOPLE, *ROOMS, *OBJECTS, *MOVES, *TAKES, *DROPS]:
        words.update(phrase.split())
    return ["<pad>", *sorted(words - {"<pad>"})]


def _story(rng: np.random.Generator, two_facts: bool) -> tuple[list[str], str, int] | None:
    where: dict[str, str] = {}
    holder: dict[str, str | None] = {}
    dropped: dict[str, str] = {}
    lines: list[str] = []
    for _ in range(int(rng.integers(3, SENTENCES + 1))):
        person = PEOPLE[rng.integers(len(PEOPLE))]
        roll = rng.random()
        held = [o for o, h in holder.items() if h == person]
        if two_facts and person in where and roll < 0.25:
            free = [o for o in OBJECTS if holder.get(o) is None]
            if free:
                thing = free[rng.integers(len(free))]
                holder[thing] = person
                lines.append(f"{person} {TAKES[rng.integers(len(TAKES))]} the {thing} .")
                continue
        if two_facts and held and roll < 0.4:
            thing = held[rng.integers(len(held))]
            holder[thing], dropped[thing] = None, where[person]
            lines.append(f"{person} {DROPS[rng.integers(len(DROPS))]} the {thing} .")
            continue
        room = ROOMS[rng.integers(len(ROOMS))]
        where[person] = room
        lines.append(f"{person} {MOVES[rng.integers(len(MOVES))]} to the {room} .")
    if two_facts:
        known = {o: where[h] if h else dropped[o] for o, h in holder.items() if (h and h in where) or o in dropped}
        moved_with = [o for o in known if holder.get(o)]
        pool = moved_with or list(known)
        if not pool:
            return None
        thing = pool[rng.integers(len(pool))]
        return lines, f"where is the {thing} ?", ROOMS.index(known[thing])
    person = list(where)[rng.integers(len(where))]
    return lines, f"where is {person} ?", ROOMS.index(where[person])


def encode(words: list[str], length: int, index: dict[str, int]) -> list[int]:
    ids = [index[w] for w in words][:length]
    return ids + [0] * (length - len(ids))


def generate(count: int, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], np.ndarray, list[dict[str, str]]]:
    index = {w: i for i, w in enumerate(vocabulary())}
    stories = np.zeros((count, SENTENCES, WORDS), dtype=np.int32)
    questions = np.zeros((count, QUESTION_WORDS), dtype=np.int32)
    answers = np.zeros(count, dtype=np.uint8)
    kinds = np.zeros(count, dtype=np.uint8)
    samples: list[dict[str, str]] = []
    row = 0
    while row < count:
        two_facts = row % 2 == 1
        made = _story(rng, two_facts)
        if made is None:
            continue
        lines, question, answer = made
        for offset, line in enumerate(lines):
            stories[row, SENTENCES - len(lines) + offset] = encode(line.split(), WORDS, index)
        questions[row] = encode(question.split(), QUESTION_WORDS, index)
        answers[row], kinds[row] = answer, two_facts
        if len(samples) < 4:
            samples.append({"text": " ".join(lines) + " " + question, "label": ROOMS[answer]})
        row += 1
    order = rng.permutation(count)
    return {"story": stories[order], "question": questions[order]}, answers[order], samples


def build(out_dir: Path, *, seeds: Seeds, tiny: bool = False) -> BuiltDataset:
    rng = seeds.rng(f"{SLUG}/tiny={tiny}")
    train_count, test_count = SIZES[tiny]
    train_x, train_y, samples = generate(train_count, rng)
    test_x, test_y, _ = generate(test_count, rng)
    words = np.asarray(vocabulary())
    write_splits(
        out_dir,
        train={**train_x, "y": train_y, "vocabulary": words},
        test_inputs=test_x,
        truth={"y": test_y},
    )
    return built_dataset(
        slug=SLUG,
        tiny_slug=TINY_SLUG,
        tiny=tiny,
        version=VERSION,
        title="Rooms and objects (bAbI-style QA)",
        source="Generated by Skillproof (seeded numpy generator), after the bAbI tasks 1 and 2",
        licence="Generated data; no licence restrictions",
        description=(
            f"{train_count:,} training and {test_count:,} test stories of 3 to {SENTENCES} sentences about "
            f"{len(PEOPLE)} people, {len(ROOMS)} rooms and {len(OBJECTS)} objects, half with one supporting fact "
            "(where is a person?) and half with two (where is an object?). Token ids over a vocabulary of "
            f"{len(words)} words; `story` is ({SENTENCES}, {WORDS}) per example, `question` ({QUESTION_WORDS},)."
        ),
        stats=split_stats(
            out_dir,
            train_y=train_y,
            test_y=test_y,
            class_names=ROOMS,
            samples=samples,
            vocabulary_size=len(words),
            story_shape=[SENTENCES, WORDS],
            question_length=QUESTION_WORDS,
        ),
    )
