"""With production settings, Django's deployment check has nothing to say."""

import os
import secrets
import subprocess
import sys


def deploy_check(tmp_path, **overrides) -> subprocess.CompletedProcess:
    # A clean environment: only what a production host sets, nothing the test run itself exports.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    env.update({"FANGKONG_DEBUG": "0", "FANGKONG_HTTPS": "1", "FANGKONG_SECRET_KEY": secrets.token_urlsafe(64),
                "FANGKONG_ALLOWED_HOSTS": "fangkong.example.org", "FANGKONG_VAR_DIR": str(tmp_path), **overrides})
    return subprocess.run([sys.executable, "-m", "fangkong.cli", "check", "--deploy", "--fail-level", "WARNING"],
                          env=env, capture_output=True, text=True, timeout=120)


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = deploy_check(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_does_catch_debug_left_on(tmp_path):
    result = deploy_check(tmp_path, FANGKONG_DEBUG="1")

    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr
