"""`fangkong demo`: build the demo street (idempotent) and print its sign-ins."""

from django.core.management.base import BaseCommand, CommandError

from fangkong import demo
from fangkong.core.errors import DomainError
from fangkong.places.models import Street


class Command(BaseCommand):
    help = "载入演示数据(中专路街道:春雨社区驰誉小区、安国路社区)并列出演示账号;重复运行不做改动"

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true",
                            help="只在数据库还没有任何街道时载入(make run 用)")

    def handle(self, *args, if_empty=False, **options):
        if if_empty and Street.objects.exists() and not demo.demo_loaded():
            self.stdout.write("数据库已有街道数据,未载入演示数据。")
            return
        try:
            created = demo.demo_load()
        except DomainError as err:
            raise CommandError(err.message) from None
        if created:
            self.stdout.write(self.style.SUCCESS("演示数据已载入:中专路街道 › 春雨社区(驰誉小区)、安国路社区。"))
        else:
            self.stdout.write("演示数据已存在,未做任何改动。")
        self.stdout.write("\n演示账号(仅供演示,请勿用于真实数据):\n")
        self.stdout.write(demo.format_sign_ins(demo.sign_ins()))
