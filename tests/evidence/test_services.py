"""Every transition of the evidence state machine, legal and illegal."""

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evidence.models import Evidence, EvidenceError, Notification, Review, Status
from evidence.selectors import evidence_history
from evidence.services import (
    EvidenceInput,
    evidence_create,
    evidence_resubmit,
    evidence_submit,
    evidence_update_draft,
    evidence_withdraw,
    review_record,
)
from tests.evidence.helpers import ANSWER, make_evidence, written_claim
from tracker.models import Competency, User

pytestmark = pytest.mark.django_db


def test_learner_saves_a_draft_then_submits_it(
    alice: User, keras: Competency, charlie: User, mailoutbox: list, django_capture_on_commit_callbacks: Any
) -> None:
    evidence = make_evidence(alice, written_claim(keras), submit=False)
    assert evidence.status == Status.DRAFT and evidence.submitted_at is None
    assert Notification.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        evidence_submit(evidence=evidence, learner=alice)
    evidence.refresh_from_db()
    assert evidence.status == Status.SUBMITTED and evidence.submitted_at
    assert evidence.claim_text == written_claim(keras).text
    assert Notification.objects.get().recipient == charlie
    assert [m.to for m in mailoutbox] == [["charlie@example.com"]]


def test_submitting_twice_is_refused(alice: User, keras: Competency) -> None:
    evidence = make_evidence(alice, written_claim(keras))
    with pytest.raises(EvidenceError, match="already awaiting review") as caught:
        evidence_submit(evidence=evidence, learner=alice)
    assert caught.value.status == 409


def test_second_open_evidence_for_the_same_claim_is_refused(alice: User, keras: Competency) -> None:
    make_evidence(alice, written_claim(keras))
    with pytest.raises(EvidenceError, match="already have evidence awaiting review"):
        make_evidence(alice, written_claim(keras))
    assert Evidence.objects.count() == 1


def test_someone_else_cannot_submit_or_withdraw(alice: User, bob: User, keras: Competency) -> None:
    evidence = make_evidence(alice, written_claim(keras), submit=False)
    for service in (evidence_submit, evidence_withdraw):
        with pytest.raises(EvidenceError) as caught:
            service(evidence=evidence, learner=bob)
        assert caught.value.status == 403
    evidence.refresh_from_db()
    assert evidence.status == Status.DRAFT


@pytest.mark.parametrize("submit", [False, True])
def test_unreviewed_evidence_can_be_withdrawn(alice: User, keras: Competency, submit: bool) -> None:
    evidence = make_evidence(alice, written_claim(keras), submit=submit)
    evidence_withdraw(evidence=evidence, learner=alice)
    evidence.refresh_from_db()
    assert evidence.status == Status.WITHDRAWN


def test_reviewed_evidence_cannot_be_withdrawn(alice: User, charlie: User, keras: Competency) -> None:
    evidence = make_evidence(alice, written_claim(keras))
    review_record(evidence=evidence, reviewer=charlie, decision="approve")
    with pytest.raises(EvidenceError, match="only unreviewed evidence"):
        evidence_withdraw(evidence=evidence, learner=alice)


@pytest.mark.parametrize("decision,status", [
    ("approve", Status.APPROVED), ("request_changes", Status.CHANGES_REQUESTED), ("reject", Status.REJECTED),
])  # fmt: skip
def test_mentor_decisions_set_the_status_and_notify(
    alice: User,
    charlie: User,
    keras: Competency,
    decision: str,
    status: str,
    mailoutbox: list,
    django_capture_on_commit_callbacks: Any,
) -> None:
    evidence = make_evidence(alice, written_claim(keras))
    with django_capture_on_commit_callbacks(execute=True):
        review_record(evidence=evidence, reviewer=charlie, decision=decision, comment="Because.")
    evidence.refresh_from_db()
    assert evidence.status == status
    assert Notification.objects.filter(recipient=alice).count() == 1
    assert mailoutbox[-1].to == ["alice@example.com"]


@pytest.mark.parametrize("decision", ["request_changes", "reject"])
def test_comment_is_required_to_request_changes_or_reject(
    alice: User, charlie: User, keras: Competency, decision: str
) -> None:
    evidence = make_evidence(alice, written_claim(keras))
    with pytest.raises(EvidenceError, match="Explain the decision"):
        review_record(evidence=evidence, reviewer=charlie, decision=decision, comment="   ")
    assert not Review.objects.exists()


