"""Phrase pools in the words registry clerks use (经营范围, 企业名称), as data.

Strings are written the way clerks type them (full-width Chinese punctuation); the
generator derives the normalised form (NFKC, half-width) for clean rows.
"""

from __future__ import annotations

# 一般项目 that any firm may carry, whatever it makes.
GENERIC_ITEMS: tuple[str, ...] = (
    "技术服务、技术开发、技术咨询",
    "技术交流、技术转让、技术推广",
    "货物进出口",
    "技术进出口",
    "进出口代理",
    "普通货物仓储服务（不含危险化学品等需许可审批的项目）",
    "信息咨询服务（不含许可类信息咨询服务）",
    "企业管理咨询",
    "机械设备销售",
    "机械设备租赁",
    "五金产品批发",
    "五金产品零售",
    "办公设备耗材销售",
    "装卸搬运",
    "包装服务",
    "会议及展览服务",
    "市场营销策划",
    "互联网销售（除销售需要许可的商品）",
    "国内贸易代理",
    "供应链管理服务",
    "非居住房地产租赁",
    "销售代理",
    "品牌管理",
    "劳务服务（不含劳务派遣）",
    "社会经济咨询服务",
    "专用设备修理",
    "普通机械设备安装服务",
    "环境保护专用设备销售",
    "再生资源回收（除生产性废旧金属）",
    "以自有资金从事投资活动",
)

# Trade phrases unrelated to any chain: noise a classifier must ignore.
UNRELATED_ITEMS: tuple[str, ...] = (
    "日用百货销售",
    "食品销售（仅销售预包装食品）",
    "服装服饰零售",
    "化妆品零售",
    "家用电器销售",
    "文具用品零售",
    "体育用品及器材零售",
    "建筑材料销售",
    "汽车零配件零售",
    "电子产品销售",
    "珠宝首饰零售",
    "住房租赁",
    "停车场服务",
    "洗车服务",
    "礼品花卉销售",
    "母婴用品销售",
    "宠物食品及用品零售",
    "家具销售",
    "针纺织品销售",
    "计算机软硬件及辅助设备零售",
)

# Licensed items that sit on any firm's scope now and then (许可项目).
UNRELATED_LICENCES: tuple[str, ...] = ("餐饮服务", "烟草制品零售", "酒类经营", "小食杂")

# Closing formulas of the two registry styles (post-2021 一般/许可 split, and older text).
GENERAL_OPENING = "一般项目："
GENERAL_CLOSING = "（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）"
LICENSED_OPENING = "许可项目："
LICENSED_CLOSING_LONG = (
    "（依法须经批准的项目，经相关部门批准后方可开展经营活动，"
    "具体经营项目以相关部门批准文件或许可证件为准）"
)
LICENSED_CLOSING_SHORT = "（依法须经批准的项目，经相关部门批准后方可开展经营活动）"
OLD_STYLE_CLOSING = "。（依法须经批准的项目，经相关部门批准后方可开展经营活动）"

# Verbs a clerk appends to a product, by GB/T 4754 section (first two digits of the code).
VERBS_BY_DIVISION: tuple[tuple[range, tuple[str, ...]], ...] = (
    (range(1, 6), ("种植", "销售", "收购", "培育")),
    (range(6, 47), ("生产", "制造", "加工", "销售", "研发")),
    (range(51, 53), ("批发", "零售", "销售")),
    (range(53, 61), ("仓储", "配送", "运输服务")),
    (range(61, 100), ("服务", "咨询", "推广")),
)
DEFAULT_VERBS: tuple[str, ...] = ("生产", "销售", "研发")
TECHNOLOGY_SUFFIXES: tuple[str, ...] = ("技术研发", "技术服务", "技术推广", "技术开发")

