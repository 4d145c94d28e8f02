"""Generate the bulk of the demo city's catalogue from per-department templates.

The hand-written items (real national items with real materials and limits) live in the other
catalogue files of `data/`; this module fills the catalogue up to a realistic size (about 1,000
items over all departments) from `data/item_templates.yaml`: real item names, combinations of a
subject and an action (社会团体 × 成立登记 / 变更登记 / 注销登记), each with attributes that follow
from its item type (time limits, result, materials, form, process template).

Pure Python: no Django import, so it runs in plain pytest and in scripts. Everything is drawn
from `random.Random` seeded with the caller's seed (and the item's department and name), so the
same seed always gives the same catalogue.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"
FORMAT = "onewindow-catalog/1"
CITY_PREFIX = "330800"
TARGET_ITEMS = 1000
MIN_PER_DEPARTMENT = 8
FIRST_SEQ = 1000

# Files of data/ that are not catalogue files (or are this generator's own input).
NON_CATALOGUE_FILES = {
    "departments.yaml",
    "regions.yaml",
    "halls.yaml",
    "item_templates.yaml",
    "item_names_en.yaml",
}

PARTY_CODES = {"p": "1", "e": "2", "g": "3", "o": "4", "u": "5", "x": "9"}
PARTY_LABELS = {
    "1": "自然人",
    "2": "企业",
    "3": "事业单位",
    "4": "社会组织",
    "5": "个体工商户或非法人企业",
    "9": "其他组织",
}

# ---------------------------------------------------------------------------------------------
# Process templates
# ---------------------------------------------------------------------------------------------

REVIEW_ACTIONS = [
    "approve",
    "return",
    "refuse",
    "request_correction",
    "special_procedure",
    "request_extension",
]
INSPECT_ACTIONS = ["approve", "return", "refuse", "request_correction", "request_extension"]
DECIDE_ACTIONS = ["approve", "refuse"]

# total working days -> (审查, 决定)
REVIEW_DECIDE = {
    1: (0.5, 0.5),
    2: (1, 1),
    3: (2, 1),
    5: (3, 2),
    7: (5, 2),
    10: (7, 3),
    15: (10, 5),
    20: (14, 6),
}
# total working days -> (审查, 现场核查, 决定)
REVIEW_INSPECT_DECIDE = {10: (4, 3, 3), 20: (8, 7, 5), 30: (12, 10, 8)}


def generic_process_templates() -> list[dict[str, Any]]:
    """The generic process templates every generated item refers to, in the catalogue format."""
    templates: list[dict[str, Any]] = [
        {
            "code": "immediate",
            "name": "受理即办",
            "steps": [
                {
                    "seq": 1,
                    "name": "受理即办",
                    "departments": [],
                    "limit_workdays": 0.1,
                    "actions": DECIDE_ACTIONS[:],
                },
            ],
        }
    ]
    for days, (review, decide) in REVIEW_DECIDE.items():
        templates.append(
            {
                "code": f"review-decide-{days}",
                "name": f"审查—决定（{days}个工作日）",
                "steps": [
                    {
                        "seq": 1,
                        "name": "审查",
                        "departments": [],
                        "limit_workdays": review,
                        "actions": REVIEW_ACTIONS[:],
                    },
                    {
                        "seq": 2,
                        "name": "决定",
                        "departments": [],
                        "limit_workdays": decide,
                        "actions": DECIDE_ACTIONS[:],
                    },
                ],
            }
        )
    for days, (review, inspect, decide) in REVIEW_INSPECT_DECIDE.items():
        templates.append(
            {
                "code": f"review-inspect-decide-{days}",
                "name": f"审查—现场核查—决定（{days}个工作日）",
                "steps": [
                    {
                        "seq": 1,
                        "name": "审查",
                        "departments": [],
                        "limit_workdays": review,
                        "actions": REVIEW_ACTIONS[:],
                    },
                    {
                        "seq": 2,
                        "name": "现场核查",
                        "departments": [],
                        "limit_workdays": inspect,
                        "actions": INSPECT_ACTIONS[:],
                    },
                    {
                        "seq": 3,
                        "name": "决定",
                        "departments": [],
                        "limit_workdays": decide,
                        "actions": DECIDE_ACTIONS[:],
                    },
                ],
            }
        )
    return templates


def pick_process_template(case_type: str, promised_workdays: float, inspect: bool) -> str:
    """The largest generic template that fits in the promised limit (immediate for 即办件)."""
    if case_type == "immediate":
        return "immediate"
    if inspect:
        fits = [d for d in REVIEW_INSPECT_DECIDE if d <= promised_workdays]
        if fits:
            return f"review-inspect-decide-{max(fits)}"
    fits = [d for d in REVIEW_DECIDE if d <= promised_workdays]
    return f"review-decide-{max(fits) if fits else 1}"


# ---------------------------------------------------------------------------------------------
# Item type and attribute rules
# ---------------------------------------------------------------------------------------------

# First match wins; the words are those real item names end with or contain.
TYPE_RULES: list[tuple[str, tuple[str, ...]]] = [
    ("08", ("奖励", "表彰")),
    ("06", ("检查", "抽查", "稽查", "监察")),
    ("10", ("备案",)),
    (
        "05",
        (
            "补贴",
            "补助",
            "救助",
            "津贴",
            "抚恤",
            "优待金",
            "给付",
            "生活费",
            "资助",
            "待遇",
            "扶助金",
            "扶助",
            "失业保险金",
            "贴息",
            "返还",
            "报销",
            "支付",
            "兑付",
            "助学金",
        ),
    ),
    (
        "01",
        (
            "许可",
            "审批",
            "核准",
            "核发",
            "批准",
            "审核",
            "签发",
            "换发",
            "补发",
            "延续",
            "审查",
            "换证",
            "补证",
            "延期",
            "校验",
            "新办",
            "补办",
        ),
    ),
    ("07", ("登记", "确认", "认定", "鉴定", "评定", "核定", "认证", "注册", "确权", "评价")),
]

# Names with these words are done on the spot (即办件) when the type allows it.
IMMEDIATE_WORDS = ("查询", "打印", "开具", "下载", "挂失", "解挂")

LEGAL_LIMITS = {
    "01": [20, 20, 20, 20, 15, 30, 45, 60, 10],
    "07": [5, 10, 10, 15, 20, 20, 30],
    "05": [10, 15, 20, 20, 30],
    "20": [5, 5, 10, 15, 20],
    "10": [5, 5, 10, 15],
    "06": [15, 20, 30],
    "08": [30, 45, 60],
}

VERB_WORDS = (
    "许可",
    "登记",
    "审批",
    "核准",
    "核发",
    "备案",
    "认定",
    "审核",
    "注销",
    "变更",
    "延续",
    "补发",
    "换发",
    "签发",
    "申领",
    "报装",
    "公证",
    "过户",
    "查询",
    "开具",
    "补贴",
    "表彰",
    "奖励",
    "检查",
)


def infer_item_type(name: str) -> str:
    """The item type (codelists.yaml `item_type`) a real item of that name would have."""
    for code, words in TYPE_RULES:
        if any(w in name for w in words):
            return code
    return "20"


def licence_type_code(licence_name: str) -> str:
    """Upper-case pinyin initials of a licence name (营业执照 → YYZZ)."""
    from pypinyin import Style, lazy_pinyin

    initials = lazy_pinyin(licence_name, style=Style.FIRST_LETTER, errors="ignore")
    return re.sub(r"[^A-Z0-9]", "", "".join(initials).upper())


# ---------------------------------------------------------------------------------------------
# Templates
# ---------------------------------------------------------------------------------------------


@cache
def _load_yaml(name: str) -> Any:
    with open(DATA_DIR / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_departments() -> list[dict[str, Any]]:
    return _load_yaml("departments.yaml")


def load_templates() -> dict[str, Any]:
    return _load_yaml("item_templates.yaml")


@cache
def english_names() -> dict[str, dict[str, str]]:
    """The English of the templates' item names, subjects and verbs (data/item_names_en.yaml;
    a verb is a template with {s} for its subject's English)."""
    data = _load_yaml("item_names_en.yaml") or {}
    return {k: dict(data.get(k) or {}) for k in ("items", "subjects", "verbs")}


