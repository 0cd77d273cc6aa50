"""Mark the default marketing and sale/sharing purposes; keep raw page views 13 months."""

from django.db import migrations

MARKETING = ("email_marketing", "sms_marketing", "advertising")
SALE_OR_SHARE = ("advertising",)
PAGE_VIEW_DAYS = 396  # 13 months


def forward(apps, schema_editor):
    Purpose = apps.get_model("consent", "Purpose")
    Purpose.objects.filter(key__in=MARKETING).update(is_marketing=True)
    Purpose.objects.filter(key__in=SALE_OR_SHARE).update(is_sale_or_share=True)
    RetentionRule = apps.get_model("consent", "RetentionRule")
    RetentionRule.objects.get_or_create(
        name="Raw page views",
        defaults={"event_type": "page", "keep_days": PAGE_VIEW_DAYS},
    )


def backward(apps, schema_editor):
    apps.get_model("consent", "RetentionRule").objects.filter(name="Raw page views").delete()


class Migration(migrations.Migration):
    dependencies = [("consent", "0003_privacy_requests_restrictions_retention")]
    operations = [migrations.RunPython(forward, backward)]
