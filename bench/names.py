"""Made-up registry names for the benchmarks: common surnames, so that many people share a name."""

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红娥建国志文斌辉鹏宇浩然子涵欣怡佳琪梓轩思雨晨阳"


def person_name(n: int) -> str:
    """The n-th person's name: a surname and one or two given characters, repeating every few thousand people."""
    return SURNAMES[n % len(SURNAMES)] + GIVEN[(n // 7) % len(GIVEN)] + (GIVEN[(n // 13) % len(GIVEN)] if n % 3 else "")