def test_mentor_cannot_review_own_evidence(charlie: User, keras: Competency) -> None:
    evidence = make_evidence(charlie, written_claim(keras))
    with pytest.raises(EvidenceError, match="your own evidence") as caught:
        review_record(evidence=evidence, reviewer=charlie, decision="approve")
    assert caught.value.status == 403


def test_mentor_of_another_competency_cannot_review(alice: User, dana: User, keras: Competency) -> None:
    evidence = make_evidence(alice, written_claim(keras))
    with pytest.raises(EvidenceError, match="Only a mentor of this competency"):
        review_record(evidence=evidence, reviewer=dana, decision="approve")


@pytest.mark.parametrize("state", ["draft", "withdrawn"])
def test_draft_or_withdrawn_evidence_cannot_be_reviewed(
    alice: User, charlie: User, keras: Competency, state: str
) -> None:
    evidence = make_evidence(alice, written_claim(keras), submit=False)
    if state == "withdrawn":
        evidence_withdraw(evidence=evidence, learner=alice)
    with pytest.raises(EvidenceError, match="cannot be reviewed now") as caught:
        review_record(evidence=evidence, reviewer=charlie, decision="approve")
    assert caught.value.status == 409


def test_later_decision_supersedes_and_reviews_are_append_only(alice: User, charlie: User, keras: Competency) -> None:
    evidence = make_evidence(alice, written_claim(keras))
    first = review_record(evidence=evidence, reviewer=charlie, decision="reject", comment="Too thin.")
    review_record(evidence=evidence, reviewer=charlie, decision="approve", comment="On reflection, fine.")
    evidence.refresh_from_db()
    assert evidence.status == Status.APPROVED
    assert list(evidence.reviews.values_list("decision", flat=True)) == ["reject", "approve"]
    first.comment = "edited"
    with pytest.raises(EvidenceError, match="never edited"):
        first.save()
    with pytest.raises(EvidenceError, match="never deleted"):
        first.delete()
    assert Review.objects.get(pk=first.pk).comment == "Too thin."


def test_rubric_scores_are_checked(alice: User, charlie: User, keras: Competency) -> None:
    claim = written_claim(keras)
    assert claim.rubric == ["Accuracy", "Depth", "Clarity"]
    evidence = make_evidence(alice, claim)
    with pytest.raises(EvidenceError, match="not a criterion"):
        review_record(evidence=evidence, reviewer=charlie, decision="approve", rubric={"Style": 3})
    with pytest.raises(EvidenceError, match="from 1 to 5"):
        review_record(evidence=evidence, reviewer=charlie, decision="approve", rubric={"Depth": 9})
    review = review_record(evidence=evidence, reviewer=charlie, decision="approve", rubric={"Depth": 4, "Clarity": 5})
    assert review.rubric == {"Depth": 4, "Clarity": 5}


def test_resubmission_after_changes_requested_makes_a_linked_version(
    alice: User, charlie: User, keras: Competency
) -> None:
    first = make_evidence(alice, written_claim(keras))
    review_record(evidence=first, reviewer=charlie, decision="request_changes", comment="Say more about backends.")
    second = evidence_resubmit(
        evidence=first, learner=alice, data=EvidenceInput(kind="written", body=ANSWER + " More.")
    )
    assert (second.version, second.previous_id, second.status) == (2, first.pk, Status.SUBMITTED)
    first.refresh_from_db()
    assert first.status == Status.CHANGES_REQUESTED  # history stays
    with pytest.raises(EvidenceError, match="cannot be reviewed now"):
        review_record(evidence=first, reviewer=charlie, decision="approve")  # superseded by version 2
    with pytest.raises(EvidenceError, match="Only evidence with changes requested"):
        evidence_resubmit(evidence=first, learner=alice, data=EvidenceInput(kind="written", body=ANSWER))


def test_every_version_lists_the_whole_chain_and_nothing_else(alice: User, charlie: User, keras: Competency) -> None:
    claim = written_claim(keras)
    # Another piece for the same claim (withdrawn, so a new one may start): not a version of the chain.
    evidence_withdraw(evidence=make_evidence(alice, claim), learner=alice)
    chain = [make_evidence(alice, claim)]
    for _ in range(3):
        review_record(evidence=chain[-1], reviewer=charlie, decision="request_changes", comment="More, please.")
        data = EvidenceInput(kind="written", body=ANSWER + " More.")
        chain.append(evidence_resubmit(evidence=chain[-1], learner=alice, data=data))
    for version in chain:
        assert [e.pk for e in evidence_history(version)] == [e.pk for e in chain]
    assert [e.version for e in evidence_history(chain[1])] == [1, 2, 3, 4]


