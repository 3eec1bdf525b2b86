"""Reading users' I-O tables, node weights from linkages, extension direction."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from chainatlas.atlas import Chain, parse_template
from chainatlas.errors import UserError
from chainatlas.metrics.io_linkages import io_linkages
from chainatlas.services.io_tables import (
    IOTable,
    extension_direction,
    io_result_dict,
    matrix_frame,
    node_io_weights,
    read_io_table,
    run_io_linkages,
)

DATA = Path(__file__).parent.parent / "data" / "io"
MB_Z, MB_X = DATA / "mb2_Z.csv", DATA / "mb2_x.csv"
TOY_Z, TOY_X = DATA / "toy_Z.csv", DATA / "toy_x.csv"

# The toy table (tests/data/io/toy_*.csv) is the four-sector chain of
# tests/metrics/test_io_linkages.py::test_four_kinds with sectors tied to the toy chain's
# codes (a 2611 → 化学原料 "26", b 3311 → 金属制品 "33", c 3911 → 其他制造 "39",
# d 7451 → 商务服务 "72;74"):
#   BL_norm = [1, 1.5, 1.6, 1] / 1.275, FL_norm = [1.35, 1.4, 1, 1] / 1.1875
#   weight = (BL_norm + FL_norm) / 2 = [.96058, 1.17771, 1.04850, .81321]
TOY_BL = np.array([1, 1.5, 1.6, 1]) / 1.275
TOY_FL = np.array([1.35, 1.4, 1, 1]) / 1.1875


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


@pytest.fixture()
def toy_table() -> IOTable:
    return read_io_table(TOY_Z, TOY_X)


# --- reading -------------------------------------------------------------------------


def test_read_miller_blair() -> None:
    table = read_io_table(MB_Z, MB_X)
    assert table.sectors == ("agriculture", "manufacturing")
    np.testing.assert_array_equal(table.z, [[150, 500], [200, 100]])
    np.testing.assert_array_equal(table.x, [1000, 2000])
    assert table.industry_codes == ((), ())
    np.testing.assert_array_equal(table.satellites["value_added"], [650, 1400])
    result = run_io_linkages(MB_Z, MB_X)
    np.testing.assert_allclose(result.L, np.array([[0.95, 0.25], [0.20, 0.85]]) / 0.7575)
    assert result.linkages["kind"].to_list() == ["key", "weak"]
    np.testing.assert_allclose(result.linkages["value_added_multiplier"], [1.0, 1.0])


def test_x_rows_are_aligned_to_z(toy_table: IOTable) -> None:
    # toy_x.csv lists 商务服务 first; Z's order wins
    assert toy_table.sectors == ("化学原料", "金属制品", "其他制造", "商务服务")
    np.testing.assert_array_equal(toy_table.x, [2000, 1000, 1000, 500])
    assert toy_table.industry_codes == (("26",), ("33",), ("39",), ("72", "74"))


def test_gbk_thousands_blanks_and_aliases(tmp_path: Path) -> None:
    z = write(
        tmp_path / "Z.csv",
        '部门,农业,工业\n农业,150,"1,500"\n工业, 200 ,\n',
        encoding="gbk",
    )
    x = write(
        tmp_path / "x.csv",
        '部门,总产出,行业代码,就业人数\n工业,"3,000",13；1340,40\n农业,1000,01,10\n',
        encoding="gbk",
    )
    table = read_io_table(z, x)
    assert table.sectors == ("农业", "工业")
    np.testing.assert_array_equal(table.z, [[150, 1500], [200, 0]])  # blank cell = 0
    np.testing.assert_array_equal(table.x, [1000, 3000])
    assert table.industry_codes == (("01",), ("13", "1340"))
    np.testing.assert_array_equal(table.satellites["employment"], [10, 40])


def test_output_helpers() -> None:
    result = run_io_linkages(MB_Z, MB_X)
    frame = matrix_frame(result, "G")
    assert frame.columns == ["sector", "agriculture", "manufacturing"]
    np.testing.assert_allclose(frame["manufacturing"], np.array([0.50, 0.85]) / 0.7575)
    payload = json.loads(json.dumps(io_result_dict(result)))
    assert payload["sectors"] == ["agriculture", "manufacturing"]
    assert payload["linkages"][0]["kind"] == "key"
    assert payload["A"] == [[0.15, 0.25], [0.2, 0.05]]
    assert "L" not in io_result_dict(result, matrices=False)


# --- bad files -----------------------------------------------------------------------

GOOD_X = "sector,output\na,100\nb,100\n"


def read_error(tmp_path: Path, z_text: str, x_text: str = GOOD_X) -> UserError:
    z = write(tmp_path / "Z.csv", z_text)
    x = write(tmp_path / "x.csv", x_text)
    with pytest.raises(UserError) as info:
        run_io_linkages(z, x)
    return info.value


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="file not found"):
        read_io_table(tmp_path / "Z.csv", tmp_path / "x.csv")


def test_first_column_must_be_sector(tmp_path: Path) -> None:
    error = read_error(tmp_path, "code,a,b\na,1,2\nb,3,4\n")
    assert "headed 'sector', found 'code'" in error.message_en and "Z.csv" in error.message_zh


def test_header_and_row_labels_must_agree(tmp_path: Path) -> None:
    error = read_error(tmp_path, "sector,a,b\na,1,2\nc,3,4\n")
    assert "column 3 'b' differs from the sector of row 3 'c'" in error.message_en
    assert "第 3 列的表头「b」与第 3 行的部门「c」不一致" in error.message_zh


def test_not_square(tmp_path: Path) -> None:
    error = read_error(tmp_path, "sector,a,b,c\na,1,2,0\nb,3,4,0\n")
    assert "not square" in error.message_en and "extra column 'c'" in error.message_en
    error = read_error(tmp_path, "sector,a\na,1\nb,3\n")
    assert "sector 'b' of row 3 has no column" in error.message_en


def test_non_numeric_cell_named_by_row_and_column(tmp_path: Path) -> None:
    error = read_error(tmp_path, "sector,a,b\na,1,2\nb,3,四\n")
    assert "row 3, column 'b' (column 3) is not a number: '四'" in error.message_en
    assert "第 3 行「b」列" in error.message_zh
    error = read_error(tmp_path, "sector,a,b\na,1,inf\nb,3,4\n")
    assert "row 2, column 'b'" in error.message_en


def test_duplicate_sector_rows(tmp_path: Path) -> None:
    error = read_error(tmp_path, "sector,a,b\na,1,2\na,3,4\n")
    assert "rows 2 and 3: sector 'a' appears twice" in error.message_en


def test_duplicate_sector_columns(tmp_path: Path) -> None:
    error = read_error(tmp_path, "sector,a,a\na,1,2\nb,3,4\n")
    assert "duplicate headers" in error.message_en


def test_negative_flow_names_sectors(tmp_path: Path) -> None:
    error = read_error(tmp_path, "sector,a,b\na,1,-2\nb,3,4\n")
    assert "row 'a', column 'b' is negative" in error.message_en


def test_non_productive_named(tmp_path: Path) -> None:
    error = read_error(tmp_path, "sector,a,b\na,1,60\nb,3,50\n")
    assert "'b'" in error.message_en and "non-productive" in error.message_en


@pytest.mark.parametrize(
    ("x_text", "expected"),
    [
        ("sector,output\na,100\n", "lacks sector 'b' of Z"),
        ("sector,output\na,100\nb,100\nc,5\n", "row 4: sector 'c' is not in Z"),
        ("sector,total\na,100\nb,100\n", "lacks column(s): output"),
        ("sector,output\na,100\nb,\n", "row 3, column 'output' (column 2) is empty"),
        ("sector,output\na,100\nb,lots\n", "is not a number: 'lots'"),
        (
            "sector,industry_codes,output,employment\na,13,100,1\nb,14,100,\n",
            "row 3, column 'employment' (column 4) is empty",
        ),
        ("sector,output\na,100\na,100\n", "sector 'a' appears twice"),
        ("sector,output\na,100\nb,-1\n", "sector 'b' has output -1"),
        ("sector,output\na,100\nb,0\n", "sector 'b' has inputs but its output is 0"),
        ("sector,output,industry_codes\na,100,13\nb,100,1340;9999\n", "'9999' is not a GB/T"),
        ("sector,output,industry_codes\na,100,C\nb,100,\n", "'C' is not a GB/T"),
        ("sector,output,industry_codes\na,100,13\nb,100,13\n", "'13' is given to both 'a' and 'b'"),
        ("sector,output,x\na,100,1\nb,100,1\n", "'output' and 'x' both mean output"),
    ],
)
def test_bad_x(tmp_path: Path, x_text: str, expected: str) -> None:
    error = read_error(tmp_path, "sector,a,b\na,1,2\nb,3,4\n", x_text)
    assert expected in error.message_en
    assert error.message_zh and error.message_zh != error.message_en


# --- chain nodes ---------------------------------------------------------------------


def test_node_weights_on_toy_chain(toy_chain: Chain, toy_table: IOTable) -> None:
    result = io_linkages(toy_table.z, toy_table.x, toy_table.sectors)
    weights = node_io_weights(toy_chain, toy_table, result)
    assert weights["node_id"].to_list() == ["a", "b", "c", "d"]
    assert weights["sector"].to_list() == ["化学原料", "金属制品", "其他制造", "商务服务"]
    np.testing.assert_allclose(weights["backward_norm"], TOY_BL)
    np.testing.assert_allclose(weights["forward_norm"], TOY_FL)
    np.testing.assert_allclose(
        weights["weight"], [0.960578, 1.177709, 1.048504, 0.813209], atol=1e-6
    )
    assert weights["kind"].to_list() == ["forward", "key", "backward", "weak"]
    assert weights.filter(pl.col("kind") == "key")["weight"].item() > 1


MULTI_TEMPLATE = """\
id: multi
name_zh: 多代码链
name_en: Multi-code chain
nodes:
  - {id: mixed, name_zh: 混合, name_en: Mixed, stage: upstream, industry_codes: ["2611", "3311"]}
  - {id: fastener, name_zh: 紧固件, name_en: Fasteners, stage: midstream, industry_codes: ["3482"]}
  - {id: none, name_zh: 无匹配, name_en: Unmatched, stage: downstream, industry_codes: ["5111"]}
  - {id: blank, name_zh: 无代码, name_en: No codes, stage: support}
