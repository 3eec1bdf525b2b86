import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainatlas.atlas import load_atlas
from chainatlas.classify import ASSIGNMENT_SCHEMA, build_vocabulary, classify
from chainatlas.settings import ClassifyWeights

VOCAB = build_vocabulary({"sugarcane": load_atlas()["sugarcane"]})


def run(
    rows: list[tuple[str, str | None, str | None, str | None]],
) -> dict[str, dict[str, tuple[float, str]]]:
    frame = pl.DataFrame(
        rows,
        schema={
            "uscc": pl.String,
            "industry_code": pl.String,
            "business_scope": pl.String,
            "products": pl.String,
        },
        orient="row",
    )
    out: dict[str, dict[str, tuple[float, str]]] = {}
    for r in classify(frame, VOCAB).iter_rows(named=True):
        out.setdefault(r["uscc"], {})[r["node_id"]] = (r["score"], r["method"])
    return out


def test_keywords_codes_and_noisy_or() -> None:
    got = run(
        [
            ("mill", "1340", "甘蔗制糖；白砂糖生产", "白砂糖"),
            ("scope", None, "蔗渣制浆", None),
            ("code", "0133", "一般项目：农产品收购", None),
            ("none", "5211", "日用百货销售", "洗衣粉"),
        ]
    )
    score, method = got["mill"]["raw_sugar_milling"]
    # products 白砂糖 0.6, scope 甘蔗制糖 0.45 (白砂糖 again counts once), code agrees 0.35
    assert score == pytest.approx(1 - 0.4 * 0.55 * 0.65) and method == "keyword+code"
    assert got["scope"] == {"bagasse_pulp_paper": (pytest.approx(0.45), "keyword")}
    assert got["code"] == {"cane_planting": (0.5, "code")}
    assert "none" not in got


def test_exclusion_inside_a_phrase_cancels_only_that_occurrence() -> None:
    got = run(
        [
            ("trader", None, "白砂糖批发；食品销售", None),
            ("mill", None, "甘蔗制糖；白砂糖批发", None),
        ]
    )
    assert "raw_sugar_milling" not in got["trader"] and "sugar_trade_logistics" in got["trader"]
    assert "raw_sugar_milling" in got["mill"]


def test_exclusion_standing_apart_cancels_the_node() -> None:
    got = run([("candy", None, "糖果生产（原料：白砂糖）", None)])
    assert "raw_sugar_milling" not in got.get("candy", {})


def test_code_does_not_override_text_pointing_elsewhere() -> None:
    # code 0133 (cane growing) but the text is about bagasse pulp: text wins, no code-only node
    got = run([("x", "0133", "蔗渣制浆", None)])
    assert set(got["x"]) == {"bagasse_pulp_paper"}


def test_only_defining_codes_assign_on_their_own() -> None:
    # 7452 检测服务 is listed on the testing node but is far broader than it: no code-only node;
    # 1340 制糖业 sits on milling and refining, and the template makes it defining for milling
    assert run([("x", "7452", "一般项目：检验检测服务", None)]) == {}
    assert run([("y", "1340", "一般项目：食品销售", None)]) == {
        "y": {"raw_sugar_milling": (0.5, "code")}
    }


def test_ascii_keywords_match_case_insensitively() -> None:
    vocab = build_vocabulary(load_atlas())
    frame = pl.DataFrame(
        {
            "uscc": ["a"],
            "industry_code": [None],
            "business_scope": ["topcon电池片生产"],
            "products": [None],
        },
        schema_overrides={"industry_code": pl.String, "products": pl.String},
    )
    ascii_keywords = [k for k in vocab.patterns if k.isascii() and k.isalpha()]
    assert ascii_keywords, "the atlas carries ASCII keywords"
    upper = frame.with_columns(pl.col("business_scope").str.to_uppercase())
    assert (
        classify(frame, vocab)
        .select("chain_id", "node_id")
        .equals(classify(upper, vocab).select("chain_id", "node_id"))
    )


def test_every_firm_row_order_gives_the_same_assignments() -> None:
    rows = [
        ("a", "1340", "甘蔗制糖", None),
        ("b", None, "蔗渣发电", None),
        ("c", "0133", None, None),
    ]
    frame = pl.DataFrame(
        rows,
        schema={
            "uscc": pl.String,
            "industry_code": pl.String,
            "business_scope": pl.String,
            "products": pl.String,
        },
        orient="row",
    )

    def ordered(f: pl.DataFrame) -> pl.DataFrame:
        return classify(f, VOCAB).sort("uscc", "chain_id", "node_id")

    assert ordered(frame).equals(ordered(frame.reverse()))


def test_lone_side_activity_beside_the_main_business_is_dropped() -> None:
    vocab = build_vocabulary(load_atlas())
    frame = pl.DataFrame(
        {
            "uscc": ["mill", "two_lone"],
            "industry_code": ["1340", None],
            "business_scope": ["甘蔗制糖；白砂糖生产；食糖仓储", "蔗渣发电；酵母生产"],
            "products": [None, None],
        },
        schema_overrides={"industry_code": pl.String, "products": pl.String},
    )
    out = classify(frame, vocab)
    mill = set(out.filter(pl.col("uscc") == "mill")["node_id"])
    assert mill == {"raw_sugar_milling"}  # 食糖仓储 alone is a side activity
    # only lone mentions: the one named first is the main business
    assert out.filter(pl.col("uscc") == "two_lone")["node_id"].to_list() == ["bagasse_power"]


