"""The registries of other departments, as the demo city keeps them (DESIGN §6).

In production these are remote systems reached by the `http` connector; in the demo city they
are these tables, filled by `registry.load` from synthetic, seeded data and read by
`registry.lookup` for the `local` connector. The data is synthetic, but it is personal data in
form and is treated as real: the admin is read-only and masks ID numbers and phone numbers.

Subject keys (resident ID numbers, USCCs, unit numbers) are plain indexed strings, not foreign
keys: each registry belongs to a different department and must not depend on another's tables.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class Person(models.Model):
    """常住人口登记 (公安): one resident. `status` is 正常 or 死亡注销 (the register keeps the dead,
    deregistered, without a household)."""

    id_number = models.CharField(_("公民身份号码"), max_length=18, unique=True)
    name = models.CharField(_("姓名"), max_length=50)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("出生日期"))
    ethnicity = models.CharField(_("民族"), max_length=20)
    address = models.CharField(_("住址"), max_length=200)
    region_code = models.CharField(_("户籍地区划代码"), max_length=12)
    household_number = models.CharField(_("户号"), max_length=20, blank=True, db_index=True)
    relation = models.CharField(_("与户主关系"), max_length=20, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    status = models.CharField(_("户籍状态"), max_length=20, default="正常")

    class Meta:
        verbose_name = _("人口")
        verbose_name_plural = _("人口")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Household(models.Model):
    """户籍登记 (公安): one household; its members are the living persons with its number."""

    household_number = models.CharField(_("户号"), max_length=20, unique=True)
    head_id = models.CharField(_("户主身份号码"), max_length=18, db_index=True)
    head_name = models.CharField(_("户主姓名"), max_length=50)
    address = models.CharField(_("住址"), max_length=200)
    region_code = models.CharField(_("区划代码"), max_length=12)
    household_type = models.CharField(_("户别"), max_length=20, default="家庭户")

    class Meta:
        verbose_name = _("户籍")
        verbose_name_plural = _("户籍")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.household_number


class Birth(models.Model):
    """出生医学证明 (卫健): a birth with the child's and parents' ID numbers."""

    certificate_number = models.CharField(_("出生医学证明编号"), max_length=20, unique=True)
    child_name = models.CharField(_("新生儿姓名"), max_length=50)
    child_id = models.CharField(_("新生儿身份号码"), max_length=18, unique=True)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("出生日期"))
    hospital = models.CharField(_("接生机构"), max_length=100)
    mother_id = models.CharField(_("母亲身份号码"), max_length=18, blank=True, db_index=True)
    mother_name = models.CharField(_("母亲姓名"), max_length=50, blank=True)
    father_id = models.CharField(_("父亲身份号码"), max_length=18, blank=True, db_index=True)
    father_name = models.CharField(_("父亲姓名"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("出生登记")
        verbose_name_plural = _("出生登记")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.certificate_number


class MarriageState(models.TextChoices):
    MARRIED = "married", _("婚姻存续")
    DIVORCED = "divorced", _("已离婚")
    WIDOWED = "widowed", _("一方死亡")


class Marriage(models.Model):
    """婚姻登记 (民政): one marriage between two persons; a divorce or a death ends it."""

    husband_id = models.CharField(_("男方身份号码"), max_length=18, db_index=True)
    husband_name = models.CharField(_("男方姓名"), max_length=50)
    wife_id = models.CharField(_("女方身份号码"), max_length=18, db_index=True)
    wife_name = models.CharField(_("女方姓名"), max_length=50)
    registered_on = models.DateField(_("登记日期"))
    certificate_number = models.CharField(_("结婚证字号"), max_length=30, unique=True)
    registry_office = models.CharField(_("登记机关"), max_length=100)
    state = models.CharField(_("状态"), max_length=10, choices=MarriageState.choices)
    ended_on = models.DateField(_("终止日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("婚姻登记")
        verbose_name_plural = _("婚姻登记")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.certificate_number


class Death(models.Model):
    """死亡登记 (民政, from the 死亡医学证明): one death."""

    deceased_id = models.CharField(_("死者身份号码"), max_length=18, unique=True)
    deceased_name = models.CharField(_("死者姓名"), max_length=50)
    death_date = models.DateField(_("死亡日期"))
    place = models.CharField(_("死亡地点"), max_length=100)
    certificate_number = models.CharField(_("死亡医学证明编号"), max_length=30, unique=True)

    class Meta:
        verbose_name = _("死亡登记")
        verbose_name_plural = _("死亡登记")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.certificate_number


class Enterprise(models.Model):
    """市场主体登记 (市场监管): one enterprise. `status` is 存续, 注销 or 吊销; the registered
    capital is in 万元."""

    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    status = models.CharField(_("登记状态"), max_length=10)
    licence_void_notice = models.CharField(_("营业执照作废声明"), max_length=200, blank=True)
    legal_rep_id = models.CharField(_("法定代表人身份号码"), max_length=18, db_index=True)
    legal_rep_name = models.CharField(_("法定代表人"), max_length=50)
    enterprise_type = models.CharField(_("企业类型"), max_length=50)
    registered_capital = models.DecimalField(_("注册资本（万元）"), max_digits=14, decimal_places=2)
    address = models.CharField(_("住所"), max_length=200)
    region_code = models.CharField(_("区划代码"), max_length=12)
    established_on = models.DateField(_("成立日期"))
    status_changed_on = models.DateField(_("注销/吊销日期"), null=True, blank=True)
    business_scope = models.TextField(_("经营范围"))

    class Meta:
        verbose_name = _("市场主体")
        verbose_name_plural = _("市场主体")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class RealEstateUnit(models.Model):
    """不动产登记 (不动产登记中心): one real-estate unit. `unit_number` is the 28-character
    不动产单元号 of GB/T 37346; `price` (元) and `deed_tax_paid` are empty for self-built rural
    houses, which were never sold."""

    unit_number = models.CharField(_("不动产单元号"), max_length=28, unique=True)
    address = models.CharField(_("坐落"), max_length=200)
    region_code = models.CharField(_("区划代码"), max_length=12)
    area = models.DecimalField(_("面积（平方米）"), max_digits=10, decimal_places=2)
    use = models.CharField(_("用途"), max_length=20)
    right_type = models.CharField(_("权利类型"), max_length=50)
    price = models.DecimalField(_("成交价（元）"), max_digits=14, decimal_places=2, null=True, blank=True)
    deed_tax_paid = models.BooleanField(_("契税已缴"), null=True, blank=True)
    certificate_number = models.CharField(_("不动产权证书号"), max_length=50, unique=True)
    registered_on = models.DateField(_("登记日期"))

    class Meta:
        verbose_name = _("不动产单元")
        verbose_name_plural = _("不动产单元")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.unit_number


class RealEstateOwner(models.Model):
    """A right holder (权利人) of a real-estate unit: a person (ID number) or an enterprise (USCC)."""

    unit = models.ForeignKey(
        RealEstateUnit,
        on_delete=models.CASCADE,
        to_field="unit_number",
        db_column="unit_number",
        related_name="owners",
        verbose_name=_("不动产单元"),
    )
    owner_id = models.CharField(_("权利人证件号码"), max_length=18, db_index=True)
    owner_name = models.CharField(_("权利人"), max_length=200)
    share = models.CharField(_("共有情况"), max_length=20)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("不动产权利人")
        verbose_name_plural = _("不动产权利人")
        ordering = ["unit_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "owner_id"], name="registry_realestateowner_unique_owner")
        ]

    def __str__(self) -> str:
        return self.owner_name


class SocialSecurity(models.Model):
    """社会保险参保登记 (人社): one insured person. `payment_history` has one character per month
    for the 12 months ending at the data date (oldest first): 1 paid, 0 not paid."""

    person_id = models.CharField(_("身份号码"), max_length=18, unique=True)
    person_name = models.CharField(_("姓名"), max_length=50)
    insurance_type = models.CharField(_("险种"), max_length=50)
    insured_status = models.CharField(_("参保状态"), max_length=20)
    unit_name = models.CharField(_("参保单位"), max_length=200, blank=True)
    employer_uscc = models.CharField(_("单位统一社会信用代码"), max_length=18, blank=True, db_index=True)
    insured_since = models.DateField(_("参保日期"), null=True, blank=True)
    payment_history = models.CharField(_("近12个月缴费记录"), max_length=12, blank=True)
    arrears = models.DecimalField(_("欠费金额（元）"), max_digits=12, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("社保参保人员")
        verbose_name_plural = _("社保参保人员")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.person_name


class SocialSecurityUnit(models.Model):
    """社会保险单位参保登记 (人社): an employer's account, with its active insured and arrears."""

    employer_uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    unit_name = models.CharField(_("单位名称"), max_length=200)
    unit_number = models.CharField(_("单位社保编号"), max_length=20, unique=True)
    registered_on = models.DateField(_("登记日期"))
    unit_status = models.CharField(_("单位状态"), max_length=20)
    active_insured = models.PositiveIntegerField(_("在职参保人数"))
    arrears = models.DecimalField(_("欠费金额（元）"), max_digits=12, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("社保参保单位")
        verbose_name_plural = _("社保参保单位")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.unit_name


class ProvidentFundAccount(models.Model):
    """住房公积金个人账户 (公积金中心): `status` is 正常 or 封存; amounts in 元."""

    account_number = models.CharField(_("个人账号"), max_length=20, unique=True)
    person_id = models.CharField(_("身份号码"), max_length=18, unique=True)
    person_name = models.CharField(_("姓名"), max_length=50)
    employer_uscc = models.CharField(_("单位统一社会信用代码"), max_length=18, db_index=True)
    unit_name = models.CharField(_("缴存单位"), max_length=200)
    status = models.CharField(_("账户状态"), max_length=10)
    opened_on = models.DateField(_("开户日期"))
    balance = models.DecimalField(_("账户余额（元）"), max_digits=12, decimal_places=2)
    monthly_deposit = models.DecimalField(_("月缴存额（元）"), max_digits=10, decimal_places=2)
    continuous_months = models.PositiveIntegerField(_("连续缴存月数"))

    class Meta:
        verbose_name = _("公积金个人账户")
        verbose_name_plural = _("公积金个人账户")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.account_number


class ProvidentFundUnit(models.Model):
    """住房公积金单位账户 (公积金中心): an employer's account, with its active accounts and arrears."""

    employer_uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    unit_name = models.CharField(_("单位名称"), max_length=200)
    unit_account_number = models.CharField(_("单位账号"), max_length=20, unique=True)
    active_accounts = models.PositiveIntegerField(_("正常缴存人数"))
    arrears = models.DecimalField(_("欠缴金额（元）"), max_digits=12, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("公积金单位账户")
        verbose_name_plural = _("公积金单位账户")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.unit_name


class Qualification(models.Model):
    """职业资格 (人社): one certificate; registered qualifications name the unit they are
    registered with and expire (`valid_to`), the others are valid without limit."""

    certificate_number = models.CharField(_("证书编号"), max_length=30, unique=True)
    holder_id = models.CharField(_("持证人身份号码"), max_length=18, db_index=True)
    holder_name = models.CharField(_("持证人"), max_length=50)
    category = models.CharField(_("资格类别"), max_length=50)
    qualification_type = models.CharField(_("资格名称"), max_length=100)
    register_unit = models.CharField(_("注册单位"), max_length=200, blank=True)
    register_unit_uscc = models.CharField(
        _("注册单位统一社会信用代码"), max_length=18, blank=True, db_index=True
    )
    issued_on = models.DateField(_("发证日期"))
    valid_to = models.DateField(_("有效期至"), null=True, blank=True)

    class Meta:
        verbose_name = _("职业资格")
        verbose_name_plural = _("职业资格")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.certificate_number


class Disability(models.Model):
    """残疾人证 (kept by 民政 here, as 残联 is not a department of the demo city). The
    20-character number is the holder's ID number, the category digit and the grade digit."""

    certificate_no = models.CharField(_("残疾人证号"), max_length=20, unique=True)
    holder_id = models.CharField(_("持证人身份号码"), max_length=18, unique=True)
    holder_name = models.CharField(_("持证人"), max_length=50)
    category = models.CharField(_("残疾类别"), max_length=10)
    grade = models.CharField(_("残疾等级"), max_length=10)
    issued_on = models.DateField(_("发证日期"))
    valid_to = models.DateField(_("有效期至"))

    class Meta:
        verbose_name = _("残疾人证")
        verbose_name_plural = _("残疾人证")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.certificate_no


class Vehicle(models.Model):
    """机动车登记 (公安交警): one vehicle (浙H is 衢州) owned by a person or an enterprise."""

    plate_number = models.CharField(_("号牌号码"), max_length=10, unique=True)
    vehicle_type = models.CharField(_("车辆类型"), max_length=30)
    owner_id = models.CharField(_("所有人证件号码"), max_length=18, db_index=True)
    owner_name = models.CharField(_("所有人"), max_length=200)
    brand_model = models.CharField(_("品牌型号"), max_length=50)
    energy_type = models.CharField(_("燃料种类"), max_length=20)
    registered_on = models.DateField(_("初次登记日期"))
    status = models.CharField(_("机动车状态"), max_length=20)

    class Meta:
        verbose_name = _("机动车")
        verbose_name_plural = _("机动车")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.plate_number


class TaxClearance(models.Model):
    """清税信息 (税务): whether an enterprise owes no tax (已清税) or does (未清税), with the
    clearance document number (清税证明文书号) when cleared."""

    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    taxpayer_name = models.CharField(_("纳税人名称"), max_length=200)
    status = models.CharField(_("清税状态"), max_length=10)
    unpaid_amount = models.DecimalField(_("欠税金额（元）"), max_digits=12, decimal_places=2, default=0)
    receipt_no = models.CharField(_("清税证明文书号"), max_length=50, blank=True)
    checked_on = models.DateField(_("核查日期"))

    class Meta:
        verbose_name = _("清税信息")
        verbose_name_plural = _("清税信息")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.uscc


#: Dataset code -> model (the order in which `load` fills the tables).
REGISTRY_MODELS: dict[str, type[models.Model]] = {
    "population": Person,
    "household": Household,
    "birth": Birth,
    "marriage": Marriage,
    "death": Death,
    "enterprise": Enterprise,
    "real_estate": RealEstateUnit,
    "real_estate_owner": RealEstateOwner,
    "social_security": SocialSecurity,
    "social_security_unit": SocialSecurityUnit,
    "provident_fund": ProvidentFundAccount,
    "provident_fund_unit": ProvidentFundUnit,
    "qualification": Qualification,
    "disability": Disability,
    "vehicle": Vehicle,
    "tax_clearance": TaxClearance,
}
