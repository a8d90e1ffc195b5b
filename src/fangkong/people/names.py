"""Pinyin keys of a name, so "zs" and "zhangsan" find 张三."""

from functools import lru_cache

from pypinyin import Style, lazy_pinyin


@lru_cache(maxsize=65536)
def pinyin_keys(name: str) -> tuple[str, str]:
    """(full pinyin, initials), lower case, without spaces: ("zhangsan", "zs")."""
    full = "".join(lazy_pinyin(name, errors="ignore")).lower()
    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()
    return full, initials
