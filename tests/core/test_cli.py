"""The administrator's commands: createadmin and demo, as `fangkong …` runs them."""

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from fangkong import cli
from fangkong.accounts.models import User
from fangkong.demo import constants
from fangkong.people.models import Person
from fangkong.places.models import Street
from tests.places.factories import StreetFactory


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def no_terminal(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_createadmin_with_a_password_makes_a_superuser_who_can_sign_in(db):
    output = run("createadmin", "boss", "--password", "long-enough-1")

    assert "boss" in output
    user = authenticate(username="boss", password="long-enough-1")
    assert user is not None and user.is_superuser and user.is_staff


def test_createadmin_through_the_fangkong_command(transactional_db, capsys):
    # transactional: a command run from the command line closes the database connections when done
    cli.main(["createadmin", "boss", "--password", "long-enough-1"])

    assert User.objects.get(username="boss").is_superuser
    assert "boss" in capsys.readouterr().out


def test_createadmin_without_password_and_without_terminal_fails_clearly(db, no_terminal):
    with pytest.raises(CommandError, match="--password"):
        run("createadmin", "boss")

    assert not User.objects.filter(username="boss").exists()


def test_createadmin_refuses_a_taken_username(db):
    run("createadmin", "boss", "--password", "long-enough-1")

    with pytest.raises(CommandError, match="用户名已存在"):
        run("createadmin", "boss", "--password", "another-one-2")


def test_createadmin_refuses_a_short_password(db):
    with pytest.raises(CommandError, match="8"):
        run("createadmin", "boss", "--password", "short")

    assert not User.objects.exists()


def test_demo_command_loads_once_and_prints_the_sign_ins_both_times(db):
    first = run("demo")
    second = run("demo")

    assert "已载入" in first and "未做任何改动" in second
    for output in (first, second):
        assert "wangge1" in output and constants.PASSWORD in output and constants.RESIDENT_PHONE_NOTE in output
    assert Person.objects.count() == constants.CHIYU_PERSONS + constants.ANGUO_PERSONS


def test_demo_if_empty_leaves_a_database_with_other_streets_alone(db):
    StreetFactory(name="另一街道")

    output = run("demo", "--if-empty")

    assert "未载入" in output
    assert list(Street.objects.values_list("name", flat=True)) == ["另一街道"]
    assert not Person.objects.exists()


def test_demo_if_empty_loads_into_an_empty_database(db):
    output = run("demo", "--if-empty")

    assert "已载入" in output and "jiedao" in output
    assert Street.objects.get().name == constants.STREET_NAME


def test_demo_with_a_taken_username_fails_and_writes_nothing(db):
    User.objects.create_user("admin", password="whatever-123")

    with pytest.raises(CommandError, match="admin"):
        run("demo")

    assert not Street.objects.exists()
