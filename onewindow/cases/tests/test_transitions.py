"""Every transition of DESIGN §5, allowed and forbidden, through the service functions."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from unittest import mock

import pytest

from onewindow.audit.models import AuditEntry
from onewindow.audit.services import verify
from onewindow.cases import services as cs
from onewindow.cases.models import Case, CaseEvent, CaseStatus, SlaLevel, WorkItem, WorkItemStatus
from onewindow.cases.tests.conftest import applicant, paper, submit
from onewindow.core import fastsql
from onewindow.core.errors import ConflictError, ForbiddenError, InvalidError
from onewindow.core.permissions import PermissionDeniedError


def _approve_all(case: Case, approver: Any) -> None:
    while True:
        case.refresh_from_db()
        open_items = list(case.work_items.filter(status__in=[WorkItemStatus.OPEN, WorkItemStatus.CLAIMED]))
        if not open_items:
            return
        for wi in open_items:
            if wi.status == WorkItemStatus.OPEN:
                cs.claim_work_item(wi, actor=approver)
            cs.decide_work_item(wi, actor=approver, outcome="approve", opinion="同意")


def test_a_case_goes_from_window_intake_to_delivery(shop: dict[str, Any], personas: dict[str, Any]):
    case = submit(personas)
    assert case.status == CaseStatus.SUBMITTED
    assert case.number.startswith("330800-")
    assert case.visits == 1  # intake at a window
    assert case.accept_hall == shop["hall"]
    assert {m.seq for m in case.materials.all()} == {1, 2, 4}  # the cold-chain material does not apply
    cs.accept_case(case, actor=personas["clerk"])
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED
    assert case.promised_due > case.clock_start
    assert case.legal_due > case.promised_due
    assert case.sla == SlaLevel.GREEN
    wi = case.work_items.get()
    assert (wi.step_seq, wi.department.code, wi.status) == (1, "scjg", WorkItemStatus.OPEN)
    cs.claim_work_item(wi, actor=personas["approver"])
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    cs.decide_work_item(wi, actor=personas["approver"], outcome="approve", opinion="材料齐全")
    step2 = case.work_items.get(step_seq=2)
    cs.claim_work_item(step2, actor=personas["approver2"])
    cs.decide_work_item(step2, actor=personas["approver2"], outcome="approve", opinion="准予许可")
    case.refresh_from_db()
    assert case.status == CaseStatus.READY
    assert case.sla == SlaLevel.NONE
    cs.deliver_case(case, actor=personas["delivery"], method="window", received_by="陈晓明")
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED
    assert case.visits == 2  # intake and pickup
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds == [
        "submit",
        "accept",
        "review_start",
        "step_approve",
        "approve",
        "outputs_ready",
        "deliver",
    ]
    assert list(case.events.filter(visit=True).values_list("kind", flat=True)) == ["submit", "deliver"]
    assert AuditEntry.objects.filter(object_id=case.number).count() == len(kinds)
    assert verify().ok is True
    cs.close_case(case, actor="system")
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED


def _online(personas: dict[str, Any], materials: list[Any]) -> Case:
    """The citizen's online application for the shop item, with these materials."""
    return cs.submit_case(
        actor=personas["citizen"],
        item="330800-SCJG-01-0001",
        applicant=applicant(),
        channel="online",
        form_data={"shop_name": "网店", "area": 10},
        materials=materials,
    )


def test_online_submission_and_electronic_delivery_make_zero_visits(
    shop: dict[str, Any], personas: dict[str, Any]
):
    case = _online(
        personas,
        [
            cs.MaterialIn(seq=1, satisfied_by="upload", file=_pdf()),
            cs.MaterialIn(seq=2, satisfied_by="upload", file=_pdf()),
        ],
    )
    assert case.accept_hall is None
    assert case.delivery_method == "electronic"
    cs.accept_case(case, actor=personas["approver"])
    _approve_all(case, personas["approver"])
    cs.deliver_case(case, actor="system", method="electronic")
    case.refresh_from_db()
    assert (case.status, case.visits) == (CaseStatus.DELIVERED, 0)


def _pdf() -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("plan.pdf", b"%PDF-1.4\n%test\n", content_type="application/pdf")


