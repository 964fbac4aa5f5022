"""What the knowledge base adds to the registries (kehu/core/registries.py)."""

from django.utils.translation import gettext_lazy as _

from kehu.core import registries as r

from . import search

r.nav_section("knowledge", _("Knowledge base"), order=45)
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
