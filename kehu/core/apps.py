from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kehu.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import checks, pgtypes, records, registries, signals  # noqa: F401
        from .dictionary import seed_dictionary
        from .search import register_lookups

        register_lookups()  # common_icontains / common_contains (kehu/core/search.py)
        from .filters import register_id_list_lookups

        register_id_list_lookups()  # `__in` an IdList: one array constant on PostgreSQL; `literal_in`

        # every installed app's registrations.py: navigation, dictionary kinds, default rights, search,
        # My day panels, reminder kinds, jobs (kehu/core/registries.py)
        registries.autodiscover()
        # every installed app's records.py (its record types), then their change log: a new app
        # declares a record type and needs no audit registration of its own
        from django.utils.module_loading import autodiscover_modules

        from .audit import connect_actor_receiver, register_record_types

        autodiscover_modules("records")
        registries.apply_record_actions()  # actions one app adds to another's record type
        register_record_types()
        connect_actor_receiver()  # who the change log names (kehu/core/audit.py: ActorMiddleware)
        from .forms import use_one_query_choices

        use_one_query_choices()  # a model choice field's options in one SELECT, not a server-side cursor
        post_migrate.connect(seed_dictionary, sender=self, dispatch_uid="kehu_seed_dictionary")
