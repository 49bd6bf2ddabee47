"""Example contexts for the document templates, used by tests and benchmarks.

They show the exact shape each template expects (see the comment at the top of each
template); the workflow packages build the same dicts from their records.
"""

from __future__ import annotations

from typing import Any

RARE_NAME_CHARS = "谢赟 喆 堃 昇 翀 犇 淼 鑫 燚"

_FACILITIES = [
    "颐养苑社区养老服务中心", "福寿康宁养老院", "松鹤延年护理院", "夕阳红老年公寓",
    "鑫淼颐康养老中心", "堃昇长者照护之家",
]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华慧巧美淑惠珠翠雅芝玉萍红娥玲芬燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽赟喆堃昇翀犇淼鑫燚"  # noqa: E501


def certificate_context(index: int = 0, *, latin: bool = False) -> dict[str, Any]:
    """A grade certificate; ``latin=True`` gives the same layout with Latin text only."""
    stars = index % 5 + 1
    if latin:
        return {
            "lang": "en",
            "facility": {"name": f"Evergreen Senior Care Home No. {index + 1}",
                         "address": "88 Harmony Road, Riverside District"},
            "grade": {"code": f"S{stars}", "label": f"{stars}-star care facility",
                      "stars": stars, "medal": None},
            "scheme_title": "Classification and accreditation for senior care organizations",
            "serial_number": f"YY-2025-{index + 1:06d}",
            "issued_on": "2025-03-01",
            "valid_until": "2028-02-29",
            "issuer": {"name": "Riverside Civil Affairs Bureau"},
            "verify_url": f"https://yiyang.example.org/verify/YY-2025-{index + 1:06d}?s=3f9a1c7e",
        }
    name = _FACILITIES[index % len(_FACILITIES)]
    return {
        "facility": {"name": f"{name}（第{index + 1}分院）", "address": "江苏省南京市鼓楼区颐和路88号"},
        "grade": {"code": f"S{stars}", "label": f"{'一二三四五'[stars - 1]}星级养老机构",
                  "stars": stars, "medal": None},
        "scheme_title": "养老机构等级划分与评定（GB/T 37276-2018）",
        "serial_number": f"YY-2025-{index + 1:06d}",
        "issued_on": "2025-03-01",
        "valid_until": "2028-02-29",
        "issuer": {"name": "南京市鼓楼区民政局"},
        "verify_url": f"https://yiyang.example.org/verify/YY-2025-{index + 1:06d}?s=3f9a1c7e",
    }


def elder_name(index: int) -> str:
    return _SURNAMES[index % len(_SURNAMES)] + _GIVEN[(index * 7) % len(_GIVEN)] + \
        _GIVEN[(index * 13 + 3) % len(_GIVEN)]


_ANSWER_LABELS = ["完全依赖他人，不能配合", "主要依靠他人协助，自身能配合",
                  "需协助，以自身完成为主", "他人指导或提示下完成", "独立完成，不需要协助"]

_DOMAINS = [
    ("B1", "自理能力", 32, ["进食", "修饰", "洗澡", "穿/脱上衣", "穿/脱裤子和鞋袜", "小便控制",
                        "大便控制", "如厕"]),
    ("B2", "基础运动能力", 15, ["床上体位转移", "床椅转移", "平地行走", "上下楼梯"]),
    ("B3", "精神状态", 28, ["时间定向", "空间定向", "人物定向", "记忆", "理解能力", "表达能力",
                        "攻击行为", "抑郁症状", "意识水平"]),
    ("B4", "感知觉与社会参与", 15, ["视力", "听力", "执行日常事务", "使用交通工具外出",
                             "社会交往能力"]),
]