def test_a_child_node_replaces_its_parent() -> None:
    vocab = build_vocabulary(load_atlas())
    frame = pl.DataFrame(
        {
            "uscc": ["mcu"],
            "industry_code": ["6520"],
            "business_scope": ["集成电路设计；32位MCU芯片设计与销售"],
            "products": ["MCU"],
        }
    )
    nodes = set(
        classify(frame, vocab).filter(pl.col("chain_id") == "integrated_circuit")["node_id"]
    )
    assert "mcu_design" in nodes and "chip_design" not in nodes


def test_noisy_or_is_the_correctly_rounded_product() -> None:
    # 白砂糖 in products (0.6), 甘蔗制糖 and 机制糖 in the scope (0.45 each), one node:
    # 1 − 0.4 · 0.55 · 0.55 = 0.879 — the double nearest 0.879, as the compensated sum of logs
    # gives (a plain left-to-right sum would give 0.8789999999999999), and 1340 adds 0.35
    got = run(
        [
            ("kw", None, "甘蔗制糖；机制糖生产", "白砂糖"),
            ("kw_code", "1340", "甘蔗制糖；机制糖生产", "白砂糖"),
        ]
    )
    assert got["kw"]["raw_sugar_milling"] == (0.879, "keyword")
    assert got["kw_code"]["raw_sugar_milling"] == (1 - 0.121 * 0.65, "keyword+code")


def test_evidence_lists_the_counted_keywords_in_keyword_order_then_the_code() -> None:
    frame = pl.DataFrame(
        {
            "uscc": ["kw_code", "code"],
            "industry_code": ["1340", "0133"],
            # 白砂糖 twice and in both fields counts once; 白砂糖批发 voids only its occurrence
            "business_scope": ["白砂糖批发；甘蔗制糖；白砂糖生产", "一般项目：农产品收购"],
            "products": ["白砂糖", None],
        }
    )
    out = classify(frame, VOCAB)
    assert out.select("uscc", "node_id", "method", "evidence").rows() == [
        ("kw_code", "raw_sugar_milling", "keyword+code", "kw:甘蔗制糖,白砂糖;code:1340"),
        ("code", "cane_planting", "code", "code:0133"),
    ]


TOY_SHARED = """\
id: shared
name_zh: 共享词链
name_en: Shared words
nodes:
  - {id: a, name_zh: 甲, name_en: A, stage: upstream, industry_codes: ["2611"], include: [甲料, 通用件]}
  - {id: b, name_zh: 乙, name_en: B, stage: midstream, industry_codes: ["3311"], include: [乙件, 通用件], exclude: [甲料]}
edges:
  - {supplier: a, customer: b}
"""


def test_a_keyword_of_several_nodes_counts_for_each_and_an_exclusion_for_its_own_node() -> None:
    from chainatlas.atlas import parse_template

    vocab = build_vocabulary({"shared": parse_template(TOY_SHARED, "shared.yaml")})
    frame = pl.DataFrame(
        {
            "uscc": ["both", "a_only"],
            "industry_code": [None, None],
            # 通用件 (a product of a and of b) counts for both; in the second firm 甲料 (an
            # exclude of b, standing apart) voids b, which rests on 通用件 alone, and counts for a
            "business_scope": ["乙件", "甲料"],
            "products": ["通用件", "通用件"],
        },
        schema_overrides={"industry_code": pl.String},
    )
    out = classify(frame, vocab).select("uscc", "node_id", "score", "evidence").rows()
    assert out == [
        ("both", "a", 0.6, "kw:通用件"),
        ("both", "b", pytest.approx(1 - 0.4 * 0.55), "kw:乙件,通用件"),
        ("a_only", "a", pytest.approx(1 - 0.4 * 0.55), "kw:甲料,通用件"),
    ]


def test_columns_with_no_value_at_all_read_as_empty_text() -> None:
    # built from Python values, an all-empty column has the Null dtype
    frame = pl.DataFrame(
        {"uscc": ["a"], "industry_code": [None], "business_scope": ["甘蔗制糖"], "products": [None]}
    )
    assert frame.schema["products"] == pl.Null
    out = classify(frame, VOCAB)
    assert out.select("node_id", "method", "evidence").rows() == [
        ("raw_sugar_milling", "keyword", "kw:甘蔗制糖")
    ]


def test_empty_input_gives_the_empty_assignment_frame() -> None:
    empty = pl.DataFrame(schema={"uscc": pl.String, "business_scope": pl.String})
    out = classify(empty, VOCAB)
    assert out.height == 0 and out.schema == pl.Schema(ASSIGNMENT_SCHEMA)