def test_uploads_are_stored_under_names_of_their_own_in_the_months_folder(
    shop: dict[str, Any], personas: dict[str, Any], settings: Any, tmp_path: Any
):
    import re

    from django.core.files.storage import default_storage
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = str(tmp_path / "uploads")
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    case = _online(
        personas,
        [
            cs.MaterialIn(seq=1, satisfied_by="upload", file=_pdf()),
            # A picture sent under a PDF's name by a person's name: stored as the picture it is.
            cs.MaterialIn(seq=2, satisfied_by="upload", file=SimpleUploadedFile("张三身份证.pdf", png)),
        ],
    )
    one, two = case.materials.get(seq=1), case.materials.get(seq=2)
    folder = fastsql.localdate(case.received_at).strftime("cases/%Y/%m/")
    assert re.fullmatch(re.escape(folder) + r"[0-9a-f]{32}\.pdf", one.file.name)
    assert re.fullmatch(re.escape(folder) + r"[0-9a-f]{32}\.png", two.file.name)
    assert (one.file_name, two.file_name) == ("plan.pdf", "张三身份证.pdf")
    assert (two.content_type, two.file_size) == ("image/png", len(png))
    with default_storage.open(two.file.name) as f:
        assert f.read() == png
    # One file object given for two materials: each stored, each keeps the name given.
    same = _pdf()
    again = _online(personas, [cs.MaterialIn(seq=seq, satisfied_by="upload", file=same) for seq in (1, 2)])
    rows = list(again.materials.filter(seq__in=(1, 2)).order_by("seq"))
    assert [m.file_name for m in rows] == ["plan.pdf", "plan.pdf"] and same.name == "plan.pdf"
    assert rows[0].file.name != rows[1].file.name
    for m in rows:
        with default_storage.open(m.file.name) as f:
            assert f.read() == b"%PDF-1.4\n%test\n"


def test_every_accepted_upload_type_has_the_extension_it_is_stored_with():
    import io
    import zipfile

    from django.core.files.uploadedfile import SimpleUploadedFile

    from onewindow.cases.uploads import STORED_EXTENSIONS, check_upload

    ofd = io.BytesIO()
    with zipfile.ZipFile(ofd, "w") as z:
        z.writestr("OFD.xml", "<ofd:OFD/>")
    samples = {
        ".pdf": b"%PDF-1.4\n%test\n",
        ".jpg": b"\xff\xd8\xff\xe0" + b"\0" * 16,
        ".png": b"\x89PNG\r\n\x1a\n" + b"\0" * 16,
        ".ofd": ofd.getvalue(),
    }
    for ext, data in samples.items():
        info = check_upload(SimpleUploadedFile("x", data))
        assert STORED_EXTENSIONS[info.content_type] == ext
    assert set(STORED_EXTENSIONS.values()) == set(samples)


def test_an_online_applicant_can_only_upload_or_pledge(shop: dict[str, Any], personas: dict[str, Any]):
    for way in ("paper", "pledge"):
        with pytest.raises(InvalidError) as exc:
            _online(personas, [cs.MaterialIn(seq=1, satisfied_by=way)])
        assert "materials.1.satisfied_by" in exc.value.fields
    assert Case.objects.count() == 0


def test_an_online_applicant_cannot_apply_as_someone_else(shop: dict[str, Any], personas: dict[str, Any]):
    from onewindow.core.validators import make_resident_id

    other = applicant(id_number=make_resident_id("330802", date(1980, 1, 1), 3, "F"), name="别人")
    with pytest.raises(ForbiddenError):
        cs.submit_case(
            actor=personas["citizen"],
            item="330800-SCJG-01-0001",
            applicant=other,
            channel="online",
            form_data={"shop_name": "x", "area": 10},
            materials=[],
        )
    assert Case.objects.count() == 0


def test_bad_applicant_and_form_input_is_refused_whole(shop: dict[str, Any], personas: dict[str, Any]):
    bad = applicant(id_number="330803199005120270")  # wrong check digit
    with pytest.raises(InvalidError) as exc:
        cs.submit_case(
            actor=personas["clerk"],
            item="330800-SCJG-01-0001",
            applicant=bad,
            channel="window",
            form_data={"shop_name": "店", "area": 10},
        )
    assert "applicant.id_number" in exc.value.fields
    with pytest.raises(InvalidError) as exc:
        submit(personas, form_data={"shop_name": "<b>x</b>" * 20, "area": "-3", "colour": "red"})
    assert set(exc.value.fields) == {"form_data.shop_name", "form_data.area", "form_data.colour"}
    assert Case.objects.count() == 0
    assert CaseEvent.objects.count() == 0


