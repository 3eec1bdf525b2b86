"""Word lists the intake reads reports with: parties, sectors, actions, units, surnames.

General vocabulary of Chinese meeting reports, not tied to any city. Chain words come from
the atlas itself (`intake_index`); the aliases here only add the everyday short forms a
report uses for the shipped chains (甘蔗 for 甘蔗制糖, 锂电 for 动力电池 …).
"""

from __future__ import annotations

from typing import Final

from chainatlas.cppcc.intake_model import ActionId, ConsultationKind, ParticipantKind

# (id, short name, kind, forms found in reports); longest forms are matched first.
PARTICIPANTS: Final[tuple[tuple[str, str, ParticipantKind, tuple[str, ...]], ...]] = (
    ("rcck", "民革", "party", ("中国国民党革命委员会", "民革")),
    ("cdl", "民盟", "party", ("中国民主同盟", "民盟")),
    ("cndca", "民建", "party", ("中国民主建国会", "民建")),
    ("capd", "民进", "party", ("中国民主促进会", "民进")),
    ("pwdp", "农工党", "party", ("中国农工民主党", "农工民主党", "农工党")),
    ("czgd", "致公党", "party", ("中国致公党", "致公党")),
    ("jiusan", "九三学社", "party", ("九三学社",)),
    ("tdsl", "台盟", "party", ("台湾民主自治同盟", "台盟")),
    ("acfic", "工商联", "federation", ("工商业联合会", "工商联界", "工商联")),
    ("non_party", "无党派人士", "non_party", ("无党派人士", "无党派代表人士", "无党派")),
    ("economy", "经济界", "sector", ("经济界",)),
    ("agriculture", "农业界", "sector", ("农业和农村界", "农业农村界", "农业界")),
    ("science_technology", "科技界", "sector", ("科学技术界", "科技界")),
    ("social_sciences", "社科界", "sector", ("社会科学界", "社科界")),
    ("education", "教育界", "sector", ("教育界",)),
    ("culture_arts", "文艺界", "sector", ("文化艺术界", "文艺界", "文化界")),
    ("medicine_health", "医卫界", "sector", ("医药卫生界", "医疗卫生界", "医卫界", "卫生界")),
    ("press_publishing", "新闻出版界", "sector", ("新闻出版界", "新闻传媒界", "新闻界")),
    ("sports", "体育界", "sector", ("体育界",)),
    ("ethnic_minorities", "少数民族界", "sector", ("少数民族界", "民族界")),
    ("religion", "宗教界", "sector", ("宗教界",)),
    (
        "social_welfare",
        "社会福利和社会保障界",
        "sector",
        ("社会福利和社会保障界", "社会福利与社会保障界", "社会福利界", "社会保障界"),
    ),
    ("environment", "环境资源界", "sector", ("环境资源界", "资源环境界", "环境界")),
    ("foreign_friendship", "对外友好界", "sector", ("对外友好界",)),
    ("finance", "金融界", "sector", ("金融界",)),
    ("industry_commerce", "工商界", "sector", ("工商界",)),
    ("law", "法律界", "sector", ("法律界", "法学界", "司法界")),
    ("youth", "共青团和青联", "sector", ("共青团和青联", "共青团", "青联", "青年界")),
    ("trade_union", "总工会", "sector", ("总工会", "工会界")),
    ("women", "妇联", "sector", ("妇联", "妇女界")),
    ("taiwan_compatriots", "台联", "sector", ("台联",)),
    ("returned_overseas", "侨联", "sector", ("侨联", "归侨侨眷")),
    ("science_association", "科协", "sector", ("科学技术协会", "科协")),
    ("specially_invited", "特邀", "sector", ("特别邀请人士", "特邀人士", "特邀界")),
    ("hk_macao", "港澳", "sector", ("特邀香港人士", "特邀澳门人士", "港澳界")),
)

# The two-character party names also occur inside ordinary words (人民革命, 居民建房,
# 市民进入): a form is not a party when preceded or followed by one of these characters.
PARTY_FORM_NOT_AFTER: Final = frozenset("人市农居国公选村网移股军平难渔牧灾藏臣庶")
PARTY_FORM_NOT_BEFORE: Final[dict[str, frozenset[str]]] = {
    "民革": frozenset("命新"),
    "民建": frozenset("设房造立筑"),
    "民进": frozenset("行入步城一村京出"),
    "民盟": frozenset("约"),
}