def english_name(cand: dict[str, Any]) -> str:
    """The English name of a generated item: its own translation, else its subject's English in
    its verb's template; "" when either is missing."""
    en = english_names()
    if cand["name"] in en["items"]:
        return en["items"][cand["name"]]
    subject, verb = cand.get("subject", ""), cand.get("verb", "")
    if subject in en["subjects"] and verb in en["verbs"]:
        text = en["verbs"][verb].format(s=en["subjects"][subject])
        return text[:1].upper() + text[1:]
    return ""


def load_regions() -> list[dict[str, Any]]:
    return _load_yaml("regions.yaml")


def _split(spec: str, n: int) -> list[str]:
    parts = [p.strip() for p in str(spec).split("|")]
    return (parts + [""] * n)[:n]


FLAG_LETTERS = set(PARTY_CODES) | {"s", "i"}


def parse_spec(spec: str) -> tuple[str, str, str, str]:
    """`name|…` → (name, item type, flags, licence name). After the name, in any order: a 2-digit
    item type, a word of flag letters, a licence name (anything else); empty fields are skipped."""
    name, *rest = [p.strip() for p in str(spec).split("|")]
    item_type = flags = licence = ""
    for part in rest:
        if not part:
            continue
        if re.fullmatch(r"\d{2}", part):
            item_type = part
        elif set(part) <= FLAG_LETTERS:
            flags += part
        else:
            licence = part
    return name, item_type, flags, licence


