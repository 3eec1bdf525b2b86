from chainatlas.reference.industry import industry_code_names, industry_table
from chainatlas.reference.regions import descendants, load_regions, region_full_name


def test_regions_cover_china_with_levels_parents_and_coordinates() -> None:
    regions = load_regions()
    levels = dict(regions.group_by("level").len().iter_rows())
    assert levels["province"] == 34 and levels["city"] > 330 and levels["county"] > 2800
    wz = regions.filter(regions["region_code"] == "450481").row(0, named=True)
    assert (wz["name"], wz["level"], wz["parent_code"], wz["city_code"], wz["province_code"]) == (
        "岑溪市",
        "county",
        "450400",
        "450400",
        "450000",
    )
    assert 110 < wz["lon"] < 112 and 22 < wz["lat"] < 24
    assert regions["lon"].null_count() == 0  # blanks inherit the nearest ancestor's point
    # a county-level city directly under its province (省直辖县级市) has no prefecture
    xiantao = regions.filter(regions["region_code"] == "429004").row(0, named=True)
    assert xiantao["parent_code"] == "420000" and xiantao["city_code"] is None


def test_full_names_and_descendants() -> None:
    assert region_full_name("450481") == "广西壮族自治区梧州市岑溪市"
    assert region_full_name("110100") == "北京市"  # the municipality named once
    assert region_full_name("110105") == "北京市朝阳区"
    assert set(descendants("450400")) == {
        "450400",
        "450403",
        "450405",
        "450406",
        "450421",
        "450422",
        "450423",
        "450481",
    }


def test_industry_codes() -> None:
    names = industry_code_names()
    assert names["1340"] == "制糖业" and names["3612"] == "新能源车整车制造"
    assert names["6520"] == "集成电路设计"
    levels = {r["level"] for r in industry_table()}
    assert levels == {"section", "division", "group", "class"}
    assert len(names) > 1300
