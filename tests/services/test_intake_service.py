"""Document intake service: files in every supported encoding and type, web pages with their
clutter, pasted text, the JSON and table outputs, and the errors a user can fix."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from rich.console import Console

from chainatlas.errors import UserError
from chainatlas.services import intake as service
from chainatlas.services.intake import (
    draft_json,
    html_to_text,
    intake_file,
    intake_table,
    intake_text,
    intake_upload,
)

SAMPLES = Path(__file__).parents[1] / "cppcc" / "data"

PAGE = """\
<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk">
<title>宜宾市召开动力电池产业链链长调度会_宜宾新闻网</title>
<meta name="publishdate" content="2024-03-06">
<script>var menu = "首页 新闻中心 光伏产业";</script><style>.nav{color:red}</style></head>
<body>
<div class="top-nav"><a href="/">首页</a> | <a href="/news">新闻中心</a> | <a>政务公开</a></div>
<div class="crumbs">当前位置：首页 &gt; 新闻中心 &gt; 本地要闻</div>
<ul class="menu"><li>要闻</li><li>经济</li><li>民生</li></ul>
<div class="article">
<h1>宜宾市召开动力电池产业链链长调度会</h1>
<div class="info">发布时间：2024-03-06 09:30 来源：宜宾日报 【字号：大 中 小】</div>
<p>二〇二四年三月五日，宜宾市动力电池产业链链长调度会在市政府召开。市委副书记、市长张三主持会议，副市长李四通报了产业链建链补链工作进展。</p>
<p>会议指出，今年全市动力电池产业链新签约项目15个，协议投资额320亿元，锂电池产量达到25GWh。</p>
<p>会议要求，各成员单位要聚焦正极材料、隔膜等缺失环节强化招商，推动产业延链强链。</p>
<p>相关新闻</p>
<ul><li><a>宜宾：光伏产业加快发展</a></li><li><a>成都市举办招商推介会</a></li></ul>
</div>
<div class="share">分享到：微信 微博</div>
<div id="footer">版权所有：宜宾新闻网 蜀ICP备12345678号 联系我们</div>
</body></html>
"""


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_sample_reads_the_same_in_every_encoding(tmp_path: Path, encoding: str) -> None:
    text = (SAMPLES / "wuzhou_consultation_2025.txt").read_text("utf-8")
    draft = intake_file(write(tmp_path, "report.txt", text.encode(encoding)))
    assert draft.date is not None and draft.date.value == dt.date(2025, 7, 15)
    assert draft.region is not None and draft.region.region_code == "450400"
    assert (draft.kind.kind, draft.kind.consultation_kind) == ("consultation", "topical")
    assert draft.model_dump() == intake_file(SAMPLES / "wuzhou_consultation_2025.txt").model_dump()


def test_gbk_text_file(tmp_path: Path) -> None:
    text = (
        "梧州市政协召开专题协商会\n"
        "5月20日，梧州市政协召开“推动甘蔗制糖产业延链”专题协商会，民革、民进代表发言。"
    )
    draft = intake_file(write(tmp_path, "会议.txt", text.encode("gbk")), published="2024-05-21")
    assert draft.date is not None and draft.date.value == dt.date(2024, 5, 20)
    assert [p.id for p in draft.participants] == ["rcck", "capd"]
    assert [c.chain_id for c in draft.chains] == ["sugarcane"]


@pytest.fixture(scope="module")
def page_draft(tmp_path_factory: pytest.TempPathFactory) -> service.MeetingDraft:
    folder = tmp_path_factory.mktemp("page")
    return intake_file(write(folder, "page.html", PAGE.encode("gbk")))


def test_web_page_without_its_clutter(page_draft: service.MeetingDraft) -> None:
    for clutter in (
        "首页",
        "当前位置",
        "要闻",
        "分享到",
        "版权所有",
        "ICP",
        "var menu",
        "相关新闻",
    ):
        assert clutter not in page_draft.text, clutter
    # the related-news list below the article does not add the 光伏 chain or 成都
    assert [c.chain_id for c in page_draft.chains] == ["power_battery"]
    assert page_draft.region is not None
    assert (page_draft.region.region_code, page_draft.other_regions) == ("511500", [])
    assert page_draft.title == "宜宾市召开动力电池产业链链长调度会"
    assert page_draft.published == dt.date(2024, 3, 6)


def test_web_page_fields(page_draft: service.MeetingDraft) -> None:
    assert page_draft.date is not None
    assert (page_draft.date.value, page_draft.date.year_source) == (dt.date(2024, 3, 5), "written")
    assert page_draft.date.written == "二〇二四年三月五日"
    assert page_draft.kind.kind == "review_meeting"
    assert page_draft.meeting_name == "宜宾市动力电池产业链链长调度会"
    assert [(x.name, x.title, x.roles) for x in page_draft.leaders] == [
        ("张三", "市委副书记、市长", ["chair", "present"]),
        ("李四", "副市长", ["present"]),
    ]
    assert {(f.value, f.unit) for f in page_draft.figures} == {
        (15, "个"),
        (320, "亿元"),
        (25, "GWh"),
    }
    assert {a.action for a in page_draft.actions if a.chain_action} == {
        "build",
        "fill",
        "extend",
        "strengthen",
    }


def test_pasted_html_equals_the_uploaded_page(page_draft: service.MeetingDraft) -> None:
    assert intake_text(PAGE).model_dump() == page_draft.model_dump()
    uploaded = intake_upload(PAGE.encode("utf-8"), "报道.HTM")
    assert uploaded.model_dump() == page_draft.model_dump()


def test_published_option_overrides_the_page_date() -> None:
    draft = intake_text(PAGE, published=dt.date(2024, 3, 8))
    assert draft.published == dt.date(2024, 3, 8)


def test_page_without_h1_takes_its_title_tag() -> None:
    page = html_to_text(
        "<html><head><title>市政协召开双月协商座谈会 - 某市政协网</title></head><body>"
        "<nav>首页 政协要闻</nav><p>导航</p><p>3月5日，市政协召开双月协商座谈会。</p>"
        "<footer>版权所有</footer></body></html>"
    )
    assert page.title == "市政协召开双月协商座谈会"
    assert page.text == "3月5日，市政协召开双月协商座谈会。"
    assert page.published is None


def test_markdown_file(tmp_path: Path) -> None:
    text = (
        "# 柳州市召开新能源汽车产业链推进会\n\n"
        "> 来源：[柳州日报](https://example.org)\n\n"
        "**6月3日**，柳州市新能源汽车产业链推进会召开，会议要求补链强链，新增配套企业20家。\n"
    )
    draft = intake_file(write(tmp_path, "note.md", text.encode("utf-8")), published="2025-06-04")
    assert draft.headline == ["柳州市召开新能源汽车产业链推进会"]
    assert draft.date is not None and draft.date.value == dt.date(2025, 6, 3)
    assert draft.region is not None and draft.region.region_code == "450200"
    assert [c.chain_id for c in draft.chains] == ["new_energy_vehicle"]
    assert {(f.value, f.unit) for f in draft.figures} == {(20, "家")}
    assert "#" not in draft.text and "**" not in draft.text and "https" not in draft.text


def test_json_output() -> None:
    text = draft_json(intake_file(SAMPLES / "chuzhou_chain_dispatch.txt", published="2021-05-27"))
    data = json.loads(text)
    assert data["schema"] == "chainatlas.intake/1"
    assert data["date"]["value"] == "2021-05-26"
    assert data["region"]["region_code"] == "341100"
    assert data["leaders"][0] == {
        "name": "许继伟",
        "title": "市委书记",
        "roles": ["speech", "present"],
        "evidence": data["leaders"][0]["evidence"],
    }
    assert "\\u" not in text and "滁州" in text  # readable UTF-8, not escaped


def test_table_rendering() -> None:
    draft = intake_file(SAMPLES / "wuzhou_consultation_2025.txt")
    table = intake_table(draft)
    console = Console(record=True, width=200)
    console.print(table)
    out = console.export_text()
    assert "450400" in out and "2025-07-15" in out and "推动梧州产业延链补链强链" in out
    for name in ("蒋连生", "何世恰", "邝驱", "杨桢", "九三学社", "无党派人士"):
        assert name in out
    expected_rows = (
        1  # meeting name
        + 1  # date
        + 1
        + len(draft.other_regions)
        + 1  # kind
        + 1  # topic
        + len(draft.leaders)
        + len(draft.participants)
        + len(draft.chains)
        + len(draft.actions)
        + len(draft.figures)
        + len(draft.notes)
    )
    assert table.row_count == expected_rows


def assert_bilingual(error: UserError) -> None:
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error.message_zh)
    assert error.message_en.isascii() or "(" in error.message_en


@pytest.mark.parametrize(
    ("name", "data", "zh", "en"),
    [
        ("empty.txt", b"", "文件为空", "empty"),
        ("blank.txt", b"  \r\n\t \n", "文件为空", "empty"),
        ("picture.txt", b"\x89PNG\r\n\x1a\n" + bytes(64), "不是文本文件", "not a text file"),
        ("nul.txt", b"abc\x00\x01\x02def" * 10, "不是文本文件", "not a text file"),
        ("report.docx", "会议".encode(), "不支持的文件类型", "unsupported file type"),
        ("report", "会议".encode(), "不支持的文件类型", "unsupported file type"),
        ("english.txt", b"Minutes of the meeting, nothing in Chinese.", "中文", "Chinese"),
        ("short.html", b"<html><body><p>Hi</p></body></html>", "中文", "Chinese"),
    ],
)
def test_unusable_files_are_user_errors(
    tmp_path: Path, name: str, data: bytes, zh: str, en: str
) -> None:
    with pytest.raises(UserError) as caught:
        intake_file(write(tmp_path, name, data))
    assert zh in caught.value.message_zh
    assert en in caught.value.message_en
    assert_bilingual(caught.value)


def test_missing_file_large_file_and_bad_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(UserError) as caught:
        intake_file(tmp_path / "nowhere.txt")
    assert "找不到文件" in caught.value.message_zh and "not found" in caught.value.message_en
    monkeypatch.setattr(service, "MAX_BYTES", 100)
    with pytest.raises(UserError) as caught:
        intake_file(write(tmp_path, "big.txt", "会议".encode() * 100))
    assert "文件过大" in caught.value.message_zh and "too large" in caught.value.message_en
    with pytest.raises(UserError) as caught:
        intake_text("5月20日，市政协召开专题协商会，民建代表发言。", published="20/05/2024")
    assert "发布日期" in caught.value.message_zh and "YYYY-MM-DD" in caught.value.message_en


def test_undecodable_bytes_are_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError) as caught:
        intake_file(write(tmp_path, "broken.txt", "会议报道".encode() + b"\xff\xfe\x81" * 3))
    assert "无法解码" in caught.value.message_zh and "cannot decode" in caught.value.message_en
