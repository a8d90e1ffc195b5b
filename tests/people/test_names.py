from fangkong.people.names import pinyin_keys


def test_chinese_names_give_full_pinyin_and_initials():
    assert pinyin_keys("张三") == ("zhangsan", "zs")
    assert pinyin_keys("欧阳娜娜") == ("ouyangnana", "oynn")


def test_latin_letters_are_kept_and_punctuation_dropped():
    assert pinyin_keys("Anna·李") == ("annali", "annal")
