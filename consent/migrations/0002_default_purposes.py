"""Default purposes a retailer starts with; privacy officers edit them in the admin."""

from django.db import migrations

PURPOSES = [
    (
        "analytics",
        "Analytics",
        "consent",
        [],
        ["analytics", "statistics", "performance"],
        "Measuring how the shop and the website are used.",
    ),
    (
        "personalisation",
        "Personalisation",
        "consent",
        ["web"],
        ["personalization", "personalisation", "functional"],
        "Tailoring content and offers to the person.",
    ),
    (
        "email_marketing",
        "Email marketing",
        "consent",
        ["email"],
        ["email", "marketing", "email_marketing"],
        "Marketing emails: newsletters, offers, reminders.",
    ),
    ("sms_marketing", "SMS marketing", "consent", ["sms"], ["sms"], "Marketing text messages."),
    (
        "advertising",
        "Advertising / sale or sharing",
        "consent",
        ["ads", "audience_export"],
        ["advertising", "ads", "targeting", "sale_or_share"],
        "Audience exports to ad platforms (CCPA: sale or sharing).",
    ),
    (
        "service",
        "Service messages",
        "contract",
        ["email", "sms"],
        ["necessary", "service"],
        "Order confirmations and service messages needed to fulfil a contract.",
    ),
]


def create(apps, schema_editor):
    Purpose = apps.get_model("consent", "Purpose")
    for key, name, basis, channels, aliases, description in PURPOSES:
        Purpose.objects.get_or_create(
            key=key,
            defaults={
                "name": name,
                "legal_basis": basis,
                "channels": channels,
                "category_aliases": aliases,
                "description": description,
            },
        )


def remove(apps, schema_editor):
    apps.get_model("consent", "Purpose").objects.filter(
        key__in=[row[0] for row in PURPOSES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
