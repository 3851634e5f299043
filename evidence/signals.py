"""Signals other apps listen to. Evidence knows nothing of who listens (apps import downwards only)."""

from django.dispatch import Signal

# Sent inside the review's transaction once evidence is approved, with `evidence` (its learner may now be
# proficient). Credentials issues from it; a receiver must not let its own failure undo the approval.
evidence_approved = Signal()