# Words after a group name that say it spoke, proposed or reported.
SPOKE_WORDS: Final = (
    "发言",
    "建议",
    "汇报",
    "提出",
    "介绍",
    "交流",
    "表示",
    "建言",
    "献策",
    "反映",
    "作了",
    "谈了",
    "讲话",
    "提案",
)
# Titles of people speaking for a party or sector: 民建梧州市委会主委张三, 经济界委员李四.
SPEAKER_TITLES: Final = (
    "副主任委员",
    "主任委员",
    "副主委",
    "主委",
    "专职副主席",
    "副主席",
    "主席",
    "副会长",
    "会长",
    "秘书长",
    "负责人",
    "代表",
    "委员",
)

# (action, forms); the four chain actions first. 建链/强链 followed by 长 or 主 are part of
# 组建链长办 / 加强链主…, not actions (checked in the extractor).
ACTIONS: Final[tuple[tuple[ActionId, tuple[str, ...]], ...]] = (
    ("build", ("建链",)),
    ("fill", ("补链",)),
    ("extend", ("延链",)),
    ("strengthen", ("强链",)),
    ("partner_referral", ("以商招商",)),
    ("relocation", ("承接产业转移",)),
    (
        "investment",
        ("招商引资", "靶向招商", "精准招商", "产业链招商", "链式招商", "双招双引", "招商"),
    ),
    ("review", ("调度",)),
    ("consultation", ("协商",)),
)
CHAIN_ACTIONS: Final = frozenset({"build", "fill", "extend", "strengthen"})
ACTION_NOT_BEFORE: Final = frozenset("长主")

# Meeting kinds: cue words in the meeting's name, then in the whole text.
REVIEW_CUES: Final = (
    "调度推进会",
    "调度会议",
    "调度会",
    "推进会议",
    "推进会",
    "工作调度",
    "链长会议",
    "链长制工作会议",
    "联席会议",
)
CONSULTATION_CUES: Final = (
    "协商座谈会",
    "协商会议",
    "协商会",
    "专题协商",
    "对口协商",
    "界别协商",
    "双月协商",
    "政党协商",
    "协商议政",
    "议政会",
    "议政性",
    "恳谈会",
)
CONSULTATION_KINDS: Final[tuple[tuple[ConsultationKind, tuple[str, ...]], ...]] = (
    ("topical", ("专题协商", "专题议政")),
    ("counterpart", ("对口协商",)),
    ("sector", ("界别协商",)),
    ("bimonthly", ("双月协商",)),
)

# Units a figure may carry; a magnitude (万, 亿 …) may stand before any of them.
MAGNITUDES: Final = ("万亿", "千亿", "百亿", "十亿", "千万", "百万", "十万", "亿", "万")
UNITS: Final = (
    "个百分点",
    "平方公里",
    "平方米",
    "立方米",
    "千瓦时",
    "吨标准煤",
    "美元",
    "千瓦",
    "兆瓦",
    "吉瓦",
    "公顷",
    "公里",
    "千米",
    "标箱",
    "人次",
    "家次",
    "元",
    "家",
    "个",
    "项",
    "吨",
    "辆",
    "台",
    "套",
    "人",
    "名",
    "户",
    "亩",
    "度",
    "条",
    "次",
    "场",
    "件",
    "批",
    "座",
    "米",
    "倍",
    "所",
    "栋",
    "头",
    "株",
    "份",
    "kWh",
    "GWh",
    "GW",
    "MW",
    "kW",
)
# A bare magnitude is a figure when one of these follows it: 千亿级, 百亿规模.
MAGNITUDE_FOLLOWERS: Final = ("级", "规模", "产值", "以上")
# 八大产业链, 十大产业: the number of chains, industries … a plan names.
COUNTED_NOUNS: Final = (
    "产业链",
    "产业集群",
    "产业",
    "集群",
    "行业",
    "领域",
    "工程",
    "行动",
    "板块",
    "基地",
)
# Set phrases whose numerals are not figures.
NUMERAL_IDIOMS: Final = ("千家万户", "千方百计", "万众一心", "百家争鸣", "一五一十", "千千万万")