def test_the_one_time_notice_lists_every_problem_at_once(shop: dict[str, Any], personas: dict[str, Any]):
    case = submit(
        personas,
        materials=[cs.MaterialIn(seq=2, satisfied_by="paper", status="defective", reason="平面图未标注面积")],
    )
    with pytest.raises(ConflictError) as exc:
        cs.accept_case(case, actor=personas["clerk"])
    assert exc.value.code == "materials_incomplete"
    cs.send_correction_notice(case, actor=personas["clerk"], note="请补齐后再来")
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_CORRECTION
    notice = case.events.get(kind="correction_notice")
    assert [(m["seq"], m["status"]) for m in notice.payload["materials"]] == [
        (1, "missing"),
        (2, "defective"),
    ]
    cs.receive_correction(case, actor=personas["clerk"], materials=paper(1, 2))
    case.refresh_from_db()
    assert (case.status, case.visits) == (CaseStatus.SUBMITTED, 2)
    cs.accept_case(case, actor=personas["clerk"])


def test_not_accepted_needs_reasons_and_is_final(shop: dict[str, Any], personas: dict[str, Any]):
    case = submit(personas)
    with pytest.raises(InvalidError):
        cs.not_accept(case, actor=personas["clerk"], reason=" ")
    cs.not_accept(case, actor=personas["clerk"], reason="不属于本机关职权范围", basis="行政许可法第三十二条")
    with pytest.raises(ConflictError) as exc:
        cs.accept_case(case, actor=personas["clerk"])
    assert exc.value.as_dict()["error"]["status"] == "NOT_ACCEPTED"


def test_a_second_accept_gets_a_409_and_changes_nothing(shop: dict[str, Any], personas: dict[str, Any]):
    case = submit(personas)
    stale = Case.objects.get(pk=case.pk)
    cs.accept_case(case, actor=personas["clerk"])
    events = CaseEvent.objects.count()
    with pytest.raises(ConflictError) as exc:
        cs.accept_case(stale, actor=personas["clerk"])  # a double click with the old page
    assert exc.value.as_dict()["error"]["status"] == "ACCEPTED"
    assert CaseEvent.objects.count() == events
    assert WorkItem.objects.filter(case=case).count() == 1


def test_correction_pauses_the_clock_and_resume_moves_the_due_date(
    shop: dict[str, Any], personas: dict[str, Any]
):
    case = submit(personas)
    cs.accept_case(case, actor=personas["clerk"])
    wi = case.work_items.get()
    cs.claim_work_item(wi, actor=personas["approver"])
    case.refresh_from_db()
    due, legal = case.promised_due, case.legal_due
    cs.decide_work_item(wi, actor=personas["approver"], outcome="request_correction", opinion="请补充平面图")
    case.refresh_from_db()
    assert (case.status, case.suspension) == (CaseStatus.SUSPENDED, "correction")
    assert case.correction_deadline == date.today() + timedelta(days=60)
    # Resume three working days later: the due dates move by three working days.
    later = case.paused_on
    from onewindow.workcal.calendar import add_workdays

    resumed_on = add_workdays(later, 3).date
    with mock.patch("onewindow.cases.services._today", return_value=resumed_on):
        cs.resume_case(case, actor=personas["approver"], note="已补正")
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    assert case.paused_workdays == 3
    assert case.promised_due == add_workdays(due, 3).date
    assert case.legal_due == add_workdays(legal, 3).date
    # The claimed work item is still the approver's, and can be approved.
    cs.decide_work_item(wi, actor=personas["approver"], outcome="approve", opinion="同意")


def test_special_procedure_and_extension(shop: dict[str, Any], personas: dict[str, Any]):
    case = submit(personas)
    cs.accept_case(case, actor=personas["clerk"])
    wi = case.work_items.get()
    cs.claim_work_item(wi, actor=personas["approver"])
    cs.start_special_procedure(wi, actor=personas["approver"], reason="需要现场核查", procedure="inspection")
    case.refresh_from_db()
    assert (case.status, case.suspension) == (CaseStatus.SUSPENDED, "special")
    cs.resume_case(case, actor=personas["approver"])
    case.refresh_from_db()
    due = case.promised_due
    cs.extend_case(case, actor=personas["approver"], workdays=5, reason="案情复杂")
    case.refresh_from_db()
    assert case.promised_due > due and case.extended_workdays == 5
    with pytest.raises(ConflictError):
        cs.extend_case(case, actor=personas["approver"], workdays=6, reason="再延")
    with pytest.raises(InvalidError):
        cs.extend_case(case, actor=personas["approver"], workdays=0, reason="")


