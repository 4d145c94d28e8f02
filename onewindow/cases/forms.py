"""Forms of the comprehensive-window intake page (综合受理).

The service functions stay the single source of truth for validation: these forms give typed
widgets, labels in the active language and early field errors, and `form_data()` /
`materials_in()` turn what the clerk entered into the service functions' inputs. Errors the
services raise (InvalidError keys such as `applicant.id_number`, `form_data.<name>`,
`materials.<seq>.file`) are put back onto these fields by `IntakeForms.add_service_errors`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from onewindow.cases.models import DeliveryMethod, MaterialStatus, SatisfiedBy
from onewindow.cases.services import ApplicantIn, MaterialIn
from onewindow.catalog.formschema import clean_form_data
from onewindow.catalog.models import MaterialRequirement, ServiceItem
from onewindow.core.errors import InvalidError
from onewindow.core.i18n import bi
from onewindow.core.validators import validate_mobile, validate_resident_id, validate_uscc
from onewindow.org.models import IdType


def _is_en() -> bool:
    return (get_language() or "zh-hans").startswith("en")


def _pick(d: dict[str, Any], key: str, default: str = "") -> str:
    """`label_en` on English pages when there is one, else `label_zh` (or plain `label`)."""
    zh = d.get(f"{key}_zh") or d.get(key) or default
    if _is_en():
        return str(d.get(f"{key}_en") or zh)
    return str(zh)


# ---------------------------------------------------------------------------------------------
# Applicant


class ApplicantForm(forms.Form):
    """Who applies: a resident ID number (GB 11643) or a USCC (GB 32100), checked here and
    again by the services."""

    id_type = forms.ChoiceField(
        label=_("证件类型"),
        choices=IdType.choices,
        initial=IdType.RESIDENT_ID,
        widget=forms.RadioSelect,
    )
    id_number = forms.CharField(
        label=_("证件号码"),
        max_length=40,
        help_text=_("居民身份证号码（18 位）或统一社会信用代码（18 位）"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    name = forms.CharField(label=_("申请人（单位）名称"), max_length=100)
    phone = forms.CharField(
        label=_("手机号码"), max_length=20, required=False, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    legal_rep_name = forms.CharField(
        label=_("法定代表人"),
        max_length=50,
        required=False,
        help_text=_("单位申请时填写"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        id_type, number = data.get("id_type"), data.get("id_number")
        if id_type and number:
            try:
                data["id_number"] = check_id_number(id_type, number)
            except ValidationError as exc:
                self.add_error("id_number", exc)
        phone = data.get("phone")
        if phone:
            try:
                data["phone"] = validate_mobile(phone)
            except ValidationError as exc:
                self.add_error("phone", exc)
        return data

    def applicant_in(self) -> ApplicantIn:
        d = self.cleaned_data
        return ApplicantIn(
            id_type=d["id_type"],
            id_number=d["id_number"],
            name=d["name"],
            phone=d.get("phone") or "",
            legal_rep_name=d.get("legal_rep_name") or "",
        )


def check_id_number(id_type: str, number: str) -> str:
    """The normalised number, or ValidationError with a bilingual message."""
    if id_type == IdType.RESIDENT_ID:
        return validate_resident_id(number).number
    if id_type == IdType.USCC:
        return validate_uscc(number)
    raise ValidationError(bi("证件类型无效", "Unknown ID type"), code="id_type")


# ---------------------------------------------------------------------------------------------
# The item's form, generated from its form_schema


def _schema_field(spec: dict[str, Any]) -> forms.Field:
    kind = spec.get("type", "text")
    required = bool(spec.get("required"))
    common: dict[str, Any] = {
        "label": _pick(spec, "label", spec.get("name", "")),
        "required": required,
        "help_text": _pick(spec, "help"),
    }
    if kind == "boolean":
        return forms.BooleanField(**(common | {"required": False}))
    if kind == "choice":
        choices = [
            (str(c.get("value")), _pick(c, "label", str(c.get("value")))) for c in spec.get("choices") or []
        ]
        if not required:
            choices = [("", "—"), *choices]
        return forms.ChoiceField(choices=choices, **common)
    if kind == "textarea":
        limit = int(spec.get("max_length") or 2000)
        return forms.CharField(max_length=limit, widget=forms.Textarea(attrs={"rows": 3}), **common)
    attrs: dict[str, Any] = {}
    if kind in ("number", "decimal"):
        attrs = {"type": "number", "step": "1" if kind == "number" else "any", "inputmode": "decimal"}
        for bound in ("min", "max"):
            if spec.get(bound) is not None:
                attrs[bound] = spec[bound]
    elif kind == "date":
        attrs = {"type": "date"}
    elif kind == "email":
        attrs = {"type": "email", "autocomplete": "off"}
    elif kind == "phone":
        attrs = {"type": "tel", "inputmode": "tel"}
    elif kind in ("id_number", "uscc"):
        attrs = {"autocomplete": "off", "spellcheck": "false"}
    elif kind == "region":
        attrs = {"inputmode": "numeric", "pattern": "[0-9]{6}([0-9]{3}){0,2}"}
    limit = int(spec.get("max_length") or 200)
    return forms.CharField(max_length=limit, widget=forms.TextInput(attrs=attrs), strip=True, **common)


class ItemDataForm(forms.Form):
    """The application form of one item, built from its `form_schema`. Values are checked with
    `catalog.formschema.clean_form_data`, the same function the services use."""

    def __init__(self, *args: Any, schema: list[dict[str, Any]], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "f")
        super().__init__(*args, **kwargs)
        self.schema = [s for s in schema or [] if s.get("name")]
        for spec in self.schema:
            self.fields[spec["name"]] = _schema_field(spec)
        self._form_data: dict[str, Any] = {}

    def raw_values(self) -> dict[str, Any]:
        """What the clerk typed, as the services expect it (empty values left out)."""
        out: dict[str, Any] = {}
        for spec in self.schema:
            name = spec["name"]
            if spec.get("type") == "boolean":
                out[name] = bool(self.cleaned_data.get(name))
                continue
            value = self.cleaned_data.get(name)
            if value not in (None, ""):
                out[name] = str(value)
        return out

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            self._form_data = clean_form_data(self.schema, self.raw_values())
        except InvalidError as exc:
            for key, messages in exc.fields.items():
                name = key.split(".", 1)[1] if key.startswith("form_data.") else None
                if name in self._errors:
                    continue  # the field's own check already said what is wrong
                for m in messages:
                    self.add_error(name if name in self.fields else None, str(m))
        return data

    def form_data(self) -> dict[str, Any]:
        return dict(self._form_data)


# ---------------------------------------------------------------------------------------------
# Materials


HOW_CHOICES = [
    ("paper", _("纸质核验")),
    ("upload", _("上传")),
    ("missing", _("缺少")),
    ("defective", _("有误")),
]


@dataclass
class MaterialRow:
    """One material of the item with its bound fields, for the template."""

    req: MaterialRequirement
    kind: str
    how: forms.BoundField | None = None
    file: forms.BoundField | None = None
    reason: forms.BoundField | None = None
    paper: forms.BoundField | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def detail(self) -> str:
        return self.req.source.partition(":")[2]


class MaterialsForm(forms.Form):
    """How each material was received: for `applicant` materials paper checked / uploaded /
    missing / defective (+ reason); for `data:` and `licence:` materials an optional paper
    fallback tick; `pledge` and `exempt` need nothing."""

    def __init__(self, *args: Any, requirements: list[MaterialRequirement], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "m")
        super().__init__(*args, **kwargs)
        self.requirements = requirements
        for req in requirements:
            kind = req.source_kind
            if kind == "applicant":
                self.fields[f"{req.seq}_how"] = forms.ChoiceField(
                    label=req.name, choices=HOW_CHOICES, required=False, widget=forms.RadioSelect
                )
                self.fields[f"{req.seq}_file"] = forms.FileField(label=_("文件"), required=False)
                self.fields[f"{req.seq}_reason"] = forms.CharField(
                    label=_("说明"), max_length=300, required=False
                )
            elif kind in ("data", "licence"):
                self.fields[f"{req.seq}_paper"] = forms.BooleanField(
                    label=_("已核验纸质材料"), required=False
                )
                self.fields[f"{req.seq}_reason"] = forms.CharField(
                    label=_("说明"), max_length=300, required=False
                )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for req in self.requirements:
            how = data.get(f"{req.seq}_how")
            if how == "defective" and not (data.get(f"{req.seq}_reason") or "").strip():
                self.add_error(f"{req.seq}_reason", bi("请说明材料有误之处", "Say what is wrong with it"))
            if how == "upload" and not data.get(f"{req.seq}_file"):
                self.add_error(f"{req.seq}_file", bi("请选择要上传的文件", "Choose the file to upload"))
        return data

    def rows(self) -> list[MaterialRow]:
        out = []
        for req in self.requirements:
            row = MaterialRow(req=req, kind=req.source_kind)
            for part in ("how", "file", "reason", "paper"):
                name = f"{req.seq}_{part}"
                if name in self.fields:
                    setattr(row, part, self[name])
            out.append(row)
        return out

    def materials_in(self) -> list[MaterialIn]:
        data = self.cleaned_data
        out: list[MaterialIn] = []
        for req in self.requirements:
            seq, kind = req.seq, req.source_kind
            reason = (data.get(f"{seq}_reason") or "").strip()
            if kind == "applicant":
                how = data.get(f"{seq}_how") or "missing"
                if how == "paper":
                    out.append(MaterialIn(seq=seq, satisfied_by=SatisfiedBy.PAPER, reason=reason))
                elif how == "upload":
                    out.append(
                        MaterialIn(
                            seq=seq,
                            satisfied_by=SatisfiedBy.UPLOAD,
                            reason=reason,
                            file=data.get(f"{seq}_file"),
                        )
                    )
                elif how == "defective":
                    out.append(MaterialIn(seq=seq, status=MaterialStatus.DEFECTIVE, reason=reason))
                else:
                    out.append(MaterialIn(seq=seq, status=MaterialStatus.MISSING, reason=reason))
            elif kind in ("data", "licence") and data.get(f"{seq}_paper"):
                out.append(MaterialIn(seq=seq, satisfied_by=SatisfiedBy.PAPER, reason=reason))
        return out

    def incomplete(self, form_data: dict[str, Any]) -> list[MaterialRequirement]:
        """Required applicant materials that apply and are not received (for a refused accept)."""
        from onewindow.catalog.formschema import condition_holds

        data = self.cleaned_data
        return [
            req
            for req in self.requirements
            if req.required
            and req.source_kind == "applicant"
            and condition_holds(req.condition, form_data)
            and (data.get(f"{req.seq}_how") or "missing") in ("missing", "defective")
        ]


# ---------------------------------------------------------------------------------------------
# Delivery and the decision


class DeliveryForm(forms.Form):
    delivery_method = forms.ChoiceField(
        label=_("送达方式"),
        choices=[
            (DeliveryMethod.WINDOW, _("本大厅窗口领取")),
            (DeliveryMethod.COURIER, _("邮寄送达")),
            (DeliveryMethod.ELECTRONIC, _("电子送达")),
        ],
        initial=DeliveryMethod.WINDOW,
        widget=forms.RadioSelect,
    )
    delivery_address = forms.CharField(
        label=_("邮寄地址"), max_length=300, required=False, help_text=_("邮寄送达时必填")
    )
    consent = forms.BooleanField(
        label=_("申请人已签署数据使用授权（用于读取需本人授权的共享数据）"),
        required=False,
        initial=True,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (
            data.get("delivery_method") == DeliveryMethod.COURIER
            and not (data.get("delivery_address") or "").strip()
        ):
            self.add_error("delivery_address", bi("邮寄送达须填写地址", "Courier delivery needs an address"))
        return data


ACTIONS = ("accept", "notice", "not_accept")


class DecisionForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS], widget=forms.HiddenInput)
    note = forms.CharField(
        label=_("告知说明"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    reason = forms.CharField(
        label=_("不予受理理由"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("选择“不予受理”时必填，将书面告知申请人"),
    )
    basis = forms.CharField(label=_("依据"), max_length=2000, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("action") == "not_accept" and not (data.get("reason") or "").strip():
            self.add_error("reason", bi("不予受理须说明理由", "A reason is required"))
        return data


class IntakeForms:
    """All the forms of the intake page for one item, validated and re-rendered together."""

    def __init__(self, item: ServiceItem, data: Any = None, files: Any = None) -> None:
        self.item = item
        self.applicant = ApplicantForm(data, prefix="a")
        self.item_form = ItemDataForm(data, schema=item.form_schema or [])
        self.materials = MaterialsForm(data, files, requirements=list(item.materials.all()))
        self.delivery = DeliveryForm(data, prefix="d")
        self.decision = DecisionForm(data, prefix="x")
        self.non_field_errors: list[str] = []

    def all(self) -> list[forms.Form]:
        return [self.applicant, self.item_form, self.materials, self.delivery, self.decision]

    def is_valid(self) -> bool:
        return all([f.is_valid() for f in self.all()])  # validate every form, not just the first

    @property
    def action(self) -> str:
        return self.decision.cleaned_data.get("action", "") if self.decision.is_bound else ""

    def add_service_errors(self, exc: InvalidError) -> None:
        """Map the services' error keys onto the fields that were entered."""
        for key, messages in (exc.fields or {}).items():
            for m in messages:
                if not self._add(key, str(m)):
                    self.non_field_errors.append(str(m))
        if not exc.fields:
            self.non_field_errors.append(str(exc.message))

    def _add(self, key: str, message: str) -> bool:
        head, _sep, rest = key.partition(".")
        target: forms.Form | None = None
        name: str | None = None
        if head == "applicant" and rest in self.applicant.fields:
            target, name = self.applicant, rest
        elif head == "form_data" and rest in self.item_form.fields:
            target, name = self.item_form, rest
        elif head == "materials":
            seq, _s, part = rest.partition(".")
            for candidate in (
                f"{seq}_{'file' if part == 'file' else 'how'}",
                f"{seq}_paper",
                f"{seq}_reason",
            ):
                if candidate in self.materials.fields:
                    target, name = self.materials, candidate
                    break
        elif key in ("delivery_method", "delivery_address"):
            target, name = self.delivery, key
        elif key in ("reason", "basis", "note"):
            target, name = self.decision, key
        if target is None or name is None:
            return False
        _force_error(target, name, message)
        return True

    def mark_incomplete(self, seqs: list[int], message: str) -> None:
        for seq in seqs:
            for name in (f"{seq}_how", f"{seq}_paper"):
                if name in self.materials.fields:
                    _force_error(self.materials, name, message)
                    break


def _force_error(form: forms.Form, name: str, message: str) -> None:
    """An error added after cleaning: the field keeps its entered value and shows the error."""
    form.errors  # noqa: B018 - runs the form's own validation once, if not done yet
    form.add_error(name, message)