# Years introduced by these words are targets (到2027年), not the meeting's year.
TARGET_YEAR_WORDS: Final = ("到", "至", "力争", "计划", "预计", "目标", "展望")

# Common Chinese surnames: a leader's name after a title starts with one.
SURNAMES: Final = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺"
    "顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿"
    "关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华"
    "喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗"
    "瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡"
    "鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练"
    "廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓"
    "修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展"
    "阴昝智幸奉植衡富尧闭由钮郦寿"
)
COMPOUND_SURNAMES: Final = (
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "长孙",
    "宇文",
    "司徒",
    "令狐",
    "夏侯",
    "端木",
    "独孤",
    "南宫",
    "西门",
    "轩辕",
    "呼延",
    "申屠",
    "钟离",
    "濮阳",
    "淳于",
)

# Ethnic group names in autonomous-region names, stripped to get the short name
# (广西壮族自治区 → 广西, 延边朝鲜族自治州 → 延边).
ETHNIC_GROUPS: Final = (
    "维吾尔",
    "土家",
    "哈尼",
    "傈僳",
    "拉祜",
    "纳西",
    "景颇",
    "布朗",
    "阿昌",
    "普米",
    "德昂",
    "独龙",
    "基诺",
    "布依",
    "仡佬",
    "仫佬",
    "毛南",
    "朝鲜",
    "锡伯",
    "达斡尔",
    "鄂温克",
    "鄂伦春",
    "赫哲",
    "哈萨克",
    "柯尔克孜",
    "塔吉克",
    "乌孜别克",
    "俄罗斯",
    "塔塔尔",
    "裕固",
    "东乡",
    "保安",
    "撒拉",
    "门巴",
    "珞巴",
    "蒙古",
    "壮",
    "回",
    "藏",
    "苗",
    "侗",
    "瑶",
    "彝",
    "白",
    "傣",
    "佤",
    "怒",
    "水",
    "京",
    "黎",
    "畲",
    "满",
    "土",
    "羌",
    "汉",
)
# City short names that are everyday words: matched only in full (来宾市, 大同市).
COMMON_WORD_PLACES: Final = frozenset(
    {
        "来宾",
        "白银",
        "大同",
        "中山",
        "朝阳",
        "黄山",
        "安康",
        "长治",
        "红河",
        "普洱",
        "吉安",
        "开封",
        "永安",
        "长安",
        "和平",
        "新华",
        "东方",
        "海东",
        "海北",
        "海西",
        "阿里",
        "玉树",
        "文山",
        "三明",
        "四平",
        "七台河",
        "通化",
        "白城",
        "佳木斯",
    }
)

# Everyday short names of the shipped chains, by chain id (used when the chain is loaded).
CHAIN_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "sugarcane": ("甘蔗", "蔗糖", "糖业", "制糖", "食糖", "糖料蔗", "蔗糖业"),
    "power_battery": ("动力电池", "锂电池", "锂离子电池", "锂电", "储能电池", "电池"),
    "new_energy_vehicle": (
        "新能源汽车",
        "新能源车",
        "电动汽车",
        "智能网联汽车",
        "燃料电池汽车",
        "燃料电池",
    ),
    "integrated_circuit": ("集成电路", "芯片", "半导体"),
    "new_display": ("新型显示", "显示面板", "液晶面板", "OLED"),
    "photovoltaic": ("光伏", "太阳能电池", "光伏电池", "电池片"),
    "cold_chain": ("冷链", "冷链物流"),
    "construction_machinery": ("工程机械", "挖掘机", "装载机", "起重机"),
    "green_home": ("绿色家居", "家居", "家具", "林木加工", "木材加工", "人造板"),
    "bamboo_pulp_paper": ("竹浆纸", "竹浆", "林浆纸", "造纸"),
    "biomedicine": ("生物医药", "生物制药", "创新药", "医药"),
    "calcium_materials": ("钙基新材料", "碳酸钙", "钙基材料", "重质碳酸钙"),
    "rice_grain_oil": ("特色粮油", "粮油", "水稻", "大米", "稻米", "米粉"),
    "tcm_ethnic_medicine": ("中医药", "民族医药", "中药", "中药材", "壮瑶医药"),
}
# Atlas keywords too general to name a chain on their own.
GENERIC_CHAIN_TERMS: Final = frozenset({"成果转化", "代理销售", "售后服务", "技术服务", "收购"})