def test_parallel_departments_join_before_the_next_step(shop: dict[str, Any], personas: dict[str, Any]):
    case = submit(personas, item="330800-SCJG-01-0003", materials=paper(1))
    cs.accept_case(case, actor=personas["clerk"])
    items = {w.department.code: w for w in case.work_items.all()}
    assert set(items) == {"scjg", "zrgh"}
    with pytest.raises(PermissionDeniedError):
        cs.claim_work_item(items["zrgh"], actor=personas["approver"])
    cs.claim_work_item(items["scjg"], actor=personas["approver"])
    cs.decide_work_item(items["scjg"], actor=personas["approver"], outcome="approve", opinion="同意")
    assert not case.work_items.filter(step_seq=2).exists()  # waiting for 自然资源
    cs.claim_work_item(items["zrgh"], actor=personas["approver_other"])
    cs.decide_work_item(items["zrgh"], actor=personas["approver_other"], outcome="approve", opinion="同意")
    assert case.work_items.get(step_seq=2).department.code == "scjg"


def test_refusal_cancels_other_work_and_is_delivered(shop: dict[str, Any], personas: dict[str, Any]):
    case = submit(personas, item="330800-SCJG-01-0003", materials=paper(1))
    cs.accept_case(case, actor=personas["clerk"])
    wi = case.work_items.get(department__code="scjg")
    cs.claim_work_item(wi, actor=personas["approver"])
    with pytest.raises(InvalidError):
        cs.decide_work_item(wi, actor=personas["approver"], outcome="refuse", opinion="")
    cs.decide_work_item(
        wi, actor=personas["approver"], outcome="refuse", opinion="不符合规划条件", basis="某条例"
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.REFUSED
    assert case.work_items.get(department__code="zrgh").status == WorkItemStatus.CANCELLED
    cs.deliver_case(
        case, actor=personas["delivery"], method="courier", waybill="SF1234567890", address="衢州市"
    )
    case.refresh_from_db()
    assert (case.status, case.visits) == (CaseStatus.DELIVERED, 1)


def test_return_sends_the_case_back_one_step(shop: dict[str, Any], personas: dict[str, Any]):
    case = submit(personas)
    cs.accept_case(case, actor=personas["clerk"])
    wi1 = case.work_items.get()
    cs.claim_work_item(wi1, actor=personas["approver"])
    with pytest.raises(ConflictError):
        cs.decide_work_item(wi1, actor=personas["approver"], outcome="return", opinion="退回")
    cs.decide_work_item(wi1, actor=personas["approver"], outcome="approve", opinion="同意")
    wi2 = case.work_items.get(step_seq=2)
    cs.claim_work_item(wi2, actor=personas["approver2"])
    cs.decide_work_item(wi2, actor=personas["approver2"], outcome="return", opinion="请重新审查")
    assert case.work_items.filter(step_seq=1, status=WorkItemStatus.OPEN).count() == 1


def test_withdrawal_cancels_open_work(shop: dict[str, Any], personas: dict[str, Any]):
    case = submit(personas)
    cs.accept_case(case, actor=personas["clerk"])
    with pytest.raises(PermissionDeniedError):
        cs.withdraw_case(case, actor=personas["stranger"])
    cs.withdraw_case(case, actor=personas["citizen"], reason="不再需要")
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    assert case.work_items.get().status == WorkItemStatus.CANCELLED


def test_immediate_items_are_timed_in_minutes(shop: dict[str, Any], personas: dict[str, Any]):
    case = submit(personas, item="330800-SCJG-07-0002", materials=paper(1))
    cs.accept_case(case, actor=personas["clerk"])
    case.refresh_from_db()
    assert case.promised_due_at is not None
    assert 29 <= (case.promised_due_at - case.accepted_at).total_seconds() / 60 <= 30
    assert case.promised_due == case.clock_start


def test_township_clerks_accept_city_wide_items_but_not_hall_only_ones(
    shop: dict[str, Any], personas: dict[str, Any]
):
    case = submit(personas, clerk="clerk2")
    assert case.accept_region.name == "廿里镇"
    assert case.handling_region.name == "衢州市"
    assert case.deliver_hall == shop["township_hall"]
    assert case.number.startswith("330803-")
    cs.accept_case(case, actor=personas["clerk2"])
    with pytest.raises(ForbiddenError) as exc:
        submit(personas, clerk="clerk2", item="330800-SCJG-01-0003", materials=paper(1))
    assert exc.value.code == "outside_handle_scope"


def test_clerks_outside_the_scope_cannot_act(shop: dict[str, Any], personas: dict[str, Any]):
    case = submit(personas)
    with pytest.raises(PermissionDeniedError):
        cs.accept_case(case, actor=personas["county_clerk"])
    with pytest.raises(PermissionDeniedError):
        cs.accept_case(case, actor=personas["approver_other"])


def test_deemed_acceptance_and_correction_expiry_in_the_sweep(shop: dict[str, Any], personas: dict[str, Any]):
    from django.utils import timezone

    from onewindow.workcal.calendar import add_workdays

    case = submit(personas)
    received = timezone.localdate(case.received_at)  # the local (Asia/Shanghai) date, as the clock uses
    assert cs.sweep(add_workdays(received, 5).date)["deemed_accepted"] == 0
    result = cs.sweep(add_workdays(received, 6).date)
    assert result["deemed_accepted"] == 1
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED
    assert case.clock_start == received
    wi = case.work_items.get()
    cs.claim_work_item(wi, actor=personas["approver"])
    cs.decide_work_item(wi, actor=personas["approver"], outcome="request_correction", opinion="补正")
    case.refresh_from_db()
    with mock.patch(
        "onewindow.cases.services._today", return_value=case.correction_deadline + timedelta(days=1)
    ):
        assert cs.sweep(case.correction_deadline + timedelta(days=1))["terminated"] == 1
    case.refresh_from_db()
    assert case.status == CaseStatus.TERMINATED


def test_flags_turn_yellow_then_red_then_legal_breach(shop: dict[str, Any], personas: dict[str, Any]):
    case = submit(personas)
    cs.accept_case(case, actor=personas["clerk"])
    case.refresh_from_db()
    from onewindow.workcal.calendar import get_calendar

    cal = get_calendar(case.handling_region.code)
    day_before = case.promised_due - timedelta(days=1)
    while not cal.is_workday(day_before):
        day_before -= timedelta(days=1)
    cs.refresh_all_flags(day_before)
    case.refresh_from_db()
    assert case.sla == SlaLevel.YELLOW
    cs.refresh_all_flags(case.promised_due + timedelta(days=1))
    case.refresh_from_db()
    assert (case.sla, case.legal_breach) == (SlaLevel.RED, False)
    cs.refresh_all_flags(case.legal_due + timedelta(days=1))
    case.refresh_from_db()
    assert (case.sla, case.legal_breach) == (SlaLevel.RED, True)


def test_case_numbers_are_unique_and_sequential(shop: dict[str, Any], personas: dict[str, Any]):
    numbers = [submit(personas).number for _ in range(5)]
    assert len(set(numbers)) == 5
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == [1, 2, 3, 4, 5]


# The whole transition table: every action from every status it is not allowed in is a 409
# naming the current status, and changes nothing.
ALLOWED = {
    "accept": {CaseStatus.SUBMITTED},
    "not_accept": {CaseStatus.SUBMITTED},
    "correction_notice": {CaseStatus.SUBMITTED},
    "receive_correction": {CaseStatus.AWAITING_CORRECTION},
    "resume": {CaseStatus.SUSPENDED},
    "extend": {CaseStatus.IN_REVIEW},
    "deliver": {CaseStatus.READY, CaseStatus.REFUSED},
    "withdraw": {
        CaseStatus.SUBMITTED,
        CaseStatus.AWAITING_CORRECTION,
        CaseStatus.ACCEPTED,
        CaseStatus.IN_REVIEW,
        CaseStatus.SUSPENDED,
        CaseStatus.APPROVED,
    },
    "close": {CaseStatus.DELIVERED},
}
CALLS = {
    "accept": lambda c, a: cs.accept_case(c, actor=a),
    "not_accept": lambda c, a: cs.not_accept(c, actor=a, reason="理由"),
    "correction_notice": lambda c, a: cs.send_correction_notice(c, actor=a),
    "receive_correction": lambda c, a: cs.receive_correction(c, actor=a),
    "resume": lambda c, a: cs.resume_case(c, actor=a),
    "extend": lambda c, a: cs.extend_case(c, actor=a, workdays=1, reason="理由"),
    "deliver": lambda c, a: cs.deliver_case(c, actor=a, method="electronic"),
    "withdraw": lambda c, a: cs.withdraw_case(c, actor=a),
    "close": lambda c, a: cs.close_case(c, actor=a),
}


@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_forbidden_transitions_are_409_and_change_nothing(
    shop: dict[str, Any], personas: dict[str, Any], action: str
):
    case = submit(personas)
    for status in CaseStatus:
        if status in ALLOWED[action]:
            continue
        Case.objects.filter(pk=case.pk).update(status=status)
        before = (CaseEvent.objects.count(), AuditEntry.objects.count())
        with pytest.raises(ConflictError) as exc:
            CALLS[action](case, "system")
        assert exc.value.status == 409
        assert exc.value.as_dict()["error"]["status"] == status
        assert Case.objects.get(pk=case.pk).status == status
        assert (CaseEvent.objects.count(), AuditEntry.objects.count()) == before


def test_a_paused_clock_does_not_turn_red(shop: dict[str, Any], personas: dict[str, Any]):
    case = submit(personas)
    cs.accept_case(case, actor=personas["clerk"])
    wi = case.work_items.get()
    cs.claim_work_item(wi, actor=personas["approver"])
    cs.decide_work_item(wi, actor=personas["approver"], outcome="request_correction", opinion="请补正")
    case.refresh_from_db()
    cs.refresh_all_flags(case.promised_due + timedelta(days=10))
    case.refresh_from_db()
    assert (case.status, case.sla) == (CaseStatus.SUSPENDED, SlaLevel.GREEN)


def test_the_sweep_forgets_stored_api_answers_after_a_day(shop: dict[str, Any], personas: dict[str, Any]):
    from django.utils import timezone

    from onewindow.cases.models import IdempotentResponse

    old = IdempotentResponse.objects.create(
        user=personas["clerk"], key="k1", endpoint="POST /cases", request_hash="h", status=201, body={}
    )
    IdempotentResponse.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    IdempotentResponse.objects.create(
        user=personas["clerk"], key="k2", endpoint="POST /cases", request_hash="h", status=201, body={}
    )
    assert cs.sweep()["idempotency_purged"] == 1
    assert list(IdempotentResponse.objects.values_list("key", flat=True)) == ["k2"]


def test_the_sweep_removes_old_uploads_that_no_material_refers_to(
    shop: dict[str, Any], personas: dict[str, Any], tmp_path: Any, settings: Any
):
    """A submission that failed after its files were stored leaves orphans: the sweep deletes
    them once they are a day old (at most once a day), and keeps referenced and recent files
    and the files that a correction replaced (they are part of the case's record)."""
    import os
    import time

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    settings.MEDIA_ROOT = str(tmp_path / "uploads")
    folder = timezone.localtime().strftime("cases/%Y/%m")
    orphan = default_storage.save(f"{folder}/orphan.pdf", ContentFile(b"%PDF-1.4 orphan"))
    fresh = default_storage.save(f"{folder}/fresh.pdf", ContentFile(b"%PDF-1.4 fresh"))
    # An online case whose first upload the applicant replaced in a correction.
    case = _online(personas, [cs.MaterialIn(seq=1, satisfied_by="upload", file=_pdf())])
    first = case.materials.get(seq=1).file.name
    cs.send_correction_notice(
        case,
        actor=personas["clerk"],
        materials=[cs.MaterialIn(seq=1, status="defective", reason="看不清")],
    )
    cs.receive_correction(
        case, actor=personas["citizen"], materials=[cs.MaterialIn(seq=1, satisfied_by="upload", file=_pdf())]
    )
    second = case.materials.get(seq=1).file.name
    assert first != second
    assert case.events.get(kind="correction_received").payload["replaced_files"] == [first]
    two_days_ago = time.time() - 2 * 86400
    for name in (orphan, first, second):
        os.utime(default_storage.path(name), (two_days_ago, two_days_ago))
    before = AuditEntry.objects.count()

    assert cs.sweep()["orphan_uploads_purged"] == 1
    assert not default_storage.exists(orphan)
    assert all(default_storage.exists(n) for n in (fresh, first, second))
    entry = AuditEntry.objects.order_by("-id").first()
    assert AuditEntry.objects.count() == before + 1
    assert (entry.action, entry.data) == ("cases.orphan_uploads_purged", {"files": 1})
    assert verify().ok
    # Once a day: the next sweeps do not look again; forced, nothing is left to remove.
    again = default_storage.save(f"{folder}/again.pdf", ContentFile(b"%PDF-1.4 again"))
    os.utime(default_storage.path(again), (two_days_ago, two_days_ago))
    assert cs.sweep()["orphan_uploads_purged"] == 0 and default_storage.exists(again)
    assert cs.purge_orphan_uploads(force=True) == 1
