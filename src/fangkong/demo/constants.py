"""What the demo street is made of: its names, the field reports' figures, the sign-ins and the seeds.

驰誉小区 follows seeds/000 (3 buildings, 144 households, 252 people and their special populations,
venues and outbreak); 安国路社区 with its 13 compounds follows seeds/001. The loaders in this
package read every figure from here, and the tests check the database against the same names.
"""

import datetime
from dataclasses import dataclass

from fangkong.accounts.models import Role
from fangkong.health.models import Case, Destination
from fangkong.people.models import Residency, Tag

# ---------------------------------------------------------------------------
# The street and its two communities
# ---------------------------------------------------------------------------

STREET_NAME = "中专路街道"
STREET_CODE = "150105006"
CHUNYU_NAME = "春雨社区"
ANGUO_NAME = "安国路社区"

CHIYU_COMPOUND = "驰誉小区"
CHIYU_ADDRESS = "赛罕区中专路"
CHIYU_GRIDS = {"第一网格": ("1", "2"), "第二网格": ("3",)}
"""Each grid of 春雨社区 with the buildings of 驰誉小区 it covers, buildings numbered in this order."""
CHIYU_BUILDINGS = tuple(number for numbers in CHIYU_GRIDS.values() for number in numbers)
CHIYU_UNITS, CHIYU_FLOORS, CHIYU_ROOMS_PER_FLOOR = 2, 6, 4
"""Each building's layout: 3 buildings × 2 units × 6 floors × 4 rooms are the report's 144 households."""
CHIYU_PERSONS = 252
CHIYU_TAGS = {Tag.CHRONIC_SEVERE: 7, Tag.PREGNANT: 1, Tag.CHEMOTHERAPY: 1, Tag.DISABLED: 6,
              Tag.KEY_WORKER: 9, Tag.RETURNING_STUDENT: 6}
CHIYU_RETURNED = 8
"""People of 驰誉小区 back for other reasons (their note says RETURNED_NOTE): the arrivals of 春雨社区."""

ANGUO_COMPOUNDS = ("建设小区", "东关小区", "安国花园", "玉都家园", "雪枫苑", "福康小区", "和平小区",
                   "幸福里", "春晖小区", "锦绣园", "阳光小区", "金桂苑", "园丁小区")
ANGUO_GRIDS = ("第一网格", "第二网格", "第三网格")
"""The grids of 安国路社区; the compounds' buildings are dealt to them in turn."""
ANGUO_FLOORS, ANGUO_ROOMS_PER_FLOOR = 4, 2
"""Each compound of 安国路社区: building 1 with one unit of this many floors and rooms."""
ANGUO_PERSONS = 200
ANGUO_TAGS = {Tag.ELDERLY_ALONE: 3, Tag.CHRONIC_SEVERE: 2, Tag.DIALYSIS: 1, Tag.INFANT: 2}

# Notes the people carry
RETURNED_NOTE = "其他原因返回小区"
STUDENT_NOTE = "高校放假返家"
KEY_WORKER_NOTE = "国际蒙医医院护工/保洁"

# ---------------------------------------------------------------------------
# The venues of 驰誉小区 (seeds/000's high-risk places)
# ---------------------------------------------------------------------------

HOSPITAL_WARD = "内蒙古国际蒙医医院住院区"
HOSPITAL_WARD_NOTE = "医护人员与转运病人点对点闭环管理"
WASTE_STATION = "医疗垃圾处理站"
DRIVING_SCHOOLS = ("通达驾校", "安行驾校", "顺风驾校", "捷安驾校", "明途驾校")
SHOP_COUNT = 35
SHOPS = ("便民超市", "蔬菜水果店", "平价药店", "粮油店", "早餐店", "面馆", "理发店", "五金店", "烟酒店", "打印店",
         "干洗店", "母婴店", "手机维修", "肉铺", "烧烤店")
