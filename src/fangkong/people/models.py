from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.idnumbers import IdType
from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.core.models import Job, TimeStamped
from fangkong.core.scope import ScopedQuerySet


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class Residency(models.TextChoices):
    REGISTERED = "registered", _("户籍")
    RESIDENT = "resident", _("常住")
    FLOATING = "floating", _("流动")
    VISITOR = "visitor", _("临时来访")


class Tag(models.TextChoices):
    """Special populations (重点人群) the field work must not forget."""

    ELDERLY_ALONE = "elderly_alone", _("独居老人")
    CHRONIC_SEVERE = "chronic_severe", _("重症慢病")
    PREGNANT = "pregnant", _("孕产妇")
    DIALYSIS = "dialysis", _("透析")
    CHEMOTHERAPY = "chemotherapy", _("化疗")
    DISABLED = "disabled", _("残疾人")
    IMMOBILE = "immobile", _("失能卧床")
    KEY_WORKER = "key_worker", _("保洁保安保供")
    HARDSHIP = "hardship", _("困难群众")
    RETURNING_STUDENT = "returning_student", _("返乡大学生")
    INFANT = "infant", _("婴幼儿")
    MEDICAL_WORKER = "medical_worker", _("医务人员")


# The tags that need a daily look inside a zone: nobody in a sealed unit is forgotten.
VULNERABLE_TAGS = ("dialysis", "chemotherapy", "pregnant", "elderly_alone", "immobile", "infant", "chronic_severe")


class PersonQuerySet(ScopedQuerySet):
    def with_address(self):
        return self.select_related("community", "household__building", "household__unit", "household__compound")

    def with_tags(self):
        return self.prefetch_related("tags")


class Person(TimeStamped):
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="persons",
                                  verbose_name=_("社区"), db_index=False)
    household = models.ForeignKey("places.Household", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="members", verbose_name=_("户"))
    name = models.CharField(_("姓名"), max_length=50)
    name_pinyin = models.CharField(max_length=200, blank=True)
    name_initials = models.CharField(max_length=50, blank=True)
    id_type = models.CharField(_("证件类型"), max_length=30, choices=IdType.choices, default=IdType.RESIDENT_ID)
    id_number = models.CharField(_("证件号码"), max_length=30)
    id_last4 = models.CharField(max_length=4)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    phone_last4 = models.CharField(max_length=4, blank=True)
    relationship = models.CharField(_("与户主关系"), max_length=20, blank=True)
    residency = models.CharField(_("人员类型"), max_length=20, choices=Residency.choices, default=Residency.RESIDENT)
    notes = models.CharField(_("备注"), max_length=500, blank=True)

    objects = PersonQuerySet.as_manager()
    scope_fields = {"community": "community_id", "grid": "household__grid_id", "household": "household_id"}

    class Meta:
        ordering = ["household_id", "id"]
        verbose_name = _("人员")
        constraints = [models.UniqueConstraint(fields=["id_type", "id_number"], name="person_unique_document")]
        # Few indexes on purpose: every one slows a 100,000-row ledger import. Searches by name or
        # pinyin run inside one community's rows (the first index); last-4 lookups have their own.
        indexes = [models.Index(fields=["community", "name"], name="person_community_name"),
                   models.Index(fields=["id_last4"], name="person_id_last4"),
                   models.Index(fields=["phone_last4"], name="person_phone_last4")]

    def __str__(self):
        return self.name

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    def tag_codes(self) -> list[str]:
        return sorted(t.tag for t in self.tags.all())

    def tag_labels(self) -> list[str]:
        return [Tag(code).label for code in self.tag_codes()]


class PersonTag(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="tags", db_index=False)
    tag = models.CharField(_("重点人群"), max_length=30, choices=Tag.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "tag"], name="person_tag_unique")]
        # The unique constraint's index (person, tag) serves lookups by person.
        indexes = [models.Index(fields=["tag"])]


class ImportJob(Job):
    """One ledger import, run by the worker, so a long file shows its progress and nobody waits on the page.

    The uploaded file is kept in the row for the worker to read; a clean preview keeps it until it
    is committed or a day has passed, any other job gives it up when it ends.
    """

    work = "fangkong.people.ledger_import.ledger_import_job_work"
    rerun_if_interrupted = True  # all rows or none, and importing a file twice changes nothing the second time
    cleared_on_failure = ("upload",)

    community = models.ForeignKey("places.Community", on_delete=models.CASCADE, related_name="import_jobs",
                                  verbose_name=_("社区"))
    file_name = models.CharField(_("文件名"), max_length=255)
    dry_run = models.BooleanField(_("仅预检"), default=False)
    report = models.JSONField(_("结果"), default=dict, blank=True)
    upload = models.BinaryField(null=True, editable=False,
                                help_text="The uploaded file, until the job ends "
                                          "(a clean preview: until committed or a day old).")

    objects = ScopedQuerySet.as_manager()
    scope_fields = {"community": "community_id"}

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("台账导入任务")

    def __str__(self):
        return self.file_name

    @property
    def steps(self) -> tuple[str, ...]:
        return ("read", "checked") if self.dry_run else super().steps

    @property
    def may_commit(self) -> bool:
        """A clean preview whose file is still kept can be imported with one click."""
        kept = getattr(self, "has_upload", None)  # annotated by people.queries, so the file is not loaded
        if kept is None:
            kept = self.upload is not None
        return bool(self.dry_run and self.status == self.Status.DONE and self.report.get("ok") and kept)
