"""Masks for personal numbers shown in lists and exports."""


def mask_id_number(number: str) -> str:
    """110***********123X: first 3 and last 4 kept, the rest starred."""
    if not number:
        return ""
    if len(number) <= 7:
        return number[0] + "*" * (len(number) - 1)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_phone(phone: str) -> str:
    """138****5678."""
    if not phone:
        return ""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
