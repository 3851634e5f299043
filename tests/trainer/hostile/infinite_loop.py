"""Hostile: never return."""


def build_model(spec):
    while True:
        pass
