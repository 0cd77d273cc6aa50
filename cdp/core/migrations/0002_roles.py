"""Create the three role groups with their capability permissions.

Model permissions of the apps are added by cdp.core.role_sync after every migrate (Django
creates model permissions only after all migrations have run).
"""

from django.db import migrations

CAPABILITIES = [
    ("view_pii", "Can see raw personal identifiers (unmasked)"),
    ("manage_segments", "Can build and refresh segments"),
    ("manage_campaigns", "Can build, launch and pause campaigns"),
    ("handle_privacy", "Can work data-subject requests, consent and suppression"),
    ("manage_sources", "Can manage sources, write keys, imports and quarantine"),
    ("review_merges", "Can review identity matches, merge and unmerge profiles"),
    ("view_audit", "Can read and export the audit log"),
]
ROLES = {
    "Marketer": ["manage_segments", "manage_campaigns"],
    "Privacy officer": ["view_pii", "handle_privacy", "view_audit"],
    "Integration admin": ["view_pii", "manage_sources", "review_merges"],
}


def create_roles(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.get_or_create(app_label="core", model="auditevent")
    permissions = {}
    for codename, name in CAPABILITIES:
        permissions[codename], _ = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
    for role, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*(permissions[codename] for codename in codenames))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_roles, remove_roles)]