"""Shop kinds, dealt to the 35 ground-floor shops in turn."""
OPEN_SHOPS = {"便民超市", "蔬菜水果店", "平价药店", "粮油店", "肉铺"}
"""The kinds still open: the first shop of each (the others of the kind are closed)."""

# ---------------------------------------------------------------------------
# Sign-ins
# ---------------------------------------------------------------------------

PASSWORD = "fangkong-demo"
RESIDENT_PHONE_NOTE = "验证码见服务器日志"


@dataclass(frozen=True)
class DemoAccount:
    """A demo staff account: its role, the part of the street it is bound to (`scope`, one of
    "street", "chunyu", "anguo" or a grid of 春雨社区) and that scope as the sign-in table says it."""

    username: str
    role: str
    display_name: str
    scope: str
    scope_label: str


ADMIN_USERNAME = "admin"
ADMIN_DISPLAY_NAME = "系统管理员"
ADMIN_SCOPE_LABEL = "全部"
STAFF_ACCOUNTS = (
    DemoAccount("jiedao", Role.STREET_ADMIN, "街道专班", "street", STREET_NAME),
    DemoAccount("chunyu", Role.COMMUNITY_STAFF, "春雨社区工作人员", "chunyu", CHUNYU_NAME),
    DemoAccount("anguo", Role.COMMUNITY_STAFF, "安国路社区工作人员", "anguo", ANGUO_NAME),
    DemoAccount("wangge1", Role.GRID_LEADER, "第一网格网格长", "第一网格", f"{CHUNYU_NAME} 第一网格(1、2号楼)"),
    DemoAccount("wangge2", Role.GRID_MEMBER, "第二网格网格员", "第二网格", f"{CHUNYU_NAME} 第二网格(3号楼)"),
    DemoAccount("yihu", Role.MEDIC, "社区医护", "chunyu", CHUNYU_NAME),
    DemoAccount("minjing", Role.POLICE, "社区民警", "chunyu", CHUNYU_NAME),
    DemoAccount("zhiyuan", Role.VOLUNTEER, "下沉干部志愿者", "chunyu", CHUNYU_NAME),
)
RESIDENT_USERNAME = "jumin"
"""The resident: the first head of household of 驰誉小区 with a phone, signing in by that phone."""
RESIDENT_SCOPE_LABEL = f"{CHIYU_COMPOUND} 本户"
DEMO_USERNAMES = (ADMIN_USERNAME, *(account.username for account in STAFF_ACCOUNTS), RESIDENT_USERNAME)

# ---------------------------------------------------------------------------
# The fictitious people: seeds, regions and the pools names and numbers are drawn from
# ---------------------------------------------------------------------------

REFERENCE_DATE = datetime.date(2022, 11, 13)
"""The day ages are counted to (seeds/000's date), so the same people come out whatever today is."""
CHIYU_SEED, CHIYU_TAG_SEED, CHIYU_REGION = 20221113, 1113, "150105"
ANGUO_SEED, ANGUO_TAG_SEED, ANGUO_REGION = 20200124, 124, "411324"

SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋"
            "蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟")
MALE_GIVEN = ("建国", "志强", "海军", "立新", "国庆", "振华", "文博", "浩然", "子轩", "宇航", "晓东", "明亮",
              "永刚", "德福", "俊杰", "鹏飞", "天宇", "家豪", "成龙", "长青", "卫东", "春生", "思远", "亮",
              "勇", "军", "斌", "磊", "涛", "伟")
FEMALE_GIVEN = ("秀英", "桂兰", "玉梅", "丽娟", "春燕", "海燕", "晓红", "淑珍", "雅琴", "婷婷", "欣怡", "梦瑶",
                "子涵", "思雨", "佳怡", "美玲", "凤霞", "红梅", "静", "敏", "丽", "霞", "娜", "芳", "艳",
                "慧敏", "雨萱", "诗涵", "冬梅", "文静")
