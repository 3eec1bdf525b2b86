"""The parties and sectors (党派、团体、界别) that take part in consultations, raise
suggestions and group the CPPCC members: a fixed reference list with Chinese and English
names. The identifiers are those document intake reports (`intake_lexicon.PARTICIPANTS`),
so a draft's participants map onto this list one to one.

Pure: no database, no settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chainatlas.errors import UserError

GroupKind = Literal["party", "federation", "non_party", "sector"]

GROUP_KIND_NAMES: dict[str, tuple[str, str]] = {
    "party": ("党派", "party"),
    "federation": ("工商联", "federation of industry and commerce"),
    "non_party": ("无党派人士", "non-party"),
    "sector": ("界别", "sector"),
}


@dataclass(frozen=True)
class Group:
    id: str
    zh: str  # the short form reports and pages use (民革, 经济界)
    full_zh: str
    en: str
    kind: GroupKind

    def name(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh


_LIST: tuple[Group, ...] = (
    Group("cpc", "中共", "中国共产党", "Communist Party of China", "party"),
    Group(
        "rcck",
        "民革",
        "中国国民党革命委员会",
        "Revolutionary Committee of the Chinese Kuomintang",
        "party",
    ),
    Group("cdl", "民盟", "中国民主同盟", "China Democratic League", "party"),
    Group(
        "cndca",
        "民建",
        "中国民主建国会",
        "China National Democratic Construction Association",
        "party",
    ),
    Group("capd", "民进", "中国民主促进会", "China Association for Promoting Democracy", "party"),
    Group(
        "pwdp",
        "农工党",
        "中国农工民主党",
        "Chinese Peasants' and Workers' Democratic Party",
        "party",
    ),
    Group("czgd", "致公党", "中国致公党", "China Zhi Gong Party", "party"),
    Group("jiusan", "九三学社", "九三学社", "Jiusan Society", "party"),
    Group("tdsl", "台盟", "台湾民主自治同盟", "Taiwan Democratic Self-Government League", "party"),
    Group(
        "acfic",
        "工商联",
        "工商业联合会",
        "Federation of Industry and Commerce",
        "federation",
    ),
    Group("non_party", "无党派人士", "无党派人士", "Non-party personages", "non_party"),
    Group("economy", "经济界", "经济界", "Economic sector", "sector"),
    Group("agriculture", "农业界", "农业和农村界", "Agriculture and rural sector", "sector"),
    Group("science_technology", "科技界", "科学技术界", "Science and technology sector", "sector"),
    Group("social_sciences", "社科界", "社会科学界", "Social sciences sector", "sector"),
    Group("education", "教育界", "教育界", "Education sector", "sector"),
    Group("culture_arts", "文艺界", "文化艺术界", "Culture and arts sector", "sector"),
    Group("medicine_health", "医卫界", "医药卫生界", "Medicine and health sector", "sector"),
    Group("press_publishing", "新闻出版界", "新闻出版界", "Press and publishing sector", "sector"),
    Group("sports", "体育界", "体育界", "Sports sector", "sector"),
    Group("ethnic_minorities", "少数民族界", "少数民族界", "Ethnic minorities sector", "sector"),
    Group("religion", "宗教界", "宗教界", "Religious sector", "sector"),
    Group(
        "social_welfare",
        "社会福利和社会保障界",
        "社会福利和社会保障界",
        "Social welfare and social security sector",
        "sector",
    ),
    Group("environment", "环境资源界", "环境资源界", "Environment and resources sector", "sector"),
    Group(
        "foreign_friendship",
        "对外友好界",
        "对外友好界",
        "Friendship with foreign countries sector",
        "sector",
    ),
    Group("finance", "金融界", "金融界", "Finance sector", "sector"),
    Group("industry_commerce", "工商界", "工商界", "Industry and commerce sector", "sector"),
    Group("law", "法律界", "法律界", "Legal sector", "sector"),
    Group("youth", "共青团和青联", "共青团和青联", "Youth League and Youth Federation", "sector"),
    Group("trade_union", "总工会", "总工会", "Federation of Trade Unions", "sector"),
    Group("women", "妇联", "妇女联合会", "Women's Federation", "sector"),
    Group(
        "taiwan_compatriots",
        "台联",
        "台湾同胞联谊会",
        "Taiwan Compatriots Friendship Association",
        "sector",
    ),
    Group(
        "returned_overseas",
        "侨联",
        "归国华侨联合会",
        "Federation of Returned Overseas Chinese",
        "sector",
    ),
    Group(
        "science_association",
        "科协",
        "科学技术协会",
        "Association for Science and Technology",
        "sector",
    ),
    Group("specially_invited", "特邀", "特别邀请人士", "Specially invited personages", "sector"),
    Group(
        "hk_macao",
        "港澳",
        "特邀香港澳门人士",
        "Specially invited from Hong Kong and Macao",
        "sector",
    ),
)

GROUPS: dict[str, Group] = {g.id: g for g in _LIST}


def group_name(group_id: str | None, lang: str = "zh") -> str:
    if group_id is None:
        return ""
    group = GROUPS.get(group_id)
    return group.name(lang) if group else group_id


def check_group(
    value: str | None, field_zh: str = "党派或界别", field_en: str = "party or sector"
) -> str | None:
    """A group id (or its Chinese short or full name, or English name) → the id; None for
    empty; a UserError naming the field otherwise."""
    cleaned = (value or "").strip()
    if not cleaned:
        return None
    for group in _LIST:
        if cleaned in (group.id, group.zh, group.full_zh, group.en):
            return group.id
    options = "、".join(g.zh for g in _LIST)
    raise UserError(
        f"{field_zh}「{cleaned}」不在参考名单中，可选：{options}",
        f"unknown {field_en} {cleaned!r}; one of: {', '.join(GROUPS)}",
    )