POOL = [
    ("1340", "甘蔗制糖；白砂糖生产；食糖仓储", "白砂糖"),
    (None, "白砂糖批发；食品销售", None),
    (None, "糖果生产（原料：白砂糖）", None),
    ("0133", "一般项目：农产品收购", None),
    ("0133", "蔗渣制浆", None),
    (None, "蔗渣发电；酵母生产", None),
    ("1340", "一般项目：食品销售", None),
    (None, "日用百货销售", "洗衣粉"),
    (None, "甘蔗制糖；机制糖生产", "白砂糖"),
    (None, None, None),
]


@given(
    picks=st.lists(st.integers(0, len(POOL) - 1), min_size=2, max_size=40),
    threads=st.integers(2, 6),
)
@settings(max_examples=40, deadline=None)
def test_splitting_over_threads_changes_nothing(picks: list[int], threads: int) -> None:
    frame = pl.DataFrame(
        [(f"f{i}", *POOL[p]) for i, p in enumerate(picks)],
        schema={
            "uscc": pl.String,
            "industry_code": pl.String,
            "business_scope": pl.String,
            "products": pl.String,
        },
        orient="row",
    )
    one = classify(frame, VOCAB, threads=1)
    assert classify(frame, VOCAB, threads=threads).equals(one)
    # ordered by input row, then by node
    order = {f"f{i}": i for i in range(len(picks))}
    keys = [(order[u], n) for u, n in one.select("uscc", "node_id").rows()]
    node_rank = {n: i for i, n in enumerate(VOCAB.nodes["node_id"])}
    assert keys == sorted(keys, key=lambda k: (k[0], node_rank[k[1]]))


def run_all_nodes(
    rows: list[tuple[str, str | None, str | None, str | None]],
) -> dict[str, set[str]]:
    """Assignments with the side-activity rules switched off: every node the evidence reaches."""
    frame = pl.DataFrame(
        rows,
        schema={
            "uscc": pl.String,
            "industry_code": pl.String,
            "business_scope": pl.String,
            "products": pl.String,
        },
        orient="row",
    )
    out: dict[str, set[str]] = {}
    for r in classify(frame, VOCAB, ClassifyWeights(ancillary_max=0.0)).iter_rows(named=True):
        out.setdefault(r["uscc"], set()).add(r["node_id"])
    return out


def test_a_keyword_inside_a_longer_keyword_is_no_evidence_of_its_own() -> None:
    got = run_all_nodes(
        [
            # 甘蔗种植 (cane growing) inside 甘蔗种植机 (a planting machine): machinery only
            ("machine", None, "甘蔗种植机研发制造", None),
            ("twice", None, "甘蔗种植机制造；甘蔗种植机销售", None),
            # one occurrence stands outside the longer keyword: it counts
            ("both", None, "甘蔗种植机制造；甘蔗种植", None),
        ]
    )
    assert got["machine"] == {"cane_machinery"}
    assert got["twice"] == {"cane_machinery"}
    assert got["both"] == {"cane_machinery", "cane_planting"}


def test_the_vocabulary_knows_which_keywords_sit_inside_longer_ones() -> None:
    ids = VOCAB.pattern_ids
    contained = set(VOCAB.contained.select("kw_id", "container_id", "times").iter_rows())
    assert (ids["甘蔗种植"], ids["甘蔗种植机"], 1) in contained
    assert not any(c == k for k, c, _ in contained)
    trade = VOCAB.lookup.trade_keyword
    assert trade[ids["糖蜜批发"]] and not trade[ids["白砂糖"]]


def test_goods_named_only_in_a_trade_clause_are_traded_not_made() -> None:
    got = run(
        [
            # the goods are listed before 批发 / 零售 / 制售 and nothing in the clause is made
            ("trader", "1340", "白砂糖、赤砂糖、糖蜜批发；普通货物仓储服务", None),
            ("shop", None, "糖果、巧克力、饼干零售", None),
            ("juice_bar", None, "现榨甘蔗汁、奶茶制售", None),
            # a clause that also names production is no trade-only clause
            ("mill", None, "白砂糖、赤砂糖生产、销售", None),
            # a node whose industry classes include wholesale (化肥批发) trades as its business
            ("inputs", None, "甘蔗专用肥、除草剂批发零售", None),
        ]
    )
    assert set(got["trader"]) == {"sugar_trade_logistics"}  # 糖蜜批发 is the trade itself
    assert "shop" not in got and "juice_bar" not in got
    assert set(got["mill"]) == {"raw_sugar_milling"}
    assert set(got["inputs"]) == {"cane_agri_inputs"}


def test_a_lone_mention_falls_only_to_an_assignment_at_least_as_well_supported() -> None:
    got = run(
        [
            # 1340 agrees with milling and refining alike: the lone 冰糖 is a side line
            ("mill", "1340", "甘蔗制糖；白砂糖生产；冰糖", None),
            # 6820 (insurance) agrees with the lone insurance mention only: it stays
            ("insurer", "6820", "糖料蔗价格指数保险；甘蔗种植；原料蔗", None),
        ]
    )
    assert set(got["mill"]) == {"raw_sugar_milling"}
    assert set(got["insurer"]) == {"cane_insurance", "cane_planting"}