def _parties(flags: str, default: str) -> list[str]:
    letters = [c for c in flags if c in PARTY_CODES] or [c for c in default if c in PARTY_CODES] or ["p"]
    seen: list[str] = []
    for c in letters:
        if PARTY_CODES[c] not in seen:
            seen.append(PARTY_CODES[c])
    return seen


def department_candidates(dept: str, spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item a department's template can produce, in template order, names unique."""
    default_party = spec.get("party", "p")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()

    def add(name: str, item_type: str, flags: str, licence: str, subject: str, verb: str) -> None:
        if not name or name in seen:
            return
        seen.add(name)
        out.append(
            {
                "department": dept,
                "name": name,
                "item_type": item_type or infer_item_type(name),
                "served_party": _parties(flags, default_party),
                "site": "s" in flags,
                "immediate": "i" in flags,
                "licence": licence,
                "subject": subject,
                "verb": verb,
            }
        )

    for combo in spec.get("combos") or []:
        for subject_spec in combo["subjects"]:
            subject, _, flags, licence = parse_spec(subject_spec)
            for verb in combo["verbs"]:
                name = subject + verb
                item_type = infer_item_type(name)
                # A cancelled or suspended licence issues no new licence; nor does a mere registration.
                if any(w in verb for w in ("注销", "停业", "歇业")) or item_type not in ("01", "07"):
                    lic = ""
                else:
                    lic = licence
                # Only a first grant needs the on-site check; a change or renewal is done on paper.
                site = "s" in flags and not any(
                    w in verb for w in ("变更", "注销", "补", "换", "延", "停业", "歇业")
                )
                add(name, "", flags.replace("s", "") + ("s" if site else ""), lic, subject, verb)
    for item_spec in spec.get("items") or []:
        name, item_type, flags, licence = parse_spec(item_spec)
        add(name, item_type, flags, licence, "", "")
    return out


def hand_written_names(data_dir: Path = DATA_DIR) -> set[tuple[str, str]]:
    """(department, name) of the hand-written items in the other catalogue files of data/."""
    names: set[tuple[str, str]] = set()
    for path in sorted(data_dir.glob("*.y*ml")):
        if path.name in NON_CATALOGUE_FILES:
            continue
        try:
            with open(path, encoding="utf-8") as fh:
                doc = yaml.safe_load(fh)
        except (OSError, yaml.YAMLError):
            continue
        # Catalogue files: the exchange format, with or without the `format` line.
        if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
            continue
        for item in doc.get("items") or []:
            if isinstance(item, dict) and item.get("hand_written", True):
                names.add((str(item.get("department", "")), str(item.get("name", ""))))
    return names


def allocate(pool_sizes: dict[str, int], total: int, minimum: int = MIN_PER_DEPARTMENT) -> dict[str, int]:
    """How many items each department gets: at least `minimum` (or its whole pool), the rest in
    proportion to what its template can still produce (largest remainder, ties by code)."""
    quota = {d: min(minimum, n) for d, n in pool_sizes.items()}
    rest = total - sum(quota.values())
    spare = {d: pool_sizes[d] - quota[d] for d in pool_sizes}
    spare_total = sum(spare.values())
    if rest <= 0 or spare_total == 0:
        return quota
    if rest >= spare_total:
        return dict(pool_sizes)
    shares = {d: rest * spare[d] / spare_total for d in pool_sizes}
    for d, share in shares.items():
        quota[d] += int(share)
    left = rest - sum(int(s) for s in shares.values())
    for d in sorted(shares, key=lambda d: (-(shares[d] - int(shares[d])), d)):
        if left <= 0:
            break
        if quota[d] < pool_sizes[d]:
            quota[d] += 1
            left -= 1
    return quota


# ---------------------------------------------------------------------------------------------
# One item
# ---------------------------------------------------------------------------------------------

OUTPUT_NAMES = {
    "01": "准予行政许可决定书",
    "05": "给付决定通知书",
    "06": "检查结果告知书",
    "08": "奖励决定书",
}

PERSON_FIELDS = [
    {
        "name": "applicant_name",
        "label_zh": "申请人姓名",
        "label_en": "Applicant name",
        "type": "text",
        "required": True,
        "max_length": 50,
    },
    {
        "name": "id_number",
        "label_zh": "公民身份号码",
        "label_en": "ID number",
        "type": "id_number",
        "required": True,
    },
    {"name": "phone", "label_zh": "联系电话", "label_en": "Phone", "type": "phone", "required": True},
]
ORG_FIELDS = [
    {
        "name": "org_name",
        "label_zh": "单位名称",
        "label_en": "Organisation name",
        "type": "text",
        "required": True,
        "max_length": 100,
    },
    {
        "name": "uscc",
        "label_zh": "统一社会信用代码",
        "label_en": "Unified social credit code",
        "type": "uscc",
        "required": True,
    },
    {
        "name": "contact_name",
        "label_zh": "联系人",
        "label_en": "Contact person",
        "type": "text",
        "required": True,
        "max_length": 50,
    },
    {"name": "contact_phone", "label_zh": "联系电话", "label_en": "Phone", "type": "phone", "required": True},
]
EXTRA_FIELDS = {
    "01": {
        "name": "description",
        "label_zh": "申请事项说明",
        "label_en": "Description of the application",
        "type": "textarea",
        "required": False,
        "max_length": 500,
    },
    "05": {
        "name": "bank_account",
        "label_zh": "收款银行账号",
        "label_en": "Bank account for payment",
        "type": "text",
        "required": True,
        "max_length": 30,
        "pattern": "^[0-9]{10,30}$",
    },
    "07": {
        "name": "reason",
        "label_zh": "申请事由",
        "label_en": "Reason for the application",
        "type": "textarea",
        "required": False,
        "max_length": 300,
    },
    "10": {
        "name": "event_date",
        "label_zh": "备案事项发生日期",
        "label_en": "Date of the recorded event",
        "type": "date",
        "required": True,
    },
    "20": {
        "name": "region",
        "label_zh": "所在地区",
        "label_en": "Region",
        "type": "region",
        "required": False,
    },
    "06": {
        "name": "preferred_date",
        "label_zh": "期望检查日期",
        "label_en": "Preferred inspection date",
        "type": "date",
        "required": False,
    },
    "08": {
        "name": "achievement",
        "label_zh": "主要事迹",
        "label_en": "Main achievements",
        "type": "textarea",
        "required": True,
        "max_length": 1000,
    },
}
SITE_FIELD = {
    "name": "site_address",
    "label_zh": "经营（建设）场所地址",
    "label_en": "Site address",
    "type": "address",
    "required": True,
}


def _form_schema(item_type: str, parties: list[str], site: bool, rng: random.Random) -> list[dict[str, Any]]:
    base = PERSON_FIELDS if parties[0] == "1" else ORG_FIELDS
    fields = [dict(f) for f in base]
    if parties[0] != "1" and rng.random() < 0.5:
        fields.pop(2)  # contact person: not every form asks for it
    if site:
        fields.append(dict(SITE_FIELD))
    if len(fields) < 5:
        fields.append(dict(EXTRA_FIELDS[item_type]))
    return fields[:5]


def _identity_material(parties: list[str]) -> dict[str, Any]:
    first = parties[0]
    if first == "1":
        return {
            "name": "居民身份证",
            "source": "data:population.name,id_number",
            "accept_standard": "在有效期内",
        }
    if first in ("2", "5"):
        return {
            "name": "营业执照",
            "source": "licence:YYZZ",
            "accept_standard": "在有效期内，经营范围与申请事项相符",
        }
    if first == "4":
        return {"name": "社会组织法人登记证书", "source": "applicant", "accept_standard": "在有效期内"}
    if first == "3":
        return {"name": "事业单位法人证书", "source": "applicant", "accept_standard": "在有效期内"}
    return {"name": "统一社会信用代码证书", "source": "applicant", "accept_standard": "在有效期内"}


def _material(
    seq: int,
    name: str,
    source: str = "applicant",
    *,
    required: bool = True,
    accept: str = "",
    note: str = "",
    rng: random.Random,
) -> dict[str, Any]:
    if source.startswith(("licence:", "data:")):
        form, originals, copies = "electronic", 0, 0
    elif source == "pledge":
        form, originals, copies = "either", 1, 0
    else:
        form = rng.choice(["either", "either", "electronic", "paper"])
        originals, copies = (1, 0) if rng.random() < 0.7 else (0, 1)
    return {
        "seq": seq,
        "name": name,
        "required": required,
        "condition": "",
        "form": form,
        "originals": originals,
        "copies": copies,
        "accept_standard": accept,
        "source": source,
        "note": note,
    }


# Materials any item of a type may ask for, when the department's own list has nothing closer.
GENERIC_MATERIALS = {
    "01": ["场所使用证明|pledge", "专业技术人员名单", "管理制度文本", "主要设施设备清单"],
    "07": ["相关证明材料", "情况说明"],
    "05": ["银行账户信息", "家庭收入情况说明|pledge", "户口簿|licence:HKB"],
    "10": ["相关合同或协议", "备案事项说明"],
    "20": ["情况说明"],
    "06": ["自查报告"],
    "08": ["主要事迹材料", "获奖或表彰证明"],
}
MATERIAL_STOP_GRAMS = {
    "证明",
    "报告",
    "申请",
    "管理",
    "制度",
    "材料",
    "情况",
    "文件",
    "证书",
    "资料",
    "方案",
    "人员",
}


def _materials(cand: dict[str, Any], dept_materials: list[str], rng: random.Random) -> list[dict[str, Any]]:
    """申请表, the applicant's identity, then the department's materials closest to the item (by
    shared words) and generic ones for the item type: 2 to 6 in all."""
    parties = cand["served_party"]
    if cand["name"].endswith("申请"):
        title = f"{cand['name']}表"
    else:
        title = f"{cand['name']}申请表" if len(cand["name"]) <= 14 else "申请书"
    out = [_material(1, title, accept="填写完整，由申请人签字（盖章）", rng=rng)]
    ident = _identity_material(parties)
    out.append(_material(2, ident["name"], ident["source"], accept=ident["accept_standard"], rng=rng))
    taken = {m["name"] for m in out}
    grams = _bigrams(cand["name"] + cand["subject"]) - MATERIAL_STOP_GRAMS
    close, generic = [], []
    for spec in dept_materials:
        name, source = _split(spec, 2)
        if name not in taken and grams & (_bigrams(name) - MATERIAL_STOP_GRAMS):
            close.append((name, source or "applicant"))
    for spec in GENERIC_MATERIALS[cand["item_type"]]:
        name, source = _split(spec, 2)
        if name not in taken and all(name != c[0] for c in close):
            generic.append((name, source or "applicant"))
    if cand["site"] and ("场所使用证明", "pledge") not in close + generic:
        generic.insert(0, ("场所使用证明", "pledge"))  # 告知承诺 instead of a lease or deed
    want = rng.choice([0, 1, 1, 2, 2, 3])
    if cand["site"] and ("场所使用证明", "pledge") in generic:
        generic.remove(("场所使用证明", "pledge"))
        close.insert(0, ("场所使用证明", "pledge"))
    picked = close[:2] + rng.sample(generic, min(len(generic), max(0, want - len(close[:2]))))
    for name, source in picked[:3]:
        out.append(_material(len(out) + 1, name, source, accept="真实、完整、有效", rng=rng))
    if len(out) < 6 and rng.random() < 0.3:
        out.append(
            _material(
                len(out) + 1,
                "授权委托书",
                required=False,
                accept="写明委托事项和权限",
                note="委托他人办理时提交",
                rng=rng,
            )
        )
    return out


def _conditions(cand: dict[str, Any], law: str, short: str) -> str:
    item_type, party = cand["item_type"], PARTY_LABELS[cand["served_party"][0]]
    if item_type == "01":
        if cand["served_party"][0] == "1":
            return f"申请人具有完全民事行为能力，符合{law}规定的条件，申请材料齐全、符合法定形式。"
        return (
            f"申请人为依法设立的{party}，具备与申请事项相适应的场所、设施、设备和专业人员，"
            f"管理制度健全，符合{law}规定的条件。"
        )
    if item_type == "07":
        return f"依法应当办理{cand['name']}的{party}，申请材料齐全、符合法定形式。"
    if item_type == "05":
        return f"申请人符合{law}及本市有关政策规定的条件，且未重复享受同类待遇。"
    if item_type == "10":
        return f"{party}在备案事项发生之日起30日内办理备案，备案信息真实、准确、完整。"
    if item_type == "06":
        return f"依法属于{short}部门监督管理范围的{party}。"
    if item_type == "08":
        return f"在相关领域作出突出贡献或者符合{law}规定奖励情形的{party}。"
    return f"申请人为在本市办理相关业务的{party}，提供的信息真实有效。"


def _outputs(cand: dict[str, Any], result_type: str, licence_type: str) -> list[dict[str, Any]]:
    name = cand["name"]
    if result_type == "none":
        return []
    if result_type == "licence":
        return [{"seq": 1, "name": cand["licence"], "kind": "licence", "licence_type": licence_type}]
    if result_type == "approval_document":
        return [
            {
                "seq": 1,
                "name": OUTPUT_NAMES.get(cand["item_type"], "审批决定书"),
                "kind": "approval_document",
                "licence_type": "",
            }
        ]
    if "证明" in name:
        doc = re.sub(r"(开具|出具|查询打印)$", "", name)
    elif cand["item_type"] == "10":
        doc = "备案回执"
    elif cand["item_type"] == "07":
        doc = "登记（确认）结果通知书"
    else:
        doc = OUTPUT_NAMES.get(cand["item_type"], "办理结果告知单")
    return [{"seq": 1, "name": doc, "kind": "other", "licence_type": ""}]


KEYWORD_STOPWORDS = {"办理", "申请", "或者", "以及", "相关", "有关", "事项", "手续", "单位", "人员", "管理"}
VERB_SUFFIX = re.compile(
    r"("
    + "|".join(
        sorted(VERB_WORDS + ("办理", "申请", "审查", "变更", "延期", "核定", "确认"), key=len, reverse=True)
    )
    + r")+$"
)


@cache
def _jieba_cut():
    """jieba's segmenter when installed (it is a project dependency), else None."""
    try:
        import logging

        import jieba
    except ImportError:  # pragma: no cover - jieba is in the project's dependencies
        return None
    jieba.setLogLevel(logging.WARNING)
    return jieba.lcut


def _keywords(cand: dict[str, Any], short: str) -> list[str]:
    """Search words for the guidance engine: the object of the item, its action, a few words jieba
    also finds, and the department's short name."""
    name = re.sub(r"[（(].*?[）)]", "", cand["name"])
    words: list[str] = []
    if cand["subject"]:
        words += [re.sub(r"[（(].*?[）)]", "", cand["subject"]), cand["verb"]]
    else:
        obj = VERB_SUFFIX.sub("", name)
        if 2 <= len(obj) <= 10 and obj != name:
            words.append(obj)
        words += [w for w in VERB_WORDS if w in name][:1]
    cut = _jieba_cut()
    pieces = cut(name) if cut else re.split(r"[、，,“”\s]+", name)
    words += sorted((w for w in pieces if len(w) >= 2 and w not in KEYWORD_STOPWORDS), key=len, reverse=True)[
        :3
    ]
    words.append(short)
    seen: list[str] = []
    for w in words:
        if w and w not in seen and w != cand["name"]:
            seen.append(w)
    return seen[:5]


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


# Words of an item name that point at a law its title does not share words with.
LAW_HINTS = {
    "护照": "护照法",
    "通行证": "出境入境管理法",
    "签证": "出境入境管理法",
    "居留": "出境入境管理法",
    "出入境": "出境入境管理法",
    "驾驶证": "道路交通安全法",
    "机动车": "机动车登记规定",
    "户口": "户口登记条例",
    "身份证": "居民身份证法",
    "居住": "户口登记条例",
    "津贴": "社会救助",
    "救助": "社会救助",
    "低保": "社会救助",
    "最低生活": "社会救助",
    "特困": "社会救助",
    "补贴": "社会救助",
    "发票": "发票管理办法",
    "纳税": "税收征收管理法",
    "税": "税收征收管理法",
    "婚": "婚姻登记条例",
    "收养": "收养法",
    "公墓": "殡葬管理条例",
    "殡葬": "殡葬管理条例",
}
LAW_STOP_GRAMS = {
    "管理",
    "中华",
    "华人",
    "人民",
    "共和",
    "和国",
    "条例",
    "办法",
    "规定",
    "暂行",
    "实施",
    "许可",
    "可证",
    "经营",
    "登记",
    "安全",
    "生产",
}


def _pick_law(name: str, laws: list[str], rng: random.Random) -> str:
    """The law whose title shares most with the item name (取水许可 → 《取水许可和水资源费征收管理条例》),
    else one a hint word points at, else one of the department's first (main) laws."""
    grams = _bigrams(name) - LAW_STOP_GRAMS
    scored = [(len(grams & _bigrams(law)), law) for law in laws]
    best = max(score for score, _ in scored)
    if best:
        return rng.choice([law for score, law in scored if score == best])
    for word, fragment in LAW_HINTS.items():
        if word in name:
            hinted = [law for law in laws if fragment in law]
            if hinted:
                return hinted[0]
    return rng.choice(laws[:3])


def build_item(
    cand: dict[str, Any], seq: int, dept: dict[str, Any], spec: dict[str, Any], phone: str, seed: int
) -> dict[str, Any]:
    """One catalogue item (catalogue YAML format) from a template candidate."""
    rng = random.Random(f"{seed}:{cand['department']}:{cand['name']}")
    item_type = cand["item_type"]
    laws = spec.get("laws") or ["《中华人民共和国行政许可法》"]
    law = _pick_law(cand["name"], laws, rng)
    # A second law only when it, too, shares words with the item (not a random citation).
    grams = _bigrams(cand["name"]) - LAW_STOP_GRAMS
    seconds = [x for x in laws if x != law and grams & _bigrams(x)]
    basis = f"{law}；{seconds[0]}" if seconds else law
    site = cand["site"] and item_type in ("01", "07", "06")
    immediate = cand["immediate"] or (
        item_type in ("20", "07", "10") and any(w in cand["name"] for w in IMMEDIATE_WORDS)
    )
    if immediate:
        site = False
        case_type = "immediate"
        legal, legal_unit = rng.choice([1, 1, 3, 5]), "workday"
        promised, promised_unit = rng.choice([10, 20, 30, 30, 60]), "minute"
        template = "immediate"
    else:
        case_type = "promised"
        legal, legal_unit = rng.choice(LEGAL_LIMITS[item_type]), "workday"
        promised = max(1, round(legal * rng.uniform(0.3, 0.5)))
        if site:
            legal = max(legal, 15)
            promised = min(legal, max(promised, 10))
        promised_unit = "workday"
        template = pick_process_template(case_type, promised, site)

    licence = cand["licence"] if item_type in ("01", "07") else ""
    if licence:
        result_type = "licence"
    elif item_type in ("01", "05"):
        result_type = "approval_document"
    elif immediate and "查询" in cand["name"]:
        result_type = "none"
    else:
        result_type = "other"
    licence_type = licence_type_code(licence) if licence else ""

    if site:
        channels = ["window", "online"]
    else:
        channels = ["window", "online", "mobile"]
        if immediate or rng.random() < 0.15:
            channels.append("kiosk")
        if item_type == "05" or rng.random() < 0.1:
            channels.append("grid")
        if item_type in ("01", "07") and rng.random() < 0.15:
            channels.append("post")

    if item_type == "01":
        scope = "city"
    elif item_type in ("06", "08"):
        scope = rng.choice(["city", "county"])
    else:
        scope = rng.choice(["city", "city", "province", "county"])

    special = ""
    if site:
        special = "现场核查"
    elif item_type == "01" and rng.random() < 0.2:
        special = rng.choice(["专家评审", "听证", "检验检测"])

    fees: list[dict[str, Any]] = []
    if "护照" in cand["name"] and item_type == "01":
        fees = [
            {
                "seq": 1,
                "name": "普通护照工本费",
                "amount": 120,
                "unit": "本",
                "basis": "国家发展改革委、财政部有关出入境证件收费标准",
            }
        ]
    elif "通行证" in cand["name"] and item_type == "01":
        fees = [
            {
                "seq": 1,
                "name": "通行证工本费",
                "amount": 60,
                "unit": "证",
                "basis": "国家发展改革委、财政部有关出入境证件收费标准",
            }
        ]

    materials = _materials(cand, list(spec.get("materials") or []), rng)
    return {
        "code": f"{CITY_PREFIX}-{cand['department'].upper()}-{item_type}-{seq:04d}",
        "version": 1,
        "name": cand["name"],
        "name_en": english_name(cand)[:300],
        "short_name": "",
        "keywords": _keywords(cand, dept["short"]),
        "item_type": item_type,
        "level": "3",
        "department": cand["department"],
        "legal_basis": basis,
        "served_party": list(cand["served_party"]),
        "case_type": case_type,
        "legal_limit": legal,
        "legal_limit_unit": legal_unit,
        "promised_limit": promised,
        "promised_limit_unit": promised_unit,
        "special_procedures": special,
        "channels": channels,
        "max_visits": 1 if site else 0,
        "visits_reason": "需到现场核查经营（建设）场所" if site else "",
        "handle_scope": scope,
        "undifferentiated": cand["department"] not in ("haiguan", "gongzheng", "yinhang")
        and rng.random() > 0.05,
        "result_type": result_type,
        "licence_type": licence_type,
        "conditions": _conditions(cand, law, dept["short"]),
        "consult_phone": phone,
        "state": "active",
        "hand_written": False,
        "process_template": template,
        "form_schema": _form_schema(item_type, cand["served_party"], site, rng),
        "materials": materials,
        "outputs": _outputs(cand, result_type, licence_type),
        "fees": fees,
        "faq": [],
    }


def department_phone(index: int) -> str:
    """A stable 7-digit Quzhou number per department (0570 area code)."""
    return f"0570-30{(index * 7919 + 2026) % 100000:05d}"


# ---------------------------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------------------------


def generate_catalog(
    seed: int = 2026, *, target: int = TARGET_ITEMS, exclude: Iterable[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """The generated part of the demo catalogue, `{"format": ..., "items": [...]}`.

    `exclude` holds (department, name) pairs already in the catalogue; by default, the
    hand-written items found in the other catalogue files of data/."""
    rng = random.Random(seed)
    departments = load_departments()
    templates = load_templates()
    skip = set(hand_written_names() if exclude is None else exclude)

    pools: dict[str, list[dict[str, Any]]] = {}
    for dept in departments:
        cands = department_candidates(dept["code"], templates.get(dept["code"]) or {})
        pools[dept["code"]] = [c for c in cands if (dept["code"], c["name"]) not in skip]
    quota = allocate({d: len(p) for d, p in pools.items()}, target)

    items: list[dict[str, Any]] = []
    for index, dept in enumerate(departments, start=1):
        code = dept["code"]
        pool = pools[code]
        chosen = sorted(rng.sample(range(len(pool)), quota[code]))
        phone = department_phone(index)
        for n, i in enumerate(chosen):
            items.append(build_item(pool[i], FIRST_SEQ + n, dept, templates.get(code) or {}, phone, seed))
    return {"format": FORMAT, "items": items}


# ---------------------------------------------------------------------------------------------
# Synthetic villages (scale tests only)
# ---------------------------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜钟谭陆汪范金石廖贾夏方邹孟熊邱江尹毛郝龚邵万钱严戴孔汤柴鲁祝翁詹"
)
SURNAME_PLACES = (
    "家",
    "坞",
    "岭",
    "坑",
    "源",
    "塘",
    "畈",
    "山",
    "湾",
    "桥",
    "埠",
    "垄",
    "店",
    "宅",
    "田",
    "岗",
    "园",
    "溪",
    "庄",
    "圩",
)
DIRECTIONS = (
    "上",
    "下",
    "东",
    "西",
    "南",
    "北",
    "前",
    "后",
    "大",
    "小",
    "中",
    "新",
    "里",
    "外",
    "高",
    "长",
    "青",
    "白",
    "黄",
    "石",
    "龙",
    "凤",
    "桃",
    "杨",
    "樟",
    "竹",
    "柏",
    "枫",
    "梅",
    "莲",
)
FEATURES = (
    "塘",
    "门",
    "溪",
    "口",
    "山",
    "坞",
    "源",
    "坑",
    "岭",
    "畈",
    "湖",
    "桥",
    "坪",
    "垄",
    "湾",
    "洲",
    "滩",
    "岙",
    "埠",
    "田",
    "岩",
    "峰",
    "潭",
    "泉",
    "林",
    "园",
)


@cache
def _village_name_table() -> tuple[tuple[str, str], ...]:
    """All synthetic village names with their pinyin (computed once)."""
    from pypinyin import lazy_pinyin

    def py(s: str) -> str:
        return "".join(lazy_pinyin(s))

    names: dict[str, str] = {}
    for a in SURNAMES:
        for b in SURNAME_PLACES:
            names.setdefault(f"{a}{b}村", py(a + b))
    for a in DIRECTIONS:
        for b in FEATURES:
            if a != b:
                names.setdefault(f"{a}{b}村", py(a + b))
    return tuple(sorted(names.items()))


def synthetic_villages(
    townships: Iterable[dict[str, Any]], per_township: int, seed: int, existing: Iterable[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """Plausible extra villages (level 5) for each township, for scale tests only.

    Names are unique within a township (王家村, 上塘村, 石门村, 溪口村 …) and avoid the names and
    codes of `existing` regions; codes take the free 3-digit village numbers (at most 999 per
    township), so `per_township` must fit in what is free."""
    table = _village_name_table()
    taken_codes = {r["code"] for r in existing}
    taken_names: dict[str, set[str]] = {}
    for r in existing:
        taken_names.setdefault(str(r["code"])[:9], set()).add(r["name"])
    out: list[dict[str, Any]] = []
    for town in townships:
        prefix = str(town["code"])[:9]
        free_codes = [c for c in (f"{prefix}{n:03d}" for n in range(1, 1000)) if c not in taken_codes]
        names = [nv for nv in table if nv[0] not in taken_names.get(prefix, set())]
        if per_township > min(len(free_codes), len(names)):
            raise ValueError(
                f"{town.get('name', prefix)}: room for {min(len(free_codes), len(names))} villages, "
                f"{per_township} asked"
            )
        rng = random.Random(f"{seed}:{prefix}")
        picked = rng.sample(names, per_township)
        # Villages take codes from 200 upwards (the village range), then the lower numbers.
        free_codes = [c for c in free_codes if c[9:] >= "200"] + [c for c in free_codes if c[9:] < "200"]
        for code, (name, py) in zip(free_codes, picked, strict=False):
            out.append({"code": code, "name": name, "name_en": f"{py.capitalize()} Village", "level": 5})
    return out
