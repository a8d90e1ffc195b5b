"""Building, unit and room numbers as people write them ('3号楼', '2单元', '301室'), as stored ('3', '2', '301').

The place tree's writes store numbers through these, and forms and the ledger import read what
people type through them too, so '3号楼' typed in a form finds the building stored as '3'.
"""

import re

from fangkong.core.idnumbers import normalize_text


def normalize_building_number(raw) -> str:
    """'3号楼', '3栋', '３幢', '3' → '3'."""
    text = normalize_text(raw).replace(" ", "")
    return re.sub(r"(号楼|号|栋|幢|楼)$", "", text)


def normalize_unit_number(raw) -> str:
    """'2单元', '2' → '2'."""
    return re.sub(r"单元$", "", normalize_text(raw).replace(" ", ""))


def normalize_room(raw) -> str:
    """'301室', '301' → '301'."""
    return re.sub(r"(室|号)$", "", normalize_text(raw).replace(" ", ""))