# 许可项目 a firm of that division typically holds.
LICENCES_BY_DIVISION: dict[int, tuple[str, ...]] = {
    1: ("农作物种子经营", "主要农作物种子生产", "农药经营"),
    2: ("林木种子生产经营",),
    5: ("农作物种子经营", "农药经营"),
    13: ("食品生产", "食品销售", "粮食收购"),
    14: ("食品生产", "食品销售", "保健食品生产"),
    15: ("食品生产", "酒类经营", "饮料生产"),
    22: ("出版物印刷",),
    25: ("危险化学品经营",),
    26: ("肥料生产", "农药生产", "危险化学品经营", "化妆品生产"),
    27: ("药品生产", "药品批发", "药品零售", "药品委托生产"),
    35: ("特种设备制造", "特种设备安装改造修理"),
    44: ("发电业务、输电业务、供（配）电业务", "热力生产和供应"),
    51: ("食品销售", "药品批发"),
    52: ("食品销售", "药品零售"),
    54: ("道路货物运输（不含危险货物）",),
    59: ("食品经营", "道路货物运输（不含危险货物）"),
    68: ("保险代理业务", "保险兼业代理业务"),
    74: ("检验检测服务",),
    84: ("医疗服务",),
}

# Industry words of firm names, by division.
NAME_WORDS_BY_DIVISION: tuple[tuple[range, tuple[str, ...]], ...] = (
    (range(1, 6), ("农业", "农业科技", "生态农业", "农业开发", "种业")),
    (range(6, 13), ("矿业", "能源")),
    (range(13, 16), ("食品", "食品科技", "农产品", "实业")),
    (range(17, 20), ("纺织", "服饰")),
    (range(20, 22), ("木业", "家具", "家居")),
    (range(22, 25), ("纸业", "包装", "印务")),
    (range(25, 27), ("化工", "生物科技", "新材料", "肥业")),
    (range(27, 28), ("药业", "制药", "医药", "生物医药")),
    (range(28, 31), ("新材料", "建材", "塑胶")),
    (range(31, 34), ("金属", "钢铁", "金属制品", "铸造")),
    (range(34, 38), ("机械", "装备", "重工", "机械制造")),
    (range(38, 41), ("电气", "电子", "智能科技", "仪器")),
    (range(41, 44), ("环保科技", "再生资源", "制品")),
    (range(44, 47), ("能源", "热电", "电力")),
    (range(47, 51), ("建设", "建筑工程", "装饰工程")),
    (range(51, 53), ("贸易", "商贸", "工贸")),
    (range(53, 61), ("物流", "供应链", "仓储")),
    (range(61, 63), ("酒店管理", "餐饮管理")),
    (range(63, 66), ("信息技术", "网络科技", "软件")),
    (range(66, 70), ("保险代理", "投资")),
    (range(70, 71), ("置业", "房地产开发", "物业服务")),
    (range(71, 73), ("租赁", "商务服务", "企业管理")),
    (range(73, 76), ("科技", "检测技术", "技术服务")),
    (range(76, 80), ("环境科技", "园林绿化")),
    (range(80, 82), ("家政服务", "汽车服务")),
    (range(82, 85), ("教育科技", "健康管理", "医疗管理")),
    (range(85, 100), ("文化传媒", "体育发展")),
)
GENERIC_NAME_WORDS: tuple[str, ...] = ("科技", "实业", "发展", "集团", "控股")

# 字号 characters: the auspicious and plain characters trade names are made of.
BRAND_CHARS = (
    "华鑫盛泰恒源达宏兴丰隆昌瑞祥福康安润嘉信诚德利通汇金银锦豪帆远航鼎晟博创新"
    "天宇正中联合众合力同义永长春光明亿佳美和润海山峰林森江河湖川云龙凤鹏腾飞"
    "腾跃骏驰卓越优品益民惠众万家千百顺旺发富贵新禾绿青蓝翔宁静雅颂辉煌硕果科"
    "弘毅立本盈凯旭东南西北洲坤乾坤元亨弘扬俊朗晶瑞星月辰宸奕铭睿智思远成功"
)

COMPANY_SUFFIXES: tuple[str, ...] = ("有限公司", "有限责任公司", "股份有限公司")

# Tags of the contract, in the order they are written.
TAGS: tuple[str, ...] = ("上市", "专精特新小巨人", "专精特新", "高新技术企业")
