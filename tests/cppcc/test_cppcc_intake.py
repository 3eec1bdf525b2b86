"""Document intake (pure): the two real reports with values read by hand, other layouts.

The samples in tests/cppcc/data are the two news reports of ../shared/samples, byte for byte
(traditional characters with pinyin annotations, as copied from the web). Every expected
value below was written after reading them, not copied from the program's output.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainatlas.atlas import Chain
from chainatlas.cppcc.intake import SCHEMA_ID, MeetingDraft, extract_meeting
from chainatlas.cppcc.intake_model import Evidence
from chainatlas.cppcc.intake_text import cn_number, normalize_lines
from chainatlas.errors import UserError

DATA = Path(__file__).parent / "data"
DOCS = Path(__file__).parents[2] / "docs" / "schemas"


def sample(name: str) -> str:
    return (DATA / name).read_text("utf-8")


@pytest.fixture(scope="module")
def chuzhou() -> MeetingDraft:
    return extract_meeting(sample("chuzhou_chain_dispatch.txt"))


@pytest.fixture(scope="module")
def wuzhou() -> MeetingDraft:
    return extract_meeting(sample("wuzhou_consultation_2025.txt"))


def figures_of(draft: MeetingDraft) -> set[tuple[float, str]]:
    return {(f.value, f.unit) for f in draft.figures}


def actions_of(draft: MeetingDraft) -> dict[str, int]:
    return {a.action: a.count for a in draft.actions}


# --- the Chuzhou chain review meeting (滁州 八大产业链工作调度推进会) ------------------------


def test_chuzhou_meeting_kind_name_and_title(chuzhou: MeetingDraft) -> None:
    assert chuzhou.schema_id == SCHEMA_ID == "chainatlas.intake/1"
    assert chuzhou.kind.kind == "review_meeting"
    assert chuzhou.kind.consultation_kind is None
    assert chuzhou.meeting_name == "市八大产业链工作调度推进会"
    assert chuzhou.headline == [
        "许继伟在市八大产业链工作调度推进会上强调",
        "全力以赴建链补链延链强链 加快推动我市重点产业做大做强",
        "吴劲主持 王图强汪建中出席",
    ]
    assert chuzhou.title == "全力以赴建链补链延链强链 加快推动我市重点产业做大做强"
    assert chuzhou.topic is not None
    assert (chuzhou.topic.text, chuzhou.topic.source) == (
        "市八大产业链工作调度推进会",
        "meeting_name",
    )


def test_chuzhou_date_has_no_year_in_the_text(chuzhou: MeetingDraft) -> None:
    date = chuzhou.date
    assert date is not None
    assert (date.month, date.day, date.year, date.value) == (5, 26, None, None)
    assert date.written == "5月26日"
    assert date.evidence.text.startswith("滁州网讯(全媒体记者施 璇)5月26日下午")
    assert any("年份" in n.message_zh and "year" in n.message_en for n in chuzhou.notes)


def test_chuzhou_year_comes_from_the_article_date() -> None:
    draft = extract_meeting(sample("chuzhou_chain_dispatch.txt"), published=dt.date(2021, 5, 27))
    assert draft.date is not None
    assert draft.date.value == dt.date(2021, 5, 26)
    assert draft.date.year_source == "published"
    assert draft.published == dt.date(2021, 5, 27)


def test_chuzhou_place(chuzhou: MeetingDraft) -> None:
    region = chuzhou.region
    assert region is not None
    assert (region.region_code, region.name, region.level) == ("341100", "滁州市", "city")
    assert region.full_name == "安徽省滁州市"
    # 滁州网讯 once, 我市 three times (title, first and second paragraphs)
    assert region.count == 4
    assert set(region.matched) == {"滁州", "我市"}
    assert chuzhou.other_regions == []


def test_chuzhou_leaders(chuzhou: MeetingDraft) -> None:
    assert [(leader.name, leader.title) for leader in chuzhou.leaders] == [
        ("许继伟", "市委书记"),
        ("吴劲", "市委副书记、市长"),
        ("王图强", "市人大常委会主任"),
        ("汪建中", "市政协主席"),
        ("金力", "市领导"),
        ("杨甫祥", "市领导"),
        ("徐保月", "市领导"),
    ]
    roles = {leader.name: leader.roles for leader in chuzhou.leaders}
    assert roles["吴劲"] == ["chair", "present"]  # 主持会议
    assert roles["许继伟"] == ["speech", "present"]  # 出席会议并讲话
    assert roles["徐保月"] == ["present"]
    assert chuzhou.leaders[1].evidence.text == "市委副书记、市长吴劲主持会议。"


def test_chuzhou_groups_chains_actions_figures(chuzhou: MeetingDraft) -> None:
    # only 工商联 is named: it reported on setting up trade associations
    assert [(p.id, p.name, p.kind, p.spoke) for p in chuzhou.participants] == [
        ("acfic", "工商联", "federation", True)
    ]
    # the report names "eight chains" but not one of them by name
    assert chuzhou.chains == []
    # 建链补链延链强链 in the title and 建链、补链、延链、强链 twice in the body
    actions = actions_of(chuzhou)
    assert {k: actions[k] for k in ("build", "fill", "extend", "strengthen")} == {
        "build": 3,
        "fill": 3,
        "extend": 3,
        "strengthen": 3,
    }
    assert actions["investment"] == 1  # 双招双引
    # 八大产业链 (seven times), 八大产业, 十大产业链 (the province's, twice), 千亿规模
    assert figures_of(chuzhou) == {(8, "产业链"), (8, "产业"), (10, "产业链"), (1000, "亿")}
    by_text = {f.text: f for f in chuzhou.figures}
    assert by_text["八大产业链"].count == 7
    assert by_text["十大产业链"].count == 2
    assert "向千亿规模提升" in by_text["千亿"].evidence.text


# --- the Wuzhou party consultation (梧州 2025年第一次政党协商座谈会) ---------------------------


def test_wuzhou_meeting(wuzhou: MeetingDraft) -> None:
    assert wuzhou.kind.kind == "consultation"
    assert wuzhou.kind.consultation_kind == "topical"  # 把专题协商成果转化好
    assert "专题协商" in wuzhou.kind.matched
    assert wuzhou.meeting_name == "2025年第一次政党协商座谈会"
    assert wuzhou.topic is not None
    assert (wuzhou.topic.text, wuzhou.topic.source) == ("推动梧州产业延链补链强链", "theme")
    assert wuzhou.headline == []
    assert wuzhou.title is None


def test_wuzhou_date_year_from_the_same_sentence(wuzhou: MeetingDraft) -> None:
    assert wuzhou.date is not None
    assert wuzhou.date.value == dt.date(2025, 7, 15)
    assert wuzhou.date.written == "7月15日"
    assert wuzhou.date.year_source == "sentence"
    assert wuzhou.notes == []


def test_wuzhou_place(wuzhou: MeetingDraft) -> None:
    assert wuzhou.region is not None
    assert (wuzhou.region.region_code, wuzhou.region.name) == ("450400", "梧州市")
    assert wuzhou.region.full_name == "广西壮族自治区梧州市"
    # 梧州 six times (twice in the outlet's name), 我市 once
    assert wuzhou.region.count == 7
    # 广西 once; 资源 (a word here) is not 桂林's 资源县
    assert [r.region_code for r in wuzhou.other_regions] == ["450000"]


def test_wuzhou_leaders(wuzhou: MeetingDraft) -> None:
    assert [(leader.name, leader.title, leader.roles) for leader in wuzhou.leaders] == [
        ("蒋连生", "市委书记", ["chair", "speech", "present"]),
        ("何世恰", "市领导", ["present"]),
        ("邝驱", "市领导", ["present"]),
        ("杨桢", "市领导", ["present"]),
    ]


def test_wuzhou_parties_spoke(wuzhou: MeetingDraft) -> None:
    by_id = {p.id: p for p in wuzhou.participants}
    assert set(by_id) == {
        "rcck",
        "cdl",
        "cndca",
        "capd",
        "pwdp",
        "czgd",
        "jiusan",
        "acfic",
        "non_party",
    }
    assert all(p.spoke for p in wuzhou.participants)
    assert [by_id[i].name for i in ("rcck", "pwdp", "jiusan", "non_party")] == [
        "民革",
        "农工党",
        "九三学社",
        "无党派人士",
    ]
    assert by_id["rcck"].evidence.text.startswith("会上,民革市委会、民盟市委会")
    assert by_id["acfic"].count == 3  # 工商联 in the theme, the speakers and the closing hope


def test_wuzhou_chains_actions_figures(wuzhou: MeetingDraft) -> None:
    assert wuzhou.chains == []  # 成果转化 alone (an atlas keyword) does not name a chain
    actions = actions_of(wuzhou)
    assert "build" not in actions  # the report says 延链补链强链, never 建链
    assert (actions["extend"], actions["fill"], actions["strengthen"]) == (6, 6, 6)
    assert actions["partner_referral"] == 1  # 以商招商
    investment = next(a for a in wuzhou.actions if a.action == "investment")
    assert set(investment.matched) == {"招商", "靶向招商"}
    assert wuzhou.figures == []  # 2025年 is a year and 第一次 an ordinal


def test_samples_are_normalised_to_simplified(wuzhou: MeetingDraft) -> None:
    assert "產" not in wuzhou.text and "(chǎn)" not in wuzhou.text
    assert wuzhou.text.startswith("梧州零距离网-梧州日□□讯(记者 郭俊杰)7月15日")


# --- other layouts ------------------------------------------------------------

CENXI_REPORT = """\
岑溪市政协召开“推动新能源汽车和动力电池产业补链强链”专题协商会
本报讯（记者 李明 通讯员 陈芳）5月20日，岑溪市政协召开“推动新能源汽车和动力电池产业补链强链”专题协商会。市政协主席刘志刚主持会议，市委常委、常务副市长黄海波到会听取意见并讲话。
会上，6位政协委员和界别代表先后发言：
经济界委员王强发言，建议围绕电池正极材料、电解液等环节开展靶向招商，力争年内新引进配套企业12家、签约项目8个，总投资85.6亿元。
农业界委员陈丽建议，稳定糖料蔗种植面积30万亩，推动蔗渣制浆造纸等综合利用，延伸甘蔗制糖产业链。
民建岑溪市委会主委李华发言，提出设立2亿元产业引导基金，支持链主企业以商招商。
科技界委员周敏建议建设动力电池回收中心，力争到2027年电池回收能力达到5万吨。
九三学社岑溪支社社员代表赵磊、工商联代表孙涛也作了发言。
据介绍，今年1至4月，全市新能源汽车产业链规上企业产值同比增长23.5%。
"""


@pytest.fixture(scope="module")
def cenxi() -> MeetingDraft:
    return extract_meeting(CENXI_REPORT, published=dt.date(2024, 5, 21))


def test_news_item_with_dateline_and_speakers(cenxi: MeetingDraft) -> None:
    assert cenxi.date is not None and cenxi.date.value == dt.date(2024, 5, 20)
    assert cenxi.region is not None
    assert (cenxi.region.region_code, cenxi.region.level) == ("450481", "county")
    assert set(cenxi.region.matched) == {"岑溪市", "岑溪"}
    assert (cenxi.kind.kind, cenxi.kind.consultation_kind) == ("consultation", "topical")
    assert cenxi.topic is not None and cenxi.topic.text == "推动新能源汽车和动力电池产业补链强链"
    assert [(x.name, x.title, x.roles) for x in cenxi.leaders] == [
        ("刘志刚", "市政协主席", ["chair", "present"]),
        ("黄海波", "市委常委、常务副市长", ["speech", "present"]),
    ]
    speakers = {p.id: p.speakers for p in cenxi.participants}
    assert speakers == {
        "economy": ["王强"],
        "agriculture": ["陈丽"],
        "cndca": ["李华"],
        "science_technology": ["周敏"],
        "jiusan": ["赵磊"],
        "acfic": ["孙涛"],
    }


def test_news_item_chains_and_figures(cenxi: MeetingDraft) -> None:
    chains = {c.chain_id: c for c in cenxi.chains}
    assert set(chains) == {"new_energy_vehicle", "power_battery", "sugarcane"}
    assert {m.text for m in chains["sugarcane"].matched} >= {"糖料蔗种植", "甘蔗制糖"}
    assert {"正极材料", "电解液"} <= {m.text for m in chains["power_battery"].matched}
    assert figures_of(cenxi) == {
        (12, "家"),
        (8, "个"),
        (85.6, "亿元"),
        (30, "万亩"),
        (2, "亿元"),
        (5, "万吨"),
        (23.5, "%"),
    }
    actions = actions_of(cenxi)
    assert actions["fill"] == actions["strengthen"] == 2
    assert actions["partner_referral"] == actions["investment"] == 1
    assert "extend" not in actions  # 延伸 is not 延链
    assert cenxi.notes == []


def test_target_years_are_not_the_meeting_year(cenxi: MeetingDraft) -> None:
    draft = extract_meeting(CENXI_REPORT)  # no article date; 到2027年 is a target
    assert draft.date is not None
    assert (draft.date.year, draft.date.value, draft.date.year_source) == (None, None, None)


def test_year_before_a_january_article() -> None:
    text = "新华社南宁12月30日电 广西壮族自治区政协召开双月协商座谈会，围绕“加快糖业高质量发展”建言献策。"
    draft = extract_meeting(text, published=dt.date(2025, 1, 3))
    assert draft.date is not None and draft.date.value == dt.date(2024, 12, 30)
    assert (draft.kind.kind, draft.kind.consultation_kind) == ("consultation", "bimonthly")
    assert draft.topic is not None and draft.topic.text == "加快糖业高质量发展"
    assert [c.chain_id for c in draft.chains] == ["sugarcane"]  # 糖业


@pytest.mark.parametrize(
    ("sentence", "kind", "sub_kind"),
    [
        ("市政协召开对口协商会，就“汽车零部件产业延链”开展协商。", "consultation", "counterpart"),
        ("市政协召开界别协商会，农工党、台盟和特邀界委员参加。", "consultation", "sector"),
        ("市政协召开双月协商座谈会，围绕冷链物流建设建言。", "consultation", "bimonthly"),
        ("市政协召开协商座谈会，听取各界意见建议。", "consultation", "other"),
        ("全市工业项目建设现场推进会在经开区召开，观摩了十个项目。", "review_meeting", None),
        ("县新能源汽车产业链链长调度会议在县政府召开。", "review_meeting", None),
        ("市政府召开常务会议，研究部署近期重点工作。", "other", None),
    ],
)
def test_meeting_kinds(sentence: str, kind: str, sub_kind: str | None) -> None:
    draft = extract_meeting("5月9日，" + sentence)
    assert (draft.kind.kind, draft.kind.consultation_kind) == (kind, sub_kind)


def test_dates_in_other_forms() -> None:
    cases = {
        "二〇二四年三月五日，市政协召开专题协商会。": dt.date(2024, 3, 5),
        "2025年3月5日，柳州市政协召开对口协商会，就“汽车零部件产业延链”开展协商。": dt.date(
            2025, 3, 5
        ),
        "市政协于2023-11-08召开双月协商座谈会，委员们踊跃发言。": dt.date(2023, 11, 8),
        "2022年，全市产业链工作成效明显。十月十二日，市产业链工作推进会在市行政中心召开。": dt.date(
            2022, 10, 12
        ),
    }
    for text, expected in cases.items():
        draft = extract_meeting(text)
        assert draft.date is not None and draft.date.value == expected, text
    last = extract_meeting(list(cases)[-1])
    assert last.date is not None and last.date.year_source == "text"


def test_leaders_with_joined_titles() -> None:
    text = (
        "6月18日，市政协召开常委会议。市政协党组书记、主席陈晓明主持会议，市委常委、统战部部长"
        "刘洋，市政协副主席、秘书长欧阳丽出席。会议由陈晓明作总结讲话。"
    )
    draft = extract_meeting(text)
    assert [(x.name, x.title, x.roles) for x in draft.leaders] == [
        ("陈晓明", "市政协党组书记、主席", ["chair", "speech", "present"]),
        ("刘洋", "市委常委、统战部部长", ["present"]),
        ("欧阳丽", "市政协副主席、秘书长", ["present"]),
    ]


def test_party_names_inside_ordinary_words_are_not_parties() -> None:
    text = "5月9日，市政协召开座谈会。人民革命精神永存，居民建房问题突出，市民进入园区参观，农民建设家园。"
    assert extract_meeting(text).participants == []
    full = extract_meeting(
        "5月9日，中国民主同盟梧州市委员会、民革梧州市委会和中国农工民主党梧州市委会代表发言。"
    )
    assert [(p.id, p.matched) for p in full.participants] == [
        ("cdl", ["中国民主同盟"]),
        ("rcck", ["民革"]),
        ("pwdp", ["中国农工民主党"]),
    ]


def test_figures_skip_ordinals_articles_and_idioms() -> None:
    text = (
        "5月9日，市政协召开第三次专题协商会。建成一个产业链，引进一批企业，千方百计服务千家万户。"
        "打造千亿级产业集群，新增产能3.5万吨，引进项目三十亿元，两个百分点，增长1,200家。"
    )
    draft = extract_meeting(text)
    assert figures_of(draft) == {(1000, "亿"), (3.5, "万吨"), (30, "亿元"), (1200, "家")}


def test_places_need_evidence() -> None:
    # a county's short name alone is not enough; its full name makes the short form count
    only_short = extract_meeting("5月9日，资源节约型社会建设推进会召开，广西各地参加。")
    assert [r.region_code for r in [only_short.region, *only_short.other_regions] if r] == [
        "450000"
    ]
    # a municipality is its province-level code; 我市 counts for it
    beijing = extract_meeting("5月9日，北京市政协召开专题协商会，我市各界代表参加。")
    assert beijing.region is not None
    assert (beijing.region.region_code, beijing.region.count) == ("110000", 2)
    # the most mentioned region wins; ties go to the more specific
    tie = extract_meeting("5月9日，广西壮族自治区南宁市政协召开专题协商会。")
    assert tie.region is not None and tie.region.region_code == "450100"


def test_chains_need_more_than_one_passing_keyword() -> None:
    one = extract_meeting("5月9日，市政协召开协商会，要求推动成果转化。医药卫生界委员发言。")
    assert one.chains == []  # 成果转化 is a keyword; 医药 in 医药卫生界 is a sector
    named = extract_meeting("5月9日，市政协召开协商会，围绕中药材种植开展协商。")
    assert [c.chain_id for c in named.chains] == ["tcm_ethnic_medicine"]


def test_chains_come_from_the_given_atlas(toy_chain: Chain) -> None:
    draft = extract_meeting(
        "5月9日，市政协召开专题协商会，围绕示例链补链开展协商，甲料生产和乙件制造企业代表发言。",
        atlas={"toy": toy_chain},
    )
    assert [(c.chain_id, c.count) for c in draft.chains] == [("toy", 3)]
    assert {m.level for m in draft.chains[0].matched} == {"chain", "keyword"}


def test_pasted_page_clutter_and_date_line() -> None:
    text = (
        "首页 | 新闻中心 | 政协要闻 | 履职动态\n"
        "发布时间：2025-05-21 10:00 来源：某某日报\n"
        "市政协召开专题协商会\n"
        "5月20日，柳州市政协召开专题协商会，围绕“新能源汽车强链”建言献策。\n"
        "责任编辑：王五\n"
        "版权所有 某某日报社 桂ICP备00000000号\n"
    )
    draft = extract_meeting(text)
    assert draft.published == dt.date(2025, 5, 21)
    assert draft.date is not None and draft.date.value == dt.date(2025, 5, 20)
    assert draft.date.year_source == "published"
    assert draft.headline == ["市政协召开专题协商会"]
    for clutter in ("首页", "责任编辑", "ICP", "发布时间"):
        assert clutter not in draft.text


def test_traditional_text_with_pinyin_annotations() -> None:
    assert normalize_lines("產(chǎn)業(yè)鏈\n梧州日?qǐng)?bào)訊") == ["产业链", "梧州日□□讯"]
    assert normalize_lines("電池(ai)") == ["电池(ai)"]  # no tone mark: not an annotation


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("二十六", 26),
        ("十二", 12),
        ("一千二百", 1200),
        ("二〇二五", 2025),
        ("三点五", 3.5),
        ("千", 1000),
        ("一百零五", 105),
        ("三千零二十", 3020),
    ],
)
def test_chinese_numerals(text: str, value: float) -> None:
    assert cn_number(text) == value


@pytest.mark.parametrize(
    "text", ["", "   \n\t", "Meeting report: no Chinese text here at all.", "会议"]
)
def test_empty_or_non_chinese_text_is_a_user_error(text: str) -> None:
    with pytest.raises(UserError) as caught:
        extract_meeting(text)
    assert "中文" in caught.value.message_zh
    assert "Chinese" in caught.value.message_en


# --- invariants and contract --------------------------------------------------


def evidences(draft: MeetingDraft) -> list[tuple[Evidence, list[str]]]:
    """Every evidence with the words it must point at."""
    found: list[tuple[Evidence, list[str]]] = []
    if draft.date:
        found.append((draft.date.evidence, [draft.date.written]))
    for region in filter(None, [draft.region, *draft.other_regions]):
        found.append((region.evidence, region.matched))
    found += [(leader.evidence, [leader.name]) for leader in draft.leaders]
    found += [(p.evidence, p.matched) for p in draft.participants]
    found += [(c.evidence, [m.text for m in c.matched]) for c in draft.chains]
    found += [(a.evidence, a.matched) for a in draft.actions]
    found += [(f.evidence, [f.text]) for f in draft.figures]
    return found


def assert_evidence_points_at_its_words(draft: MeetingDraft) -> None:
    for evidence, words in evidences(draft):
        assert 0 <= evidence.start < evidence.end <= len(draft.text)
        pointed = draft.text[evidence.start : evidence.end]
        assert any(pointed.endswith(word) for word in words), (pointed, words)
        # evidence shows the sentence with its line breaks folded to spaces
        assert re.sub(r"\s+", "", pointed) in re.sub(r"\s+", "", evidence.text)


def test_evidence_points_at_the_words(
    chuzhou: MeetingDraft, wuzhou: MeetingDraft, cenxi: MeetingDraft
) -> None:
    for draft in (chuzhou, wuzhou, cenxi):
        assert_evidence_points_at_its_words(draft)


_REPORT_PIECES = [
    "5月20日，",
    "市政协召开专题协商会。",
    "市委书记张明主持会议。",
    "民建代表李华发言，",
    "建议补链强链，",
    "引进企业12家，",
    "梧州市",
    "岑溪",
    "甘蔗",
    "新能源汽车",
    "產(chǎn)業(yè)",
    "\n",
    "，",
    "2025年",
    "第一次",
    "工商联",
    "千亿级",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_REPORT_PIECES) | st.text(max_size=6), max_size=25))
def test_any_text_gives_a_draft_or_a_user_error(pieces: list[str]) -> None:
    text = "".join(pieces)
    try:
        draft = extract_meeting(text)
    except UserError:
        return
    assert_evidence_points_at_its_words(draft)
    json.loads(draft.model_dump_json(by_alias=True))


def test_intake_schema_is_published() -> None:
    published = json.loads((DOCS / "intake-1.schema.json").read_text("utf-8"))
    assert published == MeetingDraft.model_json_schema(by_alias=True)


def test_intake_is_pure() -> None:
    """The pure module imports neither the database, the web app, settings nor services."""
    code = (
        "import sys, chainatlas.cppcc.intake as m\n"
        "bad = [n for n in sys.modules if n.startswith(('chainatlas.db', 'chainatlas.web', "
        "'chainatlas.settings', 'chainatlas.services', 'sqlalchemy', 'fastapi'))]\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == ""
