"""Pinyin keys of a name, so "zs" and "zhangsan" find 张三."""

from functools import cache

from pypinyin import Style, lazy_pinyin


@cache
def _character_keys(character: str) -> tuple[str, str]:
    full = "".join(lazy_pinyin(character, errors="ignore")).lower()
    initial = "".join(lazy_pinyin(character, style=Style.FIRST_LETTER, errors="ignore")).lower()
    return full, initial


def pinyin_keys(name: str) -> tuple[str, str]:
    """(full pinyin, initials), lower case, without spaces: ("zhangsan", "zs").

    Names are read character by character (a ledger holds tens of thousands of distinct names,
    and the few thousand characters they use are cached); Latin letters are kept as they are.
    """
    full, initials = [], []
    for character in name:
        if character.isascii():
            if character.isalnum():
                full.append(character.lower())
                initials.append(character.lower())
            continue
        character_full, character_initial = _character_keys(character)
        full.append(character_full)
        initials.append(character_initial)
    return "".join(full), "".join(initials)
