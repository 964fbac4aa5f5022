"""What the knowledge base adds to the registries (kehu/core/registries.py)."""

from django.utils.translation import gettext_lazy as _

from kehu.core import registries as r

from . import search

# the Service section (the service app, kehu/service, declares the same one for its tickets): the
# knowledge base is a page of it, not a section of its own, so the bar stays within 1280 px
r.nav_section("service", _("Service"), order=40)
r.default_rights({
    # service agents and supervisors write the knowledge base; everyone else reads what is published
    "service": ["article.view", "article.create", "article.edit", "article.export", "articlecategory.view"],
    "supervisor": ["article.*", "articlecategory.*"],
    "account_manager": ["article.view", "articlecategory.view"],
    "executive": ["article.view", "articlecategory.view"],
    "finance": ["article.view", "articlecategory.view"],
})
r.search_provider("articles", _("Knowledge base"), right="article.view", results=search.articles,
                  template="knowledge/search_articles.html", order=60)
