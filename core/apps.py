from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self):
        from core.json_input import hold_json_input_to_schema_types

        hold_json_input_to_schema_types()

        from core.history_admin import register_history_admins

        register_history_admins()
