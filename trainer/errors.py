"""The trainer's refusals (see tracker.errors.DomainError)."""

from tracker.errors import DomainError


class TrainingError(DomainError):
    """A training action that the run's state, the task, or the person asking does not allow."""