def test_resubmitting_approved_evidence_is_refused(alice: User, charlie: User, keras: Competency) -> None:
    evidence = make_evidence(alice, written_claim(keras))
    review_record(evidence=evidence, reviewer=charlie, decision="approve")
    with pytest.raises(EvidenceError, match="Only evidence with changes requested"):
        evidence_resubmit(evidence=evidence, learner=alice, data=EvidenceInput(kind="written", body=ANSWER))


def test_claim_edit_after_submission_does_not_change_the_snapshot(
    alice: User, charlie: User, keras: Competency
) -> None:
    claim = written_claim(keras)
    evidence = make_evidence(alice, claim)
    original = claim.text
    claim.text = "A reworded claim."
    claim.save()
    review_record(evidence=evidence, reviewer=charlie, decision="approve")
    evidence.refresh_from_db()
    assert evidence.claim_text == original
    assert evidence.claim_version == 1 and claim.version == 2


@pytest.mark.parametrize("data,message", [
    (EvidenceInput(kind="written", body=""), "at least 20 characters"),
    (EvidenceInput(kind="written", body="x" * 1_000_000), "the limit is 50,000"),
    (EvidenceInput(kind="link", url="javascript:alert(1)"), "http:// or https://"),
    (EvidenceInput(kind="link", url="ftp://example.com/x"), "http:// or https://"),
    (EvidenceInput(kind="file"), "Choose a file"),
    (EvidenceInput(kind="training"), "This claim is proven with"),
    (EvidenceInput(kind="telepathy"), "This claim is proven with"),
])  # fmt: skip
def test_bad_content_is_refused_and_nothing_saved(
    alice: User, keras: Competency, data: EvidenceInput, message: str
) -> None:
    claim = keras.claims.get(order=3)  # written, link, notebook
    claim.evidence_kinds = ["written", "link", "file", "notebook"]
    claim.save()
    with pytest.raises(EvidenceError, match=message) as caught:
        evidence_create(learner=alice, claim=claim, data=data, submit=True)
    assert caught.value.status == 400
    assert not Evidence.objects.exists()


def test_file_upload_is_checked_and_checksummed(alice: User, keras: Competency) -> None:
    claim = keras.claims.get(order=6)  # written, link, file, notebook
    pdf = SimpleUploadedFile("../../report.pdf", b"%PDF-1.4\n% a tiny pdf\n", content_type="application/pdf")
    evidence = evidence_create(learner=alice, claim=claim, data=EvidenceInput(kind="file", file=pdf), submit=True)
    assert evidence.file_name == "report.pdf"
    assert len(evidence.file_sha256) == 64 and evidence.file_size == 22
    assert evidence.file.name.startswith(f"evidence/{alice.pk}/") and ".." not in evidence.file.name


def test_file_with_lying_extension_is_refused(alice: User, keras: Competency) -> None:
    claim = keras.claims.get(order=6)
    fake = SimpleUploadedFile("photo.png", b"MZ\x90\x00 an exe", content_type="image/png")
    with pytest.raises(EvidenceError, match="not a PNG"):
        evidence_create(learner=alice, claim=claim, data=EvidenceInput(kind="file", file=fake), submit=True)
    assert not Evidence.objects.exists()


def test_invalid_notebook_is_refused(alice: User, keras: Competency) -> None:
    claim = keras.claims.get(order=3)
    bad = SimpleUploadedFile("nb.ipynb", b"{not json", content_type="application/json")
    with pytest.raises(EvidenceError, match="not valid JSON"):
        evidence_create(learner=alice, claim=claim, data=EvidenceInput(kind="notebook", file=bad), submit=True)


def test_draft_can_be_edited_but_submitted_evidence_cannot(alice: User, keras: Competency) -> None:
    evidence = make_evidence(alice, written_claim(keras), submit=False)
    evidence_update_draft(
        evidence=evidence, learner=alice, data=EvidenceInput(kind="written", body=ANSWER + " Edited.")
    )
    assert evidence.body.endswith("Edited.")
    evidence_submit(evidence=evidence, learner=alice)
    with pytest.raises(EvidenceError, match="Only a draft can be edited"):
        evidence_update_draft(evidence=evidence, learner=alice, data=EvidenceInput(kind="written", body=ANSWER))


def test_retired_claim_takes_no_evidence(alice: User, keras: Competency) -> None:
    claim = written_claim(keras)
    claim.is_active = False
    claim.save()
    with pytest.raises(EvidenceError, match="no longer takes evidence"):
        make_evidence(alice, claim)
