"""Sectors of firms on no chain (retail, catering, real estate, software …), as data.

Their industry codes are filtered at run time against every code the atlas uses, so a
firm on no chain never carries a chain's code (whatever templates are loaded).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Sector:
    id: str
    share: float  # share of the firms on no chain
    codes: tuple[str, ...]  # GB/T 4754-2017 classes
    words: tuple[str, ...]  # industry words of names
    items: tuple[str, ...]  # 经营范围 items
    licences: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    capital_median: float = 100.0  # 万元
    high_tech_rate: float = 0.0


SECTORS: tuple[Sector, ...] = (
    Sector(
        "retail",
        0.20,
        ("5211", "5212", "5213", "5219", "5232", "5245", "5271"),
        ("商贸", "商行", "百货", "超市"),
        (
            "日用百货销售",
            "服装服饰零售",
            "鞋帽零售",
            "化妆品零售",
            "文具用品零售",
            "家用电器销售",
            "五金产品零售",
            "针纺织品销售",
            "母婴用品销售",
            "玩具销售",
        ),
        ("食品销售", "烟草制品零售", "酒类经营"),
        ("日用百货", "服装", "家电"),
        30.0,
    ),
    Sector(
        "catering",
        0.10,
        ("6210", "6220", "6231", "6232", "6241", "6291"),
        ("餐饮管理", "餐饮服务", "饮食", "茶饮"),
        ("餐饮管理", "外卖递送服务", "食品销售（仅销售预包装食品）", "餐饮器具集中消毒服务"),
        ("餐饮服务", "食品经营", "小餐饮"),
        (),
        20.0,
    ),
    Sector(
        "real_estate",
        0.08,
        ("7010", "7020", "7030", "7040"),
        ("置业", "房地产开发", "物业服务", "房地产经纪"),
        ("物业管理", "房地产经纪", "住房租赁", "非居住房地产租赁", "停车场服务", "房地产咨询"),
        ("房地产开发经营",),
        (),
        1000.0,
    ),
    Sector(
        "software",
        0.09,
        ("6511", "6512", "6513", "6531", "6540", "6550", "6432"),
        ("信息技术", "网络科技", "软件", "数字科技", "智能科技"),
        (
            "软件开发",
            "信息系统集成服务",
            "信息技术咨询服务",
            "数据处理和存储支持服务",
            "网络技术服务",
            "人工智能应用软件开发",
            "计算机系统服务",
            "物联网技术服务",
        ),
        ("第二类增值电信业务", "互联网信息服务"),
        ("管理软件", "小程序开发", "信息化解决方案"),
        200.0,
        0.15,
    ),
    Sector(
        "business_services",
        0.10,
        ("7212", "7241", "7242", "7243", "7251", "7259", "7263"),
        ("企业管理", "商务服务", "咨询", "广告", "人力资源"),
        (
            "企业管理咨询",
            "财务咨询",
            "市场调查（不含涉外调查）",
            "广告设计、代理",
            "广告制作",
            "市场营销策划",
            "会议及展览服务",
            "人力资源服务（不含职业中介活动、劳务派遣服务）",
        ),
        ("劳务派遣服务", "职业中介活动"),
        (),
        100.0,
        0.01,
    ),
    Sector(
        "construction",
        0.10,
        ("4710", "4790", "4813", "4851", "4910", "5011", "5013"),
        ("建设", "建筑工程", "装饰工程", "市政工程"),
        (
            "园林绿化工程施工",
            "土石方工程施工",
            "建筑材料销售",
            "对外承包工程",
            "工程管理服务",
            "普通机械设备安装服务",
        ),
        ("建设工程施工", "建筑劳务分包"),
        (),
        500.0,
        0.01,
    ),
    Sector(
        "transport",
        0.07,
        ("5431", "5437", "5438", "5439", "6010", "6090"),
        ("物流", "运输", "快递"),
        (
            "国内货物运输代理",
            "装卸搬运",
            "普通货物仓储服务（不含危险化学品等需许可审批的项目）",
            "机动车修理和维护",
            "汽车租赁",
        ),
        ("道路货物运输（不含危险货物）", "快递服务"),
        (),
        100.0,
    ),
    Sector(
        "lodging",
        0.04,
        ("6110", "6121", "6129", "6130"),
        ("酒店管理", "宾馆", "民宿"),
        ("酒店管理", "会议及展览服务", "洗染服务", "停车场服务"),
        ("住宿服务", "餐饮服务"),
        (),
        100.0,
    ),
    Sector(
        "resident_services",
        0.08,
        ("8010", "8020", "8030", "8040", "8060", "8070", "8111"),
        ("家政服务", "美容美发", "汽车服务", "婚庆服务"),
        (
            "家政服务",
            "理发服务",
            "美甲服务",
            "婚庆礼仪服务",
            "摄影扩印服务",
            "洗车服务",
            "汽车装饰用品销售",
            "机动车修理和维护",
        ),
        ("生活美容服务",),
        (),
        10.0,
    ),
    Sector(
        "education",
        0.05,
        ("8391", "8392", "8393", "8394"),
        ("教育科技", "文化传播", "培训"),
        (
            "教育咨询服务（不含涉许可审批的教育培训活动）",
            "组织文化艺术交流活动",
            "体育竞赛组织",
            "业务培训（不含教育培训、职业技能培训等需取得许可的培训）",
        ),
        (),
        (),
        50.0,
    ),
    Sector(
        "culture_media",
        0.05,
        ("8710", "8740", "8770", "8890", "9011"),
        ("文化传媒", "影视文化", "体育发展"),
        (
            "组织文化艺术交流活动",
            "文艺创作",
            "平面设计",
            "摄像及视频制作服务",
            "票务代理服务",
            "体育场地设施经营（不含高危险性体育运动）",
        ),
        ("营业性演出", "广播电视节目制作经营"),
        (),
        50.0,
    ),
    Sector(
        "finance_leasing",
        0.04,
        ("7111", "7119", "7121", "7125"),
        ("租赁", "融资租赁", "投资"),
        ("机械设备租赁", "办公设备租赁服务", "小微型客车租赁经营服务", "以自有资金从事投资活动"),
        (),
        (),
        1000.0,
    ),
)


def off_chain_sectors(chain_codes: Iterable[str]) -> tuple[Sector, ...]:
    """The sectors with every code used by a chain template removed (empty sectors dropped)."""
    taken = set(chain_codes)
    kept = []
    for sector in SECTORS:
        codes = tuple(c for c in sector.codes if c not in taken)
        if codes:
            kept.append(replace(sector, codes=codes))
    if not kept:
        raise ValueError("every off-chain sector code is used by a chain template")
    return tuple(kept)
