"""Pluggable SMS senders for one-time codes. FANGKONG_SMS_SENDER names the class."""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

from fangkong.core.masking import mask_phone

logger = logging.getLogger("fangkong.sms")


class LogSender:
    """Writes the code to the server log: for a laptop deployment and for tests."""

    def send_code(self, phone: str, code: str) -> None:
        logger.info("one-time code for %s: %s", mask_phone(phone), code)


def get_sender():
    return import_string(settings.FANGKONG_SMS_SENDER)()
