"""Synthetic registries of the demo city (衢州市, 330800), generated deterministically.

The platform fetches proofs from other departments' registries (DESIGN §6, "no paper proofs").
In the demo city those registries are tables in this database, filled from this module: a
population with households, marriages, births and deaths; enterprises with their legal
representatives; real-estate units and their owners; social security, provident fund,
qualifications, disability certificates, vehicles and tax clearance.

Pure Python (no Django import). Everything is drawn from one `random.Random(seed)` in a fixed
order and nothing iterates over a set, so the same seed always gives the same data. Dates are
relative to `AS_OF`, a fixed "data as of" date, never to today.

Every resident ID number and USCC is valid (built with `make_resident_id` and `make_uscc`). The
demo personas (`onewindow.demo.personas`) are included with their exact numbers and names.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from onewindow.core.validators import USCC_CHARSET, make_resident_id, make_uscc
from onewindow.demo import personas as P

__all__ = ["AS_OF", "VERSION", "generate"]

#: Bumped whenever the generator's output changes for the same seed (part of the load fingerprint).
VERSION = "registry-gen/1"
#: The registries' "data as of" date; payment histories cover the 12 months ending here.
AS_OF = datetime.date(2026, 10, 31)
FIRST_BIRTH = datetime.date(1940, 1, 1)
LAST_BIRTH = datetime.date(2025, 12, 31)

REGIONS_FILE = Path(__file__).resolve().parent.parent / "demo" / "data" / "regions.yaml"

# --------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------

COUNTIES = ["330802", "330803", "330822", "330824", "330825", "330881"]
# Rough shares of the registered population (户籍人口) of the six counties.
COUNTY_WEIGHTS = [17, 16, 13, 14, 16, 24]
COUNTY_NAMES = {
    "330802": "衢州市柯城区",
    "330803": "衢州市衢江区",
    "330822": "常山县",
    "330824": "开化县",
    "330825": "龙游县",
    "330881": "江山市",
}
# The place name in real-estate certificate numbers: 浙(2021)衢州市不动产权第0001234号.
DEED_PLACE = {
    "330802": "衢州市",
    "330803": "衢州市",
    "330822": "常山县",
    "330824": "开化县",
    "330825": "龙游县",
    "330881": "江山市",
}
# Short names used in tax document numbers.
COUNTY_SHORT = {
    "330802": "柯城",
    "330803": "衢江",
    "330822": "常山",
    "330824": "开化",
    "330825": "龙游",
    "330881": "江山",
}
ROADS = {
    "330802": ["县西街", "坊门街", "新桥街", "上街", "劳动路", "荷花中路", "荷五路", "花园东大道", "西安路"]
    + ["衢化路", "白云中大道", "世纪大道", "三衢路", "新新路", "航埠路"],
    "330803": ["振兴中路", "东迹大道", "樟潭路", "书院中路", "浮石路", "衢江路", "盈川东路", "杭金衢路"],
    "330822": ["定阳北路", "天马路", "紫港路", "文峰西路", "人民路", "东明路", "常山港路", "金川路"],
    "330824": ["芹阳北路", "解放街", "江滨北路", "凤凰中路", "东华路", "城南路", "钱江源大道"],
    "330825": ["荣昌大道", "龙洲路", "太平东路", "文化东路", "兴龙北路", "灵山路", "龙翔路"],
    "330881": ["鹿溪南路", "江滨路", "中山路", "城南路", "虎山路", "清湖路", "解放北路", "江城北路"],
}
ESTATES = [
    "阳光花园",
    "锦绣华庭",
    "江南春",
    "书香门第",
    "滨江府",
    "金色家园",
    "翡翠湾",
    "丽水苑",
    "东方明珠苑",
]
ESTATES += ["新城花苑", "学府世家", "桃源居", "紫金城", "香樟园", "钱江名邸", "凤凰城", "橘颂园", "和园"]
PARKS = {
    "330802": "衢州高新技术产业开发区",
    "330803": "衢州智造新城",
    "330822": "常山经济开发区",
    "330824": "开化经济开发区",
    "330825": "龙游经济开发区",
    "330881": "江山经济开发区",
}
HOSPITALS = {
    "330802": ["衢州市人民医院", "衢州市妇幼保健院", "衢州市中医医院", "衢州市柯城区人民医院"],
    "330803": ["衢州市衢江区人民医院", "衢州市妇幼保健院", "浙江衢化医院"],
    "330822": ["常山县人民医院", "常山县妇幼保健院"],
    "330824": ["开化县人民医院", "开化县妇幼保健院"],
    "330825": ["龙游县人民医院", "龙游县妇幼保健院"],
    "330881": ["江山市人民医院", "江山市妇幼保健院"],
}

SURNAMES: list[tuple[str, int]] = [
    ("徐", 80), ("王", 70), ("陈", 70), ("张", 60), ("李", 50), ("周", 50), ("毛", 40), ("刘", 40),
    ("吴", 40), ("郑", 40), ("杨", 30), ("姜", 30), ("汪", 30), ("余", 30), ("方", 30), ("叶", 30),
    ("黄", 30), ("朱", 30), ("胡", 30), ("祝", 20), ("邵", 20), ("程", 20), ("傅", 20), ("钱", 20),
    ("何", 20), ("林", 20), ("蒋", 20), ("赵", 20), ("孙", 20), ("金", 20), ("詹", 20), ("杜", 10),
    ("占", 10), ("童", 10), ("柴", 10), ("鲁", 10), ("郭", 10), ("许", 10), ("范", 10), ("汤", 10),
    ("严", 10), ("华", 10), ("廖", 10), ("江", 10), ("宋", 10), ("谢", 10), ("项", 10), ("饶", 10),
    ("龚", 10), ("应", 10), ("潘", 10), ("洪", 10), ("丁", 10), ("苏", 10), ("俞", 10), ("缪", 8),
    ("柳", 8), ("戴", 8), ("曾", 8), ("翁", 8), ("雷", 8), ("蓝", 6), ("钟", 6), ("管", 6), ("夏", 6),
]  # fmt: skip

# Characters of given names by era (born before 1965, 1965-1989, 1990-2004, 2005 and later).
MALE_CHARS = [
    "建国华明林根福金水德成永新文武忠兴旺发生庆贵有财祥云山松兵红卫东土春荣海平强军志",
    "伟强军华平林海春峰涛斌勇明辉杰刚亮斌勇波东军志建新荣忠卫国红俊伟",
    "杰鹏磊超辉俊宇浩帅凯翔鑫斌亮明涛伟豪文博健晓阳一峰楠",
    "宇轩睿晨哲然泽子博航凯翔锦鑫昊宸逸彬铭瑞楷承浩然梓俊熙奕",
]
FEMALE_CHARS = [
    "秀英兰芳凤珍花玉梅莲菊香桂金彩素云春月琴娥仙翠",
    "丽红燕琴萍静霞敏娟芳玲华英美艳萍慧春雪莉琳",
    "婷雪洁慧颖琳倩莹晶欣怡璐悦佳丹蕾思晓雅静露",
    "雨诗涵梓萱可馨妍彤婧思欣悦怡语若一依可沐芊瑶",
]
ETHNICITIES = [
    ("汉族", 985),
    ("畲族", 9),
    ("苗族", 2),
    ("土家族", 1),
    ("布依族", 1),
    ("壮族", 1),
    ("回族", 1),
]

MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152"]
MOBILE_PREFIXES += ["153", "155", "157", "158", "159", "177", "180", "181", "183", "187", "188", "189", "199"]

TRADE_NAMES = list("鑫恒盛丰华瑞泰宏达源康信诚锦隆昌明德嘉汇东方新禾润博通佳美兴旺众联创卓越恒辉金合")
TRADE_NAMES2 = [
    "三衢",
    "烂柯",
    "江郎",
    "钱江",
    "衢江",
    "信安",
    "定阳",
    "须江",
    "金川",
    "芹阳",
    "龙洲",
    "姑蔑",
]
TRADE_NAMES2 += [
    "橘乡",
    "南孔",
    "礼贤",
    "廿八都",
    "仙霞",
    "峡川",
    "常青",
    "开源",
    "龙游",
    "灵山",
    "天马",
    "紫港",
]
# (行业 in the name, business scope, social-security size weight, manufacturing?)
INDUSTRIES: list[tuple[str, str, int, bool]] = [
    ("农业科技", "农业技术开发、技术推广；农产品种植、销售；农业机械服务", 2, False),
    ("农产品", "农副产品收购、销售；食用农产品初加工；食用农产品批发、零售", 2, False),
    ("食品", "食品生产；食品经营（销售预包装食品）；农副食品加工", 3, True),
    ("茶业", "茶叶种植、加工、销售；农产品的生产、销售、加工、运输、贮藏", 2, True),
    ("建筑工程", "房屋建筑和市政基础设施项目工程总承包；建设工程施工；建筑劳务分包", 5, False),
    ("建材", "建筑材料销售；轻质建筑材料销售；建筑装饰材料销售", 2, False),
    ("机械制造", "通用设备制造（不含特种设备制造）；机械零件、零部件加工、销售", 5, True),
    ("电子科技", "电子元器件制造；电子产品销售；软件开发；技术服务、技术开发", 4, True),
    ("新材料", "新材料技术研发；氟化工产品及有机硅产品销售（不含危险化学品）", 6, True),
    ("竹木制品", "竹制品制造；木制品制造；竹木制品销售", 3, True),
    ("特种纸业", "纸制品制造；纸浆销售；纸制品销售", 6, True),
    ("物流", "道路货物运输（不含危险货物）；普通货物仓储服务；国内货物运输代理", 3, False),
    ("汽车服务", "汽车销售；机动车修理和维护；汽车零配件零售", 2, False),
    ("餐饮管理", "餐饮服务；餐饮管理；食品销售", 2, False),
    ("酒店管理", "住宿服务；酒店管理；会议及展览服务", 3, False),
    ("旅游开发", "旅游开发项目策划咨询；旅游业务；游览景区管理", 2, False),
    ("信息技术", "软件开发；信息系统集成服务；信息技术咨询服务；数据处理服务", 3, False),
    ("电子商务", "互联网销售（除销售需要许可的商品）；电子商务平台运营；供应链管理服务", 2, False),
    ("家政服务", "家政服务；养老服务；保洁服务", 2, False),
    ("物业管理", "物业管理；停车场服务；园林绿化工程施工", 3, False),
    ("装饰工程", "住宅室内装饰装修；建筑装饰工程；家具安装和维修服务", 2, False),
    ("贸易", "日用百货销售；五金产品批发；服装服饰零售；建筑材料销售", 1, False),
    ("五金", "五金产品制造；五金产品批发；金属制品销售", 3, True),
    ("医药", "药品零售；第二类医疗器械销售；保健食品（预包装）销售", 2, False),
    ("文化传媒", "广告设计、代理；广告制作；组织文化艺术交流活动", 1, False),
    ("教育咨询", "教育咨询服务（不含涉许可审批的教育培训活动）；会议及展览服务", 1, False),
    ("环保科技", "环保咨询服务；固体废物治理；水污染治理", 2, False),
    ("新能源", "太阳能发电技术服务；光伏设备及元器件销售；储能技术服务", 3, True),
    ("钢结构", "钢结构工程施工；金属结构制造；金属结构销售", 4, True),
    ("包装", "包装装潢印刷品印刷；纸和纸板容器制造；塑料包装箱及容器制造", 3, True),
    ("服饰", "服装制造；服装服饰批发；针纺织品销售", 3, True),
]
ENTERPRISE_TYPES = [
    ("有限责任公司(自然人投资或控股)", 55),
    ("有限责任公司(自然人独资)", 25),
    ("个人独资企业", 10),
    ("股份有限公司(非上市、自然人投资或控股)", 4),
    ("有限合伙企业", 3),
    ("有限责任公司分公司(自然人投资或控股)", 3),
]
CAPITALS = [Decimal(n) for n in (10, 30, 50, 100, 100, 200, 300, 500, 500, 1000, 2000, 5000)]

QUALIFICATIONS: list[tuple[str, str, bool, str]] = [
    # (category, qualification type, registered at a unit (and expires), certificate prefix)
    ("专业技术人员职业资格", "一级建造师（建筑工程）", True, "浙133"),
    ("专业技术人员职业资格", "二级建造师（建筑工程）", True, "浙233"),
    ("专业技术人员职业资格", "二级建造师（市政公用工程）", True, "浙233"),
    ("专业技术人员职业资格", "注册安全工程师（化工安全）", True, "ZAGC"),
    ("专业技术人员职业资格", "执业药师", True, "ZYYS"),
    ("专业技术人员职业资格", "注册会计师", True, "CPA"),
    ("专业技术人员职业资格", "社会工作者（助理社会工作师）", False, "SG"),
    ("专业技术人员职业资格", "经济专业技术资格（中级）", False, "JJ"),
    ("技能人员职业资格", "电工（四级/中级工）", False, "S"),
    ("技能人员职业资格", "焊工（四级/中级工）", False, "S"),
    ("技能人员职业资格", "育婴员（四级/中级工）", False, "S"),
    ("技能人员职业资格", "中式烹调师（四级/中级工）", False, "S"),
    ("技能人员职业资格", "保育师（五级/初级工）", False, "S"),
    ("从业资格", "道路货物运输驾驶员从业资格", True, "CY"),
    ("安全生产考核", "主要负责人安全生产知识和管理能力考核合格", True, "AQ"),
]
DISABILITY_CATEGORIES = ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"]
DISABILITY_GRADES = ["一级", "二级", "三级", "四级"]
CAR_BRANDS = ["吉利牌MR7153A03", "大众汽车牌SVW71810BU", "丰田牌TV7201FLV", "本田牌HG7151BAC5"]
CAR_BRANDS += ["长安牌SC7155DAA6", "别克牌SGM7157DAA1", "哈弗牌CC6460UM00"]
EV_BRANDS = ["比亚迪牌BYD7005BEV", "五菱牌GXA7000BEVA4", "零跑牌LP7000BEVS2", "比亚迪牌BYD7152WT6HEVC1"]
MOTORCYCLE_BRANDS = ["豪爵牌HJ125-23", "五羊-本田牌WH125-12", "雅马哈牌JYM125-3"]
TRUCK_BRANDS = ["东风牌DFH1180E", "解放牌CA1040P40K", "江淮牌HFC1043P31K1C7S", "福田牌BJ1032V4JV5"]


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    county: str
    township: str  # 12-digit code
    region_code: str  # 12-digit code of the village/community or township
    address: str  # without 浙江省
    urban: bool


@dataclass
class _Person:
    id_number: str
    name: str
    sex: str
    birth_date: datetime.date
    ethnicity: str
    county: str
    place: Place | None = None
    household_number: str = ""
    relation: str = ""
    phone: str = ""
    alive: bool = True
    spouse: _Person | None = None
    children: list[_Person] = field(default_factory=list)
    mother: _Person | None = None
    father: _Person | None = None
    married_on: datetime.date | None = None
    employer: dict[str, Any] | None = None
    hired_on: datetime.date | None = None

    def age(self, on: datetime.date = AS_OF) -> int:
        b = self.birth_date
        return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


@cache
def _regions() -> dict[str, Any]:
    rows = yaml.safe_load(REGIONS_FILE.read_text(encoding="utf-8"))
    townships: dict[str, list[dict[str, Any]]] = defaultdict(list)
    villages: dict[str, list[dict[str, Any]]] = defaultdict(list)
    names: dict[str, str] = {}
    for r in rows:
        code = str(r["code"])
        names[code] = r["name"]
        if r["level"] == 4:
            townships[code[:6]].append({"code": code, "name": r["name"]})
        elif r["level"] == 5:
            villages[code[:9]].append({"code": code, "name": r["name"]})
    return {"townships": dict(townships), "villages": dict(villages), "names": names}


def _d(value: Decimal | int | float) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


class _Gen:
    def __init__(self, seed: int, people: int, enterprises: int) -> None:
        self.rng = random.Random(seed)
        self.target_people = people
        self.target_enterprises = enterprises
        self.regions = _regions()
        self.persons: list[_Person] = []
        self.by_id: dict[str, _Person] = {}
        self.used_seq: dict[tuple[str, datetime.date, str], set[int]] = defaultdict(set)
        self.phones: set[str] = {P.CITIZEN_PHONE, P.COMPANY_PHONE}
        self.households: list[dict[str, Any]] = []
        self.household_seq: dict[str, int] = defaultdict(int)
        self.marriages: list[dict[str, Any]] = []
        self.deaths: list[dict[str, Any]] = []
        self.counters: dict[Any, int] = defaultdict(int)
        self.unit_numbers: set[str] = set()
        self.single_parents: list[tuple[_Person, list[_Person]]] = []
        self.surname_names = [s for s, _ in SURNAMES]
        self.surname_cum = _cum([w for _, w in SURNAMES])
        self.ethnicity_names = [e for e, _ in ETHNICITIES]
        self.ethnicity_cum = _cum([w for _, w in ETHNICITIES])
        for number in (P.CITIZEN_ID, P.COMPANY_REP_ID):
            self.used_seq[(number[:6], _birth(number), _sex(number))].add(int(number[14:17]) // 2)

    # ---------------------------------------------------------------- small draws

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def date_between(self, start: datetime.date, end: datetime.date) -> datetime.date:
        if end <= start:
            return start
        return start + datetime.timedelta(days=self.rng.randrange((end - start).days + 1))

    def next(self, key: Any) -> int:
        self.counters[key] += 1
        return self.counters[key]

    def surname(self) -> str:
        return self.rng.choices(self.surname_names, cum_weights=self.surname_cum)[0]

    def given_name(self, sex: str, born: datetime.date) -> str:
        era = 0 if born.year < 1965 else 1 if born.year < 1990 else 2 if born.year < 2005 else 3
        chars = (MALE_CHARS if sex == "M" else FEMALE_CHARS)[era]
        single = self.chance(0.35 if era in (1, 2) else 0.15)
        if single:
            return self.rng.choice(chars)
        first = self.rng.choice(chars)
        second = self.rng.choice(chars)
        while second == first and self.chance(0.9):
            second = self.rng.choice(chars)
        return first + second

    def phone(self) -> str:
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def ethnicity(self, place: Place | None) -> str:
        if place and "畲族" in self.regions["names"].get(place.township, "") and self.chance(0.4):
            return "畲族"
        return self.rng.choices(self.ethnicity_names, cum_weights=self.ethnicity_cum)[0]

    def county(self) -> str:
        return self.rng.choices(COUNTIES, weights=COUNTY_WEIGHTS)[0]

    def place(self, county: str, urban: bool | None = None) -> Place:
        townships = self.regions["townships"][county]
        if urban is None:
            urban = self.chance(0.45)
        candidates = [t for t in townships if (int(t["code"][6:9]) < 100) == urban] or townships
        township = self.rng.choice(candidates)
        code = township["code"]
        prefix = COUNTY_NAMES[county] + township["name"]
        villages = self.regions["villages"].get(code[:9], [])
        if urban:
            communities = [v for v in villages if int(v["code"][9:]) < 200]
            road = self.rng.choice(ROADS[county])
            no = self.rng.randint(1, 399)
            if self.chance(0.8):
                estate = self.rng.choice(ESTATES)
                address = (
                    f"{prefix}{road}{no}号{estate}{self.rng.randint(1, 24)}幢"
                    f"{self.rng.randint(1, 3)}单元{self.rng.randint(1, 18)}0{self.rng.randint(1, 4)}室"
                )
            else:
                address = f"{prefix}{road}{no}号"
            region = self.rng.choice(communities)["code"] if communities else code
            return Place(county, code, region, address, True)
        if villages and self.chance(0.8):
            village = self.rng.choice(villages)
            return Place(
                county, code, village["code"], f"{prefix}{village['name']}{self.rng.randint(1, 260)}号", False
            )
        stem = township["name"].removesuffix("畲族乡").removesuffix("镇").removesuffix("乡")
        return Place(county, code, code, f"{prefix}{stem}村{self.rng.randint(1, 260)}号", False)

    def new_id(self, county: str, born: datetime.date, sex: str) -> str:
        used = self.used_seq[(county, born, sex)]
        seq = self.rng.randrange(500)
        while seq in used:
            seq = self.rng.randrange(500)
        used.add(seq)
        return make_resident_id(county, born, seq, sex)

    def id_county(self, home: str) -> str:
        return home if self.chance(0.85) else self.county()

    # ---------------------------------------------------------------- people

    def person(
        self,
        sex: str,
        born: datetime.date,
        home: str,
        *,
        surname: str | None = None,
        name: str | None = None,
        id_number: str | None = None,
        ethnicity: str | None = None,
        native: bool = False,
    ) -> _Person:
        """A new person living in county `home`; `native` ones (children) have an ID number of
        that county, others mostly."""
        born = min(max(born, FIRST_BIRTH), LAST_BIRTH)
        number = id_number or self.new_id(home if native else self.id_county(home), born, sex)
        full = name or (surname or self.surname()) + self.given_name(sex, born)
        p = _Person(number, full, sex, born, ethnicity or self.ethnicity(None), home)
        self.persons.append(p)
        self.by_id[number] = p
        return p

    def birthday(self, year: int) -> datetime.date:
        return self.date_between(datetime.date(year, 1, 1), datetime.date(year, 12, 31))

    def marry(self, a: _Person, b: _Person, on: datetime.date | None = None) -> None:
        husband, wife = (a, b) if a.sex == "M" else (b, a)
        if on is None:
            first_child = min((c.birth_date for c in husband.children + wife.children), default=None)
            on = self.wedding_date(husband, wife, first_child)
        husband.spouse, wife.spouse = wife, husband
        husband.married_on = wife.married_on = on
        self.marriages.append(self.marriage_row(husband, wife, on))

    def wedding_date(
        self, husband: _Person, wife: _Person, first_child: datetime.date | None
    ) -> datetime.date:
        """A date when both were of legal age (22 and 20), some months before the first child."""
        earliest = max(_legal_age(husband), _legal_age(wife), datetime.date(1958, 1, 1))
        latest = min(first_child - datetime.timedelta(days=300) if first_child else AS_OF, AS_OF)
        if latest <= earliest:
            return earliest
        return self.date_between(max(earliest, _add_years(latest, -4)), latest)

    def marriage_row(self, husband: _Person, wife: _Person, on: datetime.date) -> dict[str, Any]:
        county = husband.county if self.chance(0.6) else wife.county
        return {
            "husband_id": husband.id_number,
            "husband_name": husband.name,
            "wife_id": wife.id_number,
            "wife_name": wife.name,
            "registered_on": on,
            "certificate_number": f"J{county}-{on.year}-{self.next(('J', county, on.year)):06d}",
            "registry_office": f"{COUNTY_NAMES[county]}民政局婚姻登记处",
            "state": "married",
            "ended_on": None,
        }

    def child_of(self, mother: _Person | None, father: _Person | None, year: int, home: str) -> _Person:
        sex = self.rng.choice("MF")
        surname = None
        parent = father or mother
        assert parent is not None
        if father and self.chance(0.95):
            surname = _surname(father.name)
        elif mother:
            surname = _surname(mother.name)
        child = self.person(
            sex, self.birthday(year), home, surname=surname, ethnicity=parent.ethnicity, native=year >= 1990
        )
        child.mother, child.father = mother, father
        for p in (mother, father):
            if p:
                p.children.append(child)
        return child

    def settle(self, members: list[tuple[_Person, str]], place: Place, number: str | None = None) -> None:
        county = place.county
        if number is None:
            number = f"{county[4:6]}{self.next(('hh', county)):07d}"
        head = members[0][0]
        self.households.append(
            {
                "household_number": number,
                "head_id": head.id_number,
                "head_name": head.name,
                "address": place.address,
                "region_code": place.region_code,
                "household_type": "家庭户",
            }
        )
        for p, relation in members:
            p.place, p.household_number, p.relation = place, number, relation
            if p.age() >= 16 and not p.phone and self.chance(0.96):
                p.phone = self.phone()

    def couple(self, head_born: int, home: str, male_head: bool = True) -> tuple[_Person, _Person]:
        head_sex = "M" if male_head else "F"
        head = self.person(head_sex, self.birthday(head_born), home)
        other = "F" if male_head else "M"
        gap = self.rng.randint(-1, 4) if male_head else self.rng.randint(-4, 1)
        spouse_county = home if self.chance(0.75) else self.county()
        spouse = self.person(other, self.birthday(head_born + gap), spouse_county)
        return head, spouse

    def household(self) -> None:
        county = self.county()
        place = self.place(county)
        for_ethnicity = self.ethnicity(place)
        kind = self.rng.choices(
            ["young_family", "three_gen", "elderly", "single_parent", "couple"], weights=[40, 17, 23, 8, 12]
        )[0]
        members: list[tuple[_Person, str]] = []
        if kind in ("young_family", "three_gen", "couple"):
            born = self.rng.randint(1975, 2000) if kind == "couple" else self.rng.randint(1962, 1998)
            head, spouse = self.couple(born, county, male_head=self.chance(0.85))
            head.ethnicity = spouse.ethnicity = for_ethnicity
            husband, wife = (head, spouse) if head.sex == "M" else (spouse, head)
            kids = []
            if kind != "couple":
                year = wife.birth_date.year + self.rng.randint(22, 31)
                sizes = [1, 1, 2] if kind == "three_gen" else [1, 1, 2, 2, 2, 3]
                for _ in range(self.rng.choice(sizes)):
                    if year > LAST_BIRTH.year:
                        break
                    kids.append(self.child_of(wife, husband, year, county))
                    year += self.rng.randint(2, 6)
            self.marry(head, spouse)
            members = [(head, "户主"), (spouse, "配偶")] + [(c, _child_relation(c)) for c in kids]
            if kind == "three_gen":
                g_born = head.birth_date.year - self.rng.randint(24, 32)
                if g_born >= FIRST_BIRTH.year:
                    gf, gm = self.couple(g_born, county)
                    gf.ethnicity = gm.ethnicity = head.ethnicity
                    head.mother, head.father = gm, gf
                    gm.children.append(head)
                    gf.children.append(head)
                    self.marry(gf, gm)
                    # At most five in a household: with two grandchildren one grandparent has died.
                    if len(kids) == 2 or self.chance(0.3):
                        self.widow(gm if self.chance(0.6) else gf)
                    for g in (gf, gm):
                        if g.alive:
                            members.append((g, "父亲" if g.sex == "M" else "母亲"))
                        else:
                            g.place = place
        elif kind == "elderly":
            head, spouse = self.couple(self.rng.randint(1940, 1966), county, male_head=self.chance(0.9))
            head.ethnicity = spouse.ethnicity = for_ethnicity
            husband, wife = (head, spouse) if head.sex == "M" else (spouse, head)
            widowed = self.chance(0.3)
            members = [(head, "户主")] if widowed else [(head, "户主"), (spouse, "配偶")]
            # Grown-up children have mostly left (and are not registered here); one unmarried
            # child stays with a widowed parent and in some other households.
            if widowed or self.chance(0.35):
                year = min(wife.birth_date.year + self.rng.randint(24, 36), 2004)
                child = self.child_of(wife, husband, year, county)
                members.append((child, _child_relation(child)))
            self.marry(head, spouse)
            if widowed:
                self.widow(spouse)
                spouse.place = place
        else:  # single parent
            sex = "F" if self.chance(0.65) else "M"
            parent = self.person(sex, self.birthday(self.rng.randint(1970, 1995)), county)
            parent.ethnicity = for_ethnicity
            members = [(parent, "户主")]
            year = min(parent.birth_date.year + self.rng.randint(22, 30), LAST_BIRTH.year)
            kids = []
            for _ in range(self.rng.choice([1, 1, 2])):
                if year > LAST_BIRTH.year:
                    break
                mother, father = (parent, None) if sex == "F" else (None, parent)
                kid = self.child_of(mother, father, year, county)
                kids.append(kid)
                members.append((kid, _child_relation(kid)))
                year += self.rng.randint(2, 5)
            self.single_parents.append((parent, kids))
        self.settle(members, place)

    def widow(self, deceased: _Person, after: datetime.date | None = None) -> None:
        """Marks `deceased` (married) as dead: a death record and the marriage ended by death."""
        start = max(
            after or datetime.date(1990, 1, 1),
            deceased.married_on or datetime.date(1990, 1, 1),
            *(c.birth_date for c in deceased.children),
        ) + datetime.timedelta(days=200)
        when = self.date_between(start, AS_OF - datetime.timedelta(days=30))
        deceased.alive = False
        county = deceased.county
        hospital = self.chance(0.6)
        place = self.rng.choice(HOSPITALS[county]) if hospital else "家中"
        self.deaths.append(
            {
                "deceased_id": deceased.id_number,
                "deceased_name": deceased.name,
                "death_date": when,
                "place": place,
                "certificate_number": f"{county}{when.year}{self.next(('death', county, when.year)):05d}",
            }
        )
        for m in self.marriages:
            if deceased.id_number in (m["husband_id"], m["wife_id"]) and m["state"] == "married":
                m["state"], m["ended_on"] = "widowed", when

    def pair_single_parents(self) -> None:
        """Gives each single parent a former spouse: divorced from a person who remarried later,
        or widowed (the spouse is in the population with a death record)."""
        pool = {
            "M": [p for p in self.persons if p.sex == "M" and p.spouse and p.alive and p.married_on],
            "F": [p for p in self.persons if p.sex == "F" and p.spouse and p.alive and p.married_on],
        }
        taken: set[str] = set()
        for parent, kids in self.single_parents:
            first_kid = min(k.birth_date for k in kids)
            last_kid = max(k.birth_date for k in kids)
            married_on = self.wedding_date(parent, parent, first_kid)
            other = "F" if parent.sex == "M" else "M"
            ex: _Person | None = None
            if self.chance(0.55):
                divorced_on = self.date_between(
                    last_kid + datetime.timedelta(days=365), last_kid + datetime.timedelta(days=365 * 4)
                )
                if divorced_on < AS_OF - datetime.timedelta(days=180):
                    candidates = pool[other]
                    start = self.rng.randrange(len(candidates)) if candidates else 0
                    for i in range(len(candidates)):
                        c = candidates[(start + i) % len(candidates)]
                        if (
                            c.id_number not in taken
                            and abs(c.birth_date.year - parent.birth_date.year) <= 6
                            and _legal_age(c) <= married_on
                            and c.married_on
                            and c.married_on > divorced_on + datetime.timedelta(days=180)
                        ):
                            ex = c
                            break
                if ex is not None:
                    taken.add(ex.id_number)
                    husband, wife = (parent, ex) if parent.sex == "M" else (ex, parent)
                    row = self.marriage_row(husband, wife, married_on)
                    row["state"], row["ended_on"] = "divorced", divorced_on
                    self.marriages.append(row)
                    for k in kids:
                        if parent.sex == "F":
                            k.father = ex
                        else:
                            k.mother = ex
                    continue
            late_born = parent.birth_date.year + (
                self.rng.randint(-4, 0) if other == "M" else self.rng.randint(-2, 0)
            )
            late = self.person(other, self.birthday(late_born), parent.county)
            late.children, late.place = list(kids), parent.place
            for k in kids:
                if parent.sex == "F":
                    k.father = late
                else:
                    k.mother = late
            parent.spouse, late.spouse = late, parent
            husband, wife = (parent, late) if parent.sex == "M" else (late, parent)
            married_on = self.wedding_date(husband, wife, first_kid)
            self.marriages.append(self.marriage_row(husband, wife, married_on))
            parent.married_on = late.married_on = married_on
            self.widow(late, after=last_kid)

    # ---------------------------------------------------------------- personas

    def personas(self) -> dict[str, _Person]:
        # 陈晓明 lives in 黄泥畈村, 廿里镇 (衢江区) with his wife and son.
        nianli = "330803112000"
        village = next(v for v in self.regions["villages"][nianli[:9]] if v["name"] == "黄泥畈村")
        home = Place(
            "330803", nianli, village["code"], f"{COUNTY_NAMES['330803']}廿里镇黄泥畈村18号", urban=False
        )
        citizen = self.person(
            "M", _birth(P.CITIZEN_ID), "330803", name=P.CITIZEN_NAME, id_number=P.CITIZEN_ID, ethnicity="汉族"
        )
        citizen.phone = P.CITIZEN_PHONE
        wife = self.person("F", datetime.date(1992, 8, 20), "330803", name="徐婷", ethnicity="汉族")
        son = self.person(
            "M", datetime.date(2019, 3, 15), "330803", name="陈梓轩", ethnicity="汉族", native=True
        )
        son.mother, son.father = wife, citizen
        citizen.children.append(son)
        wife.children.append(son)
        self.marry(citizen, wife, datetime.date(2016, 5, 20))
        self.settle([(citizen, "户主"), (wife, "配偶"), (son, "子")], home)
        # 周丽华, the company's legal representative, lives in 荷花街道 (柯城区).
        hehua = "330802002000"
        rep_home = Place(
            "330802", hehua, hehua, f"{COUNTY_NAMES['330802']}荷花街道荷五路56号锦绣华庭3幢2单元801室", True
        )
        rep = self.person(
            "F", _birth(P.COMPANY_REP_ID), "330802", name=P.COMPANY_REP_NAME, id_number=P.COMPANY_REP_ID
        )
        rep.ethnicity = "汉族"
        rep.phone = P.COMPANY_PHONE
        husband = self.person("M", datetime.date(1983, 4, 9), "330802", name="郑建峰", ethnicity="汉族")
        daughter = self.person(
            "F", datetime.date(2012, 9, 27), "330802", name="郑雨桐", ethnicity="汉族", native=True
        )
        daughter.mother, daughter.father = rep, husband
        rep.children.append(daughter)
        husband.children.append(daughter)
        self.marry(husband, rep, datetime.date(2010, 10, 8))
        self.settle([(husband, "户主"), (rep, "配偶"), (daughter, "女")], rep_home)
        return {"citizen": citizen, "wife": wife, "son": son, "rep": rep}

    # ---------------------------------------------------------------- enterprises

    def enterprises(self, personas: dict[str, _Person]) -> list[dict[str, Any]]:
        adults = [p for p in self.persons if p.alive and 25 <= p.age() <= 65]
        self.rng.shuffle(adults)
        reps = iter(p for p in adults if p.id_number not in (P.CITIZEN_ID, P.COMPANY_REP_ID))
        names: set[str] = {P.COMPANY_NAME}
        codes: set[str] = {P.COMPANY_USCC[8:17]}
        rows: list[dict[str, Any]] = [
            {
                "uscc": P.COMPANY_USCC,
                "name": P.COMPANY_NAME,
                "status": "存续",
                "licence_void_notice": "",
                "legal_rep_id": P.COMPANY_REP_ID,
                "legal_rep_name": P.COMPANY_REP_NAME,
                "enterprise_type": "有限责任公司(自然人投资或控股)",
                "registered_capital": _d(100),
                "address": f"{COUNTY_NAMES['330803']}廿里镇黄泥畈村农产品加工园8号",
                "region_code": "330803112000",
                "established_on": datetime.date(2018, 6, 15),
                "status_changed_on": None,
                "business_scope": "农副产品收购、销售；食用农产品初加工；农业技术开发、技术推广；"
                "食品经营（销售预包装食品）",
                "_weight": 3,
                "_manufacturing": True,
                "_pf": True,
                "_arrears": False,
                "_rep": personas["rep"],
            }
        ]
        types = [t for t, _ in ENTERPRISE_TYPES]
        type_weights = [w for _, w in ENTERPRISE_TYPES]
        while len(rows) < self.target_enterprises:
            county = self.county()
            established = self.date_between(datetime.date(1996, 1, 1), datetime.date(2026, 9, 30))
            if established.year < 2012 and self.chance(0.4):
                established = self.date_between(datetime.date(2012, 1, 1), datetime.date(2026, 9, 30))
            if established.year >= 2015:
                org = "MA" + "".join(self.rng.choice(USCC_CHARSET) for _ in range(7))
            else:
                org = f"{self.rng.randrange(10**9):09d}"
            if org in codes:
                continue
            industry, scope, weight, manufacturing = self.rng.choice(INDUSTRIES)
            etype = self.rng.choices(types, weights=type_weights)[0]
            trade = (
                self.rng.choice(TRADE_NAMES2) + self.rng.choice(TRADE_NAMES)
                if self.chance(0.3)
                else self.rng.choice(TRADE_NAMES) + self.rng.choice(TRADE_NAMES)
            )
            if trade[-1] == trade[-2]:
                continue
            prefix = self.rng.choice(
                ["衢州", "衢州市", COUNTY_NAMES[county]]
                if county in ("330802", "330803")
                else ["衢州", COUNTY_NAMES[county], COUNTY_NAMES[county][:2]]
            )
            if etype == "个人独资企业":
                name = f"{COUNTY_NAMES[county]}{trade}{industry}{self.rng.choice(['经营部', '商行', '厂'])}"
            elif etype == "有限合伙企业":
                name = f"衢州{trade}{self.rng.choice(['投资管理', '企业管理咨询'])}合伙企业（有限合伙）"
                scope = "股权投资；企业管理咨询；以自有资金从事投资活动"
            elif etype.startswith("股份"):
                name = f"浙江{trade}{industry}股份有限公司"
            elif etype.startswith("有限责任公司分公司"):
                name = f"浙江{trade}{industry}有限公司{COUNTY_NAMES[county][-3:]}分公司"
            else:
                name = f"{prefix}{trade}{industry}有限公司"
            if name in names:
                continue
            names.add(name)
            codes.add(org)
            rep = next(reps)
            status = self.rng.choices(["存续", "注销", "吊销"], weights=[88, 7, 5])[0]
            changed = None
            notice = ""
            if status != "存续":
                changed = self.date_between(established + datetime.timedelta(days=400), AS_OF)
                if status == "注销" and self.chance(0.7):
                    notice = f"营业执照正、副本已于{changed:%Y年%m月%d日}在国家企业信用信息公示系统公告作废"
            elif self.chance(0.02):
                lost = self.date_between(established, AS_OF)
                notice = f"营业执照正本遗失，已于{lost:%Y年%m月%d日}在国家企业信用信息公示系统声明作废"
            if manufacturing and self.chance(0.45):
                road = self.rng.choice(ROADS[county])
                address = f"{COUNTY_NAMES[county]}{PARKS[county]}{road}{self.rng.randint(1, 300)}号"
                region = self.rng.choice(self.regions["townships"][county])["code"]
            else:
                place = self.place(county, urban=self.chance(0.7))
                address, region = place.address, place.region_code
            capital = self.rng.choice(CAPITALS)
            if etype.startswith("股份"):
                capital = max(capital, Decimal(1000))
            rows.append(
                {
                    "uscc": make_uscc("9", "1", county, org),
                    "name": name,
                    "status": status,
                    "licence_void_notice": notice,
                    "legal_rep_id": rep.id_number,
                    "legal_rep_name": rep.name,
                    "enterprise_type": etype,
                    "registered_capital": _d(capital),
                    "address": address,
                    "region_code": region,
                    "established_on": established,
                    "status_changed_on": changed,
                    "business_scope": scope,
                    "_weight": weight * (3 if capital >= 1000 else 1),
                    "_manufacturing": manufacturing,
                    "_pf": capital >= 500 or self.chance(0.4),
                    "_arrears": self.chance(0.04),
                    "_rep": rep,
                }
            )
        return rows

    # ---------------------------------------------------------------- employment

    def employment(self, enterprises: list[dict[str, Any]], personas: dict[str, _Person]) -> None:
        active = [e for e in enterprises if e["status"] == "存续"]
        closed = [e for e in enterprises if e["status"] != "存续"]
        cum = _cum([e["_weight"] for e in active])
        company = enterprises[0]
        for e in enterprises:
            rep = e["_rep"]
            if rep.employer is None and 18 <= rep.age() <= 60 and e["status"] == "存续":
                rep.employer = e
                rep.hired_on = e["established_on"]
        citizen = personas["citizen"]
        citizen.employer, citizen.hired_on = company, datetime.date(2018, 7, 1)
        for p in self.persons:
            if p.employer is not None or not p.alive or not 18 <= p.age() <= 60:
                continue
            if self.chance(0.62):
                e = self.rng.choice(closed) if closed and self.chance(0.05) else None
                if e is None:
                    e = self.rng.choices(active, cum_weights=cum)[0]
                p.employer = e
                start = max(e["established_on"], _add_years(p.birth_date, 18))
                end = e["status_changed_on"] or AS_OF
                p.hired_on = self.date_between(start, end - datetime.timedelta(days=60)).replace(day=1)

    def social_security(self, enterprises: list[dict[str, Any]]) -> tuple[list[dict], list[dict]]:
        rows = []
        for p in self.persons:
            if not p.alive or p.age() < 18:
                continue
            row = {
                "person_id": p.id_number,
                "person_name": p.name,
                "insurance_type": "企业职工基本养老保险",
                "insured_status": "参保缴费",
                "unit_name": "",
                "employer_uscc": "",
                "insured_since": None,
                "payment_history": "",
                "arrears": _d(0),
            }
            e = p.employer
            if e is not None:
                active = e["status"] == "存续"
                row["unit_name"], row["employer_uscc"] = e["name"], e["uscc"]
                row["insured_since"] = p.hired_on
                months = _months_between(p.hired_on, AS_OF)
                if active:
                    pattern = ["1"] * 12
                    if self.chance(0.05):
                        pattern[self.rng.randrange(12)] = "0"
                    if e["_arrears"] and self.chance(0.7):
                        pattern[-1] = "0"
                        row["arrears"] = _d(self.rng.randint(800, 2400))
                else:
                    row["insured_status"] = "暂停缴费"
                    stopped = _months_between(e["status_changed_on"], AS_OF)
                    pattern = ["1" if i < 12 - stopped else "0" for i in range(12)]
                pattern = ["0" if i < 12 - months else c for i, c in enumerate(pattern)]
                row["payment_history"] = "".join(pattern)
            elif p.age() > 60 and self.chance(0.5):
                row["insured_status"] = "退休"
                row["insured_since"] = self.date_between(
                    _add_years(p.birth_date, 20), datetime.date(2005, 12, 31)
                ).replace(day=1)
                row["payment_history"] = "0" * 12
            elif self.chance(0.55):
                row["insurance_type"] = "城乡居民基本养老保险"
                row["insured_since"] = self.date_between(datetime.date(2010, 1, 1), AS_OF).replace(day=1)
                if p.age() >= 60:
                    row["insured_status"] = "领取待遇"
                    row["payment_history"] = "0" * 12
                else:
                    # Residents pay once a year, usually between March and June.
                    pattern = ["0"] * 12
                    if self.chance(0.9):
                        pattern[self.rng.randint(4, 7)] = "1"
                    row["payment_history"] = "".join(pattern)
            elif 18 <= p.age() <= 60 and self.chance(0.25):
                row["insured_status"] = "参保缴费"
                row["unit_name"] = "灵活就业人员"
                row["insured_since"] = self.date_between(datetime.date(2008, 1, 1), AS_OF).replace(day=1)
                row["payment_history"] = "".join("1" if self.chance(0.9) else "0" for _ in range(12))
            else:
                continue
            rows.append(row)
        units = []
        counts: dict[str, int] = defaultdict(int)
        arrears: dict[str, Decimal] = defaultdict(Decimal)
        for r in rows:
            if r["employer_uscc"] and r["insured_status"] == "参保缴费":
                counts[r["employer_uscc"]] += 1
                arrears[r["employer_uscc"]] += r["arrears"]
        for e in enterprises:
            if e["uscc"] not in counts and e["status"] == "存续" and not self.chance(0.2):
                continue
            units.append(
                {
                    "employer_uscc": e["uscc"],
                    "unit_name": e["name"],
                    "unit_number": f"{e['uscc'][4:8]}{self.next('ss-unit'):06d}",
                    "registered_on": e["established_on"] + datetime.timedelta(days=self.rng.randint(10, 90)),
                    "unit_status": "正常" if e["status"] == "存续" else "注销",
                    "active_insured": counts.get(e["uscc"], 0),
                    "arrears": _d(arrears.get(e["uscc"], Decimal(0))),
                }
            )
        return rows, units

    def provident_fund(self, enterprises: list[dict[str, Any]]) -> tuple[list[dict], list[dict]]:
        rows = []
        counts: dict[str, int] = defaultdict(int)
        for p in self.persons:
            e = p.employer
            if not p.alive or e is None or not e["_pf"] or p.hired_on is None:
                continue
            if p.id_number != P.CITIZEN_ID and not self.chance(0.75):
                continue
            opened = max(p.hired_on, datetime.date(2000, 1, 1))
            base = self.rng.choice([2490, 3000, 3600, 4200, 5000, 6000, 7500, 9000, 12000])
            rate = self.rng.choice([Decimal("0.05"), Decimal("0.08"), Decimal("0.10"), Decimal("0.12")])
            monthly = _d(base * rate * 2)
            active = e["status"] == "存续"
            months = _months_between(opened, e["status_changed_on"] or AS_OF)
            continuous = min(months, self.rng.randint(3, 240)) if active else 0
            if p.id_number == P.CITIZEN_ID:
                base, monthly, continuous = 6000, _d(1440), months
            balance = _d(monthly * months * Decimal(self.rng.uniform(0.25, 1.0)))
            rows.append(
                {
                    "account_number": f"{e['uscc'][4:8]}{self.next('pf'):08d}",
                    "person_id": p.id_number,
                    "person_name": p.name,
                    "employer_uscc": e["uscc"],
                    "unit_name": e["name"],
                    "status": "正常" if active else "封存",
                    "opened_on": opened,
                    "balance": balance,
                    "monthly_deposit": monthly,
                    "continuous_months": continuous,
                }
            )
            if active:
                counts[e["uscc"]] += 1
        units = []
        for e in enterprises:
            if not e["_pf"] or (e["uscc"] not in counts and e["status"] == "存续"):
                continue
            units.append(
                {
                    "employer_uscc": e["uscc"],
                    "unit_name": e["name"],
                    "unit_account_number": f"{e['uscc'][4:8]}{self.next('pf-unit'):06d}",
                    "active_accounts": counts.get(e["uscc"], 0),
                    "arrears": _d(self.rng.randint(2000, 30000))
                    if e["_arrears"] and self.chance(0.6)
                    else _d(0),
                }
            )
        return rows, units

    # ---------------------------------------------------------------- real estate

    def unit_number(self, place: Place, right: str, building: int, room: int) -> str:
        while True:
            parcel = self.next(("parcel", place.township))
            zone = f"{place.township[:9]}{self.rng.randint(1, 3):03d}"  # 地籍区 + 地籍子区
            number = f"{zone}{right}{parcel:05d}F{building:04d}{room:04d}"
            if number not in self.unit_numbers:
                self.unit_numbers.add(number)
                return number

    def deed_number(self, county: str, year: int) -> str:
        return (
            f"浙({year}){DEED_PLACE[county]}不动产权第{self.next(('deed', DEED_PLACE[county], year)):07d}号"
        )

    def unit_row(
        self,
        place: Place,
        use: str,
        owners: list[tuple[str, str, str]],
        *,
        urban: bool,
        registered: datetime.date,
    ) -> dict[str, Any]:
        county = place.county
        if urban:
            low, high = {"住宅": (55, 160), "车位": (12, 16), "商业": (30, 300), "办公": (80, 1200)}.get(
                use, (500, 20000)
            )
            area = _d(self.rng.uniform(low, high))
            per_m2 = {"330802": 15000, "330803": 11000, "330881": 11000, "330825": 10000}.get(county, 9000)
            factor = 0.45 + 0.55 * max(0, registered.year - 2005) / 21
            price = _d(round(float(area) * per_m2 * factor * self.rng.uniform(0.8, 1.25), -3))
            deed_tax = self.chance(0.97)
            right = "GB"
            right_type = "国有建设用地使用权/房屋所有权"
        else:
            area = _d(self.rng.uniform(90, 320))
            price, deed_tax, right = None, None, "JC"
            right_type = "宅基地使用权/房屋所有权"
        building, room = (self.rng.randint(1, 30), self.rng.randint(1, 18) * 100 + self.rng.randint(1, 4))
        if not urban:
            building, room = 1, 1
        return {
            "unit_number": self.unit_number(place, right, building, room),
            "address": place.address,
            "region_code": place.region_code,
            "area": area,
            "use": use,
            "right_type": right_type,
            "price": price,
            "deed_tax_paid": deed_tax,
            "certificate_number": self.deed_number(county, registered.year),
            "registered_on": registered,
            "owners": [
                {"owner_id": i, "owner_name": n, "share": s, "position": k}
                for k, (i, n, s) in enumerate(owners)
            ],
        }

    def real_estate(self, enterprises: list[dict[str, Any]], personas: dict[str, _Person]) -> list[dict]:
        rows = []
        heads = {h["household_number"]: h for h in self.households}
        seen: set[str] = set()
        for p in self.persons:
            if not p.alive or p.relation != "户主" or p.household_number in seen:
                continue
            seen.add(p.household_number)
            if p.id_number == P.CITIZEN_ID or not self.chance(0.88):
                continue
            place = p.place
            assert place is not None and heads[p.household_number]["head_id"] == p.id_number
            owners = [(p.id_number, p.name, "单独所有")]
            if p.spouse and p.spouse.alive and self.chance(0.6):
                owners = [(p.id_number, p.name, "共同共有"), (p.spouse.id_number, p.spouse.name, "共同共有")]
            start = max(datetime.date(2005, 1, 1), _add_years(p.birth_date, 22))
            if place.urban:
                registered = self.date_between(start, AS_OF - datetime.timedelta(days=20))
            else:
                registered = self.date_between(
                    max(start, datetime.date(2015, 1, 1)), datetime.date(2024, 12, 31)
                )
            rows.append(self.unit_row(place, "住宅", owners, urban=place.urban, registered=registered))
            if self.chance(0.1):
                second = self.place(place.county, urban=True)
                use = self.rng.choice(["住宅", "商业", "车位"])
                rows.append(
                    self.unit_row(
                        second,
                        use,
                        owners,
                        urban=True,
                        registered=self.date_between(start, datetime.date(2026, 6, 30)),
                    )
                )
        # 陈晓明 and his wife bought a flat in 樟潭街道 in 2020.
        c, w = personas["citizen"], personas["wife"]
        zt = "330803001000"
        flat = Place(
            "330803", zt, "330803001001", f"{COUNTY_NAMES['330803']}樟潭街道振兴中路88号江南春5幢1203室", True
        )
        row = self.unit_row(
            flat,
            "住宅",
            [(c.id_number, c.name, "共同共有"), (w.id_number, w.name, "共同共有")],
            urban=True,
            registered=datetime.date(2020, 9, 18),
        )
        row["area"], row["price"], row["deed_tax_paid"] = _d("108.56"), _d(1150000), True
        rows.append(row)
        for e in enterprises:
            if e["status"] != "存续" or not self.chance(0.2 if e["_manufacturing"] else 0.08):
                continue
            place = Place(e["uscc"][2:8], e["region_code"][:9] + "000", e["region_code"], e["address"], True)
            use = "工业" if e["_manufacturing"] else self.rng.choice(["商业", "办公"])
            registered = self.date_between(e["established_on"], AS_OF - datetime.timedelta(days=20))
            rows.append(
                self.unit_row(
                    place, use, [(e["uscc"], e["name"], "单独所有")], urban=True, registered=registered
                )
            )
        return rows

    # ---------------------------------------------------------------- the rest

    def births(self) -> list[dict[str, Any]]:
        rows = []
        for p in self.persons:
            if p.birth_date.year < 2000 or not p.alive or not (p.mother or p.father):
                continue
            hospital_county = p.county if self.chance(0.8) else self.rng.choice(["330802", "330803"])
            letter = "JKMOPQR"[min(6, (p.birth_date.year - 2000) // 4)]
            rows.append(
                {
                    "certificate_number": f"{letter}33{self.next(('birth', letter)) * 7919 % 10**7:07d}",
                    "child_name": p.name,
                    "child_id": p.id_number,
                    "sex": p.sex,
                    "birth_date": p.birth_date,
                    "hospital": self.rng.choice(HOSPITALS[hospital_county]),
                    "mother_id": p.mother.id_number if p.mother else "",
                    "mother_name": p.mother.name if p.mother else "",
                    "father_id": p.father.id_number if p.father else "",
                    "father_name": p.father.name if p.father else "",
                }
            )
        return rows

    def qualifications(self, personas: dict[str, _Person]) -> list[dict[str, Any]]:
        rows = []
        for p in self.persons:
            if not p.alive or not 20 <= p.age() <= 65:
                continue
            if p.id_number == P.CITIZEN_ID:
                choices = [QUALIFICATIONS[1]]
            elif self.chance(0.09):
                choices = [self.rng.choice(QUALIFICATIONS)]
                if self.chance(0.1):
                    choices.append(self.rng.choice(QUALIFICATIONS))
            else:
                continue
            for category, kind, registered, prefix in choices:
                issued = self.date_between(_add_years(p.birth_date, 20), AS_OF)
                unit = p.employer if registered and p.employer and p.employer["status"] == "存续" else None
                valid_to = None
                if registered:
                    valid_to = _add_years(issued, 3 if unit is None else self.rng.choice([3, 4, 5]))
                if p.id_number == P.CITIZEN_ID:
                    issued, valid_to = datetime.date(2021, 11, 20), datetime.date(2027, 6, 30)
                    unit = p.employer
                rows.append(
                    {
                        "certificate_number": (
                            f"{prefix}{issued.year}{p.county[2:6]}{self.next(('q', prefix)):05d}"
                        ),
                        "holder_id": p.id_number,
                        "holder_name": p.name,
                        "category": category,
                        "qualification_type": kind,
                        "register_unit": unit["name"] if unit else "",
                        "register_unit_uscc": unit["uscc"] if unit else "",
                        "issued_on": issued,
                        "valid_to": valid_to,
                    }
                )
        return rows

    def disabilities(self) -> list[dict[str, Any]]:
        rows = []
        for p in self.persons:
            rate = 0.06 if p.age() >= 60 else 0.015
            if not p.alive or p.id_number in (P.CITIZEN_ID, P.COMPANY_REP_ID) or not self.chance(rate):
                continue
            cat = self.rng.choices(range(7), weights=[12, 20, 2, 45, 8, 9, 4])[0]
            grade = self.rng.choices(range(4), weights=[12, 22, 30, 36])[0]
            issued = self.date_between(max(p.birth_date, datetime.date(2012, 1, 1)), AS_OF)
            rows.append(
                {
                    "certificate_no": f"{p.id_number}{cat + 1}{grade + 1}",
                    "holder_id": p.id_number,
                    "holder_name": p.name,
                    "category": DISABILITY_CATEGORIES[cat],
                    "grade": DISABILITY_GRADES[grade],
                    "issued_on": issued,
                    "valid_to": _add_years(issued, 10),
                }
            )
        return rows

    def plate(self, new_energy: bool) -> str:
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        while True:
            if new_energy:
                tail = self.rng.choice("DF") + f"{self.rng.randrange(10**5):05d}"
            else:
                chars = [self.rng.choice("0123456789") for _ in range(5)]
                for i in self.rng.sample(range(5), self.rng.choice([0, 1, 1, 2])):
                    chars[i] = self.rng.choice(letters)
                tail = "".join(chars)
            number = "浙H" + tail
            if self.next(("plate", number)) == 1:
                return number

    def vehicles(self, enterprises: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = []

        def add(owner_id: str, owner_name: str, truck: bool, since: datetime.date) -> None:
            registered = self.date_between(max(since, datetime.date(2006, 1, 1)), AS_OF)
            new_energy = not truck and registered.year >= 2019 and self.chance(0.35)
            if truck:
                vtype = self.rng.choice(["轻型普通货车", "重型普通货车", "重型半挂牵引车"])
                brand, energy = self.rng.choice(TRUCK_BRANDS), "柴油"
            else:
                vtype = self.rng.choices(["小型轿车", "小型普通客车", "二轮摩托车"], weights=[55, 35, 10])[0]
                if vtype == "二轮摩托车":
                    new_energy = False
                    brand = self.rng.choice(MOTORCYCLE_BRANDS)
                else:
                    brand = self.rng.choice(EV_BRANDS if new_energy else CAR_BRANDS)
                energy = self.rng.choice(["纯电动", "插电式混合动力"]) if new_energy else "汽油"
            rows.append(
                {
                    "plate_number": self.plate(new_energy),
                    "vehicle_type": vtype,
                    "owner_id": owner_id,
                    "owner_name": owner_name,
                    "brand_model": brand,
                    "energy_type": energy,
                    "registered_on": registered,
                    "status": "正常" if self.chance(0.95) else self.rng.choice(["抵押", "逾期未检验"]),
                }
            )

        for p in self.persons:
            if not p.alive or not 20 <= p.age() <= 75:
                continue
            if p.id_number == P.CITIZEN_ID or self.chance(0.38 if p.sex == "M" else 0.18):
                add(p.id_number, p.name, False, _add_years(p.birth_date, 20))
        for e in enterprises:
            if e["status"] == "存续" and self.chance(0.2):
                for _ in range(self.rng.randint(1, 3)):
                    add(e["uscc"], e["name"], self.chance(0.7), e["established_on"])
        return rows

    def tax_clearance(self, enterprises: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = []
        for e in enterprises:
            county = e["uscc"][2:8]
            cleared = (
                not e["_arrears"] if e["status"] == "存续" else e["status"] == "注销" or self.chance(0.2)
            )
            if e["uscc"] == P.COMPANY_USCC:
                cleared = True
            checked = e["status_changed_on"] or self.date_between(datetime.date(2026, 1, 1), AS_OF)
            receipt = ""
            if cleared:
                serial = self.next(("tax", county, checked.year))
                receipt = f"{COUNTY_SHORT[county]}税 税清〔{checked.year}〕{serial}号"
            rows.append(
                {
                    "uscc": e["uscc"],
                    "taxpayer_name": e["name"],
                    "status": "已清税" if cleared else "未清税",
                    "unpaid_amount": _d(0) if cleared else _d(self.rng.randint(500, 80000)),
                    "receipt_no": receipt,
                    "checked_on": checked,
                }
            )
        return rows

    # ---------------------------------------------------------------- all

    def run(self) -> dict[str, list[dict[str, Any]]]:
        personas = self.personas()
        while len(self.persons) < self.target_people:
            self.household()
        self.pair_single_parents()
        enterprises = self.enterprises(personas)
        # The company employs a few people from 衢江区 besides its manager and legal representative.
        company = enterprises[0]
        staff = [
            p
            for p in self.persons
            if p.alive and p.county == "330803" and 20 <= p.age() <= 55 and p.employer is None
        ][:5]
        for p in staff:
            p.employer, p.hired_on = (
                company,
                self.date_between(datetime.date(2018, 7, 1), datetime.date(2025, 12, 1)),
            )
        self.employment(enterprises, personas)
        social, social_units = self.social_security(enterprises)
        fund, fund_units = self.provident_fund(enterprises)
        result = {
            "population": [
                {
                    "id_number": p.id_number,
                    "name": p.name,
                    "sex": p.sex,
                    "birth_date": p.birth_date,
                    "ethnicity": p.ethnicity,
                    "address": "浙江省" + (p.place.address if p.place else COUNTY_NAMES[p.county]),
                    "region_code": p.place.region_code if p.place else p.county + "000000",
                    "household_number": p.household_number if p.alive else "",
                    "relation": p.relation if p.alive else "",
                    "phone": p.phone if p.alive else "",
                    "status": "正常" if p.alive else "死亡注销",
                }
                for p in self.persons
            ],
            "household": self.households,
            "birth": self.births(),
            "marriage": self.marriages,
            "death": self.deaths,
            "enterprise": [{k: v for k, v in e.items() if not k.startswith("_")} for e in enterprises],
            "real_estate": self.real_estate(enterprises, personas),
            "social_security": social,
            "social_security_unit": social_units,
            "provident_fund": fund,
            "provident_fund_unit": fund_units,
            "qualification": self.qualifications(personas),
            "disability": self.disabilities(),
            "vehicle": self.vehicles(enterprises),
            "tax_clearance": self.tax_clearance(enterprises),
        }
        return result


def _cum(weights: list[int]) -> list[int]:
    total, out = 0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _birth(number: str) -> datetime.date:
    return datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def _sex(number: str) -> str:
    return "M" if int(number[16]) % 2 else "F"


def _surname(name: str) -> str:
    return name[0]


def _add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _legal_age(p: _Person) -> datetime.date:
    """The day `p` may marry (22 for men, 20 for women)."""
    return _add_years(p.birth_date, 22 if p.sex == "M" else 20)


def _child_relation(child: _Person) -> str:
    return "子" if child.sex == "M" else "女"


def _months_between(start: datetime.date | None, end: datetime.date) -> int:
    if start is None:
        return 0
    return max(0, (end.year - start.year) * 12 + end.month - start.month + 1)


def generate(
    seed: int = 2026, people: int = 6000, enterprises: int = 1200
) -> dict[str, list[dict[str, Any]]]:
    """The demo registries as plain rows: {dataset: [row, ...]} (real_estate rows carry their
    `owners`; social_security_unit and provident_fund_unit are the employers' accounts).

    `people` counts every person in the population register (the dead included); the result has
    at least that many. The same arguments always give the same rows.
    """
    return _Gen(seed, people, enterprises).run()