def report_context(index: int = 0) -> dict[str, Any]:
    """An assessment report after GB/T 42195-2022 Annex C (3-4 pages with the answers)."""
    scores = {"B1": 20, "B2": 9, "B3": 17, "B4": 11}
    sections = []
    for domain_id, title, _max, items in _DOMAINS:
        answers = []
        for n, item in enumerate(items, start=1):
            value = (n + index) % 5
            answers.append({
                "item_id": f"{domain_id[0]}.{domain_id[1]}.{n}", "title": item,
                "answer": _ANSWER_LABELS[value] + "；评估员备注：日常由家属陪护，能配合完成询问与观察。",
                "score": value,
            })
        sections.append({"title": f"{domain_id} {title}", "answers": answers})
    sections.append({"title": "A.4 疾病诊断和用药情况", "answers": [
        {"item_id": "A.4.1", "title": "疾病诊断", "answer": "高血压；糖尿病；阿尔茨海默病（F00）",
         "score": None},
        {"item_id": "A.4.2", "title": "用药情况", "answer": "二甲双胍 0.5 g 每日两次；氨氯地平 5 mg 每日一次",
         "score": None},
    ]})
    return {
        "report_no": f"PG-2025-{index + 1:06d}",
        "organisation": "南京市颐养第三方评估中心",
        "instrument_title": "GB/T 42195-2022 老年人能力评估规范",
        "reason": "首次评估",
        "assessed_at": "2025-03-12",
        "place": "江苏省南京市鼓楼区颐和路88号（居家）",
        "elder": {"name": "谢赟" if index == 0 else elder_name(index), "gender": "女",
                  "birth_date": "1938-05-17", "id_number": "32010619380517002X",
                  "address": "江苏省南京市鼓楼区颐和路88号3幢2单元101室",
                  "phone": "13912345678"},
        "domains": [{"id": d, "label": t, "score": scores[d], "max": m}
                    for d, t, m, _ in _DOMAINS],
        "total": 57,
        "max_total": 90,
        "preliminary_level": {"code": 2, "label": "能力中度受损（中度失能）"},
        "adjustments": [{"basis": "确诊阿尔茨海默病（F00-F03）", "effect": "在初步等级基础上提高一个等级"}],
        "level": {"code": 3, "label": "能力重度受损（重度失能）"},
        "explanation": [
            "自理能力 20/32；基础运动能力 9/15；精神状态 17/28；感知觉与社会参与 11/15",
            "总分 57 → 46–65 分段 → 初步等级 2 级 能力中度受损",
            "确诊痴呆（F00-F03）→ 提高一级 → 3 级 能力重度受损",
            "首次评估等级上限策略（本机构设置）：不适用",
        ],
        "entitlements": {"services": ["助餐", "助浴", "上门护理每周 3 次", "认知症照护指导"],
                         "monthly_subsidy": "800.00 元", "note": "自评估结论生效次月起发放。"},
        "assessors": [{"name": "张堃", "signed_at": "2025-03-12T10:20:00"},
                      {"name": "李昇翀", "signed_at": "2025-03-12T10:25:00"}],
        "reviewer": {"name": "王淼鑫", "signed_at": "2025-03-13T09:00:00"},
        "sections": sections,
        "warnings": [],
    }


def notice_context(index: int = 0) -> dict[str, Any]:
    """A rectification notice with a handful of findings."""
    findings = [
        {"code": "5.3.2", "description": "消防通道堆放杂物，应急照明部分失效。", "severity": "严重",
         "action": "立即清理通道，更换失效应急灯并建立每日巡查记录。", "deadline": "2025-03-20"},
        {"code": "6.1.4", "description": "护理员岗前培训记录不全（3 人缺失）。", "severity": "一般",
         "action": "补齐培训并提交签到表、考核记录。", "deadline": "2025-04-10"},
        {"code": "7.2.1", "description": "膳食留样不足 48 小时。", "severity": "一般",
         "action": "按规定留样 48 小时以上，配备专用冰箱。", "deadline": "2025-04-10"},
    ]
    return {
        "notice_no": f"ZG-2025-{index + 1:05d}",
        "facility": {"name": _FACILITIES[index % len(_FACILITIES)],
                     "address": "江苏省南京市鼓楼区颐和路88号", "contact": "赵燚 025-8888 6666"},
        "inspection": {"date": "2025-03-05", "scheme_title": "养老机构等级划分与评定（GB/T 37276-2018）",
                       "inspectors": ["周犇", "吴喆"]},
        "findings": findings,
        "issuer": {"name": "南京市鼓楼区民政局"},
        "issued_on": "2025-03-06",
        "reply_note": "请于整改期限届满前通过系统上传整改照片和说明。",
    }


def blank_form_context() -> dict[str, Any]:
    """The GB/T 42195-2022 domains as a blank questionnaire."""
    sections = []
    for domain_id, title, maximum, items in _DOMAINS:
        sections.append({
            "id": domain_id, "title": f"{domain_id} {title}", "max": maximum,
            "items": [{"id": f"{domain_id[0]}.{domain_id[1]}.{n}", "title": item,
                       "options": [{"value": v, "label": _ANSWER_LABELS[v]}
                                   for v in range(4, -1, -1)]}
                      for n, item in enumerate(items, start=1)],
        })
    sections.append({"id": "X", "title": "评估员意见", "max": None,
                     "items": [{"id": "X.1", "title": "其他需要说明的情况", "options": []}]})
    return {
        "instrument": {"id": "gbt42195-2022", "version": "1",
                       "title": "GB/T 42195-2022 老年人能力评估规范 评估表"},
        "header_fields": ["姓名", "身份证号", "评估日期", "评估地点"],
        "sections": sections,
    }
