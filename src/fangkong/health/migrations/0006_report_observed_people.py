"""Report every person under observation to screening, which keeps that fact of the colour itself from now on."""

from django.db import migrations


def report_observed_people(apps, schema_editor):
    Observation = apps.get_model("health", "Observation")
    ObservedPerson = apps.get_model("screening", "ObservedPerson")
    active = Observation.objects.filter(status="active").values_list("person_id", "community_id")
    ObservedPerson.objects.bulk_create([ObservedPerson(person_id=person_id, community_id=community_id)
                                        for person_id, community_id in active], ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ("health", "0005_case_event_contact"),
        ("screening", "0003_observed_person"),
    ]

    operations = [
        migrations.RunPython(report_observed_people, migrations.RunPython.noop),
    ]
