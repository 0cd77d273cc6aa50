"""Join the two migrations written side by side (computed traits; identity resolution)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("profiles", "0004_computed_traits_and_catalogue"),
        ("profiles", "0004_identity_resolution"),
    ]
    operations: list = []