edges:
  - {supplier: mixed, customer: fastener}
  - {supplier: fastener, customer: none}
"""


def test_multi_code_node_and_longest_prefix(toy_table: IOTable) -> None:
    chain = parse_template(MULTI_TEMPLATE, "multi.yaml")
    # add a fifth sector holding class 3482 (and the division 34 to another): the class wins
    z = np.zeros((6, 6))
    z[:4, :4] = toy_table.z
    table = IOTable(
        (*toy_table.sectors, "通用设备", "紧固件"),
        z,
        np.append(toy_table.x, [100.0, 100.0]),
        (*toy_table.industry_codes, ("34",), ("3482",)),
    )
    result = io_linkages(table.z, table.x, table.sectors)
    weights = node_io_weights(chain, table, result).to_dicts()
    # "mixed": 2611 → 化学原料 (x 2000), 3311 → 金属制品 (x 1000): output-weighted mean,
    # sectors listed by output (the plain mean would differ)
    mixed = weights[0]
    assert mixed["sector"] == "化学原料;金属制品"
    bl = result.linkages["backward_norm"].to_numpy()
    fl = result.linkages["forward_norm"].to_numpy()
    assert mixed["backward_norm"] == pytest.approx((2000 * bl[0] + 1000 * bl[1]) / 3000)
    assert mixed["forward_norm"] == pytest.approx((2000 * fl[0] + 1000 * fl[1]) / 3000)
    assert mixed["backward_norm"] != pytest.approx((bl[0] + bl[1]) / 2)
    assert weights[1]["sector"] == "紧固件"
    for unmatched in weights[2:]:
        assert unmatched["sector"] is None and unmatched["weight"] == 1.0
        assert unmatched["backward_norm"] is None and unmatched["kind"] is None


def test_node_weights_need_the_same_table(toy_chain: Chain, toy_table: IOTable) -> None:
    other = run_io_linkages(MB_Z, MB_X)
    with pytest.raises(UserError, match="same table"):
        node_io_weights(toy_chain, toy_table, other)


def status(**by_node: str) -> pl.DataFrame:
    return pl.DataFrame({"node_id": list(by_node), "status": list(by_node.values())})


@pytest.fixture()
def toy_weights(toy_chain: Chain, toy_table: IOTable) -> pl.DataFrame:
    result = io_linkages(toy_table.z, toy_table.x, toy_table.sectors)
    return node_io_weights(toy_chain, toy_table, result)


def test_extension_up_and_down(toy_chain: Chain, toy_weights: pl.DataFrame) -> None:
    # toy chain: a → b → c, d → b. a is forward-oriented, c backward-oriented, b missing.
    out = extension_direction(
        toy_chain, toy_weights, status(a="present", b="missing", c="strong", d="weak")
    )
    assert out["node_id"].to_list() == ["a", "c"]  # only present/strong nodes
    a, c = out.to_dicts()
    assert (a["direction"], a["upstream_nodes"], a["downstream_nodes"]) == ("downstream", [], ["b"])
    assert (c["direction"], c["upstream_nodes"], c["downstream_nodes"]) == ("upstream", ["b"], [])
    assert "宜向下游" in a["reason_zh"] and "「乙件」" in a["reason_zh"]
    assert "extend upstream" in c["reason_en"] and "'B part'" in c["reason_en"]


def test_extension_key_sector_both_ways(toy_chain: Chain, toy_weights: pl.DataFrame) -> None:
    out = extension_direction(
        toy_chain, toy_weights, status(a="present", b="strong", c="missing", d="weak")
    )
    a, b = out.to_dicts()
    # a's only customer b is held: direction stays downstream, nothing to add
    assert (a["direction"], a["downstream_nodes"]) == ("downstream", [])
    assert "已具备" in a["reason_zh"] and "already held" in a["reason_en"]
    # b is key: both ways; supplier a is held, d is weak; customer c is missing
    assert (b["direction"], b["upstream_nodes"], b["downstream_nodes"]) == ("both", ["d"], ["c"])
    assert "关键部门" in b["reason_zh"]


def test_extension_weak_and_unmatched(toy_chain: Chain, toy_weights: pl.DataFrame) -> None:
    weights = toy_weights.with_columns(
        pl.when(pl.col("node_id") == "b")
        .then(None)
        .otherwise(pl.col("backward_norm"))
        .alias("backward_norm")
    )
    out = extension_direction(toy_chain, weights, status(b="present", d="strong"))
    b, d = out.to_dicts()
    assert b["direction"] == "none" and "未匹配" in b["reason_zh"]
    assert d["direction"] == "none" and "neither above average" in d["reason_en"]
    assert b["upstream_nodes"] == [] and d["downstream_nodes"] == []


def test_extension_bad_status(toy_chain: Chain, toy_weights: pl.DataFrame) -> None:
    with pytest.raises(UserError, match="invalid status 'great'"):
        extension_direction(toy_chain, toy_weights, status(a="great"))
    with pytest.raises(UserError, match="node 'zz' is not in chain toy"):
        extension_direction(toy_chain, toy_weights, status(zz="present"))
    with pytest.raises(UserError, match="lacks column"):
        extension_direction(toy_chain, toy_weights, pl.DataFrame({"node_id": ["a"]}))