PHONE_PREFIXES = ("139", "158", "186", "137", "152", "189", "135", "177")
RESIDENCY_WEIGHTS = ((Residency.REGISTERED, 55), (Residency.RESIDENT, 30), (Residency.FLOATING, 12),
                     (Residency.VISITOR, 3))

# ---------------------------------------------------------------------------
# Following people (seeds/001 and 002), dated from the day the demo is loaded
# ---------------------------------------------------------------------------

HUBEI, WUHAN_WUCHANG, XIANGYANG, SHANGHAI_PUDONG = "420000", "420106", "420600", "310115"
"""湖北 is the high-risk area; 上海浦东 was a medium one until 20 days ago."""
OTHER_ORIGINS = ("410100", "411300", "150100", "110105", "510107", "440305")
ANGUO_ARRIVALS = 24
"""Arrivals registered in 安国路社区 (春雨社区's are its CHIYU_RETURNED people): 32 in all."""
MORNING_CHECKS = (("36.5", ()), ("37.6", ("cough",)))
"""The first arrivals of 春雨社区 are in home quarantine, one each with this morning's (temperature, symptoms)."""
OBSERVATION_TEAM = {"cadre": "wangge1", "medic": "yihu", "police": "minjing", "volunteer": "zhiyuan"}
"""Their 五个一 team, by username (the medic took the checks)."""
LIST_FILE_NAME, LIST_TITLE, LIST_ISSUED_BY = "大数据核查名单.csv", "大数据核查名单(第1批)", "区疫情防控指挥部"
LIST_HOURS = 4
LIST_FOUND = 8
"""The verification list names this many people living in 春雨社区, then LIST_UNKNOWN by phone only."""
LIST_UNKNOWN = (("赵无名", "13700000009", "湖北省襄阳市"), ("钱不详", "13700000010", "上海市浦东新区"))
LIST_ANSWERS = ("present_verified", "left", "controlled")
"""The answers given so far, to the list's first rows."""
ROUND_VISITS = 20
ROUND_NOT_REACHED = (5, 13)
"""Screening round 1 of 驰誉小区: the first 20 households of building 1 visited, these two not reached."""

# ---------------------------------------------------------------------------
# The outbreak of 驰誉小区 (seeds/000)
# ---------------------------------------------------------------------------

CASE_PLAN = (
    # (building, unit, household size, days ago, severity)
    ("1", "1", 2, 9, Case.Severity.MILD),
    ("1", "1", 2, 8, Case.Severity.ASYMPTOMATIC),
    ("2", "2", 2, 7, Case.Severity.MODERATE),
    ("2", "2", 2, 6, Case.Severity.ASYMPTOMATIC),
    ("3", "2", 2, 5, Case.Severity.MILD),
    ("3", "2", 3, 0, Case.Severity.ASYMPTOMATIC),
)
"""Six positives in three units; the other members of their households are the seven close contacts."""
PENDING_BUILDING = "3"
"""The building whose controlled zone, proposed by today's positive, waits to be accepted."""
DESTINATIONS = (
    # (name, kind, address, capacity)
    ("呼和浩特市第二医院", Destination.Kind.HOSPITAL, "回民区", 300),
    ("如意方舱医院", Destination.Kind.MAKESHIFT_HOSPITAL, "如意和大街", 2000),
    ("赛罕区集中隔离点(锦江酒店)", Destination.Kind.CENTRAL_QUARANTINE, "大学东街", 180),
)

# ---------------------------------------------------------------------------
# This morning's mass testing of 驰誉小区
# ---------------------------------------------------------------------------

POOL_SIZE = 10
BUILDING_BEING_SAMPLED, SAMPLED_SHARE_SO_FAR = "3", 0.6
"""Building 3 is still being sampled: this share of its people outside sealed units done at the gate so far."""
TUBES_AWAITING_RESULTS = 3
"""The gate's last tubes, still at the lab; the others have their results."""
POSITIVE_TUBE = 3
"""The index, among the gate's tubes with results, of the one pooled tube that came back positive."""
