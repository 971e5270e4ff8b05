"""Fictional Chinese names for places and people, composed from syllables.

Every name is drawn from the generator handed in, so the same seed gives the same names. Place
names follow the local pattern of a descriptive or clan syllable plus a landform (金坑, 叶岭);
person names are a common surname plus one or two given-name characters. None is meant to be a
real place or person; county and city names are marked 示例.
"""

from __future__ import annotations

import numpy as np

PLACE_FIRST = (
    "金石竹松梅桃龙凤云白黄青碧清上下大小东西南北新高长双三前后里外岩桥"
    "陈王李张吴叶周徐潘毛何蓝雷钟柳杨枫茶杏莲荷樟桂溪安平和丰乐福寿永兴"
)
PLACE_SECOND = "坑岭源溪塘湾坪垟坞田岙口头门山岩桥庄埠洋畈墩圩湖港渡铺岗林垄寮"
REGION_FIRST = "青云丰安平宁松遂庆景缙龙泰瓯括栝仙灵秀翠岚碧"
REGION_SECOND = "溪阳川原州江和昌宁泉山岩谷城"

SURNAMES = (
    "叶吴陈周徐王李张刘杨黄赵朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁"
    "蔡蒋余杜程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金夏方邹熊白孟秦邱侯江雷蓝毛"
)
# The first surnames are more common here (叶, 吴, 陈, 周 in the Lishui area).
GIVEN = (
    "建国华明伟芳秀英玉兰丽红军平海峰强勇杰涛斌超刚辉志金林永春桂娟敏静燕霞"
    "德忠信仁义礼福寿康宁安乐文武成旺发荣昌盛兴家宏伟亮俊晓雪梅菊莲根水土木火"
)


def _unique_names(
    rng: np.random.Generator, n: int, first: str, second: str, suffix: str, taken: set[str]
) -> list[str]:
    """``n`` names first+second(+another syllable when two run out)+suffix, unused in ``taken``."""
    names: list[str] = []
    attempts = 0
    while len(names) < n:
        attempts += 1
        a = first[int(rng.integers(len(first)))]
        b = second[int(rng.integers(len(second)))]
        stem = a + b
        if attempts > 50 * (n + 10):
            stem = a + first[int(rng.integers(len(first)))] + b
        name = stem + suffix
        if name in taken:
            continue
        taken.add(name)
        names.append(name)
    return names


def village_names(rng: np.random.Generator, n: int, *, suffix: str, taken: set[str]) -> list[str]:
    return _unique_names(rng, n, PLACE_FIRST, PLACE_SECOND, suffix, taken)


def region_names(rng: np.random.Generator, n: int, *, suffix: str, taken: set[str]) -> list[str]:
    """County and city names (two syllables plus 县/市), marked as demo by the caller."""
    return _unique_names(rng, n, REGION_FIRST, REGION_SECOND, suffix, taken)


def person_pool(rng: np.random.Generator, size: int) -> list[str]:
    """``size`` distinct person names; surnames weighted towards the first of the list."""
    weights = 1.0 / np.arange(1, len(SURNAMES) + 1) ** 0.7
    weights /= weights.sum()
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < size:
        batch = max(size - len(names), 64) * 2
        sur = rng.choice(len(SURNAMES), size=batch, p=weights)
        g1 = rng.integers(len(GIVEN), size=batch)
        g2 = rng.integers(len(GIVEN), size=batch)
        two = rng.random(batch) < 0.7
        for s, a, b, t in zip(sur.tolist(), g1.tolist(), g2.tolist(), two.tolist(), strict=True):
            name = SURNAMES[s] + GIVEN[a] + (GIVEN[b] if t else "")
            if name not in seen:
                seen.add(name)
                names.append(name)
                if len(names) == size:
                    break
    return names
